package planning

import (
	"fmt"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/territory"
)

// uai builds a valid UAI from its number.
func uai(n int) string { return fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n)) }

// small is a territory of two communes: Acigné with école A, Rennes with
// école B (REP+) and a collège C without fleet.
type small struct {
	*fx
	acigne, rennes, a, b, c int64
	uaiA, uaiB, uaiC        string
	agentA, headA, teacher  *auth.Principal
}

func newSmall(t testing.TB) *small {
	f := newFx(t)
	s := &small{fx: f, uaiA: uai(350101), uaiB: uai(350202), uaiC: uai(350303)}
	s.acigne = s.org("commune", "35001", "Acigné", 0)
	s.rennes = s.org("commune", "35238", "Rennes", 0)
	s.a = s.school(s.uaiA, "École des Tilleuls", "ecole", "", s.acigne, "35001", "Acigné", 48.13, -1.54)
	s.b = s.school(s.uaiB, "École Volga", "ecole", "REP+", s.rennes, "35238", "Rennes", 48.08, -1.65)
	s.c = s.school(s.uaiC, "Collège Anne de Bretagne", "college", "", s.rennes, "35238", "Rennes", 48.11, -1.68)
	s.enrol(s.uaiA, 200, 8)
	s.enrol(s.uaiB, 150, 6)
	s.enrol(s.uaiC, 500, 20)
	s.fleet.assets[s.uaiA] = generate(s.uaiA, 8, testNow)
	s.fleet.assets[s.uaiB] = generate(s.uaiB, 6, testNow)
	s.agentA = &auth.Principal{User: auth.User{ID: 2, Email: "agent@acigne.test"}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: s.acigne, Recursive: true}}}
	s.headA = &auth.Principal{User: auth.User{ID: 3, Email: "direction@tilleuls.test"}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: s.a}}}
	s.teacher = &auth.Principal{User: auth.User{ID: 4, Email: "prof@tilleuls.test"}, Grants: []auth.Grant{{Role: auth.RoleTeacher, OrgID: s.a}}}
	return s
}

