package planning

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/ical"
	"socle/internal/platform/problem"
	"socle/internal/platform/text"
	"socle/internal/platform/web"
	"socle/internal/territory"
)

// Handler serves the plan's pages and API.
type Handler struct {
	svc    *Service
	render *web.Renderer
}

// NewHandler builds the handler.
func NewHandler(svc *Service, render *web.Renderer) *Handler {
	return &Handler{svc: svc, render: render}
}

const base = "/plan-deploiement"

// Routes mounts the pages and the API.
func (h *Handler) Routes(r *web.Router) {
	r.Handle("GET "+base, h.overviewPage)
	r.Handle("GET "+base+"/cibles", h.targetsPage)
	r.Handle("POST "+base+"/cibles", h.createTargetForm)
	r.Handle("GET "+base+"/cibles/comparer", h.comparePage)
	r.Handle("GET "+base+"/cibles/{id}", h.targetPage)
	r.Handle("POST "+base+"/cibles/{id}/criteres", h.addCriterionForm)
	r.Handle("POST "+base+"/valeurs-declarees", h.declaredForm)
	r.Handle("POST "+base+"/prix", h.priceForm)
	r.Handle("POST "+base+"/communes-rurales", h.ruralForm)
	r.Handle("GET "+base+"/ecart", h.gapPage)
	r.Handle("GET "+base+"/priorites", h.prioritiesPage)
	r.Handle("POST "+base+"/priorites/poids", h.weightsForm)
	r.Handle("GET "+base+"/carte", h.mapPage)
	r.Handle("GET "+base+"/enquetes", h.surveysPage)
	r.Handle("POST "+base+"/enquetes/questionnaires", h.createQuestionnaireForm)
	r.Handle("GET "+base+"/enquetes/questionnaires/{id}", h.questionnairePage)
	r.Handle("POST "+base+"/enquetes/questionnaires/{id}/questions", h.addQuestionForm)
	r.Handle("POST "+base+"/enquetes/campagnes", h.createCampaignForm)
	r.Handle("GET "+base+"/enquetes/campagnes/{id}", h.campaignPage)
	r.Handle("GET "+base+"/enquetes/campagnes/{id}/repondre/{uai}", h.answerPage)
	r.Handle("POST "+base+"/enquetes/campagnes/{id}/repondre/{uai}", h.answerForm)
	r.Handle("POST "+base+"/plans", h.createPlanForm)
	r.Handle("GET "+base+"/plans/{id}", h.planPage)
	r.Handle("POST "+base+"/plans/{id}/vagues", h.addWaveForm)
	r.Handle("POST "+base+"/plans/{id}/operations", h.addOperationForm)
	r.Handle("POST "+base+"/plans/{id}/operations/{op}/statut", h.operationStatusForm)
	r.Handle("GET "+base+"/plans/{id}/calendrier.ics", h.calendar)
	r.Handle("GET "+base+"/programme", h.programmePage)
	r.Handle("POST "+base+"/programme/lignes", h.budgetForm)
	r.Handle("POST "+base+"/scenarios", h.scenarioForm)
	r.Handle("GET "+base+"/scenarios", h.scenariosPage)
	r.Handle("GET "+base+"/export/{table}", h.export)
	h.apiRoutes(r)
}

func queryID(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	return id
}

// back answers a form: on success, back to the page with a confirmation;
// on a user error, back to the page with the message (the form stays on
// the same page, the message in an alert at its top).
func back(w http.ResponseWriter, r *http.Request, to, ok string, err error) error {
	if err != nil {
		pe, isProblem := problem.As(err)
		if !isProblem || pe.Status >= 500 || pe.Status == http.StatusNotFound || pe.Status == http.StatusForbidden {
			return err
		}
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		http.Redirect(w, r, to+sep+"erreur="+url.QueryEscape(pe.Message), http.StatusSeeOther)
		return nil
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+"ok="+url.QueryEscape(ok), http.StatusSeeOther)
	return nil
}

// weightsOrg is the collectivité whose weights a page uses: ?org=, else
// the territory's for platform-wide readers, else the organization of the
// caller's first grant that manages (or reads) the plan.
func weightsOrg(r *http.Request, p *auth.Principal) int64 {
	if id := queryID(r, "org"); id > 0 || p.Global(auth.PermPlanRead) {
		return id
	}
	for _, perm := range []auth.Permission{auth.PermPlanManage, auth.PermPlanRead} {
		for _, g := range p.Grants {
			if g.OrgID != 0 && g.Role.Allows(perm) {
				return g.OrgID
			}
		}
	}
	return 0
}

