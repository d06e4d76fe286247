package catalog

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// The management forms: server-rendered, one POST each, for the callers
// holding catalog.manage (the service checks again on submission). A
// refused form comes back with what was typed and each fault next to its
// field.

func (h *Handler) formRoutes(r *web.Router) {
	r.Handle("GET /catalogue/services/nouveau", h.newServiceForm)
	r.Handle("POST /catalogue/services/nouveau", h.newServiceForm)
	r.Handle("GET /catalogue/services/{id}/modifier", h.editServiceForm)
	r.Handle("POST /catalogue/services/{id}/modifier", h.editServiceForm)
	r.Handle("GET /equipes", h.teamsForm)
	r.Handle("POST /equipes", h.teamsForm)
	r.Handle("GET /equipes/{id}/modifier", h.editTeamForm)
	r.Handle("POST /equipes/{id}/modifier", h.editTeamForm)
	r.Handle("GET /calendriers/nouveau", h.newCalendarForm)
	r.Handle("POST /calendriers/nouveau", h.newCalendarForm)
	r.Handle("GET /calendriers/{id}/modifier", h.editCalendarForm)
	r.Handle("POST /calendriers/{id}/modifier", h.editCalendarForm)
	r.Handle("GET /conventions/nouvelle", h.newAgreementForm)
	r.Handle("POST /conventions/nouvelle", h.newAgreementForm)
}

type choice struct {
	Value, Label string
}

// formView is what every management form carries.
type formView struct {
	Form   url.Values
	Fields map[string]string
	Error  string
	// Choices are the select lists, by field.
	Choices map[string][]choice
	// Rows are the repeated rows of the form (request types, closures…).
	Rows []int
	// Extra carries what one form alone needs.
	Extra any
}

// Get is the submitted (or default) value of a field.
func (v formView) Get(name string) string { return v.Form.Get(name) }

// Err is the fault of a field, "" when none.
func (v formView) Err(name string) string { return v.Fields[name] }

func newFormView(r *http.Request) formView {
	v := formView{Form: url.Values{}, Fields: map[string]string{}, Choices: map[string][]choice{}}
	if r.Method == http.MethodPost {
		v.Form = r.PostForm
	}
	return v
}

// refuse puts a user error into the form view; other errors are returned.
func (v *formView) refuse(err error, rename func(string) string) (int, error) {
	pe, ok := problem.As(err)
	if !ok || pe.Status >= 500 || pe.Status == http.StatusForbidden {
		return 0, err
	}
	v.Error = pe.Message
	for k, m := range pe.Fields {
		if rename != nil {
			k = rename(k)
		}
		v.Fields[k] = m
	}
	if pe.Status == http.StatusNotFound && len(pe.Fields) == 0 {
		return 0, err
	}
	if pe.Status == http.StatusNotFound {
		return http.StatusBadRequest, nil
	}
	return pe.Status, nil
}

func (h *Handler) requireManager(r *http.Request) (*auth.Principal, error) {
	p, err := web.RequireUser(r)
	if err != nil {
		return nil, err
	}
	if !p.Has(auth.PermCatalogManage) {
		return nil, problem.Forbidden()
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		if err := r.ParseForm(); err != nil {
			return nil, problem.Invalid("invalid_form", "Formulaire invalide.").Wrap(err)
		}
	}
	return p, nil
}

func (h *Handler) ownerChoices(ctx context.Context, p *auth.Principal) ([]choice, error) {
	orgs, err := h.svc.ManagedOrganizations(ctx, p)
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, o := range orgs {
		out = append(out, choice{strconv.FormatInt(o.ID, 10), o.Name})
	}
	return out, nil
}

func formInt(f url.Values, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(f.Get(name)), 10, 64)
	return n
}

var kindChoices = []choice{{KindIncident, "Incident"}, {KindRequest, "Demande"}}

func imacChoices() []choice {
	out := []choice{{"", "—"}}
	for _, op := range IMACOperations {
		out = append(out, choice{op, IMACLabel(op)})
	}
	return out
}

var statusChoices = []choice{{string(StatusStudy), StatusStudy.Label()}, {string(StatusProduction), StatusProduction.Label()}, {string(StatusRetired), StatusRetired.Label()}}

// ---- services ----

const requestTypeRows = 6

