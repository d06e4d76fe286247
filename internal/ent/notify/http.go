package notify

import (
	"fmt"
	"net/http"
	"net/url"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the notifications pages and API.
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
	r.Handle("GET /notifications", h.listPage)
	r.Handle("POST /notifications/{id}/lu", h.readForm)
	r.Handle("POST /notifications/tout-lu", h.readAllForm)
	r.Handle("GET /notifications/preferences", h.preferencesPage)
	r.Handle("POST /notifications/preferences", h.preferencesForm)
	h.apiRoutes(r)
}

type listView struct {
	Page   Page
	Cursor string
	Flash  string
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	cursor := r.URL.Query().Get("avant")
	pg, err := h.svc.Timeline(r.Context(), p, cursor, DefaultPageSize)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "notify/list", "Notifications",
		listView{Page: pg, Cursor: cursor, Flash: r.URL.Query().Get("ok")})
}

// readForm marks a notification read; with suivre=1 it then follows the
// notification's link, so "Ouvrir" both reads and goes.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) error {
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
	if r.PostFormValue("suivre") == "1" && it.Link != "" {
		http.Redirect(w, r, it.Link, http.StatusSeeOther)
		return nil
	}
	back := "/notifications"
	if c := r.PostFormValue("avant"); c != "" {
		back += "?avant=" + url.QueryEscape(c)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

func (h *Handler) readAllForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	n, err := h.svc.MarkAllRead(r.Context(), p)
	if err != nil {
		return err
	}
	msg := "Aucune notification non lue."
	if n > 0 {
		msg = fmt.Sprintf("%d notification(s) marquée(s) comme lue(s).", n)
	}
	http.Redirect(w, r, "/notifications?ok="+url.QueryEscape(msg), http.StatusSeeOther)
	return nil
}

type prefOption struct {
	Value    Frequency
	Label    string
	Selected bool
}

type prefRow struct {
	Preference
	DefaultLabel string
	Options      []prefOption
}

type preferencesView struct {
	QuietHours bool
	Rows       []prefRow
	Flash      string
}

func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	prefs, err := h.svc.Preferences(r.Context(), p)
	if err != nil {
		return err
	}
	return h.renderPreferences(w, r, prefs, r.URL.Query().Get("ok"))
}

func (h *Handler) renderPreferences(w http.ResponseWriter, r *http.Request, prefs Preferences, flash string) error {
	v := preferencesView{QuietHours: prefs.QuietHours, Flash: flash}
	for _, t := range prefs.Types {
		row := prefRow{Preference: t, DefaultLabel: t.Default.Label()}
		for _, f := range Frequencies {
			row.Options = append(row.Options, prefOption{Value: f, Label: f.Label(), Selected: f == t.Frequency})
		}
		v.Rows = append(v.Rows, row)
	}
	return h.render.Render(w, r, http.StatusOK, "notify/preferences", "Préférences de notification", v)
}

func (h *Handler) preferencesForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire illisible.").Wrap(err)
	}
	quiet := r.PostFormValue("calme") == "1"
	in := PreferencesInput{QuietHours: &quiet, Types: map[string]Frequency{}}
	for _, t := range h.svc.Types() {
		if v := r.PostFormValue("type-" + t.Key); v != "" {
			in.Types[t.Key] = Frequency(v)
		}
	}
	if _, err := h.svc.SetPreferences(r.Context(), p, in); err != nil {
		return err
	}
	http.Redirect(w, r, "/notifications/preferences?ok="+url.QueryEscape("Préférences enregistrées."), http.StatusSeeOther)
	return nil
}
