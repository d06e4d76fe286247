package governance

import (
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

// The cycle of the bodies: a school proposes, the coordination committee
// examines, the strategic committee starts; each step names its decision,
// and a decision needs a held meeting of the right body.
func TestProjectThroughTheBodies(t *testing.T) {
	f := newFx(t)
	coord, strat := f.cycle()
	pr, err := f.svc.Propose(f.ctx, f.head1, Project{OrgID: f.academy, ProposerOrgID: f.school1, ProposerKind: ProposerSchool,
		Title: "Classe mobile", Description: "16 tablettes", Benefits: "Productions du cycle 3", CostCents: 1_200_000, Feasibility: "Oui"})
	f.must(err)
	if pr.Status != ProjectProposed || len(pr.History) != 1 || pr.ProposerName != "École des Tilleuls" {
		t.Fatalf("proposed: %+v", pr)
	}
	// A head cannot propose for another school.
	if _, err := f.svc.Propose(f.ctx, f.head1, Project{OrgID: f.academy, ProposerOrgID: f.school2, ProposerKind: ProposerSchool, Title: "X"}); problemCode(err) != "unknown_proposer" {
		t.Fatalf("propose for another school: %v", err)
	}
	// A meeting that has not happened carries no decision.
	future, err := f.svc.CreateMeeting(f.ctx, f.dane, Meeting{BodyID: coord.ID, StartsAt: f.now.Add(48 * time.Hour)})
	f.must(err)
	if _, err := f.svc.RecordDecision(f.ctx, f.dane, future.ID, Decision{Kind: DecisionProjectExamined, ProjectID: pr.ID}); problemCode(err) != "meeting_not_held" {
		t.Fatalf("decision on a future meeting: %v", err)
	}
	if _, err := f.svc.RecordMinutes(f.ctx, f.dane, future.ID, Minutes{Text: "trop tôt"}); problemCode(err) != "meeting_not_held" {
		t.Fatalf("minutes of a future meeting: %v", err)
	}
	mc := f.heldMeeting(coord, "Coordination d'octobre")
	// The strategic committee cannot start a project not yet examined.
	ms := f.heldMeeting(strat, "Stratégique d'octobre")
	if _, err := f.svc.RecordDecision(f.ctx, f.dane, ms.ID, Decision{Kind: DecisionProjectStarted, ProjectID: pr.ID}); problemCode(err) != "invalid_transition" {
		t.Fatalf("start before examination: %v", err)
	}
	// Nor can the coordination committee start it.
	if _, err := f.svc.RecordDecision(f.ctx, f.dane, mc.ID, Decision{Kind: DecisionProjectStarted, ProjectID: pr.ID}); problemCode(err) != "wrong_body" {
		t.Fatalf("start by coordination: %v", err)
	}
	// A reader without manage may not decide; the head of a school does
	// not even see the académie's meetings.
	reader := &auth.Principal{User: auth.User{ID: 20, Email: "lecteur@test"}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: f.academy, Recursive: true}}}
	if _, err := f.svc.RecordDecision(f.ctx, reader, mc.ID, Decision{Kind: DecisionProjectExamined, ProjectID: pr.ID}); problemCode(err) != "forbidden" {
		t.Fatalf("decision by a reader: %v", err)
	}
	if _, err := f.svc.RecordDecision(f.ctx, f.head1, mc.ID, Decision{Kind: DecisionProjectExamined, ProjectID: pr.ID}); problemCode(err) != "not_found" {
		t.Fatalf("decision by a head: %v", err)
	}
	d1, err := f.svc.RecordDecision(f.ctx, f.dane, mc.ID, Decision{Kind: DecisionProjectExamined, ProjectID: pr.ID, Summary: "Avis favorable"})
	f.must(err)
	if d1.Before != "proposed" || d1.After != "examined" {
		t.Fatalf("examined decision: %+v", d1)
	}
	d2, err := f.svc.RecordDecision(f.ctx, f.dane, ms.ID, Decision{Kind: DecisionProjectStarted, ProjectID: pr.ID, Summary: "Lancement"})
	f.must(err)
	d3, err := f.svc.RecordDecision(f.ctx, f.dane, ms.ID, Decision{Kind: DecisionBudgetArbitrated, ProjectID: pr.ID, AmountCents: 900_000})
	f.must(err)
	if d3.Before != "1200000" || d3.After != "900000" {
		t.Fatalf("budget decision: %+v", d3)
	}
	pr, err = f.svc.Project(f.ctx, f.head1, pr.ID)
	f.must(err)
	if pr.Status != ProjectInProgress || pr.CostCents != 900_000 || len(pr.History) != 4 {
		t.Fatalf("after decisions: %+v", pr)
	}
	if h := pr.History[2]; h.DecisionID != d2.ID || h.From != ProjectExamined || h.To != ProjectInProgress || !strings.Contains(h.Note, "Comité stratégique") {
		t.Fatalf("history names the decision: %+v", h)
	}
	if h := pr.History[1]; h.DecisionID != d1.ID {
		t.Fatalf("examination history: %+v", h)
	}
	// The other académie sees neither the project nor the bodies.
	if _, err := f.svc.Project(f.ctx, f.agent2, pr.ID); problemCode(err) != "not_found" {
		t.Fatalf("project from elsewhere: %v", err)
	}
	if _, err := f.svc.Meeting(f.ctx, f.agent2, ms.ID); problemCode(err) != "not_found" {
		t.Fatalf("meeting from elsewhere: %v", err)
	}
	if _, err := f.svc.EvaluateProject(f.ctx, f.dane, pr.ID, "Bilan positif"); err != nil {
		t.Fatal(err)
	}
}

