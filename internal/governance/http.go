package governance

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/ical"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

// Handler serves governance's pages, API, calendar, open data and
// transparency pages.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

// PublicPrefixes are the paths readable without login: the session
// middleware already lets anonymous GETs through with no principal, so
// nothing needs exempting; the service decides (public transparency pages,
// open data).
func PublicPrefixes() []string { return []string{"/transparence/", "/donnees-ouvertes/"} }

// Routes mounts the pages and the API.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET /gouvernance", h.overviewPage)
	r.Handle("POST /gouvernance/instances", h.createBodyForm)
	r.Handle("GET /gouvernance/instances/{id}", h.bodyPage)
	r.Handle("POST /gouvernance/instances/{id}/membres", h.addMemberForm)
	r.Handle("POST /gouvernance/instances/{id}/seances", h.createMeetingForm)
	r.Handle("GET /gouvernance/seances.ics", h.ical)
	r.Handle("GET /gouvernance/seances/{id}", h.meetingPage)
	r.Handle("POST /gouvernance/seances/{id}/compte-rendu", h.minutesForm)
	r.Handle("POST /gouvernance/seances/{id}/decisions", h.decisionForm)
	r.Handle("POST /gouvernance/seances/{id}/documents", h.documentForm)
	r.Handle("GET /gouvernance/seances/{id}/dossier", h.dossierPage)
	r.Handle("GET /gouvernance/seances/{id}/dossier.pdf", h.dossierPDF)
	r.Handle("GET /gouvernance/projets", h.projectsPage)
	r.Handle("POST /gouvernance/projets", h.proposeForm)
	r.Handle("GET /gouvernance/projets/{id}", h.projectPage)
	r.Handle("POST /gouvernance/projets/{id}/evaluation", h.evaluationForm)
	r.Handle("GET /gouvernance/feuilles-de-route/{id}", h.roadmapPage)
	r.Handle("POST /gouvernance/feuilles-de-route", h.createRoadmapForm)
	r.Handle("POST /gouvernance/feuilles-de-route/{id}/elements", h.addItemForm)
	r.Handle("POST /gouvernance/objectifs/{id}/indicateurs", h.addIndicatorForm)
	r.Handle("POST /gouvernance/feuilles-de-route/{id}/mesurer", h.refreshForm)
	r.Handle("POST /gouvernance/indicateurs/{id}/valeurs", h.declareForm)
	r.Handle("GET /transparence/{id}", h.transparencyPage)
	r.Handle("POST /transparence/{id}", h.transparencyForm)
	r.Handle("GET /donnees-ouvertes/audience.csv", h.openData)
	h.apiRoutes(r)
}

func formInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	return n
}

// formEuros reads an amount in euros ("1 234,50") as cents.
func formEuros(r *http.Request, name string) (int64, error) {
	s := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "€", "", ",", ".").Replace(r.PostFormValue(name))
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, problem.Invalid("invalid_amount", "Montant invalide : un nombre d'euros est attendu.").Field(name, "Montant invalide.")
	}
	return int64(f*100 + 0.5), nil
}

// localTime reads a datetime-local field in Paris time.
func localTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", s, web.Paris())
}