// targetOf picks the target of a page: ?cible=, else the current one.
func (h *Handler) targetOf(r *http.Request, p *auth.Principal) (Target, bool, error) {
	if id := queryID(r, "cible"); id > 0 {
		t, err := h.svc.Target(r.Context(), p, id)
		return t, err == nil, err
	}
	return h.svc.CurrentTarget(r.Context(), p)
}

type overviewView struct {
	helpers
	Targets   []Target
	Current   *Target
	Plans     []Plan
	Campaigns []Campaign
	Scenarios []Scenario
	Manage    bool
}

func (h *Handler) overviewPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if !p.Has(auth.PermPlanRead) && p.Has(auth.PermSurveyAnswer) {
		// A school head without the plan comes for the questionnaires.
		http.Redirect(w, r, base+"/enquetes", http.StatusSeeOther)
		return nil
	}
	v := overviewView{Manage: p.Has(auth.PermPlanManage)}
	if v.Targets, err = h.svc.Targets(r.Context(), p); err != nil {
		return err
	}
	if t, ok, err := h.svc.CurrentTarget(r.Context(), p); err != nil {
		return err
	} else if ok {
		v.Current = &t
	}
	if v.Plans, err = h.svc.Plans(r.Context(), p); err != nil {
		return err
	}
	if v.Campaigns, err = h.svc.Campaigns(r.Context(), p); err != nil {
		return err
	}
	if v.Scenarios, err = h.svc.Scenarios(r.Context(), p); err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "planning/overview", "Plan de déploiement", v)
}

type targetsView struct {
	helpers
	Prices   []priceRow
	Targets  []Target
	Metrics  []MetricInfo
	Types    []territory.Type
	Manage   bool
	Statuses []TargetStatus
}

func (h *Handler) targetsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ts, err := h.svc.Targets(r.Context(), p)
	if err != nil {
		return err
	}
	prices, err := h.svc.Prices(r.Context(), p)
	if err != nil {
		return err
	}
	var rows []priceRow
	for _, k := range PriceKeys() {
		rows = append(rows, priceRow{Key: k[0], Label: k[1], Cents: prices[k[0]]})
	}
	return h.render.Render(w, r, http.StatusOK, "planning/targets", "Cibles", targetsView{Prices: rows, Targets: ts, Metrics: Metrics(),
		Types: territory.Types, Manage: p.Has(auth.PermPlanManage), Statuses: []TargetStatus{TargetDraft, TargetCurrent, TargetNext, TargetArchived}})
}

func (h *Handler) createTargetForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	t, err := h.svc.CreateTarget(r.Context(), p, Target{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Status: TargetStatus(r.PostFormValue("status"))})
	if err != nil {
		return back(w, r, base+"/cibles", "", err)
	}
	return back(w, r, fmt.Sprintf("%s/cibles/%d", base, t.ID), "Cible créée. Ajoutez-lui des critères.", nil)
}

type priceRow struct {
	Key, Label string
	Cents      int64
}

func (h *Handler) priceForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	to := base + "/cibles"
	c, ok := eurosToCents(r.PostFormValue("price"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_price", "Le prix s'écrit en euros, par exemple 650 ou 649,90."))
	}
	err = h.svc.SetPrice(r.Context(), p, r.PostFormValue("key"), c)
	return back(w, r, to, "Prix enregistré.", err)
}

func (h *Handler) ruralForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	err = h.svc.SetRural(r.Context(), p, r.PostFormValue("commune"), r.PostFormValue("rural") == "1")
	return back(w, r, base+"/priorites", "Commune enregistrée.", err)
}

type targetView struct {
	helpers
	Target  Target
	Metrics []MetricInfo
	Types   []territory.Type
	Manage  bool
}

// MetricLabel names a metric for the templates.
func MetricLabel(m Metric) string {
	i, ok := m.Info()
	if !ok {
		return string(m)
	}
	return i.Label
}

// Comparator says "≤" or "≥" for a metric.
func Comparator(m Metric) string {
	if i, ok := m.Info(); ok && i.AtMost {
		return "au plus"
	}
	return "au moins"
}

func (h *Handler) targetPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Cible")
	if err != nil {
		return err
	}
	t, err := h.svc.Target(r.Context(), p, id)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "planning/target", "Cible « "+t.Name+" »", targetView{Target: t, Metrics: Metrics(), Types: territory.Types, Manage: p.Has(auth.PermPlanManage)})
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), ",", "."), 64)
	return f, err == nil
}

func eurosToCents(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), " ", ""), "\u00a0", "")
	if s == "" {
		return 0, true
	}
	f, ok := parseFloat(s)
	if !ok {
		return 0, false
	}
	return int64(f*100 + 0.5), true
}

