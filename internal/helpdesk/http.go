package helpdesk

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the helpdesk's pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// Routes mounts the helpdesk's pages and API routes.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /tickets", h.listPage)
	r.Handle("GET /tickets/nouveau", h.newPage)
	r.Handle("POST /tickets", h.createForm)
	r.Handle("GET /tickets/{ref}", h.ticketPage)
	r.Handle("POST /tickets/{ref}/suivis", h.followupForm)
	r.Handle("POST /tickets/{ref}/statut", h.statusForm)
	r.Handle("POST /tickets/{ref}/pieces-jointes", h.attachForm)
	r.Handle("GET /enquete/{token}", h.surveyPage)
	r.Handle("POST /enquete/{token}", h.surveyForm)
	r.Handle("GET /courriels-en-quarantaine", h.quarantinePage)
	r.Handle("GET /courriels-en-quarantaine/{id}/message.eml", h.quarantineDownload)
	r.Handle("POST /courriels-en-quarantaine/{id}/traitement", h.quarantineForm)
	r.Handle("GET /notifications-sortantes", h.outboxPage)
	h.apiRoutes(r)
	h.reportRoutes(r)
	h.imacRoutes(r)
}

type option struct {
	Value, Label string
	Selected     bool
}

func options(current string, pairs ...string) []option {
	out := make([]option, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, option{Value: pairs[i], Label: pairs[i+1], Selected: pairs[i] == current})
	}
	return out
}

// pager is what the shared "pager" partial needs.
type pager struct {
	Total, Offset, Limit int
	Path                 string
	Query                url.Values
}

type ticketRow struct {
	Ticket
	StatusLabel, KindLabel, PriorityLabel, Due string
	Late                                       bool
}

type listView struct {
	Rows       []ticketRow
	Total      int
	Statuses   []option
	Priorities []option
	Sorts      []option
	UAI, From  string
	To         string
	Filtered   bool
	Pager      pager
	CanCreate  bool
}

func row(t Ticket, now time.Time) ticketRow {
	r := ticketRow{Ticket: t, StatusLabel: t.Status.Label(), KindLabel: t.Kind.Label(), PriorityLabel: catalog.PriorityLabel(t.Priority)}
	if !t.TTRDue.IsZero() {
		r.Due = frDateTime(t.TTRDue)
		// A pending ticket is never shown late: the wait is on the
		// requester or a third party.
		r.Late = t.Status.open() && t.Status != StatusPending && now.After(t.TTRDue)
	}
	// Not yet owned past the time to own is late too.
	r.Late = r.Late || (t.Status == StatusNew && !t.TTODue.IsZero() && now.After(t.TTODue))
	return r
}

func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f, err := filterFromQuery(q)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	res, err := h.svc.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	now := h.svc.now()
	v := listView{Total: res.Total, UAI: q.Get("uai"), From: q.Get("from"), To: q.Get("to"), CanCreate: p.Has(auth.PermTicketCreate),
		Pager: pager{Total: res.Total, Offset: f.Offset, Limit: f.Limit, Path: "/tickets", Query: q}}
	v.Filtered = q.Get("status") != "" || v.UAI != "" || q.Get("priority") != "" || v.From != "" || v.To != ""
	for _, t := range res.Items {
		v.Rows = append(v.Rows, row(t, now))
	}
	pairs := []string{"", "Tous les statuts"}
	for _, s := range Statuses {
		pairs = append(pairs, string(s), s.Label())
	}
	v.Statuses = options(q.Get("status"), pairs...)
	pairs = []string{"", "Toutes les priorités"}
	for _, pr := range catalog.Priorities {
		pairs = append(pairs, strconv.Itoa(pr), catalog.PriorityLabel(pr))
	}
	v.Priorities = options(q.Get("priority"), pairs...)
	v.Sorts = options(q.Get("sort"), "", "Plus récents d'abord", "-created", "Plus anciens d'abord", "priority", "Priorité", "ttr_due", "Échéance de résolution")
	return h.render.Render(w, r, http.StatusOK, "helpdesk/list", "Tickets", v)
}

type newView struct {
	Kinds, Urgencies, Impacts []option
	Form                      NewTicket
	Error                     string
	Fields                    map[string]string
	// Offer is set once the establishment is known: the services it
	// subscribes to (Chosen marks the selected "service:type"); Known
	// says the establishment was found, NoOffer that nothing covers it.
	Offer   []offerGroup
	Known   bool
	NoOffer bool
}

