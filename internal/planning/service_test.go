package planning

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/ical"
	"socle/internal/platform/problem"

	"github.com/xuri/excelize/v2"
)

func wantProblem(t *testing.T, err error, status int, code, contains string) {
	t.Helper()
	pe, ok := problem.As(err)
	if !ok || pe.Status != status || (code != "" && pe.Code != code) || !strings.Contains(pe.Message, contains) {
		t.Fatalf("error = %v, want %d %s containing %q", err, status, code, contains)
	}
}

func TestWeightsThatMakeNoSenseAreRefused(t *testing.T) {
	s := newSmall(t)
	sys := auth.System()
	for _, c := range []struct {
		w        Weights
		contains string
	}{
		{Weights{FactorGap: -1, FactorREP: 10}, "négatif"},
		{Weights{FactorGap: 150}, "dépasse 100"},
		{Weights{FactorGap: 0, FactorREP: 0}, "Tous les poids sont nuls"},
		{Weights{"couleur": 10}, "inconnu"},
	} {
		_, err := s.svc.SetWeights(s.ctx, sys, 0, c.w)
		wantProblem(t, err, 400, "invalid_weights", c.contains)
	}
	if _, err := s.svc.SetWeights(s.ctx, s.agentA, 0, Weights{FactorGap: 1}); err == nil {
		t.Error("an agent of one commune set the territory's weights")
	}
	w, err := s.svc.SetWeights(s.ctx, s.agentA, s.acigne, Weights{FactorGap: 50, FactorREP: 50})
	if err != nil || w[FactorAge] != 0 || w[FactorGap] != 50 {
		t.Fatalf("%v %v", w, err)
	}
	if _, err := s.svc.SetWeights(s.ctx, s.agentA, s.rennes, Weights{FactorGap: 1}); err == nil {
		t.Error("an agent of Acigné set Rennes's weights")
	}
	got, _ := s.svc.Weights(s.ctx, s.agentA, s.acigne)
	if got[FactorREP] != 50 {
		t.Errorf("weights read back %v", got)
	}
}

