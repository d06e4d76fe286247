package notify

import (
	"net/http"

	"socle/internal/platform/web"
)

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/notifications", h.apiList)
	r.Handle("GET /api/v1/notifications/unread-count", h.apiUnread)
	r.Handle("POST /api/v1/notifications/read-all", h.apiReadAll)
	r.Handle("GET /api/v1/notifications/preferences", h.apiPreferences)
	r.Handle("PUT /api/v1/notifications/preferences", h.apiSetPreferences)
	r.Handle("GET /api/v1/notifications/{id}", h.apiItem)
	r.Handle("POST /api/v1/notifications/{id}/read", h.apiRead)
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	limit, err := web.IntParam(r.URL.Query(), "limit", 1, MaxPageSize)
	if err != nil {
		return err
	}
	pg, err := h.svc.Timeline(r.Context(), p, r.URL.Query().Get("cursor"), int(limit))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pg)
}

// UnreadCount is the answer of the badge endpoint.
type UnreadCount struct {
	Unread int `json:"unread"`
}

func (h *Handler) apiUnread(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	n, err := h.svc.Unread(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, UnreadCount{Unread: n})
}

// ReadAllResult says how many notifications were marked read.
type ReadAllResult struct {
	Marked int64 `json:"marked"`
}

func (h *Handler) apiReadAll(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	n, err := h.svc.MarkAllRead(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, ReadAllResult{Marked: n})
}

func (h *Handler) apiItem(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Notification")
	if err != nil {
		return err
	}
	it, err := h.svc.Item(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, it)
}

func (h *Handler) apiRead(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Notification")
	if err != nil {
		return err
	}
	it, err := h.svc.MarkRead(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, it)
}

func (h *Handler) apiPreferences(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	prefs, err := h.svc.Preferences(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, prefs)
}

func (h *Handler) apiSetPreferences(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in PreferencesInput
	if err := web.DecodeJSON(w, r, 64<<10, &in); err != nil {
		return err
	}
	prefs, err := h.svc.SetPreferences(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, prefs)
}