func (h *Handler) addCriterionForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Cible")
	if err != nil {
		return err
	}
	to := fmt.Sprintf("%s/cibles/%d", base, id)
	th, ok := parseFloat(r.PostFormValue("threshold"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_criterion", "Le seuil doit être un nombre (par exemple 3 ou 0,9)."))
	}
	price, ok := eurosToCents(r.PostFormValue("unit_price"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_criterion", "Le prix unitaire doit être un montant en euros."))
	}
	param, _ := strconv.Atoi(r.PostFormValue("param"))
	c := Criterion{Key: r.PostFormValue("key"), Label: r.PostFormValue("label"), EstablishmentType: r.PostFormValue("establishment_type"),
		Level: r.PostFormValue("level"), Priority: r.PostFormValue("priority"), Metric: Metric(r.PostFormValue("metric")), Param: param, Threshold: th, UnitPriceCents: price}
	_, err = h.svc.AddCriterion(r.Context(), p, id, c)
	return back(w, r, to, "Critère ajouté.", err)
}

func (h *Handler) declaredForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	to := base + "/ecart"
	if c := r.PostFormValue("cible"); c != "" {
		to += "?cible=" + url.QueryEscape(c)
	}
	v, ok := parseFloat(r.PostFormValue("value"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_declared", "La valeur doit être un nombre."))
	}
	err = h.svc.SetDeclared(r.Context(), p, r.PostFormValue("uai"), Metric(r.PostFormValue("metric")), v)
	return back(w, r, to, "Valeur enregistrée.", err)
}

type compareView struct {
	helpers
	All        []Target
	Selected   map[int64]bool
	Comparison *Comparison
}

func (h *Handler) comparePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	all, err := h.svc.Targets(r.Context(), p)
	if err != nil {
		return err
	}
	v := compareView{All: all, Selected: map[int64]bool{}}
	var ids []int64
	for _, s := range r.URL.Query()["cibles"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
			v.Selected[id] = true
		}
	}
	if len(ids) > 0 {
		c, err := h.svc.CompareTargets(r.Context(), p, ids)
		if err != nil {
			return err
		}
		v.Comparison = &c
	}
	return h.render.Render(w, r, http.StatusOK, "planning/compare", "Comparer des cibles", v)
}

type gapView struct {
	helpers
	Target   *Target
	Targets  []Target
	Gap      GapResult
	Rows     []GapRow
	Shown    int
	Missing  []MissingData
	Labels   map[string]string
	Metrics  []MetricInfo
	Manage   bool
	Commune  string
	Communes []GapTotal
	Declared []MetricInfo
}

// maxGapRows bounds the establishments listed on the page; the exports
// carry them all.
const maxGapRows = 300

func (h *Handler) gapPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := gapView{Manage: p.Has(auth.PermPlanManage), Labels: map[string]string{}, Commune: r.URL.Query().Get("commune")}
	if v.Targets, err = h.svc.Targets(r.Context(), p); err != nil {
		return err
	}
	for _, m := range Metrics() {
		if m.Declared {
			v.Declared = append(v.Declared, m)
		}
	}
	t, ok, err := h.targetOf(r, p)
	if err != nil {
		return err
	}
	if ok {
		v.Target = &t
		if v.Gap, err = h.svc.Gap(r.Context(), p, t.ID); err != nil {
			return err
		}
		for _, c := range t.Criteria {
			v.Labels[c.Key] = c.Label
		}
		rows := append([]GapRow(nil), v.Gap.Rows...)
		if v.Commune != "" {
			kept := rows[:0]
			for _, row := range rows {
				if row.CommuneCode == v.Commune {
					kept = append(kept, row)
				}
			}
			rows = kept
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].CostCents > rows[j].CostCents })
		v.Shown = len(rows)
		if len(rows) > maxGapRows {
			rows = rows[:maxGapRows]
		}
		v.Rows = rows
		v.Missing = v.Gap.Missing
		if len(v.Missing) > maxGapRows {
			v.Missing = v.Missing[:maxGapRows]
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/gap", "Écart à la cible", v)
}

type prioritiesView struct {
	helpers
	Target     *Target
	Targets    []Target
	Priorities Priorities
	Rows       []Ranked
	Factors    []Factor
	Org        int64
	Manage     bool
	Weights    Weights
}

