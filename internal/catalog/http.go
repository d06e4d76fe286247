package catalog

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves the catalogue's pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// Routes mounts the catalogue's pages and API routes.
func (h *Handler) Routes(r *web.Router) {
	h.pageRoutes(r)
	h.apiRoutes(r)
}

func (h *Handler) pageRoutes(r *web.Router) {
	r.Handle("GET /catalogue", h.catalogPage)
	r.Handle("GET /catalogue/services/{id}", h.servicePage)
	r.Handle("GET /conventions", h.agreementsPage)
	r.Handle("GET /conventions/{id}", h.agreementPage)
	r.Handle("POST /conventions/{id}/document", h.uploadPage)
	r.Handle("GET /conventions/{id}/document", h.downloadDocument)
	r.Handle("POST /conventions/{id}/statut", h.statusPage)
	r.Handle("GET /calendriers", h.calendarsPage)
	r.Handle("GET /calendriers/{id}", h.calendarPage)
	r.Handle("POST /calendriers/{id}", h.calendarPage)
	r.Handle("GET /etablissements/{uai}/catalogue", h.establishmentCatalogPage)
	h.formRoutes(r)
}

type catalogView struct {
	Families []Family
}

func (h *Handler) catalogPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	fams, err := h.svc.Catalog(r.Context(), p)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "catalog/catalog", "Catalogue de services", catalogView{Families: fams})
}

func (h *Handler) servicePage(w http.ResponseWriter, r *http.Request) error {
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
	return h.render.Render(w, r, http.StatusOK, "catalog/service", o.Name, o)
}

func (h *Handler) agreementsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Agreements(r.Context(), p)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "catalog/agreements", "Conventions", map[string]any{"Agreements": list, "NearExpiryDays": NearExpiryDays})
}

// levelRow is one priority of a levels table, the delays already written
// the way a reader says them.
type levelRow struct {
	Priority                                         string
	IncidentTTO, IncidentTTR, RequestTTO, RequestTTR string
}

