package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/fleet"
	"socle/internal/governance"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
)

// The acceptance path of governance, on the real helpdesk and fleet: a
// school proposes a project serving a roadmap indicator, the coordination
// committee examines it, the strategic committee starts it; tickets solved
// and equipment added move the indicators, and the next committee file
// shows the new figures.
func TestGovernanceEndToEnd(t *testing.T) {
	s := newTestServer(t)
	a, ctx := s.app, context.Background()
	f := buildFixture(t, a)
	sys := auth.System()
	academy, ecole, ecoleID := f.orgs["academy"], f.est["ecoleA"], f.orgs["ecoleA"]
	dane := &auth.Principal{User: auth.User{ID: 1 << 30, Email: "dane@exemple.test"},
		Grants: []auth.Grant{{Role: auth.RoleAcademyObserver, OrgID: academy, Recursive: true}}}
	head := &auth.Principal{User: auth.User{ID: 1<<30 + 1, Email: "direction@exemple.test"},
		Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: ecoleID}}}
	g := a.Governance
	now := time.Now()

	coord, err := g.CreateBody(ctx, dane, governance.Body{OrgID: academy, Kind: governance.BodyCoordination, Name: "Comité de coordination", MinPerYear: 3,
		Members: []governance.Member{{Name: "Chef de projet ENT", Role: "DANE"}}})
	must(t, err)
	strat, err := g.CreateBody(ctx, dane, governance.Body{OrgID: academy, Kind: governance.BodyStrategic, Name: "Comité stratégique", MinPerYear: 2,
		Members: []governance.Member{{Name: "Directrice au numérique", Role: "Présidente"}}})
	must(t, err)
	rm, err := g.CreateRoadmap(ctx, dane, governance.Roadmap{OrgID: academy, Title: "Feuille de route", FirstYear: now.Year(), LastYear: now.Year() + 1})
	must(t, err)
	amb, err := g.AddItem(ctx, dane, rm.ID, governance.RoadmapItem{Title: "Un service fiable"})
	must(t, err)
	tgt, err := g.AddItem(ctx, dane, rm.ID, governance.RoadmapItem{ParentID: amb.ID, Title: "Une assistance qui tient ses délais"})
	must(t, err)
	obj, err := g.AddItem(ctx, dane, rm.ID, governance.RoadmapItem{ParentID: tgt.ID, Title: "Tenir les délais", Year: now.Year()})
	must(t, err)
	target, ageTarget := 80.0, 30.0
	sla, err := g.AddIndicator(ctx, dane, obj.ID, governance.Indicator{Name: "Tickets résolus dans le délai", Unit: "%", Source: "helpdesk.sla",
		Target: &target, HigherBest: true, Frequency: governance.Monthly})
	must(t, err)
	age, err := g.AddIndicator(ctx, dane, obj.ID, governance.Indicator{Name: "Équipements hors d'âge", Unit: "%", Source: "fleet.over_lifetime_share",
		Target: &ageTarget, HigherBest: false, Frequency: governance.Yearly})
	must(t, err)

	next, err := g.CreateMeeting(ctx, dane, governance.Meeting{BodyID: strat.ID, Title: "Comité stratégique suivant", StartsAt: now.AddDate(0, 0, 14)})
	must(t, err)
	latest := func(d governance.Dossier, id int64) governance.IndicatorView {
		for _, v := range d.Indicators {
			if v.ID == id {
				return v
			}
		}
		t.Fatalf("indicator %d not in the file", id)
		return governance.IndicatorView{}
	}
	// Before any ticket or asset: no data, with the reason, never 0.
	d, err := g.CommitteeFile(ctx, dane, next.ID)
	must(t, err)
	if v := latest(d, sla.ID); v.Latest == nil || v.Latest.Value != nil || !strings.Contains(v.Latest.NoDataReason, "Aucun ticket résolu") {
		t.Fatalf("sla before tickets: %+v", v.Latest)
	}
	if v := latest(d, age.ID); v.Latest == nil || v.Latest.Value != nil || !strings.Contains(v.Latest.NoDataReason, "Aucun équipement") {
		t.Fatalf("age before assets: %+v", v.Latest)
	}

	// The school proposes; the bodies examine and start.
	pr, err := g.Propose(ctx, head, governance.Project{OrgID: academy, ProposerOrgID: ecoleID, ProposerKind: governance.ProposerSchool,
		Title: "Assistance de proximité pour l'école", Benefits: "Délais tenus", CostCents: 500_000, IndicatorID: sla.ID})
	must(t, err)
	held := func(b governance.Body) governance.Meeting {
		m, err := g.CreateMeeting(ctx, dane, governance.Meeting{BodyID: b.ID, StartsAt: now.Add(-2 * time.Hour)})
		must(t, err)
		m, err = g.RecordMinutes(ctx, dane, m.ID, governance.Minutes{Text: "Relevé de décisions", Present: []int64{b.Members[0].ID}})
		must(t, err)
		return m
	}
	mc, ms := held(coord), held(strat)
	_, err = g.RecordDecision(ctx, dane, mc.ID, governance.Decision{Kind: governance.DecisionProjectExamined, ProjectID: pr.ID, Summary: "Avis favorable"})
	must(t, err)
	started, err := g.RecordDecision(ctx, dane, ms.ID, governance.Decision{Kind: governance.DecisionProjectStarted, ProjectID: pr.ID, Summary: "Lancement"})
	must(t, err)
	pr, err = g.Project(ctx, head, pr.ID)
	must(t, err)
	if pr.Status != governance.ProjectInProgress || pr.History[len(pr.History)-1].DecisionID != started.ID {
		t.Fatalf("project after the strategic committee: %+v", pr)
	}

	// Tickets solved this month: 3 of 4 within the delay.
	seq := 0
	tickets := func(n, met int) {
		for i := range n {
			seq++
			ref := fmt.Sprintf("T-GOV-%d", seq)
			solved := now.Add(-time.Minute)
			_, err := a.DB.ExecContext(ctx, `INSERT INTO tickets (reference, kind, title, establishment_id, commune_code, status, solved_at, ttr_met, created_at, updated_at)
				VALUES (?, 'incident', 'Panne', ?, ?, 'solved', ?, ?, ?, ?)`, ref, ecoleID, ecole.CommuneCode, solved, i < met, solved.Add(-time.Hour), solved)
			must(t, err)
		}
	}
	tickets(4, 3)
	// Equipment: one workstation past its lifetime, one new.
	for i, bought := range []string{"2012-09-01", now.Format("2006-01-02")} {
		_, err := a.Fleet.Create(ctx, sys, fleet.Asset{UAI: ecole.UAI, Type: fleet.TypeWorkstation, Name: "PC-" + strconv.Itoa(i), Serial: "S" + strconv.Itoa(i),
			Use: fleet.UsePupils, PurchaseDate: bought})
		must(t, err)
	}
	n, err := g.Refresh(ctx, dane, rm.ID)
	must(t, err)
	if n != 2 {
		t.Fatalf("refresh recorded %d values, want 2", n)
	}
	views, err := g.Indicators(ctx, dane, rm.ID, 0)
	must(t, err)
	for _, v := range views {
		switch {
		case v.ID == sla.ID && (v.Latest.Value == nil || *v.Latest.Value != 75):
			t.Fatalf("sla after 3 of 4: %+v", v.Latest)
		case v.ID == age.ID && (v.Latest.Value == nil || *v.Latest.Value != 50):
			t.Fatalf("age after one old of two: %+v", v.Latest)
		}
	}

	// More tickets solved in time and new equipment: the indicators move,
	// and the next committee file shows it.
	tickets(4, 4)
	for i := 2; i < 4; i++ {
		_, err := a.Fleet.Create(ctx, sys, fleet.Asset{UAI: ecole.UAI, Type: fleet.TypeLaptop, Name: "PORT-" + strconv.Itoa(i), Serial: "S" + strconv.Itoa(i),
			Use: fleet.UsePupils, PurchaseDate: now.Format("2006-01-02")})
		must(t, err)
	}
	d, err = g.CommitteeFile(ctx, dane, next.ID)
	must(t, err)
	v := latest(d, sla.ID)
	if v.Latest.Value == nil || *v.Latest.Value != 87.5 || v.TargetMet == nil || !*v.TargetMet {
		t.Fatalf("sla in the next file: %+v met %v", v.Latest, v.TargetMet)
	}
	if va := latest(d, age.ID); va.Latest.Value == nil || *va.Latest.Value != 25 || va.TargetMet == nil || !*va.TargetMet {
		t.Fatalf("age in the next file: %+v", va.Latest)
	}
	// The lean aggregates of the indicators agree with the helpdesk's
	// own quality report.
	rep, err := a.Helpdesk.Report(ctx, systemReader(), helpdesk.ReportQuery{Group: helpdesk.GroupMonth, From: now, To: now, OrgID: academy})
	must(t, err)
	if rep.Total.TTRCompliance == nil || *rep.Total.TTRCompliance != *v.Latest.Value {
		t.Fatalf("helpdesk report says %v, the indicator %v", rep.Total.TTRCompliance, *v.Latest.Value)
	}
	rs, err := a.Fleet.Ratios(ctx, sys, ecole.UAI)
	must(t, err)
	if len(rs.Establishments) != 1 || 100*rs.Establishments[0].OverLifetimeShare != *latest(d, age.ID).Latest.Value {
		t.Fatalf("fleet ratios say %+v, the indicator %v", rs.Establishments, *latest(d, age.ID).Latest.Value)
	}
	var history int
	must(t, a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM gov_indicator_values WHERE indicator_id = ?`, sla.ID).Scan(&history))
	if history != 3 { // no data, 75, 87.5: nothing overwritten
		t.Fatalf("sla history has %d rows, want 3", history)
	}
	// The service quality by commune comes from the helpdesk.
	if len(d.Quality) != 1 || d.Quality[0].Solved != 8 || d.Quality[0].Opened != 8 || d.Quality[0].SLA == nil || *d.Quality[0].SLA != 87.5 ||
		d.Quality[0].Name != "Aubeville (99001)" {
		t.Fatalf("quality by commune: %+v", d.Quality)
	}
	var buf strings.Builder
	must(t, governance.WritePDF(&buf, d))
	if !strings.Contains(buf.String(), "%PDF-") {
		t.Fatal("not a PDF")
	}
	// The transparency page of the commune reads the same sources.
	communeA := f.orgs["communeA"]
	must(t, g.SetTransparency(ctx, sys, communeA, true))
	r := s.do(t, request{Path: "/transparence/" + strconv.FormatInt(communeA, 10)})
	if r.Status != 200 || !strings.Contains(string(r.Body), "87,5 %") {
		t.Fatalf("public transparency page: %d %.400s", r.Status, r.Body)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The demo territory comes with two years of governance: the committee
// file of the next meeting has history, decisions awaited and projects to
// examine, like one an académie would send.
func TestGovernanceDemo(t *testing.T) {
	s := newTestServer(t)
	a, ctx := s.app, context.Background()
	if _, created, err := a.SeedDemo(ctx); err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	sys := auth.System()
	bodies, err := a.Governance.Bodies(ctx, sys)
	must(t, err)
	if len(bodies) != 3 {
		t.Fatalf("bodies: %+v", bodies)
	}
	ms, err := a.Governance.Meetings(ctx, sys, 0)
	must(t, err)
	var held, planned int
	var next governance.Meeting
	for _, m := range ms {
		if m.Held {
			held++
		} else if m.StartsAt.After(time.Now()) {
			planned++
			next = m
		}
	}
	if held < 10 || planned != 1 {
		t.Fatalf("meetings: %d held, %d planned", held, planned)
	}
	d, err := a.Governance.CommitteeFile(ctx, sys, next.ID)
	must(t, err)
	if len(d.Awaiting) == 0 || len(d.ToExamine) < 2 || len(d.LastDecisions) == 0 || len(d.Quality) == 0 {
		t.Fatalf("file: %d awaiting, %d to examine, %d last decisions, %d communes", len(d.Awaiting), len(d.ToExamine), len(d.LastDecisions), len(d.Quality))
	}
	var slaPoints, noData, unproven int
	for _, v := range d.Indicators {
		if v.Source == "helpdesk.sla" {
			slaPoints = len(v.Series)
			for _, x := range v.Series {
				if x.Value == nil {
					noData++
				}
			}
		}
		unproven += v.Unproven
	}
	if slaPoints < 24 || noData == 0 || unproven != 1 {
		t.Fatalf("sla history: %d points, %d without data; %d unproven declarations", slaPoints, noData, unproven)
	}
	alerts, err := a.Governance.Alerts(ctx, sys)
	must(t, err)
	if len(alerts) == 0 {
		t.Fatal("the coordination committee behind its frequency raises no alert")
	}
	start := time.Now()
	var buf strings.Builder
	must(t, governance.WritePDF(&buf, d))
	t.Logf("demo committee PDF: %d bytes in %v", buf.Len(), time.Since(start))
}
