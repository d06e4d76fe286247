package catalog

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// maxJSONBody bounds a JSON request; a convention with every level of a
// dozen services is a few kilobytes.
const maxJSONBody = 1 << 20

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/services", h.apiServices)
	r.Handle("POST /api/v1/services", h.apiCreateService)
	r.Handle("GET /api/v1/services/{id}", h.apiService)
	r.Handle("GET /api/v1/calendars", h.apiCalendars)
	r.Handle("POST /api/v1/calendars", h.apiCreateCalendar)
	r.Handle("GET /api/v1/calendars/{id}", h.apiCalendar)
	r.Handle("GET /api/v1/calendars/{id}/deadline", h.apiDeadline)
	r.Handle("GET /api/v1/agreements", h.apiAgreements)
	r.Handle("POST /api/v1/agreements", h.apiCreateAgreement)
	r.Handle("GET /api/v1/agreements/{id}", h.apiAgreement)
	r.Handle("POST /api/v1/agreements/{id}/status", h.apiAgreementStatus)
	r.Handle("POST /api/v1/agreements/{id}/document", h.apiUploadDocument)
	r.Handle("GET /api/v1/agreements/{id}/document", h.downloadDocument)
	r.Handle("GET /api/v1/establishments/{uai}/catalog", h.apiEstablishmentCatalog)
	r.Handle("GET /api/v1/teams", h.apiTeams)
	r.Handle("POST /api/v1/teams", h.apiCreateTeam)
}

