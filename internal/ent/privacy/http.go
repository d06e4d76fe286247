package privacy

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the data-protection pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// Routes mounts the pages and the API.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /mes-donnees", h.mine)
	r.Handle("GET /donnees-personnelles/{id}", h.page)
	r.Handle("GET /donnees-personnelles/{id}/export.zip", h.export)
	r.Handle("POST /donnees-personnelles/{id}/suppression", h.requestForm)
	r.Handle("POST /donnees-personnelles/{id}/suppression/annuler", h.cancelForm)
	h.apiRoutes(r)
}

func subjectID(r *http.Request) (int64, error) { return web.PathID(r, "id", "Personne") }

func (h *Handler) mine(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/donnees-personnelles/"+strconv.FormatInt(p.User.ID, 10), http.StatusSeeOther)
	return nil
}

type pageView struct {
	Subject   Subject
	Deletion  *Deletion
	GraceDays int
	Log       AccessPage
	Cursor    string
	Flash     string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	subj, err := h.svc.Subject(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := pageView{Subject: subj, GraceDays: int(h.svc.GracePeriod().Hours() / 24), Cursor: r.URL.Query().Get("avant"),
		Flash: r.URL.Query().Get("ok")}
	if v.Deletion, err = h.svc.Deletion(r.Context(), p, id); err != nil {
		return err
	}
	if v.Log, err = h.svc.AccessLog(r.Context(), p, id, v.Cursor, 50); err != nil {
		return err
	}
	title := "Mes données personnelles"
	if !subj.Self {
		title = "Données personnelles de " + subj.DisplayName
	}
	return h.render.Render(w, r, http.StatusOK, "privacy/person", title, v)
}

// sendArchive streams a finished export; the zip is complete before the
// first byte leaves.
func sendArchive(w http.ResponseWriter, a *Archive) error {
	defer a.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+a.Name+`"`)
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, a.File)
	return err
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	a, err := h.svc.Export(r.Context(), p, id)
	if err != nil {
		return err
	}
	return sendArchive(w, a)
}

func (h *Handler) requestForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirmer") != "1" {
		return problem.Invalid("confirmation_required", "Cochez la case de confirmation pour programmer la suppression.").
			Field("confirmer", "Confirmation requise.")
	}
	d, err := h.svc.RequestDeletion(r.Context(), p, id)
	if err != nil {
		return err
	}
	msg := "Suppression programmée pour le " + d.DueAt.In(web.Paris()).Format("02/01/2006") + ". Vous pouvez l'annuler d'ici là."
	http.Redirect(w, r, "/donnees-personnelles/"+strconv.FormatInt(id, 10)+"?ok="+url.QueryEscape(msg), http.StatusSeeOther)
	return nil
}

func (h *Handler) cancelForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.CancelDeletion(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/donnees-personnelles/"+strconv.FormatInt(id, 10)+"?ok="+url.QueryEscape("Suppression annulée."), http.StatusSeeOther)
	return nil
}
