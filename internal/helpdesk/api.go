package helpdesk

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// maxJSON bounds an API request body.
const maxJSON = 256 << 10

func (h *Handler) apiRoutes(r *web.Router) {
	r.Handle("GET /api/v1/tickets", h.apiList)
	r.Handle("POST /api/v1/tickets", h.apiCreate)
	r.Handle("GET /api/v1/tickets/{ref}", h.apiGet)
	r.Handle("POST /api/v1/tickets/{ref}/followups", h.apiFollowup)
	r.Handle("POST /api/v1/tickets/{ref}/status", h.apiStatus)
	r.Handle("POST /api/v1/tickets/{ref}/assign", h.apiAssign)
	r.Handle("POST /api/v1/tickets/{ref}/escalate", h.apiEscalate)
	r.Handle("POST /api/v1/tickets/{ref}/survey", h.apiSurvey)
	r.Handle("POST /api/v1/tickets/{ref}/links", h.apiLink)
	r.Handle("POST /api/v1/tickets/{ref}/interventions", h.apiIntervention)
	r.Handle("POST /api/v1/tickets/{ref}/attachments", h.apiAttach)
	r.Handle("GET /api/v1/tickets/{ref}/attachments/{id}", h.apiAttachment)
	r.Handle("GET /api/v1/helpdesk/reports/monthly", h.apiMonthly)
	r.Handle("GET /api/v1/helpdesk/reports", h.apiReport)
	r.Handle("GET /api/v1/helpdesk/quality", h.apiQuality)
	r.Handle("GET /api/v1/helpdesk/mail-quarantine", h.apiQuarantine)
	r.Handle("GET /api/v1/organizations/{id}/priority-matrix", h.apiGetMatrix)
	r.Handle("PUT /api/v1/organizations/{id}/priority-matrix", h.apiMatrix)
	r.Handle("GET /api/v1/helpdesk/assignment-rules", h.apiRules)
	r.Handle("POST /api/v1/helpdesk/assignment-rules", h.apiAddRule)
}

func dateParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, web.Paris())
	if err != nil {
		return t, problem.Invalid("invalid_parameter", "Date "+name+" invalide : AAAA-MM-JJ attendu.").Field(name, "Date AAAA-MM-JJ.")
	}
	return t, nil
}

// filterFromQuery reads the list filters shared by the page and the API.
func filterFromQuery(q url.Values) (Filter, error) {
	f := Filter{Status: Status(q.Get("status")), UAI: q.Get("uai"), Sort: q.Get("sort")}
	if f.Status != "" && !f.Status.valid() {
		return f, problem.Invalid("invalid_filter", "Statut inconnu : "+string(f.Status)+".").Field("status", "Statut inconnu.")
	}
	switch f.Sort {
	case "", "created", "-created", "priority", "ttr_due":
	default:
		return f, problem.Invalid("invalid_filter", "Tri inconnu (created, -created, priority, ttr_due).").Field("sort", "Tri inconnu.")
	}
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"service", &f.ServiceID}, {"technician", &f.TechnicianID}, {"team", &f.TeamID}} {
		if *p.dst, err = web.IntParam(q, p.name, 1, 1<<62); err != nil {
			return f, err
		}
	}
	prio, err := web.IntParam(q, "priority", 1, 5)
	if err != nil {
		return f, err
	}
	limit, err := web.IntParam(q, "limit", 1, MaxPageSize)
	if err != nil {
		return f, err
	}
	offset, err := web.IntParam(q, "offset", 0, 1<<31)
	if err != nil {
		return f, err
	}
	f.Priority, f.Limit, f.Offset = int(prio), int(limit), int(offset)
	if f.From, err = dateParam(q, "from"); err != nil {
		return f, err
	}
	if f.To, err = dateParam(q, "to"); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" is inclusive: the whole day
	}
	return f, nil
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	f, err := filterFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	res, err := h.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	return web.JSON(w, http.StatusOK, struct {
		ListResult
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	}{res, f.Limit, f.Offset})
}

func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var nt NewTicket
	if err := web.DecodeJSON(w, r, maxJSON, &nt); err != nil {
		return err
	}
	t, err := h.svc.Create(r.Context(), p, nt)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/tickets/"+t.Reference)
	return web.JSON(w, http.StatusCreated, t)
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Get(r.Context(), p, r.PathValue("ref"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, d)
}

type followupRequest struct {
	Body    string `json:"body"`
	Private bool   `json:"private,omitempty"`
}

