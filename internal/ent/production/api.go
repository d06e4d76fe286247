package production

import (
	"net/http"
	"strings"

	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/productions", h.apiList)
	r.Handle("POST /api/v1/productions", h.apiCreate)
	r.Handle("POST /api/v1/productions/import", h.apiImport)
	r.Handle("GET /api/v1/productions/{id}", h.apiGet)
	r.Handle("PATCH /api/v1/productions/{id}", h.apiRename)
	r.Handle("DELETE /api/v1/productions/{id}", h.apiTrash)
	r.Handle("POST /api/v1/productions/{id}/restore", h.apiRestore)
	r.Handle("POST /api/v1/productions/{id}/shares", h.apiShare)
	r.Handle("DELETE /api/v1/productions/{id}/shares/{share}", h.apiRevoke)
	r.Handle("GET /api/v1/productions/{id}/links", h.apiLinks)
	r.Handle("POST /api/v1/productions/{id}/links", h.apiCreateLink)
	r.Handle("DELETE /api/v1/productions/{id}/links/{link}", h.apiRevokeLink)
	r.Handle("POST /api/v1/links/{token}", h.apiFollowLink)
	r.Handle("GET /api/v1/productions/{id}/export", h.exportFile)
	r.Handle("POST /api/v1/productions/{id}/media", h.apiUploadMedia)
	r.Handle("POST /api/v1/productions/{id}/moderation", h.apiModerate)
	r.Handle("GET /api/v1/productions/{id}/comments", h.apiFollowUps)
	r.Handle("POST /api/v1/productions/{id}/comments", h.apiAddFollowUp)
	r.Handle("GET /api/v1/productions/{id}/versions", h.apiVersions)
	r.Handle("POST /api/v1/productions/{id}/versions", h.apiSaveVersion)
	r.Handle("POST /api/v1/productions/{id}/versions/{version}/restore", h.apiRestoreVersion)
	r.Handle("GET /api/v1/productions/{id}/versions/{version}/export", h.versionExportFile)
	r.Handle("GET /api/v1/assignments", h.apiAssignments)
	r.Handle("POST /api/v1/assignments", h.apiAssign)
	r.Handle("GET /api/v1/assignments/{id}", h.apiAssignment)
	r.Handle("POST /api/v1/assignments/{id}/teams/{team}/production", h.apiStartTeam)
	r.Handle("GET /api/v1/assignments/{id}/collect", h.collectFile)
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	l, err := h.list(r, p, r.URL.Query().Get("trash") == "1", strings.TrimSpace(r.URL.Query().Get("q")))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, l)
}

func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewProduction
	if err := web.DecodeJSON(w, r, 64<<10, &in); err != nil {
		return err
	}
	pr, err := h.svc.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pr)
}

func (h *Handler) apiImport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pr, err := h.svc.Import(r.Context(), p, Kind(q.Get("kind")), q.Get("format"), q.Get("title"), http.MaxBytesReader(w, r.Body, MaxImportBytes+1))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pr)
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Detail(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

// RenameInput is the body of PATCH /api/v1/productions/{id}.
type RenameInput struct {
	Title string `json:"title"`
}

func (h *Handler) apiRename(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in RenameInput
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	pr, err := h.svc.Rename(r.Context(), p, id, in.Title)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pr)
}

func (h *Handler) apiTrash(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	if err := h.svc.Trash(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) apiRestore(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	pr, err := h.svc.Restore(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pr)
}

func (h *Handler) apiShare(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in NewShare
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	d, err := h.svc.Share(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

func (h *Handler) apiRevoke(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	sid, err := web.PathID(r, "share", "Partage")
	if err != nil {
		return err
	}
	if err := h.svc.Revoke(r.Context(), p, id, sid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func download(w http.ResponseWriter, contentType, filename string, data []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	// An HTML export is a file to keep, not a page of this site.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(data)
	return err
}

func (h *Handler) apiAssignments(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	as, err := h.svc.Assignments(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, as)
}

func (h *Handler) apiAssign(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in NewAssignment
	if err := web.DecodeJSON(w, r, 256<<10, &in); err != nil {
		return err
	}
	a, err := h.svc.Assign(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, a)
}

func (h *Handler) apiAssignment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Travail demandé")
	if err != nil {
		return err
	}
	a, err := h.svc.Assignment(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, a)
}

// StartInput is the body of POST .../teams/{team}/production.
type StartInput struct {
	Kind Kind `json:"kind"`
}

func (h *Handler) apiStartTeam(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Travail demandé")
	if err != nil {
		return err
	}
	team, err := web.PathID(r, "team", "Équipe")
	if err != nil {
		return err
	}
	var in StartInput
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	pr, err := h.svc.StartTeamProduction(r.Context(), p, id, team, in.Kind)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pr)
}

func (h *Handler) apiModerate(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in Moderation
	if err := web.DecodeJSON(w, r, 16<<10, &in); err != nil {
		return err
	}
	status, err := h.svc.Moderate(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]string{"status": status})
}

func (h *Handler) apiFollowUps(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	cs, err := h.svc.FollowUps(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, cs)
}

func (h *Handler) apiAddFollowUp(w http.ResponseWriter, r *http.Request) error {
	p, id, err := userAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := web.DecodeJSON(w, r, 64<<10, &in); err != nil {
		return err
	}
	c, err := h.svc.AddFollowUp(r.Context(), p, id, in.Body)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, c)
}