func redirect(w http.ResponseWriter, r *http.Request, to, flash string) error {
	if flash != "" {
		to += "?ok=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

type overviewView struct {
	Alerts      []Alert
	Bodies      []Body
	Meetings    []Meeting
	Roadmaps    []Roadmap
	Projects    []Project
	Campaigns   []Campaign
	Kinds       []BodyKind
	CanManage   bool
	Territories []OrgName
	Orgs        []OrgName
}

// manageableOrgs are the organizations a grant names with the permission.
func (h *Handler) manageableOrgs(r *http.Request, p *auth.Principal, perm auth.Permission) []OrgName {
	var out []OrgName
	for _, g := range p.Grants {
		if g.OrgID != 0 && g.Role.Allows(perm) {
			out = append(out, OrgName{ID: g.OrgID, Name: h.svc.orgName(r.Context(), g.OrgID)})
		}
	}
	return out
}

func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if !p.Has(auth.PermGovernanceRead) && !p.Has(auth.PermProjectPropose) {
		return problem.Forbidden()
	}
	ctx := r.Context()
	v := overviewView{Kinds: BodyKinds, CanManage: p.Has(auth.PermGovernanceManage)}
	if v.Alerts, err = h.svc.Alerts(ctx, p); err != nil {
		return err
	}
	if v.Bodies, err = h.svc.Bodies(ctx, p); err != nil {
		return err
	}
	ms, err := h.svc.Meetings(ctx, p, 0)
	if err != nil {
		return err
	}
	if len(ms) > 12 {
		ms = ms[:12]
	}
	v.Meetings = ms
	if v.Roadmaps, err = h.svc.Roadmaps(ctx, p); err != nil {
		return err
	}
	if v.Projects, err = h.svc.Projects(ctx, p, ""); err != nil {
		return err
	}
	if v.Campaigns, err = h.svc.Campaigns(ctx, p); err != nil {
		return err
	}
	v.Orgs = h.manageableOrgs(r, p, auth.PermGovernanceManage)
	return h.render.Render(w, r, http.StatusOK, "governance/overview", "Gouvernance", v)
}

func (h *Handler) createBodyForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	minPerYear, _ := strconv.Atoi(r.PostFormValue("min_per_year"))
	b, err := h.svc.CreateBody(r.Context(), p, Body{OrgID: formInt(r, "org_id"), Kind: BodyKind(r.PostFormValue("kind")),
		Name: r.PostFormValue("name"), Chair: r.PostFormValue("chair"), Role: r.PostFormValue("role"),
		MinPerYear: minPerYear, RequiredData: r.PostFormValue("required_data")})
	if err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/instances/"+strconv.FormatInt(b.ID, 10), "Instance créée.")
}

type bodyView struct {
	Body      Body
	Meetings  []Meeting
	Alerts    []Alert
	CanManage bool
}

func (h *Handler) bodyPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Instance")
	if err != nil {
		return err
	}
	ctx := r.Context()
	b, err := h.svc.Body(ctx, p, id)
	if err != nil {
		return err
	}
	v := bodyView{Body: b}
	if v.Meetings, err = h.svc.Meetings(ctx, p, id); err != nil {
		return err
	}
	alerts, err := h.svc.Alerts(ctx, p)
	if err != nil {
		return err
	}
	for _, a := range alerts {
		if a.BodyID == id {
			v.Alerts = append(v.Alerts, a)
		}
	}
	v.CanManage, _ = h.svc.auth.Allowed(ctx, p, auth.PermGovernanceManage, b.OrgID)
	return h.render.Render(w, r, http.StatusOK, "governance/body", b.Name, v)
}

func (h *Handler) addMemberForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Instance")
	if err != nil {
		return err
	}
	if _, err := h.svc.AddMember(r.Context(), p, id, Member{Name: strings.TrimSpace(r.PostFormValue("name")),
		OrgID: formInt(r, "member_org_id"), Role: strings.TrimSpace(r.PostFormValue("role"))}); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/instances/"+strconv.FormatInt(id, 10), "Membre ajouté.")
}

func (h *Handler) createMeetingForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Instance")
	if err != nil {
		return err
	}
	start, err := localTime(r.PostFormValue("starts_at"))
	if err != nil {
		return problem.Invalid("invalid_date", "Date de séance invalide.").Field("starts_at", "Date invalide.")
	}
	m, err := h.svc.CreateMeeting(r.Context(), p, Meeting{BodyID: id, Title: r.PostFormValue("title"), StartsAt: start,
		Place: r.PostFormValue("place"), Agenda: r.PostFormValue("agenda")})
	if err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/seances/"+strconv.FormatInt(m.ID, 10), "Séance programmée.")
}

type meetingView struct {
	Meeting   Meeting
	Body      Body
	CanManage bool
	Started   bool
	Projects  []Project
	Kinds     []DecisionKind
	Changes   map[int64]string
}

