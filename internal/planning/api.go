package planning

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

const maxBody = 1 << 20

func (h *Handler) apiRoutes(r *web.Router) {
	const api = "/api/v1/planning"
	r.Handle("GET "+api+"/targets", h.apiTargets)
	r.Handle("POST "+api+"/targets", h.apiCreateTarget)
	r.Handle("GET "+api+"/targets/compare", h.apiCompareTargets)
	r.Handle("GET "+api+"/targets/{id}", h.apiTarget)
	r.Handle("POST "+api+"/targets/{id}/criteria", h.apiAddCriterion)
	r.Handle("GET "+api+"/targets/{id}/gap", h.apiGap)
	r.Handle("GET "+api+"/targets/{id}/priorities", h.apiPriorities)
	r.Handle("PUT "+api+"/declared", h.apiDeclared)
	r.Handle("GET "+api+"/prices", h.apiPrices)
	r.Handle("PUT "+api+"/prices", h.apiSetPrice)
	r.Handle("PUT "+api+"/communes/{code}", h.apiSetRural)
	r.Handle("GET "+api+"/weights", h.apiWeights)
	r.Handle("PUT "+api+"/weights", h.apiSetWeights)
	r.Handle("GET "+api+"/questionnaires", h.apiQuestionnaires)
	r.Handle("POST "+api+"/questionnaires", h.apiCreateQuestionnaire)
	r.Handle("GET "+api+"/questionnaires/{id}", h.apiQuestionnaire)
	r.Handle("POST "+api+"/questionnaires/{id}/questions", h.apiAddQuestion)
	r.Handle("GET "+api+"/campaigns", h.apiCampaigns)
	r.Handle("POST "+api+"/campaigns", h.apiCreateCampaign)
	r.Handle("GET "+api+"/campaigns/{id}/stats", h.apiStats)
	r.Handle("POST "+api+"/campaigns/{id}/answers", h.apiAnswer)
	r.Handle("GET "+api+"/campaigns/{id}/answers/{uai}", h.apiHistory)
	r.Handle("GET "+api+"/plans", h.apiPlans)
	r.Handle("POST "+api+"/plans", h.apiCreatePlan)
	r.Handle("GET "+api+"/plans/{id}", h.apiPlan)
	r.Handle("POST "+api+"/plans/{id}/waves", h.apiAddWave)
	r.Handle("POST "+api+"/plans/{id}/operations", h.apiAddOperation)
	r.Handle("PUT "+api+"/plans/{id}/operations/{op}", h.apiUpdateOperation)
	r.Handle("GET "+api+"/plans/{id}/calendar", h.apiCalendar)
	r.Handle("GET "+api+"/programme", h.apiProgramme)
	r.Handle("POST "+api+"/budget-lines", h.apiAddBudgetLine)
	r.Handle("GET "+api+"/scenarios", h.apiScenarios)
	r.Handle("POST "+api+"/scenarios", h.apiCreateScenario)
	r.Handle("GET "+api+"/scenarios/compare", h.apiCompareScenarios)
	r.Handle("GET "+api+"/export/{table}", h.export)
}

func idsParam(r *http.Request, name string) ([]int64, error) {
	var out []int64
	for _, v := range r.URL.Query()[name] {
		for _, f := range strings.Split(v, ",") {
			if strings.TrimSpace(f) == "" {
				continue
			}
			id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil || id <= 0 {
				return nil, problem.Invalid("invalid_parameter", "Paramètre "+name+" : identifiants numériques séparés par des virgules.")
			}
			out = append(out, id)
		}
	}
	return out, nil
}

func (h *Handler) apiTargets(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ts, err := h.svc.Targets(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, ts)
}

func (h *Handler) apiCreateTarget(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var t Target
	if err := web.DecodeJSON(w, r, maxBody, &t); err != nil {
		return err
	}
	t, err = h.svc.CreateTarget(r.Context(), p, t)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, t)
}

func (h *Handler) apiTarget(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, http.StatusOK, t)
}

func (h *Handler) apiAddCriterion(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Cible")
	if err != nil {
		return err
	}
	var c Criterion
	if err := web.DecodeJSON(w, r, maxBody, &c); err != nil {
		return err
	}
	t, err := h.svc.AddCriterion(r.Context(), p, id, c)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, t)
}

func (h *Handler) apiCompareTargets(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ids, err := idsParam(r, "ids")
	if err != nil {
		return err
	}
	c, err := h.svc.CompareTargets(r.Context(), p, ids)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, c)
}