func (h *Handler) prioritiesPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := prioritiesView{Factors: Factors(), Org: weightsOrg(r, p), Manage: p.Has(auth.PermPlanManage)}
	if v.Targets, err = h.svc.Targets(r.Context(), p); err != nil {
		return err
	}
	if v.Weights, err = h.svc.Weights(r.Context(), p, v.Org); err != nil {
		return err
	}
	t, ok, err := h.targetOf(r, p)
	if err != nil {
		return err
	}
	if ok {
		v.Target = &t
		if v.Priorities, err = h.svc.Priorities(r.Context(), p, t.ID, v.Org); err != nil {
			return err
		}
		v.Rows = v.Priorities.Ranked
		if len(v.Rows) > maxGapRows {
			v.Rows = v.Rows[:maxGapRows]
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/priorities", "Priorités", v)
}

func (h *Handler) weightsForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	org, _ := strconv.ParseInt(r.PostFormValue("org"), 10, 64)
	if org == 0 && !p.Global(auth.PermPlanManage) {
		org = weightsOrg(r, p)
	}
	to := base + "/priorites"
	if org != 0 {
		to += "?org=" + strconv.FormatInt(org, 10)
	}
	wt := Weights{}
	for _, f := range factorList {
		raw := r.PostFormValue(string(f))
		if strings.TrimSpace(raw) == "" {
			wt[f] = 0
			continue
		}
		v, ok := parseFloat(raw)
		if !ok {
			return back(w, r, to, "", problem.Invalid("invalid_weights", "Le poids de « "+f.Label()+" » n'est pas un nombre."))
		}
		wt[f] = v
	}
	_, err = h.svc.SetWeights(r.Context(), p, org, wt)
	return back(w, r, to, "Pondération enregistrée.", err)
}

type mapView struct {
	helpers
	Target  *Target
	Targets []Target
	By      string
	SVG     template.HTML
	Classes []MapClass
	Placed  int
	Points  []MapPoint
	Without []string
}