func (h *Handler) newServiceForm(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireManager(r)
	if err != nil {
		return err
	}
	v := newFormView(r)
	if v.Choices["owner_id"], err = h.ownerChoices(r.Context(), p); err != nil {
		return err
	}
	v.Choices["status"], v.Choices["kind"], v.Choices["imac"] = statusChoices, kindChoices, imacChoices()
	for i := range requestTypeRows {
		v.Rows = append(v.Rows, i)
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		f := r.PostForm
		in := ServiceInput{OwnerID: formInt(f, "owner_id"), Family: f.Get("family"), Code: f.Get("code"), Name: f.Get("name"),
			Description: f.Get("description"), Status: ServiceStatus(f.Get("status"))}
		// Empty rows are left out; the faults of the others name their
		// row of the form, not their rank among the filled ones.
		var rowOf []int
		for i := range requestTypeRows {
			name := strings.TrimSpace(f.Get(fmt.Sprintf("rt_name_%d", i)))
			if name == "" {
				continue
			}
			in.RequestTypes = append(in.RequestTypes, RequestTypeInput{Kind: f.Get(fmt.Sprintf("rt_kind_%d", i)), IMAC: f.Get(fmt.Sprintf("rt_imac_%d", i)), Name: name})
			rowOf = append(rowOf, i)
		}
		o, err := h.svc.CreateService(r.Context(), p, in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/catalogue/services/%d", o.ID), http.StatusSeeOther)
			return nil
		}
		if status, err = v.refuse(err, indexRenamer(`^request_types\[(\d+)\]$`, "rt_name_%d", rowOf)); err != nil {
			return err
		}
	} else {
		v.Form.Set("status", string(StatusProduction))
	}
	return h.render.Render(w, r, status, "catalog/service_form", "Nouveau service", v)
}

// indexRenamer maps a fault on the n-th submitted row ("request_types[1]")
// to the field of its row in the form ("rt_name_3").
func indexRenamer(pattern, format string, rowOf []int) func(string) string {
	re := regexp.MustCompile(pattern)
	return func(k string) string {
		m := re.FindStringSubmatch(k)
		if m == nil {
			return k
		}
		n, _ := strconv.Atoi(m[1])
		if n < len(rowOf) {
			return fmt.Sprintf(format, rowOf[n])
		}
		return k
	}
}

const addTypeRows = 3

type editServiceExtra struct {
	Service Offering
}

func (h *Handler) editServiceForm(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireManager(r)
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
	v := newFormView(r)
	v.Choices["status"], v.Choices["kind"], v.Choices["imac"] = statusChoices, kindChoices, imacChoices()
	for i := range addTypeRows {
		v.Rows = append(v.Rows, i)
	}
	v.Extra = editServiceExtra{o}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		f := r.PostForm
		in := ServiceUpdate{Family: f.Get("family"), Name: f.Get("name"), Description: f.Get("description"),
			Status: ServiceStatus(f.Get("status")), Active: map[int64]bool{}}
		for _, rt := range o.RequestTypes {
			in.Active[rt.ID] = f.Get(fmt.Sprintf("active_%d", rt.ID)) != ""
		}
		var rowOf []int
		for i := range addTypeRows {
			name := strings.TrimSpace(f.Get(fmt.Sprintf("add_name_%d", i)))
			if name == "" {
				continue
			}
			in.Add = append(in.Add, RequestTypeInput{Kind: f.Get(fmt.Sprintf("add_kind_%d", i)), IMAC: f.Get(fmt.Sprintf("add_imac_%d", i)), Name: name})
			rowOf = append(rowOf, i)
		}
		_, err := h.svc.UpdateService(r.Context(), p, id, in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/catalogue/services/%d", id), http.StatusSeeOther)
			return nil
		}
		if status, err = v.refuse(err, indexRenamer(`^add\[(\d+)\]$`, "add_name_%d", rowOf)); err != nil {
			return err
		}
	} else {
		v.Form.Set("family", o.FamilyName)
		v.Form.Set("name", o.Name)
		v.Form.Set("description", o.Description)
		v.Form.Set("status", string(o.Status))
		for _, rt := range o.RequestTypes {
			if rt.Active {
				v.Form.Set(fmt.Sprintf("active_%d", rt.ID), "1")
			}
		}
	}
	return h.render.Render(w, r, status, "catalog/service_edit", "Modifier "+o.Name, v)
}

// ---- teams ----