func (h *Handler) apiFollowup(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req followupRequest
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	f, err := h.svc.AddFollowup(r.Context(), p, r.PathValue("ref"), req.Body, req.Private)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, f)
}

func (h *Handler) apiStatus(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req StatusChange
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	t, err := h.svc.SetStatus(r.Context(), p, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, t)
}

func (h *Handler) apiAssign(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req Assignment
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	t, err := h.svc.Assign(r.Context(), p, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, t)
}

func (h *Handler) apiEscalate(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req Escalation
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	t, err := h.svc.Escalate(r.Context(), p, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, t)
}

// apiSurvey answers with the token of the e-mail (no login needed) or as
// the logged-in requester.
func (h *Handler) apiSurvey(w http.ResponseWriter, r *http.Request) error {
	var req SurveyAnswer
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	p := web.PrincipalFrom(r.Context())
	if req.Token == "" && p.IsAnonymous() {
		return problem.Unauthenticated()
	}
	if err := h.svc.AnswerSurvey(r.Context(), p, r.PathValue("ref"), req); err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]string{"status": "recorded"})
}

type linkRequest struct {
	Reference string `json:"reference"`
	Kind      string `json:"kind"`
}

func (h *Handler) apiLink(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req linkRequest
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	if err := h.svc.LinkTickets(r.Context(), p, r.PathValue("ref"), req.Reference, req.Kind); err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, req)
}

func (h *Handler) apiIntervention(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req Intervention
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	in, err := h.svc.AddIntervention(r.Context(), p, r.PathValue("ref"), req)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, in)
}

// apiAttach takes the file as the raw request body (streamed to disk), its
// name in ?name= and its type in Content-Type.
func (h *Handler) apiAttach(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	a, err := h.svc.Attach(r.Context(), p, r.PathValue("ref"), r.URL.Query().Get("name"), ct, r.Body)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, a)
}

func (h *Handler) apiAttachment(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Pièce jointe")
	if err != nil {
		return err
	}
	a, f, err := h.svc.OpenAttachment(r.Context(), p, r.PathValue("ref"), id)
	if err != nil {
		return err
	}
	defer f.Close()
	// Served as a download, never rendered inline: an uploaded HTML file
	// must not run as a page of the site.
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	_, err = io.Copy(w, f)
	return err
}

func (h *Handler) apiMonthly(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	org, err := web.IntParam(q, "org", 1, 1<<62)
	if err != nil {
		return err
	}
	if org == 0 {
		return problem.Invalid("org_required", "Indiquez l'organisation (paramètre org).").Field("org", "Requis.")
	}
	month := time.Now()
	if m := q.Get("month"); m != "" {
		if month, err = time.ParseInLocation("2006-01", m, web.Paris()); err != nil {
			return problem.Invalid("invalid_parameter", "Mois invalide : AAAA-MM attendu.").Field("month", "AAAA-MM.")
		}
	}
	rep, err := h.svc.MonthlyReport(r.Context(), p, org, month)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, rep)
}

func (h *Handler) apiQuarantine(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := web.IntParam(q, "limit", 1, MaxPageSize)
	if err != nil {
		return err
	}
	offset, err := web.IntParam(q, "offset", 0, 1<<31)
	if err != nil {
		return err
	}
	items, total, err := h.svc.Quarantine(r.Context(), p, int(limit), int(offset))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

type matrixRequest struct {
	Matrix Matrix `json:"matrix"`
}

func (h *Handler) apiMatrix(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(r.PathValue("id")), 10, 64)
	if err != nil {
		return problem.NotFound("Organisation")
	}
	var req matrixRequest
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	if err := h.svc.SetMatrix(r.Context(), p, id, req.Matrix); err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, req)
}

func (h *Handler) apiGetMatrix(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Organisation")
	if err != nil {
		return err
	}
	m, own, err := h.svc.MatrixOf(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, struct {
		Matrix Matrix `json:"matrix"`
		Own    bool   `json:"own"`
	}{m, own})
}

func (h *Handler) apiRules(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	org, err := web.IntParam(r.URL.Query(), "org", 1, 1<<62)
	if err != nil {
		return err
	}
	if org == 0 {
		return problem.Invalid("org_required", "Indiquez l'organisation (paramètre org).").Field("org", "Requis.")
	}
	rules, err := h.svc.Rules(r.Context(), p, org)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": rules})
}

func (h *Handler) apiAddRule(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var req Rule
	if err := web.DecodeJSON(w, r, maxJSON, &req); err != nil {
		return err
	}
	req.ID = 0
	rule, err := h.svc.AddRule(r.Context(), p, req)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, rule)
}