func (h *Handler) mapPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := mapView{By: r.URL.Query().Get("par")}
	if v.By != "priorite" {
		v.By = "ecart"
	}
	if v.Targets, err = h.svc.Targets(r.Context(), p); err != nil {
		return err
	}
	t, ok, err := h.targetOf(r, p)
	if err != nil {
		return err
	}
	if ok {
		v.Target = &t
		pr, err := h.svc.Priorities(r.Context(), p, t.ID, 0)
		if err != nil {
			return err
		}
		var labels [4]string
		if v.By == "priorite" {
			labels = [4]string{"Score de priorité inférieur à 25", "De 25 à moins de 50", "De 50 à moins de 75", "75 ou plus (le plus prioritaire)"}
		} else {
			labels = [4]string{"Cible atteinte (aucun critère manquant)", "Moins d'un tiers des critères non atteints", "D'un tiers à deux tiers non atteints", "Plus de deux tiers non atteints"}
		}
		for _, rk := range pr.Ranked {
			if rk.Lat == nil || rk.Lon == nil {
				v.Without = append(v.Without, rk.Name+" ("+rk.UAI+")")
				continue
			}
			pt := MapPoint{UAI: rk.UAI, Name: rk.Name, Lat: *rk.Lat, Lon: *rk.Lon}
			if v.By == "priorite" {
				pt.Class = min(int(rk.Score/25), 3)
				pt.Value = fmt.Sprintf("score %s", frNum(rk.Score))
			} else {
				switch {
				case rk.GapShare <= 0:
					pt.Class = 0
				case rk.GapShare < 1.0/3:
					pt.Class = 1
				case rk.GapShare <= 2.0/3:
					pt.Class = 2
				default:
					pt.Class = 3
				}
				pt.Value = fmt.Sprintf("%s %% des critères non atteints", frNum(rk.GapShare*100))
			}
			v.Points = append(v.Points, pt)
		}
		title := "Carte des établissements selon leur écart à la cible « " + t.Name + " »"
		if v.By == "priorite" {
			title = "Carte des établissements selon leur score de priorité"
		}
		v.SVG, v.Classes, v.Placed = MapSVG(title, labels, v.Points)
		for i := range v.Points {
			v.Points[i].Value = v.Classes[v.Points[i].Class].Label + " — " + v.Points[i].Value
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/map", "Carte du territoire", v)
}

type surveysView struct {
	helpers
	Questionnaires []Questionnaire
	Campaigns      []Campaign
	Manage         bool
	Read           bool
	Answer         bool
	Today          string
	// Mine are the campaign establishments the head answers for.
	Mine map[int64][]string
}

func (h *Handler) surveysPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := surveysView{Manage: p.Has(auth.PermPlanManage), Read: p.Has(auth.PermPlanRead), Answer: p.Has(auth.PermSurveyAnswer),
		Today: h.svc.now().In(web.Paris()).Format(dateLayout), Mine: map[int64][]string{}}
	if v.Read {
		if v.Questionnaires, err = h.svc.Questionnaires(r.Context(), p); err != nil {
			return err
		}
	}
	if v.Campaigns, err = h.svc.Campaigns(r.Context(), p); err != nil {
		return err
	}
	if v.Answer {
		for _, c := range v.Campaigns {
			uais, _, err := h.svc.campaignSchools(r.Context(), p, auth.PermSurveyAnswer, c.ID)
			if err != nil {
				return err
			}
			v.Mine[c.ID] = uais
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/surveys", "Enquêtes et état des lieux", v)
}

func (h *Handler) createQuestionnaireForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	q, err := h.svc.CreateQuestionnaire(r.Context(), p, Questionnaire{Name: r.PostFormValue("name"), Description: r.PostFormValue("description")})
	if err != nil {
		return back(w, r, base+"/enquetes", "", err)
	}
	return back(w, r, fmt.Sprintf("%s/enquetes/questionnaires/%d", base, q.ID), "Questionnaire créé : ajoutez ses questions.", nil)
}

type questionnaireView struct {
	helpers
	Questionnaire Questionnaire
	Types         []QuestionType
	Declared      []MetricInfo
	Manage        bool
}

func (h *Handler) questionnairePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Questionnaire")
	if err != nil {
		return err
	}
	if err := needRead(p); err != nil {
		return err
	}
	q, err := h.svc.Questionnaire(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := questionnaireView{Questionnaire: q, Types: QuestionTypes(), Manage: p.Has(auth.PermPlanManage) && q.BuiltinKey == ""}
	for _, m := range Metrics() {
		if m.Declared {
			v.Declared = append(v.Declared, m)
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/questionnaire", "Questionnaire « "+q.Name+" »", v)
}

// parseOptions reads "label = score" lines.
func parseOptions(text string) ([]Option, error) {
	var out []Option
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		label, score := line, 0.0
		if i := strings.LastIndex(line, "="); i > 0 {
			f, ok := parseFloat(line[i+1:])
			if !ok {
				return nil, problem.Invalid("invalid_question", "Score illisible dans « "+line+" » : écrivez « libellé = score ».")
			}
			label, score = strings.TrimSpace(line[:i]), f
		}
		out = append(out, Option{Label: label, Score: score})
	}
	return out, nil
}

func (h *Handler) addQuestionForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Questionnaire")
	if err != nil {
		return err
	}
	to := fmt.Sprintf("%s/enquetes/questionnaires/%d", base, id)
	opts, err := parseOptions(r.PostFormValue("options"))
	if err != nil {
		return back(w, r, to, "", err)
	}
	minV, _ := strconv.Atoi(r.PostFormValue("min"))
	maxV, _ := strconv.Atoi(r.PostFormValue("max"))
	q := Question{Domain: r.PostFormValue("domain"), Text: r.PostFormValue("text"), Type: QuestionType(r.PostFormValue("type")),
		Required: r.PostFormValue("required") == "1", Options: opts, Min: minV, Max: maxV, Declares: r.PostFormValue("declares")}
	_, err = h.svc.AddQuestion(r.Context(), p, id, q)
	return back(w, r, to, "Question ajoutée.", err)
}

func (h *Handler) createCampaignForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire illisible.")
	}
	qid, _ := strconv.ParseInt(r.PostFormValue("questionnaire"), 10, 64)
	uais := strings.FieldsFunc(r.PostFormValue("establishments"), func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
	if r.PostFormValue("all") == "1" {
		ests, err := h.svc.establishments(r.Context(), p, auth.PermPlanManage)
		if err != nil {
			return err
		}
		ty := r.PostFormValue("type")
		for _, e := range ests {
			if ty == "" || string(e.Type) == ty {
				uais = append(uais, e.UAI)
			}
		}
	}
	c, err := h.svc.CreateCampaign(r.Context(), p, Campaign{QuestionnaireID: qid, Name: r.PostFormValue("name"), OpensOn: r.PostFormValue("opens_on"),
		ClosesOn: r.PostFormValue("closes_on"), Establishments: uais})
	if err != nil {
		return back(w, r, base+"/enquetes", "", err)
	}
	return back(w, r, fmt.Sprintf("%s/enquetes/campagnes/%d", base, c.ID), "Campagne créée.", nil)
}

type campaignView struct {
	helpers
	Stats SurveyStats
}

func (h *Handler) campaignPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Campagne")
	if err != nil {
		return err
	}
	st, err := h.svc.Stats(r.Context(), p, id)
	if err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "planning/campaign", "Campagne « "+st.Campaign.Name+" »", campaignView{Stats: st})
}

type answerView struct {
	helpers
	Campaign      Campaign
	Questionnaire Questionnaire
	UAI           string
	Open          bool
	History       []Response
	Current       map[string]any
}

// Selected reports whether option i was chosen in an answer.
func Selected(answer any, i int) bool {
	switch a := answer.(type) {
	case float64:
		return int(a) == i
	case int:
		return a == i
	case []any:
		for _, x := range a {
			if f, ok := x.(float64); ok && int(f) == i {
				return true
			}
		}
	case []int:
		for _, x := range a {
			if x == i {
				return true
			}
		}
	}
	return false
}