type offerGroup struct {
	Label   string
	Options []option
}

func (h *Handler) newView(nt NewTicket) newView {
	var kinds []string
	for _, k := range Kinds {
		kinds = append(kinds, string(k), k.Label())
	}
	scale := func(cur int) []option {
		return options(strconv.Itoa(cur), "1", "1 – Très haute", "2", "2 – Haute", "3", "3 – Moyenne", "4", "4 – Basse", "5", "5 – Très basse")
	}
	if nt.Urgency == 0 {
		nt.Urgency = 3
	}
	if nt.Impact == 0 {
		nt.Impact = 3
	}
	return newView{Kinds: options(string(nt.Kind), kinds...), Urgencies: scale(nt.Urgency), Impacts: scale(nt.Impact), Form: nt, Fields: map[string]string{}}
}

// withOffer adds the services the establishment of the form subscribes
// to; an unknown or out-of-scope establishment is said next to its field.
func (h *Handler) withOffer(r *http.Request, p *auth.Principal, v *newView) error {
	if strings.TrimSpace(v.Form.UAI) == "" {
		return nil
	}
	_, offer, err := h.svc.Offer(r.Context(), p, v.Form.UAI)
	if isNotFound(err) {
		if v.Fields["uai"] == "" {
			v.Fields["uai"] = "Établissement inconnu ou hors de votre périmètre."
		}
		return nil
	}
	if err != nil {
		return err
	}
	v.Known, v.NoOffer = true, len(offer) == 0
	chosen := ""
	if v.Form.ServiceID != 0 {
		chosen = strconv.FormatInt(v.Form.ServiceID, 10) + ":" + strconv.FormatInt(v.Form.RequestTypeID, 10)
	}
	for _, o := range offer {
		g := offerGroup{Label: o.Name + " (convention " + o.AgreementReference + ")"}
		for _, t := range o.Types {
			label := t.Name + " – " + Kind(t.Kind).Label()
			if t.Promised {
				label += " – délai garanti"
			} else {
				label += " – pas de délai garanti"
			}
			val := strconv.FormatInt(o.ServiceID, 10) + ":" + strconv.FormatInt(t.ID, 10)
			g.Options = append(g.Options, option{Value: val, Label: label, Selected: val == chosen})
		}
		if len(o.Types) == 0 {
			val := strconv.FormatInt(o.ServiceID, 10) + ":0"
			g.Options = append(g.Options, option{Value: val, Label: o.Name + " – autre demande", Selected: val == chosen})
		}
		v.Offer = append(v.Offer, g)
	}
	return nil
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if !p.Has(auth.PermTicketCreate) {
		return problem.Forbidden()
	}
	q := r.URL.Query()
	nt := NewTicket{UAI: q.Get("uai"), Title: q.Get("title"), Description: q.Get("description"), Kind: Kind(q.Get("kind"))}
	if nt.UAI == "" {
		nt.UAI = h.svc.defaultUAI(r.Context(), p)
	}
	v := h.newView(nt)
	if err := h.withOffer(r, p, &v); err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "helpdesk/new", "Nouveau ticket", v)
}

func (h *Handler) createForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(r.PostForm.Get(k)); return n }
	nt := NewTicket{Kind: Kind(r.PostForm.Get("kind")), UAI: r.PostForm.Get("uai"), Title: r.PostForm.Get("title"),
		Description: r.PostForm.Get("description"), Urgency: atoi("urgency"), Impact: atoi("impact")}
	// "service:type" from the offer; the request type says what the
	// ticket is, so the kind chosen beside it gives way.
	if svc, typ, ok := strings.Cut(r.PostForm.Get("service_request"), ":"); ok {
		nt.ServiceID, _ = strconv.ParseInt(svc, 10, 64)
		nt.RequestTypeID, _ = strconv.ParseInt(typ, 10, 64)
		if nt.RequestTypeID != 0 {
			nt.Kind = ""
		}
	}
	t, err := h.svc.Create(r.Context(), p, nt)
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		v := h.newView(nt)
		v.Error = pe.Message
		for k, m := range pe.Fields {
			v.Fields[k] = m
		}
		if err := h.withOffer(r, p, &v); err != nil {
			return err
		}
		return h.render.Render(w, r, pe.Status, "helpdesk/new", "Nouveau ticket", v)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets/"+t.Reference, http.StatusSeeOther)
	return nil
}

