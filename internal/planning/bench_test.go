package planning

import (
	"fmt"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/territory"
)

// benchFx is 3,000 establishments in 300 communes and a generated fleet of
// about 200,000 devices held in memory: the plan's own share of the work,
// without the fleet's SQL (internal/planning/fleetlink has the benchmark
// through the real fleet).
func benchFx(b *testing.B) (*fx, Target) {
	f := newFx(b)
	now := time.Now().UTC()
	err := f.db.InTx(f.ctx, func(tx *db.Tx) error {
		for i := range 3000 {
			n := 3500000 + i
			u := fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n))
			var id int64
			if err := tx.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('establishment', ?, ?, ?, ?) RETURNING id`,
				u, fmt.Sprintf("École %d", i), now, now).Scan(&id); err != nil {
				return err
			}
			typ := []string{"ecole", "ecole", "ecole", "college", "lycee"}[i%5]
			if _, err := tx.ExecContext(f.ctx, `INSERT INTO establishments (org_id, uai, type, priority, status, commune_code, commune_name, latitude, longitude) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
				id, u, typ, []string{"", "REP", "", "REP+", ""}[i%5], fmt.Sprintf("C%04d", i/10), fmt.Sprintf("Commune %d", i/10), 48+float64(i%50)/100, -1.5-float64(i/50)/100); err != nil {
				return err
			}
			if _, err := tx.ExecContext(f.ctx, `INSERT INTO enrolments (uai, school_year, source, pupils, classes) VALUES (?, '2025-2026', 'bench', ?, ?)`, u, 100+i%400, 4+i%16); err != nil {
				return err
			}
			classes := 4 + i%16
			a := generate(u, classes, testNow)
			for len(a) < 66 {
				a = append(a, a...)
			}
			f.fleet.assets[u] = a[:66]
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var crits []Criterion
	for i := range 40 {
		m := []Metric{MetricPupilsPerDevice, MetricBoardsPerClass, MetricRecentDevices, MetricConnection, MetricENT}[i%5]
		c := Criterion{Key: fmt.Sprintf("c%d", i), EstablishmentType: []string{"ecole", "college", "lycee", ""}[i%4], Metric: m, Threshold: 1}
		if m == MetricRecentDevices {
			c.Param, c.Threshold = 3+i%5, 0.8
		}
		if m == MetricPupilsPerDevice {
			c.Threshold = float64(2 + i%4)
		}
		crits = append(crits, c)
	}
	t, err := f.svc.CreateTarget(f.ctx, auth.System(), Target{Name: "Bench", Criteria: crits})
	if err != nil {
		b.Fatal(err)
	}
	return f, t
}

func BenchmarkGapCompute(b *testing.B) {
	f, t := benchFx(b)
	b.ResetTimer()
	for b.Loop() {
		g, err := f.svc.Gap(f.ctx, auth.System(), t.ID)
		if err != nil || len(g.Rows) != 3000 {
			b.Fatalf("%v %d", err, len(g.Rows))
		}
	}
}

func BenchmarkScenarioCompute(b *testing.B) {
	f, t := benchFx(b)
	for _, sc := range []Scenario{{Name: "5/2", TargetID: t.ID, RenewYears: 5, GeneraliseYears: 2}, {Name: "6/3", TargetID: t.ID, RenewYears: 6, GeneraliseYears: 3}} {
		if _, err := f.svc.CreateScenario(f.ctx, auth.System(), sc); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.svc.CompareScenarios(f.ctx, auth.System(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