func (h *Handler) answerPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Campagne")
	if err != nil {
		return err
	}
	if !p.Has(auth.PermSurveyAnswer) {
		return problem.Forbidden()
	}
	c, err := h.svc.Campaign(r.Context(), p, id)
	if err != nil {
		return err
	}
	uai := strings.ToUpper(r.PathValue("uai"))
	uais, _, err := h.svc.campaignSchools(r.Context(), p, auth.PermSurveyAnswer, id)
	if err != nil {
		return err
	}
	found := false
	for _, u := range uais {
		found = found || u == uai
	}
	if !found {
		return problem.NotFound("Établissement de la campagne")
	}
	q, err := h.svc.questionnaire(r.Context(), c.QuestionnaireID)
	if err != nil {
		return err
	}
	v := answerView{Campaign: c, Questionnaire: q, UAI: uai, Open: c.Open(h.svc.now().In(web.Paris()).Format(dateLayout)), Current: map[string]any{}}
	if v.History, err = h.svc.History(r.Context(), p, id, uai); err != nil && !isNotFound(err) {
		return err
	}
	if len(v.History) > 0 {
		v.Current = v.History[0].Answers
	}
	return h.render.Render(w, r, http.StatusOK, "planning/answer", "Répondre : "+q.Name, v)
}

func (h *Handler) answerForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Campagne")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return problem.Invalid("invalid_form", "Formulaire illisible.")
	}
	uai := strings.ToUpper(r.PathValue("uai"))
	to := fmt.Sprintf("%s/enquetes/campagnes/%d/repondre/%s", base, id, uai)
	c, err := h.svc.Campaign(r.Context(), p, id)
	if err != nil {
		return err
	}
	q, err := h.svc.questionnaire(r.Context(), c.QuestionnaireID)
	if err != nil {
		return err
	}
	answers := map[string]any{}
	for _, qu := range q.Questions {
		key := strconv.FormatInt(qu.ID, 10)
		vals := r.PostForm["q"+key]
		switch {
		case len(vals) == 0:
		case qu.Type == QMultiple:
			list := []any{}
			for _, v := range vals {
				list = append(list, v)
			}
			answers[key] = list
		default:
			answers[key] = vals[0]
		}
	}
	_, err = h.svc.Answer(r.Context(), p, id, uai, answers)
	return back(w, r, to, "Réponses enregistrées. Merci ! Vous pouvez les modifier jusqu'à la clôture ; les versions précédentes restent dans l'historique.", err)
}

func (h *Handler) createPlanForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pl, err := h.svc.CreatePlan(r.Context(), p, Plan{Name: r.PostFormValue("name"), Strategy: r.PostFormValue("strategy"), Description: r.PostFormValue("description")})
	if err != nil {
		return back(w, r, base, "", err)
	}
	return back(w, r, fmt.Sprintf("%s/plans/%d", base, pl.ID), "Plan créé.", nil)
}

type planView struct {
	helpers
	Plan     Plan
	Gantt    template.HTML
	Kinds    []OperationKind
	Phases   [][2]string
	Manage   bool
	Waves    map[int64]string
	Statuses []OpStatus
}

func (h *Handler) planPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	pl, err := h.svc.Plan(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := planView{Plan: pl, Gantt: GanttSVG(pl), Kinds: OperationKinds(), Statuses: []OpStatus{OpPlanned, OpInProgress, OpDone, OpCancelled}, Manage: p.Has(auth.PermPlanManage), Waves: map[int64]string{},
		Phases: [][2]string{{"experimentation", PhaseLabel("experimentation")}, {"pilots", PhaseLabel("pilots")}, {"generalisation", PhaseLabel("generalisation")}, {"cycle", PhaseLabel("cycle")}}}
	for _, w := range pl.Waves {
		v.Waves[w.ID] = w.Name
	}
	return h.render.Render(w, r, http.StatusOK, "planning/plan", "Plan « "+pl.Name+" »", v)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(c rune) bool { return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t' })
}

func parseIDList(s string) ([]int64, bool) {
	out := []int64{}
	for _, f := range splitList(s) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, id)
	}
	return out, true
}

func (h *Handler) addWaveForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	_, err = h.svc.AddWave(r.Context(), p, id, Wave{Name: r.PostFormValue("name"), Phase: r.PostFormValue("phase"), StartsOn: r.PostFormValue("starts_on"),
		EndsOn: r.PostFormValue("ends_on"), Establishments: splitList(r.PostFormValue("establishments")), Communes: splitList(r.PostFormValue("communes"))})
	return back(w, r, fmt.Sprintf("%s/plans/%d", base, id), "Vague ajoutée.", err)
}