func (h *Handler) apiServices(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Services(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiService(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Service")
	if err != nil {
		return err
	}
	o, err := h.svc.Offering(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, o)
}

func (h *Handler) apiCreateService(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in ServiceInput
	if err := web.DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		return err
	}
	o, err := h.svc.CreateService(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/services/"+strconv.FormatInt(o.ID, 10))
	return web.JSON(w, http.StatusCreated, o)
}

// calendarResponse is a calendar with what its compilation tells.
type calendarResponse struct {
	BusinessCalendar
	// SchoolHolidaysKnownUntil warns when the school calendar of the
	// zone stops: later days count as ordinary days.
	SchoolHolidaysKnownUntil *Date `json:"school_holidays_known_until,omitempty"`
}

func newCalendarResponse(bc BusinessCalendar, cal *Calendar) calendarResponse {
	out := calendarResponse{BusinessCalendar: bc}
	if d, ok := cal.SchoolHolidaysKnownUntil(); ok {
		out.SchoolHolidaysKnownUntil = &d
	}
	return out
}

func (h *Handler) apiCalendars(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Calendars(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiCalendar(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Calendrier")
	if err != nil {
		return err
	}
	bc, cal, err := h.svc.BusinessCalendar(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, newCalendarResponse(bc, cal))
}

func (h *Handler) apiCreateCalendar(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in CalendarInput
	if err := web.DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		return err
	}
	bc, cal, err := h.svc.CreateCalendar(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/calendars/"+strconv.FormatInt(bc.ID, 10))
	return web.JSON(w, http.StatusCreated, newCalendarResponse(bc, cal))
}

// deadlineResponse is the deadline API's answer; instants are written in
// the calendar's zone (Europe/Paris offset), as users read them.
type deadlineResponse struct {
	Start       string             `json:"start"`
	Duration    string             `json:"duration"`
	Due         string             `json:"due"`
	Intervals   []intervalResponse `json:"intervals"`
	OpenSeconds int64              `json:"open_seconds"`
}

type intervalResponse struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

func (h *Handler) apiDeadline(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Calendrier")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	start, err := ParseStart(q.Get("start"), h.svc.loc)
	if err != nil {
		return err
	}
	d, err := ParseDelay(q.Get("duration"))
	if err != nil {
		if pe, ok := problem.As(err); ok {
			return pe.Field("duration", pe.Message)
		}
		return err
	}
	res, err := h.svc.Deadline(r.Context(), p, id, start, d)
	if err != nil {
		return err
	}
	out := deadlineResponse{Start: res.Start.Format(time.RFC3339), Duration: d.String(), Due: res.Due.Format(time.RFC3339),
		Intervals: []intervalResponse{}, OpenSeconds: res.OpenSeconds}
	for _, iv := range res.Intervals {
		out.Intervals = append(out.Intervals, intervalResponse{iv.Start.Format(time.RFC3339), iv.End.Format(time.RFC3339)})
	}
	return web.JSON(w, http.StatusOK, out)
}

func (h *Handler) apiAgreements(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Agreements(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiAgreement(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	a, err := h.svc.Agreement(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, a)
}

func (h *Handler) apiCreateAgreement(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in AgreementInput
	if err := web.DecodeJSON(w, r, maxJSONBody, &in); err != nil {
		return err
	}
	a, err := h.svc.CreateAgreement(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agreements/"+strconv.FormatInt(a.ID, 10))
	return web.JSON(w, http.StatusCreated, a)
}

func (h *Handler) apiAgreementStatus(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	var in struct {
		Status AgreementStatus `json:"status"`
	}
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	a, err := h.svc.SetAgreementStatus(r.Context(), p, id, in.Status)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, a)
}

func (h *Handler) apiUploadDocument(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	doc, err := h.receiveDocument(w, r, id, p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, doc)
}

// uploadSource opens the document of an upload request: the "document"
// part of a multipart form (read as a stream when the CSRF middleware has
// not parsed the form already), or a raw body whose name comes from
// Content-Disposition or ?name=.
func uploadSource(w http.ResponseWriter, r *http.Request, limit int64) (string, io.ReadCloser, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.MultipartForm != nil {
		f, fh, err := r.FormFile("document")
		if err != nil {
			return "", nil, problem.Invalid("document_missing", "Choisissez le document à déposer.").Field("document", "Fichier requis.").Wrap(err)
		}
		return fh.Filename, f, nil
	}
	// A little more than the document: the multipart envelope.
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	if ct == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return "", nil, problem.Invalid("document_missing", "Le formulaire ne contient pas de partie « document ».").Field("document", "Fichier requis.").Wrap(err)
			}
			if part.FormName() == "document" {
				return part.FileName(), part, nil
			}
			part.Close()
		}
	}
	name := r.URL.Query().Get("name")
	if _, dp, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	if name == "" {
		return "", nil, problem.Invalid("document_name_missing", "Nommez le document (paramètre name ou en-tête Content-Disposition).")
	}
	return name, r.Body, nil
}

func (h *Handler) receiveDocument(w http.ResponseWriter, r *http.Request, id int64, p *auth.Principal) (Document, error) {
	name, body, err := uploadSource(w, r, h.svc.maxDocument)
	if err != nil {
		return Document{}, err
	}
	defer body.Close()
	return h.svc.StoreDocument(r.Context(), p, id, name, body)
}

// downloadDocument sends the signed document with its checksum, as an
// attachment so a browser never renders it in the site's origin.
func (h *Handler) downloadDocument(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	doc, f, err := h.svc.OpenDocument(r.Context(), p, id)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", doc.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": doc.Name}))
	w.Header().Set("Content-Length", strconv.FormatInt(doc.Size, 10))
	w.Header().Set("Digest", "sha-256="+doc.SHA256)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = io.Copy(w, f)
	return err
}

// establishmentCatalogResponse is a school's subscriptions.
type establishmentCatalogResponse struct {
	Establishment Establishment  `json:"establishment"`
	Subscriptions []Subscription `json:"subscriptions"`
}

func (h *Handler) apiEstablishmentCatalog(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	e, subs, err := h.svc.EstablishmentCatalog(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	if subs == nil {
		subs = []Subscription{}
	}
	return web.JSON(w, http.StatusOK, establishmentCatalogResponse{e, subs})
}

func (h *Handler) apiTeams(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Teams(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *Handler) apiCreateTeam(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in Team
	if err := web.DecodeJSON(w, r, 4<<10, &in); err != nil {
		return err
	}
	in.ID = 0
	t, err := h.svc.CreateTeam(r.Context(), p, in)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, t)
}
