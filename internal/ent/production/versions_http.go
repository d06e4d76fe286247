package production

import (
	"net/http"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
)

// The history pages and API of a production (versions.go).

// versionTarget is the caller, the production and the version in the path.
func versionTarget(r *http.Request) (*auth.Principal, int64, int64, error) {
	p, id, err := userAndID(r)
	if err != nil {
		return nil, 0, 0, err
	}
	vid, err := web.PathID(r, "version", "Version")
	return p, id, vid, err
}

type versionsView struct {
	Production Production
	Versions   []Version
	CanWrite   bool
	Flash      string
}

func (h *Handler) versionsPage(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), p, id)
	if err != nil {
		return err
	}
	pr, err := h.svc.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "production/versions", "Historique : "+pr.Title,
		versionsView{Production: pr, Versions: vs, CanWrite: !pr.Trashed, Flash: r.URL.Query().Get("ok")})
}

type versionView struct {
	Production Production
	Version    Version
	Content    Content
	Formats    []Format
	CanWrite   bool
}

func (h *Handler) versionPage(w http.ResponseWriter, r *http.Request) error {
	p, id, vid, err := versionTarget(r)
	if err != nil {
		return err
	}
	pr, v, c, err := h.svc.VersionContent(r.Context(), p, id, vid)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "production/version", "Version : "+pr.Title,
		versionView{Production: pr, Version: v, Content: c, Formats: FormatsOf(pr.Kind), CanWrite: !pr.Trashed})
}

func (h *Handler) saveVersionForm(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.SaveVersion(r.Context(), p, id, r.PostFormValue("label")); err != nil {
		return err
	}
	return redirect(w, r, "/productions/"+docID(id)+"/versions", "Version enregistrée.")
}

func (h *Handler) restoreVersionForm(w http.ResponseWriter, r *http.Request) error {
	p, id, vid, err := versionTarget(r)
	if err != nil {
		return err
	}
	page := r.PostFormValue("page")
	if _, err := h.svc.RestoreVersion(r.Context(), p, id, vid, page); err != nil {
		return err
	}
	msg := "Version restaurée. L'état d'avant a été enregistré dans l'historique."
	if page != "" {
		msg = "Page restaurée. L'état d'avant a été enregistré dans l'historique."
	}
	return redirect(w, r, "/productions/"+docID(id), msg)
}

func (h *Handler) versionExportFile(w http.ResponseWriter, r *http.Request) error {
	p, id, vid, err := versionTarget(r)
	if err != nil {
		return err
	}
	ex, err := h.svc.ExportVersion(r.Context(), p, id, vid, r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	return download(w, ex.ContentType, ex.Filename, ex.Data)
}

func (h *Handler) apiVersions(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	vs, err := h.svc.Versions(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, vs)
}

func (h *Handler) apiSaveVersion(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Label string `json:"label"`
	}
	if r.ContentLength != 0 {
		if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
			return err
		}
	}
	v, err := h.svc.SaveVersion(r.Context(), p, id, in.Label)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, v)
}

func (h *Handler) apiRestoreVersion(w http.ResponseWriter, r *http.Request) error {
	p, id, vid, err := versionTarget(r)
	if err != nil {
		return err
	}
	pr, err := h.svc.RestoreVersion(r.Context(), p, id, vid, r.URL.Query().Get("page"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pr)
}
