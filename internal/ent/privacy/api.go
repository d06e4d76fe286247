package privacy

import (
	"net/http"

	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/privacy/people/{id}/export", h.apiExport)
	r.Handle("GET /api/v1/privacy/people/{id}/access-log", h.apiAccessLog)
	r.Handle("GET /api/v1/privacy/people/{id}/deletion", h.apiDeletion)
	r.Handle("POST /api/v1/privacy/people/{id}/deletion", h.apiRequestDeletion)
	r.Handle("DELETE /api/v1/privacy/people/{id}/deletion", h.apiCancelDeletion)
}

func (h *Handler) apiExport(w http.ResponseWriter, r *http.Request) error {
	return h.export(w, r)
}

func (h *Handler) apiAccessLog(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	limit, err := web.IntParam(r.URL.Query(), "limit", 1, 200)
	if err != nil {
		return err
	}
	pg, err := h.svc.AccessLog(r.Context(), p, id, r.URL.Query().Get("cursor"), int(limit))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pg)
}

// DeletionState is a person's deletion request, if any, and the grace
// period a new one would get.
type DeletionState struct {
	Deletion  *Deletion `json:"deletion,omitempty"`
	GraceDays int       `json:"grace_days"`
}

func (h *Handler) state(r *http.Request, id int64) (DeletionState, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return DeletionState{}, err
	}
	d, err := h.svc.Deletion(r.Context(), p, id)
	if err != nil {
		return DeletionState{}, err
	}
	return DeletionState{Deletion: d, GraceDays: int(h.svc.GracePeriod().Hours() / 24)}, nil
}

func (h *Handler) apiDeletion(w http.ResponseWriter, r *http.Request) error {
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	st, err := h.state(r, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, st)
}

func (h *Handler) apiRequestDeletion(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := subjectID(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.RequestDeletion(r.Context(), p, id); err != nil {
		return err
	}
	st, err := h.state(r, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, st)
}

func (h *Handler) apiCancelDeletion(w http.ResponseWriter, r *http.Request) error {
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
	st, err := h.state(r, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, st)
}