func (h *Handler) meetingPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	ctx := r.Context()
	m, b, err := h.svc.meeting(ctx, p, id)
	if err != nil {
		return err
	}
	v := meetingView{Meeting: m, Body: b, Started: !m.StartsAt.After(h.svc.now()), Kinds: DecisionKinds, Changes: map[int64]string{}}
	for _, d := range m.Decisions {
		v.Changes[d.ID] = changeText(d)
	}
	v.CanManage, _ = h.svc.auth.Allowed(ctx, p, auth.PermGovernanceManage, b.OrgID)
	if v.CanManage {
		all, err := h.svc.Projects(ctx, p, "")
		if err != nil {
			return err
		}
		for _, pr := range all {
			if pr.OrgID == b.OrgID {
				v.Projects = append(v.Projects, pr)
			}
		}
	}
	return h.render.Render(w, r, http.StatusOK, "governance/meeting", m.Title, v)
}

func (h *Handler) minutesForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire illisible.").Wrap(err)
	}
	var present []int64
	for _, s := range r.PostForm["present"] {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			present = append(present, n)
		}
	}
	if _, err := h.svc.RecordMinutes(r.Context(), p, id, Minutes{Text: r.PostFormValue("minutes"), Present: present}); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/seances/"+strconv.FormatInt(id, 10), "Compte rendu enregistré.")
}

func (h *Handler) decisionForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	amount, err := formEuros(r, "amount")
	if err != nil {
		return err
	}
	if _, err := h.svc.RecordDecision(r.Context(), p, id, Decision{Kind: DecisionKind(r.PostFormValue("kind")),
		Summary: r.PostFormValue("summary"), ProjectID: formInt(r, "project_id"), IndicatorID: formInt(r, "indicator_id"),
		After: r.PostFormValue("after"), AmountCents: amount}); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/seances/"+strconv.FormatInt(id, 10), "Décision enregistrée.")
}

type dossierView struct {
	Dossier
	Charts  map[int64]template.HTML
	Changes map[int64]string
}

func (h *Handler) dossierPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	d, err := h.svc.CommitteeFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := dossierView{Dossier: d, Charts: map[int64]template.HTML{}, Changes: map[int64]string{}}
	for _, iv := range d.Indicators {
		v.Charts[iv.ID] = TrendSVG(iv)
	}
	for _, dec := range d.LastDecisions {
		v.Changes[dec.ID] = changeText(dec)
	}
	return h.render.Render(w, r, http.StatusOK, "governance/dossier", "Dossier de séance — "+d.Body.Name, v)
}

func (h *Handler) dossierPDF(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	d, err := h.svc.CommitteeFile(r.Context(), p, id)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WritePDF(&buf, d); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="dossier-seance-`+strconv.FormatInt(id, 10)+`.pdf"`)
	_, err = w.Write(buf.Bytes())
	return err
}

func (h *Handler) ical(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ms, err := h.svc.Meetings(r.Context(), p, 0)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ical.Write(&buf, meetingsCalendar(h.svc.now()), meetingEvents("socle", ms)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="seances.ics"`)
	_, err = w.Write(buf.Bytes())
	return err
}

type projectsView struct {
	Projects    []Project
	Territories []OrgName
	Proposers   []OrgName
	CanPropose  bool
}

func (h *Handler) projectsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	v := projectsView{CanPropose: p.Has(auth.PermProjectPropose)}
	if v.Projects, err = h.svc.Projects(ctx, p, ProjectStatus(r.URL.Query().Get("statut"))); err != nil {
		return err
	}
	if v.Territories, err = h.svc.Territories(ctx); err != nil {
		return err
	}
	v.Proposers = h.manageableOrgs(r, p, auth.PermProjectPropose)
	return h.render.Render(w, r, http.StatusOK, "governance/projects", "Projets proposés aux instances", v)
}