func (h *Handler) addOperationForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	to := fmt.Sprintf("%s/plans/%d", base, id)
	deps, ok := parseIDList(r.PostFormValue("depends_on"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_operation", "Dépendances : numéros d'opérations séparés par des virgules."))
	}
	assets, ok := parseIDList(r.PostFormValue("asset_ids"))
	if !ok {
		return back(w, r, to, "", problem.Invalid("invalid_operation", "Équipements : numéros séparés par des virgules."))
	}
	wave, _ := strconv.ParseInt(r.PostFormValue("wave_id"), 10, 64)
	_, err = h.svc.AddOperation(r.Context(), p, id, Operation{WaveID: wave, Kind: OperationKind(r.PostFormValue("kind")), Title: r.PostFormValue("title"),
		StartsOn: r.PostFormValue("starts_on"), EndsOn: r.PostFormValue("ends_on"), Owner: r.PostFormValue("owner"), DependsOn: deps,
		Establishments: splitList(r.PostFormValue("establishments")), AssetIDs: assets})
	return back(w, r, to, "Opération ajoutée.", err)
}

func (h *Handler) operationStatusForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	op, err := web.PathID(r, "op", "Opération")
	if err != nil {
		return err
	}
	_, err = h.svc.SetOperationStatus(r.Context(), p, id, op, OpStatus(r.PostFormValue("status")))
	return back(w, r, fmt.Sprintf("%s/plans/%d", base, id), "Statut mis à jour.", err)
}

func (h *Handler) calendar(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	return h.writeCalendar(w, r, p, id)
}