func (h *Handler) apiGap(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Cible")
	if err != nil {
		return err
	}
	g, err := h.svc.Gap(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, g)
}

func (h *Handler) apiPriorities(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Cible")
	if err != nil {
		return err
	}
	pr, err := h.svc.Priorities(r.Context(), p, id, queryID(r, "org"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pr)
}

type declaredInput struct {
	UAI    string  `json:"establishment"`
	Metric Metric  `json:"metric"`
	Value  float64 `json:"value"`
}

func (h *Handler) apiDeclared(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in declaredInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	if err := h.svc.SetDeclared(r.Context(), p, in.UAI, in.Metric, in.Value); err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, in)
}

func (h *Handler) apiPrices(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	m, err := h.svc.Prices(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, m)
}

type priceInput struct {
	Key   string `json:"key"`
	Cents int64  `json:"unit_price_cents"`
}

func (h *Handler) apiSetPrice(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in priceInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	if err := h.svc.SetPrice(r.Context(), p, in.Key, in.Cents); err != nil {
		return err
	}
	m, err := h.svc.Prices(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, m)
}

type ruralInput struct {
	Rural bool `json:"rural"`
}

func (h *Handler) apiSetRural(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var in ruralInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	if err := h.svc.SetRural(r.Context(), p, r.PathValue("code"), in.Rural); err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, in)
}

func (h *Handler) apiWeights(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	wt, err := h.svc.Weights(r.Context(), p, queryID(r, "org"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, wt)
}

func (h *Handler) apiSetWeights(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var wt Weights
	if err := web.DecodeJSON(w, r, maxBody, &wt); err != nil {
		return err
	}
	wt, err = h.svc.SetWeights(r.Context(), p, queryID(r, "org"), wt)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, wt)
}

func (h *Handler) apiQuestionnaires(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	qs, err := h.svc.Questionnaires(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, qs)
}

func (h *Handler) apiCreateQuestionnaire(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var q Questionnaire
	if err := web.DecodeJSON(w, r, maxBody, &q); err != nil {
		return err
	}
	q, err = h.svc.CreateQuestionnaire(r.Context(), p, q)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, q)
}

func (h *Handler) apiQuestionnaire(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Questionnaire")
	if err != nil {
		return err
	}
	q, err := h.svc.Questionnaire(r.Context(), p, id)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, q)
}

func (h *Handler) apiAddQuestion(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Questionnaire")
	if err != nil {
		return err
	}
	var qu Question
	if err := web.DecodeJSON(w, r, maxBody, &qu); err != nil {
		return err
	}
	q, err := h.svc.AddQuestion(r.Context(), p, id, qu)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, q)
}

func (h *Handler) apiCampaigns(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	cs, err := h.svc.Campaigns(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, cs)
}

func (h *Handler) apiCreateCampaign(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var c Campaign
	if err := web.DecodeJSON(w, r, maxBody, &c); err != nil {
		return err
	}
	c, err = h.svc.CreateCampaign(r.Context(), p, c)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, c)
}

func (h *Handler) apiStats(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, http.StatusOK, st)
}

type answerInput struct {
	UAI     string         `json:"establishment"`
	Answers map[string]any `json:"answers"`
}

func (h *Handler) apiAnswer(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Campagne")
	if err != nil {
		return err
	}
	var in answerInput
	if err := web.DecodeJSON(w, r, maxBody, &in); err != nil {
		return err
	}
	resp, err := h.svc.Answer(r.Context(), p, id, in.UAI, in.Answers)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, resp)
}

func (h *Handler) apiHistory(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Campagne")
	if err != nil {
		return err
	}
	hist, err := h.svc.History(r.Context(), p, id, r.PathValue("uai"))
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, hist)
}

func (h *Handler) apiPlans(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pls, err := h.svc.Plans(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pls)
}

func (h *Handler) apiCreatePlan(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var pl Plan
	if err := web.DecodeJSON(w, r, maxBody, &pl); err != nil {
		return err
	}
	pl, err = h.svc.CreatePlan(r.Context(), p, pl)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pl)
}

func (h *Handler) apiPlan(w http.ResponseWriter, r *http.Request) error {
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
	return web.JSON(w, http.StatusOK, pl)
}