// clockView is one clock as the page writes it.
type clockView struct {
	Name, State, StateLabel string
	Target, Due, Consumed   string
	Remaining, Paused       string
	Percent                 int
	Counted, PausedIvs      []string
	SolvedIvs, Upcoming     []string
	None                    bool
}

func duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	s := fmt.Sprintf("%d h %02d", h, m)
	if h == 0 {
		s = fmt.Sprintf("%d min", m)
	}
	if neg {
		return "dépassé de " + s
	}
	return s
}

func intervals(ivs []catalog.Interval) []string {
	var out []string
	for _, iv := range ivs {
		s, e := iv.Start.In(web.Paris()), iv.End.In(web.Paris())
		if s.YearDay() == e.YearDay() && s.Year() == e.Year() {
			out = append(out, s.Format("02/01/2006 15:04")+" – "+e.Format("15:04"))
		} else {
			out = append(out, s.Format("02/01/2006 15:04")+" – "+e.Format("02/01/2006 15:04"))
		}
	}
	return out
}

func stateLabel(s ClockState) string {
	switch s {
	case ClockRunning:
		return "En cours"
	case ClockWarning:
		return "Échéance proche (75 % consommés)"
	case ClockPaused:
		return "En pause (ticket en attente)"
	case ClockMet:
		return "Respecté"
	case ClockBreached:
		return "Dépassé"
	}
	return "Sans engagement"
}

func clockOf(name string, c Clock) clockView {
	v := clockView{Name: name, State: string(c.State), StateLabel: stateLabel(c.State), None: c.State == ClockNone}
	if v.None {
		return v
	}
	v.Target, v.Due = c.Target.String(), frDateTime(c.Due)
	v.Consumed, v.Remaining, v.Paused = duration(c.Consumed.Duration()), duration(c.Remaining.Duration()), duration(c.PausedOpen.Duration())
	v.Percent = c.Percent
	v.Counted, v.PausedIvs, v.SolvedIvs, v.Upcoming = intervals(c.Counted), intervals(c.Paused), intervals(c.Solved), intervals(c.Upcoming)
	return v
}

type eventView struct{ At, Text string }

func eventText(e Event) string {
	switch e.Type {
	case evStatus:
		if EventKind(e.To) == EventReopened {
			return "Ticket rouvert"
		}
		s := "Statut : " + Status(e.To).Label()
		if e.Detail != "" && Status(e.To) == StatusPending {
			s += " (" + ReasonLabel(e.Detail) + ")"
		}
		return s
	case evAssign:
		return "Attribution (niveau " + e.To + ")"
	case evEscalate:
		return "Escalade de " + e.From + " à " + e.To
	case evLevel:
		if e.Detail == "null" {
			return "Aucun engagement de service applicable"
		}
		return "Engagement de service " + e.To + " : " + e.Detail
	case evSLAWarn:
		return "Alerte : 75 % du délai " + strings.ToUpper(e.To) + " consommés"
	case evSLABreach:
		return "Délai " + strings.ToUpper(e.To) + " dépassé"
	case evLink:
		return "Lien (" + e.Detail + ") vers " + e.To
	}
	return e.Type
}

type ticketView struct {
	Detail
	StatusLabel, KindLabel, PriorityLabel, Reason string
	ClockViews                                    []clockView
	Timeline                                      []eventView
	Holders                                       []eventView
	Statuses                                      []option
	IsRequester, CanReopen                        bool
}

func (h *Handler) ticketPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	d, err := h.svc.Get(r.Context(), p, r.PathValue("ref"))
	if err != nil {
		return err
	}
	v := ticketView{Detail: d, StatusLabel: d.Status.Label(), KindLabel: d.Kind.Label(), PriorityLabel: catalog.PriorityLabel(d.Priority),
		IsRequester: d.RequesterID == p.User.ID}
	if d.Status == StatusPending {
		v.Reason = ReasonLabel(d.PendingReason)
	}
	v.CanReopen = !d.Status.open()
	if d.Clocks.Engagement {
		v.ClockViews = []clockView{clockOf("Prise en charge (TTO)", d.Clocks.TTO), clockOf("Résolution (TTR)", d.Clocks.TTR)}
	}
	for _, e := range d.Events {
		v.Timeline = append(v.Timeline, eventView{At: frDateTime(e.At), Text: eventText(e)})
	}
	for _, hd := range d.Holdings {
		who := "niveau " + hd.Level
		if hd.TeamID != 0 {
			who += ", équipe n° " + strconv.FormatInt(hd.TeamID, 10)
		}
		if hd.TechnicianID != 0 {
			who += ", technicien n° " + strconv.FormatInt(hd.TechnicianID, 10)
		}
		if hd.TechnicianID == d.TechnicianID && d.TechnicianName != "" && hd.To.IsZero() {
			who += " (" + d.TechnicianName + ")"
		}
		v.Holders = append(v.Holders, eventView{At: frDateTime(hd.From), Text: who + " – " + duration(hd.Seconds.Duration())})
	}
	var pairs []string
	for _, s := range Statuses {
		if canMove(d.Status, s) {
			pairs = append(pairs, string(s), s.Label())
		}
	}
	v.Statuses = options("", pairs...)
	return h.render.Render(w, r, http.StatusOK, "helpdesk/ticket", d.Reference+" – "+d.Title, v)
}