// A target changed by a decision keeps the before and after values and
// the decision that changed it.
func TestTargetChangeIsTraceable(t *testing.T) {
	f := newFx(t)
	_, strat := f.cycle()
	ind := f.indicator("test.sla", Monthly, 90)
	m := f.heldMeeting(strat, "Stratégique")
	d, err := f.svc.RecordDecision(f.ctx, f.dane, m.ID, Decision{Kind: DecisionTargetChanged, IndicatorID: ind.ID, After: "92,5"})
	f.must(err)
	if d.Before != "90" || d.After != "92.5" {
		t.Fatalf("target decision: %+v", d)
	}
	views, err := f.svc.Indicators(f.ctx, f.dane, 0, 0)
	f.must(err)
	if len(views) != 1 || views[0].Target == nil || *views[0].Target != 92.5 {
		t.Fatalf("target not applied: %+v", views)
	}
	var decisionID int64
	var before, after float64
	f.must(f.db.QueryRowContext(f.ctx, `SELECT decision_id, before_value, after_value FROM gov_target_history WHERE indicator_id = ?`, ind.ID).Scan(&decisionID, &before, &after))
	if decisionID != d.ID || before != 90 || after != 92.5 {
		t.Fatalf("target history: %d %v %v", decisionID, before, after)
	}
}

// indicator builds a roadmap of the académie with one objective and one
// indicator on source.
func (f *fx) indicator(source string, freq Frequency, target float64) Indicator {
	f.t.Helper()
	rm, err := f.svc.CreateRoadmap(f.ctx, f.dane, Roadmap{OrgID: f.academy, Title: "Feuille de route", FirstYear: 2025, LastYear: 2027})
	f.must(err)
	a, err := f.svc.AddItem(f.ctx, f.dane, rm.ID, RoadmapItem{Title: "Un service fiable"})
	f.must(err)
	c, err := f.svc.AddItem(f.ctx, f.dane, rm.ID, RoadmapItem{ParentID: a.ID, Title: "Une assistance qui tient ses délais"})
	f.must(err)
	o, err := f.svc.AddItem(f.ctx, f.dane, rm.ID, RoadmapItem{ParentID: c.ID, Title: "Tenir les délais", Year: 2026})
	f.must(err)
	if o.Level != LevelObjective || c.Level != LevelTarget || a.Level != LevelAmbition {
		f.t.Fatalf("levels: %s %s %s", a.Level, c.Level, o.Level)
	}
	in, err := f.svc.AddIndicator(f.ctx, f.dane, o.ID, Indicator{Name: "Délais tenus", Unit: "%", Source: source, Target: &target, HigherBest: true, Frequency: freq})
	f.must(err)
	return in
}