func (h *Handler) apiAddWave(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	var wv Wave
	if err := web.DecodeJSON(w, r, maxBody, &wv); err != nil {
		return err
	}
	pl, err := h.svc.AddWave(r.Context(), p, id, wv)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, pl)
}

func (h *Handler) apiAddOperation(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id", "Plan")
	if err != nil {
		return err
	}
	var o Operation
	if err := web.DecodeJSON(w, r, maxBody, &o); err != nil {
		return err
	}
	o, err = h.svc.AddOperation(r.Context(), p, id, o)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, o)
}

func (h *Handler) apiUpdateOperation(w http.ResponseWriter, r *http.Request) error {
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
	var o Operation
	if err := web.DecodeJSON(w, r, maxBody, &o); err != nil {
		return err
	}
	o, err = h.svc.UpdateOperation(r.Context(), p, id, op, o)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, o)
}

func (h *Handler) apiCalendar(w http.ResponseWriter, r *http.Request) error {
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

func (h *Handler) apiProgramme(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	pg, err := h.svc.Programme(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, pg)
}

func (h *Handler) apiAddBudgetLine(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var b BudgetLine
	if err := web.DecodeJSON(w, r, maxBody, &b); err != nil {
		return err
	}
	b, err = h.svc.AddBudgetLine(r.Context(), p, b)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, b)
}

func (h *Handler) apiScenarios(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ss, err := h.svc.Scenarios(r.Context(), p)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, ss)
}

func (h *Handler) apiCreateScenario(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	var sc Scenario
	if err := web.DecodeJSON(w, r, maxBody, &sc); err != nil {
		return err
	}
	sc, err = h.svc.CreateScenario(r.Context(), p, sc)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusCreated, sc)
}

func (h *Handler) apiCompareScenarios(w http.ResponseWriter, r *http.Request) error {
	p, err := web.RequireUser(r)
	if err != nil {
		return err
	}
	ids, err := idsParam(r, "ids")
	if err != nil {
		return err
	}
	c, err := h.svc.CompareScenarios(r.Context(), p, ids)
	if err != nil {
		return err
	}
	return web.JSON(w, http.StatusOK, c)
}

// helpers are the formatting methods every page view carries, since the
// shared renderer has no planning functions.
type helpers struct{}

// Euros formats cents.
func (helpers) Euros(c int64) string { return Euros(c) }

// Pct formats a share as a percentage.
func (helpers) Pct(f float64) string { return frNum(f*100) + "\u00a0%" }

// Num formats a float the French way.
func (helpers) Num(f float64) string { return strings.Replace(trimFloat(f), ".", ",", 1) }

// NumPtr formats an optional value.
func (helpers) NumPtr(f *float64) string {
	if f == nil {
		return "—"
	}
	return strings.Replace(trimFloat(*f), ".", ",", 1)
}

// Date formats an ISO date.
func (helpers) Date(s string) string { return frDate(s) }

// MetricLabel names a metric.
func (helpers) MetricLabel(m Metric) string { return MetricLabel(m) }

// Comparator says au plus / au moins.
func (helpers) Comparator(m Metric) string { return Comparator(m) }

// Phase names a phase.
func (helpers) Phase(p string) string { return PhaseLabel(p) }

// Nature names a budget nature.
func (helpers) Nature(n string) string { return NatureLabel(n) }

// Selected reports a chosen option.
func (helpers) Selected(a any, i int) bool { return Selected(a, i) }

// Legend draws a legend symbol.
func (helpers) Legend(c MapClass) template.HTML { return LegendSymbol(c) }

// Series draws a scenario's line style.
func (helpers) Series(i int) template.HTML { return SeriesStyle(i) }

// Reach is the year a scenario reaches the target.
func (helpers) Reach(r ScenarioResult) string { return ReachYear(r) }

// Key is a question's form key.
func (helpers) Key(id int64) string { return strconv.FormatInt(id, 10) }

// Answer is the current answer to a question.
func (helpers) Answer(m map[string]any, id int64) any { return m[strconv.FormatInt(id, 10)] }

// Text formats an answer for display.
func (helpers) Text(a any) string {
	switch x := a.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "oui"
		}
		return "non"
	case float64:
		return strings.Replace(trimFloat(x), ".", ",", 1)
	}
	return fmt.Sprint(a)
}

// Has reports whether the principal holds a permission (for the pages).
func (helpers) Has(p *auth.Principal, perm string) bool { return p.Has(auth.Permission(perm)) }