func (h *Handler) followupForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	ref := r.PathValue("ref")
	if _, err := h.svc.AddFollowup(r.Context(), p, ref, r.PostForm.Get("body"), r.PostForm.Get("private") == "1"); err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(ref)+"#suivis", http.StatusSeeOther)
	return nil
}

func (h *Handler) statusForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSON)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	ref := r.PathValue("ref")
	ch := StatusChange{Status: r.PostForm.Get("status"), Reason: r.PostForm.Get("reason"), Comment: r.PostForm.Get("comment")}
	if _, err := h.svc.SetStatus(r.Context(), p, ref, ch); err != nil {
		return err
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(ref), http.StatusSeeOther)
	return nil
}

type surveyView struct {
	Token, Error string
	Done         bool
	Scores       []option
}

func (h *Handler) surveyPage(w http.ResponseWriter, r *http.Request) error {
	return h.render.Render(w, r, http.StatusOK, "helpdesk/survey", "Votre avis sur le traitement de votre demande",
		surveyView{Token: r.PathValue("token"), Scores: scores("")})
}

func scores(cur string) []option {
	return options(cur, "5", "5 – Très satisfait", "4", "4 – Satisfait", "3", "3 – Moyennement satisfait", "2", "2 – Peu satisfait", "1", "1 – Pas du tout satisfait")
}

func (h *Handler) surveyForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
	}
	score, _ := strconv.Atoi(r.PostForm.Get("score"))
	v := surveyView{Token: r.PathValue("token"), Scores: scores(r.PostForm.Get("score"))}
	err := h.svc.AnswerSurvey(r.Context(), web.PrincipalFrom(r.Context()), "", SurveyAnswer{Token: v.Token, Score: score, Comment: r.PostForm.Get("comment")})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		v.Error = pe.Message
		return h.render.Render(w, r, pe.Status, "helpdesk/survey", "Votre avis sur le traitement de votre demande", v)
	}
	if err != nil {
		return err
	}
	v.Done = true
	return h.render.Render(w, r, http.StatusOK, "helpdesk/survey", "Merci pour votre avis", v)
}

type quarantineRow struct {
	QuarantinedMail
	When, ReasonLabel string
}

func quarantineReason(r string) string {
	switch r {
	case QuarantineTooLarge:
		return "Message trop volumineux"
	case QuarantineMalformed:
		return "Message mal formé"
	case QuarantineAutoReply:
		return "Réponse automatique"
	case QuarantineUnknownSender:
		return "Expéditeur inconnu ou sans droit sur le ticket"
	case QuarantineUnknownTicket:
		return "Ticket introuvable"
	case QuarantineNoEstablishment:
		return "Établissement de l'expéditeur indéterminé"
	}
	return r
}

// attachForm takes a file from the ticket page. The session middleware has
// already parsed the multipart body (to read its CSRF field), spooling big
// files to disk; the service copies it, bounded, under the files root.
func (h *Handler) attachForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if r.MultipartForm == nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.svc.opts.MaxAttachmentBytes+1<<20)
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
		}
	}
	files := r.MultipartForm.File["file"]
	if len(files) == 0 {
		return problem.Invalid("file_required", "Choisissez un fichier.").Field("file", "Fichier requis.")
	}
	ref := r.PathValue("ref")
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open uploaded file: %w", err)
		}
		_, err = h.svc.Attach(r.Context(), p, ref, fh.Filename, fh.Header.Get("Content-Type"), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/tickets/"+url.PathEscape(ref)+"#pieces-jointes", http.StatusSeeOther)
	return nil
}