func TestSurveyAnswerTwiceKeepsHistory(t *testing.T) {
	s := newSmall(t)
	_, camp, _ := s.seed()
	q, err := s.svc.Questionnaire(s.ctx, s.headA, camp.QuestionnaireID)
	if err != nil || len(q.Questions) != 10 || len(q.Domains()) != 5 {
		t.Fatalf("maturity questionnaire: %v %d questions %v", err, len(q.Questions), q.Domains())
	}
	answers := func(level int) map[string]any {
		m := map[string]any{}
		for _, qu := range q.Questions {
			m[strconv.FormatInt(qu.ID, 10)] = float64(level - 1)
		}
		return m
	}
	// A required question left out is refused, by name.
	partial := answers(2)
	delete(partial, strconv.FormatInt(q.Questions[3].ID, 10))
	_, err = s.svc.Answer(s.ctx, s.headA, camp.ID, s.uaiA, partial)
	wantProblem(t, err, 400, "invalid_answer", q.Questions[3].Text)
	// The head of A cannot answer for B: it does not exist for them.
	_, err = s.svc.Answer(s.ctx, s.headA, camp.ID, s.uaiB, answers(2))
	wantProblem(t, err, 404, "not_found", "")
	// A teacher has no survey.answer.
	_, err = s.svc.Answer(s.ctx, s.teacher, camp.ID, s.uaiA, answers(2))
	wantProblem(t, err, 403, "forbidden", "")

	if _, err := s.svc.Answer(s.ctx, s.headA, camp.ID, s.uaiA, answers(1)); err != nil {
		t.Fatal(err)
	}
	r, err := s.svc.Answer(s.ctx, s.headA, camp.ID, s.uaiA, answers(3))
	if err != nil || r.Scores["Formation"] != 3 {
		t.Fatalf("%+v %v", r, err)
	}
	hist, err := s.svc.History(s.ctx, s.headA, camp.ID, s.uaiA)
	if err != nil || len(hist) != 2 || !hist[0].Current || hist[1].Current || hist[1].Scores["Formation"] != 1 {
		t.Fatalf("history %+v %v", hist, err)
	}
	st, err := s.svc.Stats(s.ctx, auth.System(), camp.ID)
	if err != nil {
		t.Fatal(err)
	}
	// One of two answered; the mean of A's current answer is level 3.
	if st.Total.Asked != 2 || st.Total.Answered != 1 || st.Total.Rate != 0.5 || st.Total.Means["Ressources"] != 3 {
		t.Errorf("total %+v", st.Total)
	}
	if len(st.Pending) != 1 || st.Pending[0].Code != s.uaiB {
		t.Errorf("pending %+v", st.Pending)
	}
	if len(st.Communes) != 2 || len(st.Authorities) != 2 {
		t.Errorf("communes %+v authorities %+v", st.Communes, st.Authorities)
	}
	a, n, err := s.svc.SurveyResponseRate(s.ctx, auth.System(), camp.ID, s.acigne)
	if err != nil || a != 1 || n != 1 {
		t.Errorf("response rate Acigné %d/%d %v", a, n, err)
	}
	a, n, _ = s.svc.SurveyResponseRate(s.ctx, auth.System(), camp.ID, s.rennes)
	if a != 0 || n != 1 {
		t.Errorf("response rate Rennes %d/%d", a, n)
	}
	// The maturity now feeds the gap: A reaches level 3 ≥ 2; B is missing.
	tg, _, _ := s.svc.CurrentTarget(s.ctx, auth.System())
	g, err := s.svc.Gap(s.ctx, auth.System(), tg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, c := cellOf(t, g, s.uaiA, "maturite"); !c.Met || val(c) != 3 {
		t.Errorf("A maturity %+v", c)
	}
	if _, c := cellOf(t, g, s.uaiB, "maturite"); c.Missing == "" {
		t.Errorf("B maturity %+v", c)
	}
	// The CSV and the workbook of the results.
	var buf bytes.Buffer
	if err := SurveyTable(st).WriteCSV(&buf); err != nil || !strings.Contains(buf.String(), "Taux de réponse;Pilotage et organisation") {
		t.Errorf("csv %v %q", err, buf.String())
	}
	buf.Reset()
	if err := SurveyTable(st).WriteXLSX(&buf); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("Enquête")
	if len(rows) != 1+2+2+2+1 || rows[2][2] != "École des Tilleuls" || rows[2][5] != "1" {
		t.Errorf("xlsx rows %q", rows)
	}
}

func TestCampaignClosedAndBuilder(t *testing.T) {
	s := newSmall(t)
	sys := auth.System()
	q, err := s.svc.CreateQuestionnaire(s.ctx, sys, Questionnaire{Name: "Mon enquête"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.AddQuestion(s.ctx, sys, q.ID, Question{Text: "Choix", Type: QSingle, Options: []Option{{"seul", 1}}})
	wantProblem(t, err, 400, "invalid_question", "deux réponses")
	_, err = s.svc.AddQuestion(s.ctx, sys, q.ID, Question{Text: "Échelle", Type: QScale, Min: 5, Max: 2})
	wantProblem(t, err, 400, "invalid_question", "maximum")
	for _, qu := range []Question{
		{Text: "Niveau", Domain: "Usages", Type: QScale, Min: 1, Max: 4, Required: true},
		{Text: "Fibre ?", Type: QYesNo},
		{Text: "Outils", Domain: "Usages", Type: QMultiple, Options: []Option{{"ENT", 1}, {"Pad", 2}, {"Wiki", 3}}},
		{Text: "Débit", Type: QNumber, Max: 10000, Declares: string(MetricConnection)},
		{Text: "Remarques", Type: QText},
	} {
		if q, err = s.svc.AddQuestion(s.ctx, sys, q.ID, qu); err != nil {
			t.Fatal(err)
		}
	}
	closed, err := s.svc.CreateCampaign(s.ctx, sys, Campaign{QuestionnaireID: q.ID, Name: "Close", OpensOn: "2026-01-01", ClosesOn: "2026-02-01", Establishments: []string{s.uaiA}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.svc.Answer(s.ctx, s.headA, closed.ID, s.uaiA, map[string]any{})
	wantProblem(t, err, 409, "campaign_closed", "01/02/2026")
	// Once used, the questionnaire no longer changes.
	_, err = s.svc.AddQuestion(s.ctx, sys, q.ID, Question{Text: "Encore", Type: QText})
	wantProblem(t, err, 409, "questionnaire_in_use", "")
	open, err := s.svc.CreateCampaign(s.ctx, sys, Campaign{QuestionnaireID: q.ID, Name: "Ouverte", OpensOn: "2026-11-01", ClosesOn: "2026-12-01", Establishments: []string{s.uaiA}})
	if err != nil {
		t.Fatal(err)
	}
	id := func(i int) string { return strconv.FormatInt(q.Questions[i].ID, 10) }
	_, err = s.svc.Answer(s.ctx, s.headA, open.ID, s.uaiA, map[string]any{id(0): "7"})
	wantProblem(t, err, 400, "invalid_answer", "entre 1 et 4")
	r, err := s.svc.Answer(s.ctx, s.headA, open.ID, s.uaiA, map[string]any{id(0): "2", id(1): "oui", id(2): []any{"0", "2"}, id(3): "250", id(4): "RAS"})
	if err != nil {
		t.Fatal(err)
	}
	// Usages: scale 2 and the highest ticked option (Wiki, 3) → (2 + 3)/2.
	if r.Scores["Usages"] != 2.5 {
		t.Errorf("scores %+v", r.Scores)
	}
	// The answer declared the connection.
	d, _ := s.svc.store.Declared(s.ctx)
	if d[s.a][MetricConnection] != 250 {
		t.Errorf("declared %+v", d[s.a])
	}
}

func TestPlanDependenciesCalendarAndFleet(t *testing.T) {
	s := newSmall(t)
	_, _, pl := s.seed()
	sys := auth.System()
	works, dep := pl.Operations[0], pl.Operations[1]
	// A loop is refused.
	works.DependsOn = []int64{dep.ID}
	works.StartsOn, works.EndsOn = "2026-04-01", "2026-04-02"
	_, err := s.svc.UpdateOperation(s.ctx, sys, pl.ID, works.ID, works)
	wantProblem(t, err, 400, "invalid_operation", "boucle")
	// Starting before a dependency ends is refused.
	_, err = s.svc.AddOperation(s.ctx, sys, pl.ID, Operation{Kind: OpGoLive, Title: "Mise en service", StartsOn: "2026-03-15", EndsOn: "2026-04-15", DependsOn: []int64{dep.ID}})
	wantProblem(t, err, 400, "invalid_operation", "avant la fin")
	_, err = s.svc.AddOperation(s.ctx, sys, pl.ID, Operation{Kind: "demolition", Title: "x", StartsOn: "2026-03-15", EndsOn: "2026-04-15"})
	wantProblem(t, err, 400, "invalid_operation", "Nature")
	// Completing the deployment hands it to the fleet, once.
	if _, err := s.svc.SetOperationStatus(s.ctx, sys, pl.ID, dep.ID, OpDone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.SetOperationStatus(s.ctx, sys, pl.ID, dep.ID, OpDone); err != nil {
		t.Fatal(err)
	}
	if len(s.fleet.deployed) != 1 || s.fleet.deployed[0].AssetIDs[1] != 12 || s.fleet.deployed[0].Establishments[0] != s.uaiA {
		t.Errorf("deployed %+v", s.fleet.deployed)
	}
	// iCalendar: CRLF, folded, escaped, all-day with an exclusive end.
	pl, _ = s.svc.Plan(s.ctx, sys, pl.ID)
	var buf bytes.Buffer
	events, err := planEvents(pl, "socle.test", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ical.Write(&buf, ical.Calendar{ProdID: "-//Socle//Test//FR", Name: "Plan", Stamp: testNow}, events); err != nil {
		t.Fatal(err)
	}
	ics := buf.String()
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "DTSTART;VALUE=DATE:20260302\r\n", "DTEND;VALUE=DATE:20260401\r\n",
		"UID:plan-" + strconv.FormatInt(pl.ID, 10) + "-op-" + strconv.FormatInt(dep.ID, 10) + "@socle.test\r\n", "STATUS:CONFIRMED", "END:VCALENDAR\r\n"} {
		if !strings.Contains(ics, want) {
			t.Errorf("calendar lacks %q:\n%s", want, ics)
		}
	}
	for _, line := range strings.Split(ics, "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
	}
	if strings.Contains(strings.ReplaceAll(ics, "\r\n", ""), "\n") {
		t.Error("bare LF in calendar")
	}
	// Only this owner's operations.
	buf.Reset()
	if events, err = planEvents(pl, "socle.test", "karim"); err != nil || len(events) != 1 {
		t.Errorf("owner filter: %+v %v", events, err)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "?") == s }

func TestScenariosAndProgramme(t *testing.T) {
	s := newSmall(t)
	tg, _, _ := s.seed()
	sys := auth.System()
	pg, err := s.svc.Programme(s.ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Total.PlannedCents != 1600000 || len(pg.Years) != 2 || pg.Years[0].Investment.PlannedCents != 1400000 || pg.Years[1].Operating.PlannedCents != 200000 ||
		pg.ByFunder[FunderState].PlannedCents != 400000 {
		t.Errorf("programme %+v", pg)
	}
	_, err = s.svc.AddBudgetLine(s.ctx, sys, BudgetLine{Year: 2026, Funder: "banque", Nature: "investment", Label: "x"})
	wantProblem(t, err, 400, "invalid_budget", "Financeur")
	_, err = s.svc.CreateScenario(s.ctx, sys, Scenario{Name: "x", TargetID: tg.ID, RenewYears: 1, GeneraliseYears: 2})
	wantProblem(t, err, 400, "invalid_scenario", "2 à 12")
	c, err := s.svc.CompareScenarios(s.ctx, sys, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Results) != 2 || len(c.Years) != 5 || c.Years[0] != 2026 {
		t.Fatalf("comparison %+v", c)
	}
	two, three := c.Results[0], c.Results[1]
	// Both schools fall short; in 2 years: one school a year; in 3:
	// one, then one, then none.
	if c.BelowTarget != 2 || two.Years[0].SchoolsBelowTarget != 1 || two.Years[1].SchoolsBelowTarget != 0 || three.Years[1].SchoolsBelowTarget != 0 {
		t.Errorf("below target: %d %+v %+v", c.BelowTarget, two.Years, three.Years)
	}
	// Renewing at 6 years keeps 5-year-old devices beyond the target's
	// 5-year age: a backlog the 5-year scenario does not have.
	if two.Years[4].RemainingGapCents != 0 || three.Years[4].RemainingGapCents <= 0 {
		t.Errorf("remaining gap, year 5: %d vs %d", two.Years[4].RemainingGapCents, three.Years[4].RemainingGapCents)
	}
	var sum int64
	for _, y := range two.Years {
		sum += y.GapClosingCents
	}
	if sum != c.StartGapCost {
		t.Errorf("gap closed %d, start gap %d", sum, c.StartGapCost)
	}
}

func TestTargetValidationAndComparison(t *testing.T) {
	s := newSmall(t)
	sys := auth.System()
	_, err := s.svc.CreateTarget(s.ctx, sys, Target{Name: "x", Criteria: []Criterion{{Metric: "bonheur", Threshold: 1}}})
	wantProblem(t, err, 400, "invalid_criterion", "Mesure inconnue")
	_, err = s.svc.CreateTarget(s.ctx, sys, Target{Name: "x", Criteria: []Criterion{{Metric: MetricWifi, Threshold: 90}}})
	wantProblem(t, err, 400, "invalid_criterion", "entre 0 et 1")
	_, err = s.svc.CreateTarget(s.ctx, s.headA, Target{Name: "x"})
	wantProblem(t, err, 403, "forbidden", "")
	err = s.svc.SetDeclared(s.ctx, sys, s.uaiA, MetricPupilsPerDevice, 3)
	wantProblem(t, err, 400, "invalid_declared", "")
	s.seed()
	ts, _ := s.svc.Targets(s.ctx, sys)
	c, err := s.svc.CompareTargets(s.ctx, sys, []int64{ts[0].ID, ts[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 5 || c.Rows[0].Cells[0] == nil || c.Rows[0].Cells[1] == nil || c.Rows[1].Cells[1] != nil {
		t.Errorf("comparison rows %+v", c.Rows)
	}
}
