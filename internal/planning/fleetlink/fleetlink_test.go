package fleetlink_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"socle/internal/demo"
	"socle/internal/fleet"
	"socle/internal/planning"
	"socle/internal/planning/fleetlink"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	"socle/internal/territory"
	assets "socle/web"
)

type env struct {
	ctx   context.Context
	db    *db.DB
	auth  *auth.Service
	terr  *territory.Service
	fleet *fleet.Service
	plan  *planning.Service
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	d := dbtest.Open(tb, auth.Migrations(), territory.Migrations(), fleet.Migrations(), planning.Migrations())
	log := slog.New(slog.DiscardHandler)
	a := auth.NewService(d, auth.DefaultSettings(), log)
	e := &env{ctx: context.Background(), db: d, auth: a, terr: territory.NewService(d, a, log), fleet: fleet.NewService(d, log)}
	link := fleetlink.New(e.fleet)
	e.plan = planning.NewService(d, e.terr, link, log, planning.Options{Updater: link})
	return e
}

// The demo seeds the plan on top of the demo fleet, through the real fleet
// behind the link: the gap has fleet figures, the campaign its history,
// the plan its operations, and completing a deployment puts the assets it
// names in service.
func TestDemoPlanningOnTheRealFleet(t *testing.T) {
	e := newEnv(t)
	if _, created, err := demo.Seed(e.ctx, e.db, e.auth, e.terr, slog.New(slog.DiscardHandler), demo.WithFleet(e.fleet), demo.WithPlanning(e.plan)); err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	sys := auth.System()
	tg, ok, err := e.plan.CurrentTarget(e.ctx, sys)
	if err != nil || !ok || len(tg.Criteria) != 13 {
		t.Fatalf("current target %+v %v", tg, err)
	}
	g, err := e.plan.Gap(e.ctx, sys, tg.ID)
	if err != nil {
		t.Fatal(err)
	}
	var withFleet, missing int
	for _, r := range g.Rows {
		for _, c := range r.Cells {
			if c.Criterion == "ecole-postes" && c.Current != nil {
				withFleet++
			}
		}
		missing += r.MissingData
	}
	if withFleet < 50 || missing == 0 || g.Territory.CostCents <= 0 {
		t.Errorf("gap: %d écoles with fleet figures, %d missing, cost %d", withFleet, missing, g.Territory.CostCents)
	}
	cs, err := e.plan.Campaigns(e.ctx, sys)
	if err != nil || len(cs) != 2 || cs[len(cs)-1].Answered == 0 {
		t.Fatalf("campaigns %+v %v", cs, err)
	}
	sc, err := e.plan.CompareScenarios(e.ctx, sys, nil)
	if err != nil || len(sc.Results) != 2 || sc.Results[0].TotalCost == sc.Results[1].TotalCost {
		t.Fatalf("scenarios %+v %v", sc, err)
	}
	pls, _ := e.plan.Plans(e.ctx, sys)
	if len(pls) != 1 {
		t.Fatalf("plans %+v", pls)
	}
	pl, err := e.plan.Plan(e.ctx, sys, pls[0].ID)
	if err != nil || len(pl.Waves) < 2 || len(pl.Operations) != 7 {
		t.Fatalf("plan %+v %v", pl, err)
	}

	// Every page renders on the demo data, for an agent of the commune and
	// for the school head.
	log := slog.New(slog.DiscardHandler)
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	planning.NewHandler(e.plan, rd).Routes(router)
	for _, email := range []string{"agent.commune@demo.socle.fr", "direction.ecole@demo.socle.fr", "admin@demo.socle.fr"} {
		u, _, err := e.auth.Store().UserByEmail(e.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.auth.Principal(e.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		paths := []string{"/plan-deploiement", "/plan-deploiement/ecart", "/plan-deploiement/priorites", "/plan-deploiement/carte",
			"/plan-deploiement/enquetes", "/plan-deploiement/programme", "/plan-deploiement/scenarios", fmt.Sprintf("/plan-deploiement/plans/%d", pl.ID),
			fmt.Sprintf("/plan-deploiement/enquetes/campagnes/%d", cs[len(cs)-1].ID)}
		for _, path := range paths {
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(web.WithPrincipal(e.ctx, p)))
			if rec.Code != 200 && rec.Code != 303 {
				t.Errorf("%s GET %s: %d %.500s", email, path, rec.Code, rec.Body)
			}
		}
	}

	// A deployment naming two ordered assets: done puts them in service.
	uai := pl.Waves[0].Establishments[0]
	var ids []int64
	for i := range 2 {
		a, err := e.fleet.Create(e.ctx, sys, fleet.Asset{UAI: uai, Type: fleet.TypeLaptop, Name: fmt.Sprintf("NEUF-%d", i), State: fleet.StateOrdered, PurchaseDate: "2026-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	op, err := e.plan.AddOperation(e.ctx, sys, pl.ID, planning.Operation{Kind: planning.OpDeployment, Title: "Portables neufs", StartsOn: "2030-01-02", EndsOn: "2030-01-10",
		Establishments: []string{uai}, AssetIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.plan.SetOperationStatus(e.ctx, sys, pl.ID, op.ID, planning.OpDone); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		a, err := e.fleet.Asset(e.ctx, sys, id)
		if err != nil || a.State != fleet.StateInUse {
			t.Errorf("asset %d after deployment: %v %v", id, a.State, err)
		}
	}
}

// The link's renewals, read from the fleet's grouped figures, are the
// fleet's own forecast with one lifetime for every type, on the demo fleet.
func TestRenewalsEqualForecast(t *testing.T) {
	e := newEnv(t)
	if _, created, err := demo.Seed(e.ctx, e.db, e.auth, e.terr, slog.New(slog.DiscardHandler), demo.WithFleet(e.fleet)); err != nil || !created {
		t.Fatalf("seed: %v %v", created, err)
	}
	link := fleetlink.New(e.fleet)
	sys := auth.System()
	// Undated, unpriced, retired and ordered devices at one school too.
	first, err := link.Renewals(e.ctx, sys, 5, 5)
	if err != nil || len(first.Rows) == 0 {
		t.Fatalf("renewals %+v %v", first, err)
	}
	for i, a := range []fleet.Asset{{Type: fleet.TypeLaptop, State: fleet.StateInUse}, {Type: fleet.TypeBoard, State: fleet.StateInStock, PurchaseDate: "2019-02-28"},
		{Type: fleet.TypeTablet, State: fleet.StateRetired, PurchaseDate: "2015-01-01", PriceCents: 30000}, {Type: fleet.TypeServer, State: fleet.StateOrdered}} {
		a.UAI, a.Name = first.Rows[0].UAI, fmt.Sprintf("EXTRA-%d", i)
		if _, err := e.fleet.Create(e.ctx, sys, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ life, years int }{{4, 5}, {6, 10}, {15, 15}, {1, 3}} {
		got, err := link.Renewals(e.ctx, sys, c.life, c.years)
		if err != nil {
			t.Fatal(err)
		}
		lt := map[fleet.Type]int{}
		for _, typ := range fleet.Types {
			lt[typ] = c.life
		}
		f, err := e.fleet.Forecast(e.ctx, sys, fleet.ForecastOptions{Years: c.years, Lifetimes: lt})
		if err != nil {
			t.Fatal(err)
		}
		want := planning.Renewals{Years: f.Years, TotalCostCents: f.TotalCostCents}
		for _, r := range f.Rows {
			want.Rows = append(want.Rows, planning.RenewalRow{UAI: r.UAI, Devices: r.Devices, CostCents: r.CostCents, Undated: r.Undated})
		}
		if len(want.Rows) < 50 || want.Rows[0].Undated == 0 {
			t.Fatalf("demo fleet too small: %d establishments", len(want.Rows))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("lifetime %d over %d years: link %+v\nforecast %+v", c.life, c.years, got, want)
		}
	}

	// Ratios and renewals asked side by side, as the plan does, share one
	// read and answer what they answer alone.
	alone, err := link.EquipmentRatios(e.ctx, sys)
	if err != nil || len(alone) < 50 {
		t.Fatalf("ratios %d %v", len(alone), err)
	}
	aloneRenewals, err := link.Renewals(e.ctx, sys, 6, 10)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var ratios []planning.EquipmentRatio
		var rerr error
		done := make(chan struct{})
		go func() {
			ratios, rerr = link.EquipmentRatios(e.ctx, sys)
			close(done)
		}()
		ren, err := link.Renewals(e.ctx, sys, 6, 10)
		<-done
		if err != nil || rerr != nil {
			t.Fatal(err, rerr)
		}
		if !reflect.DeepEqual(ratios, alone) || !reflect.DeepEqual(ren, aloneRenewals) {
			t.Errorf("side by side: ratios equal %v, renewals equal %v", reflect.DeepEqual(ratios, alone), reflect.DeepEqual(ren, aloneRenewals))
		}
	}
	fr, err := e.fleet.Ratios(e.ctx, sys, "")
	if err != nil || len(fr.Establishments) != len(alone) || fr.Establishments[0].Code != alone[0].UAI || fr.Establishments[0].Devices != alone[0].Devices {
		t.Errorf("fleet ratios %d establishments, link %d: %v", len(fr.Establishments), len(alone), err)
	}
}

// bench builds a territory of n establishments with m assets in all,
// straight in SQL (the fleet's own inserts would take minutes).
func bench(b *testing.B, schools, assets int) *env {
	e := newEnv(b)
	now := time.Now().UTC()
	err := e.db.InTx(e.ctx, func(tx *db.Tx) error {
		var commune int64
		for i := range schools {
			if i%10 == 0 {
				if err := tx.QueryRowContext(e.ctx, `INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('commune', ?, ?, ?, ?) RETURNING id`,
					fmt.Sprintf("C%04d", i/10), fmt.Sprintf("Commune %d", i/10), now, now).Scan(&commune); err != nil {
					return err
				}
			}
			n := 3500000 + i
			uai := fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n))
			var id int64
			if err := tx.QueryRowContext(e.ctx, `INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at) VALUES ('establishment', ?, ?, ?, ?, ?) RETURNING id`,
				uai, fmt.Sprintf("École %d", i), commune, now, now).Scan(&id); err != nil {
				return err
			}
			typ := []string{"ecole", "ecole", "ecole", "college", "lycee"}[i%5]
			prio := []string{"", "", "REP", "", "REP+"}[i%5]
			if _, err := tx.ExecContext(e.ctx, `INSERT INTO establishments (org_id, uai, type, sector, priority, status, commune_code, commune_name, latitude, longitude)
				VALUES (?, ?, ?, 'public', ?, 'open', ?, ?, ?, ?)`, id, uai, typ, prio, fmt.Sprintf("C%04d", i/10), fmt.Sprintf("Commune %d", i/10), 48+float64(i%50)/100, -1.5-float64(i/50)/100); err != nil {
				return err
			}
			if _, err := tx.ExecContext(e.ctx, `INSERT INTO responsibilities (establishment_id, domain, authority_id) VALUES (?, 'maintenance', ?)`, id, commune); err != nil {
				return err
			}
			if _, err := tx.ExecContext(e.ctx, `INSERT INTO enrolments (uai, school_year, source, pupils, classes) VALUES (?, '2025-2026', 'bench', ?, ?)`, uai, 100+i%400, 4+i%16); err != nil {
				return err
			}
			if i%3 == 0 {
				if _, err := tx.ExecContext(e.ctx, `INSERT INTO plan_declared (establishment_id, metric, value, source, updated_at) VALUES (?, 'connection_mbps', ?, 'bench', ?)`, id, float64(i%300), now); err != nil {
					return err
				}
			}
			per := assets / schools
			types := []string{"workstation", "workstation", "laptop", "tablet", "board", "projector", "printer", "access-point"}
			for j := range per {
				if _, err := tx.ExecContext(e.ctx, `INSERT INTO assets (establishment_id, type, name, assigned_use, state, purchase_date, price_cents, created_at, updated_at)
					VALUES (?, ?, ?, ?, 'in-service', ?, ?, ?, ?)`, id, types[j%len(types)], fmt.Sprintf("A%d-%d", i, j), []string{"pupils", "teachers"}[j%2],
					fmt.Sprintf("%d-09-01", 2016+(i+j)%10), 50000+int64(j%5)*10000, now, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// benchTarget has 40 criteria: eight measures × five kinds of school.
func benchTarget(b *testing.B, e *env) planning.Target {
	var crits []planning.Criterion
	metrics := []struct {
		m     planning.Metric
		param int
		th    float64
	}{{planning.MetricPupilsPerDevice, 0, 4}, {planning.MetricBoardsPerClass, 0, 1}, {planning.MetricRecentDevices, 5, 0.8}, {planning.MetricRecentDevices, 6, 0.9},
		{planning.MetricConnection, 0, 100}, {planning.MetricENT, 0, 1}, {planning.MetricMaturity, 0, 2}, {planning.MetricWifi, 0, 0.9}}
	for _, typ := range []string{"ecole", "college", "lycee"} {
		for _, m := range metrics {
			crits = append(crits, planning.Criterion{Key: fmt.Sprintf("%s-%s-%d", typ, strings.ReplaceAll(string(m.m), "_", "-"), m.param), EstablishmentType: typ, Metric: m.m, Param: m.param, Threshold: m.th})
		}
	}
	for i, prio := range []string{"REP", "REP+", "any", "none"} {
		crits = append(crits, planning.Criterion{Key: fmt.Sprintf("prio-%d", i), Priority: prio, Metric: planning.MetricPupilsPerDevice, Threshold: float64(2 + i)})
		crits = append(crits, planning.Criterion{Key: fmt.Sprintf("prio-tni-%d", i), Priority: prio, Metric: planning.MetricBoardsPerClass, Threshold: 1})
	}
	for len(crits) < 40 {
		crits = append(crits, planning.Criterion{Key: fmt.Sprintf("extra-%d", len(crits)), Metric: planning.MetricReferent, Threshold: 1})
	}
	t, err := e.plan.CreateTarget(e.ctx, auth.System(), planning.Target{Name: "Bench", Criteria: crits[:40]})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkGap: 3,000 establishments, 200,000 assets, 40 criteria, the
// full gap through the real fleet (goal: under 2 s).
func BenchmarkGap(b *testing.B) {
	e := bench(b, 3000, 200000)
	t := benchTarget(b, e)
	b.ResetTimer()
	for b.Loop() {
		g, err := e.plan.Gap(e.ctx, auth.System(), t.ID)
		if err != nil || len(g.Rows) != 3000 {
			b.Fatalf("%v %d", err, len(g.Rows))
		}
	}
}

// BenchmarkScenarioComparison: the same territory, two scenarios side by
// side (goal: under 5 s).
func BenchmarkScenarioComparison(b *testing.B) {
	e := bench(b, 3000, 200000)
	t := benchTarget(b, e)
	for _, sc := range []planning.Scenario{{Name: "5 ans / 2 ans", TargetID: t.ID, RenewYears: 5, GeneraliseYears: 2}, {Name: "6 ans / 3 ans", TargetID: t.ID, RenewYears: 6, GeneraliseYears: 3}} {
		if _, err := e.plan.CreateScenario(e.ctx, auth.System(), sc); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		c, err := e.plan.CompareScenarios(e.ctx, auth.System(), nil)
		if err != nil || len(c.Results) != 2 {
			b.Fatalf("%v", err)
		}
	}
}