func (h *Handler) proposeForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	cost, err := formEuros(r, "cost")
	if err != nil {
		return err
	}
	pr, err := h.svc.Propose(r.Context(), p, Project{OrgID: formInt(r, "org_id"), ProposerOrgID: formInt(r, "proposer_org_id"),
		ProposerKind: ProposerKind(r.PostFormValue("proposer_kind")), Title: r.PostFormValue("title"),
		Description: r.PostFormValue("description"), Benefits: r.PostFormValue("benefits"), CostCents: cost,
		Feasibility: r.PostFormValue("feasibility"), IndicatorID: formInt(r, "indicator_id")})
	if err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/projets/"+strconv.FormatInt(pr.ID, 10), "Projet proposé.")
}

type projectView struct {
	Project   Project
	Decisions []Decision
	Changes   map[int64]string
	CanManage bool
}

func (h *Handler) projectPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Projet")
	if err != nil {
		return err
	}
	pr, err := h.svc.Project(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := projectView{Project: pr, Changes: map[int64]string{}}
	if v.Decisions, err = h.svc.Decisions(r.Context(), p, id); err != nil {
		return err
	}
	for _, d := range v.Decisions {
		v.Changes[d.ID] = changeText(d)
	}
	v.CanManage, _ = h.svc.auth.Allowed(r.Context(), p, auth.PermGovernanceManage, pr.OrgID)
	return h.render.Render(w, r, http.StatusOK, "governance/project", pr.Title, v)
}

func (h *Handler) evaluationForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Projet")
	if err != nil {
		return err
	}
	if _, err := h.svc.EvaluateProject(r.Context(), p, id, r.PostFormValue("note")); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/projets/"+strconv.FormatInt(id, 10), "Évaluation enregistrée.")
}

func (h *Handler) documentForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Séance")
	if err != nil {
		return err
	}
	if _, err := h.svc.AddDocument(r.Context(), p, id, Document{Title: r.PostFormValue("title"), URL: r.PostFormValue("url")}); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/seances/"+strconv.FormatInt(id, 10), "Document joint.")
}

type roadmapView struct {
	Roadmap    Roadmap
	Indicators map[int64]IndicatorView
	Charts     map[int64]template.HTML
	CanManage  bool
	Sources    []SourceInfo
}

func (h *Handler) roadmapPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	ctx := r.Context()
	rm, err := h.svc.Roadmap(ctx, p, id)
	if err != nil {
		return err
	}
	views, err := h.svc.Indicators(ctx, p, id, 0)
	if err != nil {
		return err
	}
	v := roadmapView{Roadmap: rm, Indicators: map[int64]IndicatorView{}, Charts: map[int64]template.HTML{}}
	for _, iv := range views {
		v.Indicators[iv.ID] = iv
		v.Charts[iv.ID] = TrendSVG(iv)
	}
	v.CanManage, _ = h.svc.auth.Allowed(ctx, p, auth.PermGovernanceManage, rm.OrgID)
	v.Sources = h.svc.Sources()
	return h.render.Render(w, r, http.StatusOK, "governance/roadmap", rm.Title, v)
}

func (h *Handler) createRoadmapForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	first, _ := strconv.Atoi(r.PostFormValue("first_year"))
	last, _ := strconv.Atoi(r.PostFormValue("last_year"))
	rm, err := h.svc.CreateRoadmap(r.Context(), p, Roadmap{OrgID: formInt(r, "org_id"), Title: r.PostFormValue("title"), FirstYear: first, LastYear: last})
	if err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/feuilles-de-route/"+strconv.FormatInt(rm.ID, 10), "Feuille de route créée.")
}

func (h *Handler) addItemForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	year, _ := strconv.Atoi(r.PostFormValue("year"))
	if _, err := h.svc.AddItem(r.Context(), p, id, RoadmapItem{ParentID: formInt(r, "parent_id"), Title: r.PostFormValue("title"), Year: year}); err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/feuilles-de-route/"+strconv.FormatInt(id, 10), "Élément ajouté.")
}