func (h *Handler) teamsForm(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireManager(r)
	if err != nil {
		return err
	}
	v := newFormView(r)
	if v.Choices["org_id"], err = h.ownerChoices(r.Context(), p); err != nil {
		return err
	}
	v.Choices["level"] = []choice{{"N1", "N1 – assistance"}, {"N2", "N2 – proximité"}, {"N3", "N3 – prestataire ou expert"}}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		f := r.PostForm
		t := Team{OrgID: formInt(f, "org_id"), Name: f.Get("name"), Level: f.Get("level"), Contractor: f.Get("contractor") != "", Email: strings.TrimSpace(f.Get("email"))}
		_, cerr := h.svc.CreateTeam(r.Context(), p, t)
		if cerr == nil {
			http.Redirect(w, r, "/equipes?ok=1", http.StatusSeeOther)
			return nil
		}
		if pe, ok := problem.As(cerr); ok && pe.Code == "team_invalid" {
			if strings.TrimSpace(t.Name) == "" {
				v.Fields["name"] = "Nom requis."
			} else {
				v.Fields["level"] = "Niveau requis : N1, N2 ou N3."
			}
		}
		if status, err = v.refuse(cerr, func(k string) string {
			if k == "owner_id" {
				return "org_id"
			}
			return k
		}); err != nil {
			return err
		}
	}
	teams, err := h.svc.Teams(r.Context(), p)
	if err != nil {
		return err
	}
	v.Extra = map[string]any{"Teams": teams, "Done": r.URL.Query().Get("ok") != ""}
	return h.render.Render(w, r, status, "catalog/teams", "Équipes de support", v)
}

func (h *Handler) editTeamForm(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireManager(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Équipe")
	if err != nil {
		return err
	}
	teams, err := h.svc.Teams(r.Context(), p)
	if err != nil {
		return err
	}
	var cur *Team
	for i := range teams {
		if teams[i].ID == id {
			cur = &teams[i]
		}
	}
	if cur == nil {
		return problem.NotFound("Équipe")
	}
	v := newFormView(r)
	v.Choices["level"] = []choice{{"N1", "N1 – assistance"}, {"N2", "N2 – proximité"}, {"N3", "N3 – prestataire ou expert"}}
	v.Extra = *cur
	status := http.StatusOK
	if r.Method == http.MethodPost {
		f := r.PostForm
		t := Team{ID: id, Name: f.Get("name"), Level: f.Get("level"), Contractor: f.Get("contractor") != "", Email: f.Get("email")}
		_, uerr := h.svc.UpdateTeam(r.Context(), p, t)
		if uerr == nil {
			http.Redirect(w, r, "/equipes?ok=1", http.StatusSeeOther)
			return nil
		}
		if pe, ok := problem.As(uerr); ok && pe.Code == "team_invalid" {
			if strings.TrimSpace(t.Name) == "" {
				v.Fields["name"] = "Nom requis."
			} else {
				v.Fields["level"] = "Niveau requis : N1, N2 ou N3."
			}
		}
		if status, err = v.refuse(uerr, nil); err != nil {
			return err
		}
	} else {
		v.Form.Set("name", cur.Name)
		v.Form.Set("level", cur.Level)
		v.Form.Set("email", cur.Email)
		if cur.Contractor {
			v.Form.Set("contractor", "1")
		}
	}
	return h.render.Render(w, r, status, "catalog/team_edit", "Modifier l'équipe "+cur.Name, v)
}

// ---- calendars ----

const rangesPerDay = 3
const closureRows = 4

// dayKeys are the weekdays in the form's order, as the API names them.
var dayKeys = []string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"}

type calendarFormExtra struct {
	Days     []string
	Ranges   []int
	Closures []int
	// Action is where the form posts; Calendar is set when editing.
	Action   string
	Calendar *BusinessCalendar
}

// calendarInputOf reads the calendar form; bad lists the closure fields
// whose dates do not parse, rowOf the form row of each closure kept.
func calendarInputOf(f url.Values) (in CalendarInput, rowOf []int, bad []string) {
	ph := f.Get("public_holidays") != ""
	in = CalendarInput{OwnerID: formInt(f, "owner_id"), Name: f.Get("name"), Hours: map[string][]TimeRange{},
		PublicHolidays: &ph, SchoolHolidayZone: f.Get("zone"),
		HolidayOptions: HolidayOptions{WhitMondayOpen: f.Get("whit_monday_open") != "", AlsaceMoselle: f.Get("alsace_moselle") != ""}}
	for _, d := range dayKeys {
		for i := range rangesPerDay {
			start, end := strings.TrimSpace(f.Get(fmt.Sprintf("h_%s_%d_start", d, i))), strings.TrimSpace(f.Get(fmt.Sprintf("h_%s_%d_end", d, i)))
			if start == "" && end == "" {
				continue
			}
			in.Hours[d] = append(in.Hours[d], TimeRange{Start: start, End: end})
		}
	}
	for i := range closureRows {
		from, to, label := strings.TrimSpace(f.Get(fmt.Sprintf("cl_from_%d", i))), strings.TrimSpace(f.Get(fmt.Sprintf("cl_to_%d", i))), strings.TrimSpace(f.Get(fmt.Sprintf("cl_label_%d", i)))
		if from == "" && to == "" && label == "" {
			continue
		}
		var cl Closure
		var e1, e2 error
		if from != "" {
			cl.From, e1 = ParseDate(from)
		}
		if to != "" {
			cl.To, e2 = ParseDate(to)
		}
		if e1 != nil || e2 != nil {
			bad = append(bad, fmt.Sprintf("cl_from_%d", i))
			continue
		}
		cl.Label = label
		in.Closures = append(in.Closures, cl)
		rowOf = append(rowOf, i)
	}
	return in, rowOf, bad
}

// fillCalendarForm writes a stored calendar into the form's fields.
func fillCalendarForm(v url.Values, bc BusinessCalendar) {
	v.Set("name", bc.Name)
	v.Set("zone", bc.SchoolHolidayZone)
	if !bc.Spec.OpenOnPublicHolidays {
		v.Set("public_holidays", "1")
	}
	if bc.Spec.WhitMondayOpen {
		v.Set("whit_monday_open", "1")
	}
	if bc.Spec.AlsaceMoselle {
		v.Set("alsace_moselle", "1")
	}
	for key, ranges := range bc.Spec.Hours {
		wd, ok := parseWeekday(key)
		if !ok {
			continue
		}
		d := strings.ToLower(frenchWeekday(wd))
		for i, tr := range ranges {
			if i < rangesPerDay {
				v.Set(fmt.Sprintf("h_%s_%d_start", d, i), tr.Start)
				v.Set(fmt.Sprintf("h_%s_%d_end", d, i), tr.End)
			}
		}
	}
	for i, cl := range bc.Spec.Closures {
		if i < closureRows {
			v.Set(fmt.Sprintf("cl_from_%d", i), cl.From.String())
			v.Set(fmt.Sprintf("cl_to_%d", i), cl.To.String())
			v.Set(fmt.Sprintf("cl_label_%d", i), cl.Label)
		}
	}
}

func (h *Handler) newCalendarForm(w http.ResponseWriter, r *http.Request) error {
	return h.calendarForm(w, r, 0)
}

func (h *Handler) editCalendarForm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id", "Calendrier")
	if err != nil {
		return err
	}
	return h.calendarForm(w, r, id)
}