// Computed values are a history: a new measure adds a row, never replaces
// one; "no data" is recorded with its reason, never as 0.
func TestIndicatorHistoryAndNoData(t *testing.T) {
	f := newFx(t)
	ind := f.indicator("test.sla", Monthly, 90)
	n, err := f.svc.Refresh(f.ctx, f.dane, 0)
	f.must(err)
	if n != 1 || f.src.calls != 1 || f.src.orgs[0] != f.academy {
		t.Fatalf("refresh: %d values, %d calls on %v", n, f.src.calls, f.src.orgs)
	}
	// The same value again is not a new row.
	if n, _ := f.svc.Refresh(f.ctx, f.dane, 0); n != 0 {
		t.Fatalf("unchanged value recorded again: %d", n)
	}
	f.src.v = NoData("Aucun ticket résolu sur la période.")
	f.now = f.now.AddDate(0, 1, 0)
	if n, _ := f.svc.Refresh(f.ctx, f.dane, 0); n != 1 {
		t.Fatalf("no-data month not recorded: %d", n)
	}
	f.src.v = Measured(93, "")
	if n, _ := f.svc.Refresh(f.ctx, f.dane, 0); n != 1 {
		t.Fatalf("changed value not recorded: %d", n)
	}
	views, err := f.svc.Indicators(f.ctx, f.dane, 0, 0)
	f.must(err)
	v := views[0]
	if len(v.Series) != 2 || v.Series[0].Period != "2026-10" || *v.Series[0].Value != 87.5 || v.Series[1].Period != "2026-11" || *v.Series[1].Value != 93 {
		t.Fatalf("series: %+v", v.Series)
	}
	if v.TargetMet == nil || !*v.TargetMet || v.StatusText() != "Cible atteinte" {
		t.Fatalf("target met: %v %s", v.TargetMet, v.StatusText())
	}
	var rows, nodata int
	f.must(f.db.QueryRowContext(f.ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN value IS NULL THEN 1 ELSE 0 END), 0) FROM gov_indicator_values WHERE indicator_id = ?`, ind.ID).Scan(&rows, &nodata))
	if rows != 3 || nodata != 1 {
		t.Fatalf("history rows: %d, no data rows: %d", rows, nodata)
	}
	var reason string
	f.must(f.db.QueryRowContext(f.ctx, `SELECT no_data_reason FROM gov_indicator_values WHERE value IS NULL`).Scan(&reason))
	if reason != "Aucun ticket résolu sur la période." {
		t.Fatalf("reason: %q", reason)
	}
	// A source that is not connected (planning, productions) is no data
	// with the reason, not an error and not 0.
	v2, err := f.svc.measure(f.ctx, "planning.share", f.academy, PeriodOf(Yearly, f.now))
	f.must(err)
	if v2.OK || !strings.Contains(v2.Reason, "non raccordée") {
		t.Fatalf("unconnected source: %+v", v2)
	}
}

// A declared value without evidence is recorded and flagged; a campaign
// lets the people it asks declare.
func TestDeclaredValues(t *testing.T) {
	f := newFx(t)
	ind := f.indicator(SourceDeclared, Quarterly, 40)
	if _, err := f.svc.Declare(f.ctx, f.dane, ind.ID, Declaration{Period: "2026-T2", Value: 31, Evidence: "Feuilles d'émargement"}); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Declare(f.ctx, f.dane, ind.ID, Declaration{Period: "2026-T3", Value: 35})
	f.must(err)
	if !v.Flagged {
		t.Fatal("a value without evidence is not flagged")
	}
	if _, err := f.svc.Declare(f.ctx, f.dane, ind.ID, Declaration{Period: "2026-T7", Value: 1}); problemCode(err) != "invalid_period" {
		t.Fatalf("bad period: %v", err)
	}
	// The head is not asked (the académie's roadmap is out of their
	// scope): refused; once a campaign asks heads, accepted.
	if _, err := f.svc.Declare(f.ctx, f.head1, ind.ID, Declaration{Period: "2026-T3", Value: 36, Evidence: "x"}); problemCode(err) != "not_found" {
		t.Fatalf("head declares without campaign: %v", err)
	}
	if _, err := f.svc.CreateCampaign(f.ctx, f.dane, Campaign{IndicatorID: ind.ID, OrgID: f.academy, RespondentRole: "establishment-head"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Declare(f.ctx, f.head1, ind.ID, Declaration{Period: "2026-T3", Value: 36, Evidence: "Attestations"}); err != nil {
		t.Fatalf("head asked by a campaign: %v", err)
	}
	cs, err := f.svc.Campaigns(f.ctx, f.head1)
	f.must(err)
	if len(cs) != 1 || cs[0].DuePeriod != "" {
		t.Fatalf("campaigns of the head (2026-T3 declared): %+v", cs)
	}
	views, err := f.svc.Indicators(f.ctx, f.dane, 0, 0)
	f.must(err)
	// T3 was declared twice: the latest is the value, both rows remain.
	if s := views[0].Series; len(s) != 2 || *s[1].Value != 36 || views[0].Unproven != 1 {
		t.Fatalf("declared series: %+v unproven %d", s, views[0].Unproven)
	}
	if _, err := f.svc.Declare(f.ctx, f.agent2, ind.ID, Declaration{Value: 1}); problemCode(err) != "not_found" {
		t.Fatalf("declare from elsewhere: %v", err)
	}
}

// A body that falls behind its frequency raises an alert; planning the
// missing meetings clears it for this year.
func TestFrequencyAlerts(t *testing.T) {
	f := newFx(t)
	coord, _ := f.cycle()
	f.heldMeeting(coord, "Seule séance")
	as, err := f.svc.Alerts(f.ctx, f.dane)
	f.must(err)
	var thisYear, lastYear bool
	for _, a := range as {
		if a.BodyID == coord.ID && a.Year == 2026 && a.Held == 1 && a.Required == 3 {
			thisYear = true
		}
		if a.BodyID == coord.ID && a.Year == 2025 && a.Held == 0 {
			lastYear = true
		}
	}
	if !thisYear || !lastYear {
		t.Fatalf("alerts: %+v", as)
	}
	for _, d := range []int{10, 20} {
		_, err := f.svc.CreateMeeting(f.ctx, f.dane, Meeting{BodyID: coord.ID, StartsAt: f.now.AddDate(0, 0, d)})
		f.must(err)
	}
	as, err = f.svc.Alerts(f.ctx, f.dane)
	f.must(err)
	for _, a := range as {
		if a.BodyID == coord.ID && a.Year == 2026 {
			t.Fatalf("alert remains once meetings are planned: %+v", a)
		}
	}
	if as, _ := f.svc.Alerts(f.ctx, f.agent2); len(as) != 0 {
		t.Fatalf("alerts of another académie: %+v", as)
	}
}