func (h *Handler) addIndicatorForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Objectif")
	if err != nil {
		return err
	}
	var target *float64
	if t := strings.TrimSpace(r.PostFormValue("target")); t != "" {
		v, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
		if err != nil {
			return problem.Invalid("invalid_target", "Cible invalide : un nombre est attendu.").Field("target", "Nombre attendu.")
		}
		target = &v
	}
	in, err := h.svc.AddIndicator(r.Context(), p, id, Indicator{Name: r.PostFormValue("name"), Definition: r.PostFormValue("definition"),
		Unit: r.PostFormValue("unit"), Source: r.PostFormValue("source"), Target: target, HigherBest: r.PostFormValue("higher") != "non",
		Frequency: Frequency(r.PostFormValue("frequency"))})
	if err != nil {
		return err
	}
	var roadmapID int64
	_ = h.svc.db.QueryRowContext(r.Context(), `SELECT roadmap_id FROM gov_roadmap_items WHERE id = ?`, in.ObjectiveID).Scan(&roadmapID)
	return redirect(w, r, "/gouvernance/feuilles-de-route/"+strconv.FormatInt(roadmapID, 10), "Indicateur ajouté.")
}

func (h *Handler) refreshForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Feuille de route")
	if err != nil {
		return err
	}
	rm, err := h.svc.Roadmap(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := h.svc.check(r.Context(), p, auth.PermGovernanceManage, rm.OrgID, "Feuille de route"); err != nil {
		return err
	}
	n, err := h.svc.Refresh(r.Context(), p, id)
	if err != nil {
		return err
	}
	return redirect(w, r, "/gouvernance/feuilles-de-route/"+strconv.FormatInt(id, 10), strconv.Itoa(n)+" nouvelle(s) valeur(s) mesurée(s).")
}

func (h *Handler) declareForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Indicateur")
	if err != nil {
		return err
	}
	val, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(r.PostFormValue("value")), ",", ".", 1), 64)
	if err != nil {
		return problem.Invalid("invalid_value", "Valeur invalide : un nombre est attendu.").Field("value", "Nombre attendu.")
	}
	if _, err := h.svc.Declare(r.Context(), p, id, Declaration{Period: r.PostFormValue("period"), Value: val,
		Evidence: r.PostFormValue("evidence")}); err != nil {
		return err
	}
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/gouvernance/") {
		back = "/gouvernance"
	}
	return redirect(w, r, back, "Valeur déclarée.")
}

func (h *Handler) transparencyPage(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id", "Collectivité")
	if err != nil {
		return err
	}
	tp, err := h.svc.Transparency(r.Context(), web.PrincipalFrom(r.Context()), id)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "governance/transparency", "Transparence — "+tp.Name, tp)
}

func (h *Handler) transparencyForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Collectivité")
	if err != nil {
		return err
	}
	public := r.PostFormValue("public") == "oui"
	if err := h.svc.SetTransparency(r.Context(), p, id, public); err != nil {
		return err
	}
	msg := "La page n'est plus publique."
	if public {
		msg = "La page est publique : elle se lit sans connexion."
	}
	return redirect(w, r, "/transparence/"+strconv.FormatInt(id, 10), msg)
}

func (h *Handler) openData(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	to := h.svc.now().In(web.Paris())
	from := to.AddDate(-1, 0, 0)
	var err error
	if s := q.Get("debut"); s != "" {
		if from, err = time.ParseInLocation(time.DateOnly, s, web.Paris()); err != nil {
			return problem.Invalid("invalid_parameter", "Paramètre debut invalide : date AAAA-MM-JJ attendue.").Field("debut", "Date invalide.")
		}
	}
	if s := q.Get("fin"); s != "" {
		if to, err = time.ParseInLocation(time.DateOnly, s, web.Paris()); err != nil {
			return problem.Invalid("invalid_parameter", "Paramètre fin invalide : date AAAA-MM-JJ attendue.").Field("fin", "Date invalide.")
		}
	}
	if to.Sub(from) > 3*366*24*time.Hour || to.Before(from) {
		return problem.Invalid("invalid_period", "Période invalide : trois ans au plus, la fin après le début.")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audience-ent.csv"`)
	return h.svc.WriteOpenData(r.Context(), w, from, to)
}