// calendarForm creates a calendar (id 0) or edits one.
func (h *Handler) calendarForm(w http.ResponseWriter, r *http.Request, id int64) error {
	p, err := h.requireManager(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := newFormView(r)
	ex := calendarFormExtra{Days: dayKeys, Action: "/calendriers/nouveau"}
	title := "Nouveau calendrier ouvré"
	if id != 0 {
		bc, _, err := h.svc.BusinessCalendar(ctx, p, id)
		if err != nil {
			return err
		}
		ex.Calendar, ex.Action, title = &bc, fmt.Sprintf("/calendriers/%d/modifier", id), "Modifier le calendrier "+bc.Name
		if r.Method != http.MethodPost {
			fillCalendarForm(v.Form, bc)
		}
	} else if v.Choices["owner_id"], err = h.ownerChoices(ctx, p); err != nil {
		return err
	}
	zones, err := h.svc.SchoolZones(ctx)
	if err != nil {
		return err
	}
	v.Choices["zone"] = []choice{{"", "Ouvert pendant les vacances scolaires"}}
	for _, z := range zones {
		v.Choices["zone"] = append(v.Choices["zone"], choice{z, "Fermé pendant les vacances de la " + z})
	}
	for i := range rangesPerDay {
		ex.Ranges = append(ex.Ranges, i)
	}
	for i := range closureRows {
		ex.Closures = append(ex.Closures, i)
	}
	v.Extra = ex
	status := http.StatusOK
	if r.Method == http.MethodPost {
		in, rowOf, bad := calendarInputOf(r.PostForm)
		if len(bad) > 0 {
			v.Error, status = "Calendrier invalide : corrigez les champs signalés.", http.StatusBadRequest
			for _, k := range bad {
				v.Fields[k] = "Date invalide (AAAA-MM-JJ)."
			}
			return h.render.Render(w, r, status, "catalog/calendar_form", title, v)
		}
		var bc BusinessCalendar
		if id == 0 {
			bc, _, err = h.svc.CreateCalendar(ctx, p, in)
		} else {
			bc, err = h.svc.UpdateCalendar(ctx, p, id, in)
		}
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/calendriers/%d", bc.ID), http.StatusSeeOther)
			return nil
		}
		if status, err = v.refuse(err, indexRenamer(`^closures\[(\d+)\]$`, "cl_from_%d", rowOf)); err != nil {
			return err
		}
	} else if id == 0 {
		v.Form.Set("public_holidays", "1")
		for _, d := range dayKeys[:5] {
			v.Form.Set("h_"+d+"_0_start", "08:00")
			v.Form.Set("h_"+d+"_0_end", "12:00")
			v.Form.Set("h_"+d+"_1_start", "13:30")
			v.Form.Set("h_"+d+"_1_end", "17:30")
		}
	}
	return h.render.Render(w, r, status, "catalog/calendar_form", title, v)
}