func (s *small) org(kind, code, name string, parent int64) int64 {
	s.t.Helper()
	now := time.Now().UTC()
	var p any
	if parent != 0 {
		p = parent
	}
	var id int64
	if err := s.db.QueryRowContext(s.ctx, `INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		kind, code, name, p, now, now).Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.db.ExecContext(s.ctx, `INSERT INTO org_closure (ancestor_id, descendant_id, depth) VALUES (?, ?, 0)`, id, id); err != nil {
		s.t.Fatal(err)
	}
	if parent != 0 {
		if _, err := s.db.ExecContext(s.ctx, `INSERT INTO org_closure (ancestor_id, descendant_id, depth) VALUES (?, ?, 1)`, parent, id); err != nil {
			s.t.Fatal(err)
		}
	}
	return id
}

func (s *small) school(u, name, typ, prio string, commune int64, code, communeName string, lat, lon float64) int64 {
	s.t.Helper()
	id := s.org("establishment", u, name, commune)
	if _, err := s.db.ExecContext(s.ctx, `INSERT INTO establishments (org_id, uai, type, sector, priority, status, commune_code, commune_name, latitude, longitude, nature_label)
		VALUES (?, ?, ?, 'public', ?, 'open', ?, ?, ?, ?, ?)`, id, u, typ, prio, code, communeName, lat, lon, "ECOLE DE NIVEAU ELEMENTAIRE"); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.db.ExecContext(s.ctx, `INSERT INTO responsibilities (establishment_id, domain, authority_id) VALUES (?, 'maintenance', ?)`, id, commune); err != nil {
		s.t.Fatal(err)
	}
	return id
}

func (s *small) enrol(u string, pupils, classes int) {
	s.t.Helper()
	if _, err := s.db.ExecContext(s.ctx, `INSERT INTO enrolments (uai, school_year, source, pupils, classes) VALUES (?, '2025-2026', 'test', ?, ?)`, u, pupils, classes); err != nil {
		s.t.Fatal(err)
	}
}

// seed writes a target, a campaign, a plan with operations, budget lines
// and two scenarios, as the administrator.
func (s *small) seed() (Target, Campaign, Plan) {
	s.t.Helper()
	sys := auth.System()
	tg, err := s.svc.CreateTarget(s.ctx, sys, Target{Name: "Cible 2026", Status: TargetCurrent, Criteria: []Criterion{
		{Key: "postes", EstablishmentType: "ecole", Metric: MetricPupilsPerDevice, Threshold: 5},
		{Key: "tni", Metric: MetricBoardsPerClass, Threshold: 1},
		{Key: "age", Metric: MetricRecentDevices, Param: 5, Threshold: 0.8},
		{Key: "thd", Metric: MetricConnection, Threshold: 100, UnitPriceCents: 100000},
		{Key: "maturite", EstablishmentType: "ecole", Metric: MetricMaturity, Threshold: 2, UnitPriceCents: 50000},
	}})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.svc.CreateTarget(s.ctx, sys, Target{Name: "Cible suivante", Status: TargetNext, Criteria: []Criterion{
		{Key: "postes", EstablishmentType: "ecole", Metric: MetricPupilsPerDevice, Threshold: 3},
	}}); err != nil {
		s.t.Fatal(err)
	}
	qs, err := s.svc.Questionnaires(s.ctx, sys)
	if err != nil || len(qs) != 2 {
		s.t.Fatalf("builtins: %v %d", err, len(qs))
	}
	var maturity Questionnaire
	for _, q := range qs {
		if q.BuiltinKey == BuiltinMaturity {
			maturity = q
		}
	}
	camp, err := s.svc.CreateCampaign(s.ctx, sys, Campaign{QuestionnaireID: maturity.ID, Name: "Autoévaluation 2026", OpensOn: "2026-11-01", ClosesOn: "2026-12-15",
		Establishments: []string{s.uaiA, s.uaiB}})
	if err != nil {
		s.t.Fatal(err)
	}
	pl, err := s.svc.CreatePlan(s.ctx, sys, Plan{Name: "Écoles 2026-2028", Strategy: "phases"})
	if err != nil {
		s.t.Fatal(err)
	}
	if pl, err = s.svc.AddWave(s.ctx, sys, pl.ID, Wave{Name: "Expérimentation", Phase: "experimentation", StartsOn: "2026-01-05", EndsOn: "2026-06-30", Establishments: []string{s.uaiA}}); err != nil {
		s.t.Fatal(err)
	}
	works, err := s.svc.AddOperation(s.ctx, sys, pl.ID, Operation{WaveID: pl.Waves[0].ID, Kind: OpWorks, Title: "Câblage", StartsOn: "2026-01-05", EndsOn: "2026-02-27", Owner: "Services techniques", Establishments: []string{s.uaiA}})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.svc.AddOperation(s.ctx, sys, pl.ID, Operation{Kind: OpDeployment, Title: "Installation des postes", StartsOn: "2026-03-02", EndsOn: "2026-03-31", Owner: "Karim",
		DependsOn: []int64{works.ID}, Establishments: []string{s.uaiA}, AssetIDs: []int64{11, 12}}); err != nil {
		s.t.Fatal(err)
	}
	if pl, err = s.svc.Plan(s.ctx, sys, pl.ID); err != nil {
		s.t.Fatal(err)
	}
	for _, b := range []BudgetLine{
		{Year: 2026, Funder: FunderAuthority, Nature: "investment", Label: "Postes", PlannedCents: 1000000, CommittedCents: 800000, SpentCents: 500000},
		{Year: 2026, Funder: FunderState, Nature: "investment", Label: "Socle numérique", PlannedCents: 400000},
		{Year: 2027, Funder: FunderAuthority, Nature: "operating", Label: "Maintenance", PlannedCents: 200000},
	} {
		if _, err := s.svc.AddBudgetLine(s.ctx, sys, b); err != nil {
			s.t.Fatal(err)
		}
	}
	for _, sc := range []Scenario{
		{Name: "Renouveler à 5 ans, généraliser en 2 ans", TargetID: tg.ID, RenewYears: 5, GeneraliseYears: 2, Horizon: 5},
		{Name: "Renouveler à 6 ans, généraliser en 3 ans", TargetID: tg.ID, RenewYears: 6, GeneraliseYears: 3, Horizon: 5},
	} {
		if _, err := s.svc.CreateScenario(s.ctx, sys, sc); err != nil {
			s.t.Fatal(err)
		}
	}
	return tg, camp, pl
}