// levelRows lays the levels out as priority × kind; "—" marks no target.
func levelRows(levels []ServiceLevel) []levelRow {
	var rows []levelRow
	for _, pr := range Priorities {
		row := levelRow{Priority: PriorityLabel(pr), IncidentTTO: "—", IncidentTTR: "—", RequestTTO: "—", RequestTTR: "—"}
		for _, l := range levels {
			if l.Priority != pr {
				continue
			}
			if l.RequestKind == KindIncident {
				row.IncidentTTO, row.IncidentTTR = delayLabel(l.TTO), delayLabel(l.TTR)
			} else {
				row.RequestTTO, row.RequestTTR = delayLabel(l.TTO), delayLabel(l.TTR)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// delayLabel writes a delay in French: "4 h", "1 h 30", "3 jours ouvrés".
func delayLabel(d Delay) string {
	switch {
	case d.Days == 1:
		return "1 jour ouvré"
	case d.Days > 1:
		return fmt.Sprintf("%d jours ouvrés", d.Days)
	case d.Open <= 0:
		return "—"
	}
	h, m := int(d.Open/time.Hour), int(d.Open%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %02d", h, m)
}

type coveredView struct {
	CoveredService
	Rows []levelRow
}

type agreementView struct {
	Agreement
	Covered   []coveredView
	CanManage bool
	Next      []statusOption
	Flash     string
	Error     string
}

type statusOption struct {
	Value AgreementStatus
	Label string
}

func (h *Handler) agreementPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	return h.showAgreement(w, r, p, id, http.StatusOK, flashOf(r.URL.Query().Get("ok")), "")
}

func flashOf(code string) string {
	switch code {
	case "document":
		return "Document enregistré."
	case "statut":
		return "Statut de la convention mis à jour."
	}
	return ""
}

func (h *Handler) showAgreement(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64, status int, flash, errMsg string) error {
	a, err := h.svc.Agreement(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := agreementView{Agreement: a, Flash: flash, Error: errMsg}
	for _, cs := range a.Services {
		v.Covered = append(v.Covered, coveredView{cs, levelRows(cs.Levels)})
	}
	// Forms are offered to those who may manage the provider's catalogue;
	// the service checks again on submission.
	if h.svc.CanManageAgreement(r.Context(), p, id) {
		v.CanManage = true
		switch a.Status {
		case AgreementDraft:
			v.Next = []statusOption{{AgreementSigned, "Marquer comme signée"}, {AgreementTerminated, "Abandonner (résiliée)"}}
		case AgreementSigned:
			v.Next = []statusOption{{AgreementTerminated, "Résilier"}, {AgreementExpired, "Marquer comme expirée"}}
		}
	}
	return h.render.Render(w, r, status, "catalog/agreement", "Convention "+a.Reference, v)
}

// uploadPage receives the document form of the convention page.
func (h *Handler) uploadPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	if _, err := h.receiveDocument(w, r, id, p); err != nil {
		if pe, ok := problem.As(err); ok && pe.Status < 500 && pe.Status != http.StatusNotFound && pe.Status != http.StatusForbidden {
			return h.showAgreement(w, r, p, id, pe.Status, "", pe.Message)
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/conventions/%d?ok=document", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) statusPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Convention")
	if err != nil {
		return err
	}
	if _, err := h.svc.SetAgreementStatus(r.Context(), p, id, AgreementStatus(r.PostFormValue("status"))); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/conventions/%d?ok=statut", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) calendarsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	list, err := h.svc.Calendars(r.Context(), p)
	if err != nil {
		return err
	}
	type row struct {
		BusinessCalendar
		Week string
	}
	var rows []row
	for _, bc := range list {
		rows = append(rows, row{bc, weekSummary(bc.Spec)})
	}
	return h.render.Render(w, r, http.StatusOK, "catalog/calendars", "Calendriers ouvrés", map[string]any{"Calendars": rows})
}

// weekDays is the French week order.
var weekDays = [...]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// dayHours lists each weekday's ranges as text ("08:00–12:00, 13:30–17:30"),
// "fermé" when none.
func dayHours(spec Spec) [][2]string {
	var out [][2]string
	for _, wd := range weekDays {
		var ranges []string
		for key, rs := range spec.Hours {
			if d, ok := parseWeekday(key); ok && d == wd {
				for _, tr := range rs {
					ranges = append(ranges, tr.Start+"–"+tr.End)
				}
			}
		}
		text := "fermé"
		if len(ranges) > 0 {
			text = strings.Join(ranges, ", ")
		}
		out = append(out, [2]string{frenchWeekday(wd), text})
	}
	return out
}

func weekSummary(spec Spec) string {
	var open []string
	for _, d := range dayHours(spec) {
		if d[1] != "fermé" {
			open = append(open, d[0])
		}
	}
	if len(open) == 0 {
		return "aucun jour ouvert"
	}
	return strings.Join(open, ", ")
}

type calendarView struct {
	Calendar     BusinessCalendar
	Days         [][2]string
	KnownUntil   string
	Holidays     []PublicHoliday
	HolidayYear  int
	Start        string
	Duration     string
	Error        string
	Result       *DeadlineResult
	OpenDuration string
}

// calendarPage shows a calendar and its deadline simulator, a POST form
// (the simulation is computed, not stored, but the form carries the CSRF
// token like every other).
func (h *Handler) calendarPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Calendrier")
	if err != nil {
		return err
	}
	ctx := r.Context()
	bc, cal, err := h.svc.BusinessCalendar(ctx, p, id)
	if err != nil {
		return err
	}
	now := time.Now().In(cal.Location())
	v := calendarView{Calendar: bc, Days: dayHours(bc.Spec), HolidayYear: now.Year(),
		Start: now.Truncate(time.Hour).Format("2006-01-02T15:04"), Duration: "4h"}
	if !bc.Spec.OpenOnPublicHolidays {
		v.Holidays = PublicHolidays(now.Year(), bc.Spec.HolidayOptions)
	}
	if d, ok := cal.SchoolHolidaysKnownUntil(); ok {
		v.KnownUntil = frDate(d)
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		v.Start, v.Duration = r.PostFormValue("start"), r.PostFormValue("duration")
		res, err := h.simulate(r, p, id, cal, v.Start, v.Duration)
		if pe, ok := problem.As(err); ok && pe.Status == http.StatusBadRequest {
			v.Error, status = pe.Message, pe.Status
		} else if err != nil {
			return err
		} else {
			v.Result = &res
			v.OpenDuration = delayLabel(Delay{Open: time.Duration(res.OpenSeconds) * time.Second})
		}
	}
	return h.render.Render(w, r, status, "catalog/calendar", bc.Name, v)
}

func (h *Handler) simulate(r *http.Request, p *auth.Principal, id int64, cal *Calendar, start, duration string) (DeadlineResult, error) {
	t, err := ParseStart(start, cal.Location())
	if err != nil {
		return DeadlineResult{}, err
	}
	d, err := ParseDelay(duration)
	if err != nil {
		return DeadlineResult{}, err
	}
	return h.svc.Deadline(r.Context(), p, id, t, d)
}

type subscriptionView struct {
	Subscription
	Rows []levelRow
}

func (h *Handler) establishmentCatalogPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	e, subs, err := h.svc.EstablishmentCatalog(r.Context(), p, r.PathValue("uai"))
	if err != nil {
		return err
	}
	var views []subscriptionView
	for _, s := range subs {
		views = append(views, subscriptionView{s, levelRows(s.Service.Levels)})
	}
	return h.render.Render(w, r, http.StatusOK, "catalog/establishment", "Catalogue — "+e.Name,
		map[string]any{"Establishment": e, "Subscriptions": views})
}

// percent writes a share as a French percentage ("93,5 %").
func percent(f float64) string {
	return strings.Replace(strconv.FormatFloat(f*100, 'f', 1, 64), ".", ",", 1) + "\u202f%"
}

// Label3 and Label12 are what the school page shows of measured levels.
func (s subscriptionView) Label3() string  { return measureLabel(s.Measured3) }
func (s subscriptionView) Label12() string { return measureLabel(s.Measured12) }

func measureLabel(m *Measure) string {
	if m == nil {
		return "mesure indisponible"
	}
	if m.Tickets == 0 {
		return "aucun ticket sur la période"
	}
	return fmt.Sprintf("%d tickets — prise en charge dans les délais : %s, résolution dans les délais : %s", m.Tickets, percent(m.TTOMet), percent(m.TTRMet))
}