// SchoolZones lists the zones of the imported national school calendar.
func (s *Service) SchoolZones(ctx context.Context) ([]string, error) {
	return s.store.SchoolZones(ctx)
}

// ---- conventions ----

const serviceBlocks = 2

type levelCell struct {
	Kind, KindLabel string
	Priority        int
	PriorityLabel   string
}

type agreementFormExtra struct {
	Blocks []int
	Cells  []levelCell
	Levels []choice
}

// levelField names a level input of the convention form.
func levelField(block int, kind string, priority int, which string) string {
	return fmt.Sprintf("l_%d_%s_%d_%s", block, kind, priority, which)
}

// LevelField is levelField for templates.
func (agreementFormExtra) LevelField(block int, kind string, priority int, which string) string {
	return levelField(block, kind, priority, which)
}

func (h *Handler) newAgreementForm(w http.ResponseWriter, r *http.Request) error {
	p, err := h.requireManager(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := newFormView(r)
	if v.Choices["provider_id"], err = h.ownerChoices(ctx, p); err != nil {
		return err
	}
	v.Choices["kind"] = []choice{{string(KindService), KindService.Label()}, {string(KindFramework), KindFramework.Label()}}
	v.Choices["status"] = []choice{{string(AgreementDraft), AgreementDraft.Label()}, {string(AgreementSigned), AgreementSigned.Label()}}
	agreements, err := h.svc.Agreements(ctx, p)
	if err != nil {
		return err
	}
	v.Choices["framework_id"] = []choice{{"", "Aucune"}}
	for _, a := range agreements {
		if a.Kind == KindFramework {
			v.Choices["framework_id"] = append(v.Choices["framework_id"], choice{strconv.FormatInt(a.ID, 10), a.Reference + " – " + a.Title})
		}
	}
	services, err := h.svc.Services(ctx, p)
	if err != nil {
		return err
	}
	v.Choices["service"] = []choice{{"", "—"}}
	for _, o := range services {
		v.Choices["service"] = append(v.Choices["service"], choice{strconv.FormatInt(o.ID, 10), o.Name + " (" + o.OwnerName + ")"})
	}
	cals, err := h.svc.Calendars(ctx, p)
	if err != nil {
		return err
	}
	v.Choices["calendar"] = []choice{{"", "—"}}
	for _, c := range cals {
		v.Choices["calendar"] = append(v.Choices["calendar"], choice{strconv.FormatInt(c.ID, 10), c.Name})
	}
	teams, err := h.svc.Teams(ctx, p)
	if err != nil {
		return err
	}
	v.Choices["team"] = []choice{{"", "—"}}
	for _, t := range teams {
		v.Choices["team"] = append(v.Choices["team"], choice{strconv.FormatInt(t.ID, 10), t.Name + " (" + t.Level + ")"})
	}
	ex := agreementFormExtra{Levels: []choice{{"n1", "N1 (assistance)"}, {"n2", "N2 (proximité)"}, {"n3", "N3 (prestataire, expert)"}}}
	for i := range serviceBlocks {
		ex.Blocks = append(ex.Blocks, i)
	}
	for _, k := range []string{KindIncident, KindRequest} {
		for _, pr := range Priorities {
			ex.Cells = append(ex.Cells, levelCell{Kind: k, KindLabel: KindLabel(k), Priority: pr, PriorityLabel: PriorityLabel(pr)})
		}
	}
	v.Extra = ex
	status := http.StatusOK
	if r.Method != http.MethodPost {
		v.Form.Set("kind", string(KindService))
		v.Form.Set("coverage", CoverageListed)
		v.Form.Set("survey_enabled", "1")
		return h.render.Render(w, r, status, "catalog/agreement_form", "Nouvelle convention", v)
	}
	f := r.PostForm
	survey := f.Get("survey_enabled") != ""
	in := AgreementInput{Kind: AgreementKind(f.Get("kind")), Reference: f.Get("reference"), Title: f.Get("title"),
		ProviderID: formInt(f, "provider_id"), FrameworkID: formInt(f, "framework_id"), ValidFrom: f.Get("valid_from"),
		ValidUntil: f.Get("valid_until"), Status: AgreementStatus(f.Get("status")), SignedOn: f.Get("signed_on"),
		Coverage: f.Get("coverage"), CoverageAuthorityID: formInt(f, "coverage_authority_id"), SurveyEnabled: &survey}
	if in.Coverage == CoverageListed {
		in.Establishments = strings.FieldsFunc(f.Get("establishments"), func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
		})
	} else {
		in.CoverageAuthorityID = formInt(f, "coverage_authority_id")
	}
	var renames = map[string]string{}
	if code := strings.TrimSpace(f.Get("beneficiary_code")); code != "" {
		party, err := h.svc.OrganizationByCode(ctx, p, code)
		if err != nil {
			if status, err = v.refuse(err, func(k string) string { return "beneficiary_code" }); err != nil {
				return err
			}
			return h.render.Render(w, r, status, "catalog/agreement_form", "Nouvelle convention", v)
		}
		in.BeneficiaryID = party.ID
	}
	renames["beneficiary_id"] = "beneficiary_code"
	for b := range serviceBlocks {
		svc := formInt(f, fmt.Sprintf("s_%d_service", b))
		if svc == 0 {
			continue
		}
		pos := len(in.Services)
		cs := CoveredServiceInput{ServiceID: svc, CalendarID: formInt(f, fmt.Sprintf("s_%d_calendar", b)),
			N1TeamID: formInt(f, fmt.Sprintf("s_%d_n1", b)), N2TeamID: formInt(f, fmt.Sprintf("s_%d_n2", b)), N3TeamID: formInt(f, fmt.Sprintf("s_%d_n3", b))}
		prefix := fmt.Sprintf("services[%d]", pos)
		renames[prefix+".service_id"] = fmt.Sprintf("s_%d_service", b)
		renames[prefix+".calendar_id"] = fmt.Sprintf("s_%d_calendar", b)
		for _, c := range ex.Cells {
			tto, ttr := strings.TrimSpace(f.Get(levelField(b, c.Kind, c.Priority, "tto"))), strings.TrimSpace(f.Get(levelField(b, c.Kind, c.Priority, "ttr")))
			if tto == "" && ttr == "" {
				continue
			}
			lf := fmt.Sprintf("%s.levels[%d]", prefix, len(cs.Levels))
			renames[lf+".tto"] = levelField(b, c.Kind, c.Priority, "tto")
			renames[lf+".ttr"] = levelField(b, c.Kind, c.Priority, "ttr")
			cs.Levels = append(cs.Levels, LevelInput{RequestKind: c.Kind, Priority: c.Priority, TTO: tto, TTR: ttr})
		}
		in.Services = append(in.Services, cs)
	}
	a, err := h.svc.CreateAgreement(ctx, p, in)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/conventions/%d", a.ID), http.StatusSeeOther)
		return nil
	}
	rename := func(k string) string {
		if n, ok := renames[k]; ok {
			return n
		}
		// A team fault names services[i].nX_team_id-like fields; show it
		// on the block's service.
		for prefix, n := range renames {
			if strings.HasSuffix(prefix, ".service_id") && strings.HasPrefix(k, strings.TrimSuffix(prefix, ".service_id")) {
				return n
			}
		}
		return k
	}
	if status, err = v.refuse(err, rename); err != nil {
		return err
	}
	return h.render.Render(w, r, status, "catalog/agreement_form", "Nouvelle convention", v)
}