func (h *Handler) writeCalendar(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64) error {
	pl, err := h.svc.Plan(r.Context(), p, id)
	if err != nil {
		return err
	}
	host := r.Host
	if host == "" {
		host = "socle"
	}
	events, err := planEvents(pl, host, r.URL.Query().Get("responsable"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="plan-%d.ics"`, id))
	return ical.Write(w, ical.Calendar{ProdID: "-//Socle//Plan de deploiement//FR", Name: "Plan de déploiement — " + pl.Name, Stamp: h.svc.now()}, events)
}

type programmeView struct {
	helpers
	Programme Programme
	Funders   []Funder
	Scenarios []Scenario
	Targets   []Target
	Manage    bool
	ThisYear  int
}

func (h *Handler) programmePage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := programmeView{Funders: []Funder{FunderAuthority, FunderState, FunderOther}, Manage: p.Has(auth.PermPlanManage), ThisYear: h.svc.now().Year()}
	if v.Programme, err = h.svc.Programme(r.Context(), p); err != nil {
		return err
	}
	if v.Scenarios, err = h.svc.Scenarios(r.Context(), p); err != nil {
		return err
	}
	if v.Targets, err = h.svc.Targets(r.Context(), p); err != nil {
		return err
	}
	return h.render.Render(w, r, http.StatusOK, "planning/programme", "Programme technique et financier", v)
}

func (h *Handler) budgetForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	to := base + "/programme"
	year, _ := strconv.Atoi(r.PostFormValue("year"))
	var amounts [3]int64
	for i, k := range []string{"planned", "committed", "spent"} {
		c, ok := eurosToCents(r.PostFormValue(k))
		if !ok {
			return back(w, r, to, "", problem.Invalid("invalid_budget", "Les montants s'écrivent en euros, par exemple 12500 ou 12500,50."))
		}
		amounts[i] = c
	}
	_, err = h.svc.AddBudgetLine(r.Context(), p, BudgetLine{Year: year, Funder: Funder(r.PostFormValue("funder")), Nature: r.PostFormValue("nature"),
		Label: r.PostFormValue("label"), PlannedCents: amounts[0], CommittedCents: amounts[1], SpentCents: amounts[2]})
	return back(w, r, to, "Ligne ajoutée.", err)
}

func (h *Handler) scenarioForm(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(r.PostFormValue(k)); return n }
	tid, _ := strconv.ParseInt(r.PostFormValue("target_id"), 10, 64)
	_, err = h.svc.CreateScenario(r.Context(), p, Scenario{Name: r.PostFormValue("name"), TargetID: tid, RenewYears: atoi("renew_years"),
		GeneraliseYears: atoi("generalise_years"), StartYear: atoi("start_year"), Horizon: atoi("horizon")})
	return back(w, r, base+"/programme", "Scénario ajouté.", err)
}

type scenariosView struct {
	helpers
	All        []Scenario
	Selected   map[int64]bool
	Comparison *ScenarioComparison
	Chart      template.HTML
	Cheapest   *ScenarioResult
	Fastest    *ScenarioResult
}

func (h *Handler) scenariosPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	v := scenariosView{Selected: map[int64]bool{}}
	if v.All, err = h.svc.Scenarios(r.Context(), p); err != nil {
		return err
	}
	var ids []int64
	for _, s := range r.URL.Query()["ids"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
			v.Selected[id] = true
		}
	}
	if len(v.All) > 0 {
		c, err := h.svc.CompareScenarios(r.Context(), p, ids)
		if err != nil {
			return err
		}
		v.Comparison = &c
		v.Chart = GapChartSVG(c)
		for i := range c.Results {
			res := &c.Results[i]
			if v.Cheapest == nil || res.TotalCost < v.Cheapest.TotalCost {
				v.Cheapest = res
			}
			if v.Fastest == nil || yearsToZero(*res) < yearsToZero(*v.Fastest) {
				v.Fastest = res
			}
		}
	}
	return h.render.Render(w, r, http.StatusOK, "planning/scenarios", "Comparer les scénarios", v)
}

// yearsToZero is the first year every establishment reaches the target
// (a large number when none does within the horizon).
func yearsToZero(r ScenarioResult) int {
	for _, y := range r.Years {
		if y.SchoolsBelowTarget == 0 {
			return y.Year
		}
	}
	return 1 << 20
}

// ReachYear is the year every establishment reaches the target, or "".
func ReachYear(r ScenarioResult) string {
	if y := yearsToZero(r); y < 1<<20 {
		return strconv.Itoa(y)
	}
	return ""
}

// export writes one table as CSV or XLSX.
func (h *Handler) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	t, err := h.table(r, p, r.PathValue("table"))
	if err != nil {
		return err
	}
	return writeTable(w, r, t)
}

func writeTable(w http.ResponseWriter, r *http.Request, t Table) error {
	name := strings.ReplaceAll(strings.ToLower(text.SearchKey(t.Name)), " ", "-")
	if r.URL.Query().Get("format") == "xlsx" {
		w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		return t.WriteXLSX(w)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	return t.WriteCSV(w)
}

// ExportTables names the exportable tables.
var exportTables = []string{"ecart", "criteres", "totaux", "manquantes", "priorites", "equite", "enquete", "relances", "programme", "scenarios", "operations", "vagues", "comparaison"}

func (h *Handler) table(r *http.Request, p *auth.Principal, name string) (Table, error) {
	ctx := r.Context()
	needTarget := func() (Target, error) {
		t, ok, err := h.targetOf(r, p)
		if err == nil && !ok {
			err = problem.NotFound("Cible")
		}
		return t, err
	}
	switch name {
	case "ecart", "criteres", "totaux", "manquantes":
		t, err := needTarget()
		if err != nil {
			return Table{}, err
		}
		g, err := h.svc.Gap(ctx, p, t.ID)
		if err != nil {
			return Table{}, err
		}
		switch name {
		case "ecart":
			return GapTable(g), nil
		case "criteres":
			return CriteriaTable(g), nil
		case "totaux":
			return GapTotalsTable(g), nil
		}
		return MissingTable(g), nil
	case "priorites", "equite":
		t, err := needTarget()
		if err != nil {
			return Table{}, err
		}
		pr, err := h.svc.Priorities(ctx, p, t.ID, queryID(r, "org"))
		if err != nil {
			return Table{}, err
		}
		if name == "equite" {
			return EquityTable(pr), nil
		}
		return PriorityTable(pr), nil
	case "enquete", "relances":
		st, err := h.svc.Stats(ctx, p, queryID(r, "campagne"))
		if err != nil {
			return Table{}, err
		}
		if name == "relances" {
			return PendingTable(st), nil
		}
		return SurveyTable(st), nil
	case "programme":
		pg, err := h.svc.Programme(ctx, p)
		if err != nil {
			return Table{}, err
		}
		return ProgrammeTable(pg), nil
	case "scenarios":
		var ids []int64
		for _, s := range r.URL.Query()["ids"] {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		c, err := h.svc.CompareScenarios(ctx, p, ids)
		if err != nil {
			return Table{}, err
		}
		return ScenarioTable(c), nil
	case "operations", "vagues":
		pl, err := h.svc.Plan(ctx, p, queryID(r, "plan"))
		if err != nil {
			return Table{}, err
		}
		if name == "vagues" {
			return WavesTable(pl), nil
		}
		return OperationsTable(pl), nil
	case "comparaison":
		var ids []int64
		for _, v := range r.URL.Query()["cibles"] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		c, err := h.svc.CompareTargets(ctx, p, ids)
		if err != nil {
			return Table{}, err
		}
		return ComparisonTable(c), nil
	}
	return Table{}, problem.NotFound("Tableau")
}
