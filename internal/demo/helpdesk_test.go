package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"socle/internal/catalog"
	"socle/internal/helpdesk"
	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

type fullFixture struct {
	fixture
	cat  *catalog.Service
	help *helpdesk.Service
}

func newFullFixture(tb testing.TB) fullFixture {
	d := dbtest.Open(tb, auth.Migrations(), territory.Migrations(), catalog.Migrations(), helpdesk.Migrations())
	log := slog.New(slog.DiscardHandler)
	a := auth.NewService(d, auth.DefaultSettings(), log)
	c := catalog.NewService(d, tb.TempDir(), log)
	h := helpdesk.NewService(d, a, helpdesk.CatalogLevels{Catalog: c}, helpdesk.Options{FilesRoot: tb.TempDir()}, log)
	return fullFixture{fixture: fixture{db: d, auth: a, terr: territory.NewService(d, a, log)}, cat: c, help: h}
}

// demoNow is the instant the tests' history ends at.
var demoNow = time.Date(2026, time.November, 23, 10, 0, 0, 0, time.UTC)

func withNow(t time.Time) Option { return func(w *seeder) { w.now = t } }

func TestSeedCatalogAndTickets(t *testing.T) {
	ctx := context.Background()
	f := newFullFixture(t)
	opts := []Option{WithCatalog(f.cat), WithHelpdesk(f.help), withNow(demoNow)}
	start := time.Now()
	_, created, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler), opts...)
	if err != nil || !created {
		t.Fatalf("Seed: created=%v, %v", created, err)
	}
	t.Logf("whole seed with catalogue and tickets on %s in %s", f.db.Dialect(), time.Since(start))

	for _, c := range []struct {
		what   string
		query  string
		lo, hi int
	}{
		{"services", `SELECT COUNT(*) FROM services`, 14, 14},
		{"services in study", `SELECT COUNT(*) FROM services WHERE status = 'study'`, 2, 2},
		{"retired services", `SELECT COUNT(*) FROM services WHERE status = 'retired'`, 2, 2},
		{"IMAC request types", `SELECT COUNT(*) FROM request_types WHERE imac IN ('install', 'move', 'add', 'change')`, 20, 40},
		{"calendars", `SELECT COUNT(*) FROM business_calendars`, 4, 4},
		{"calendars closed in school holidays", `SELECT COUNT(*) FROM business_calendars WHERE school_holiday_zone = 'Zone B'`, 2, 2},
		{"closures", `SELECT COUNT(*) FROM calendar_closures`, 4, 4},
		{"teams", `SELECT COUNT(*) FROM teams`, 5, 5},
		{"contractor teams", `SELECT COUNT(*) FROM teams WHERE contractor`, 2, 2},
		{"team members", `SELECT COUNT(*) FROM team_members`, 8, 8},
		{"framework agreements", `SELECT COUNT(*) FROM agreements WHERE kind = 'framework'`, 1, 1},
		{"service agreements", `SELECT COUNT(*) FROM agreements WHERE kind = 'service'`, 11, 16},
		{"expired agreements", `SELECT COUNT(*) FROM agreements WHERE status = 'expired'`, 1, 1},
		{"service levels", `SELECT COUNT(*) FROM service_levels`, 100, 1000},
		{"tickets", `SELECT COUNT(*) FROM tickets`, 2500, 4500},
		{"open tickets", `SELECT COUNT(*) FROM tickets WHERE status NOT IN ('solved', 'closed')`, 5, 300},
		{"pending tickets", `SELECT COUNT(*) FROM tickets WHERE status = 'pending'`, 1, 100},
		{"tickets at N3", `SELECT COUNT(*) FROM tickets WHERE level = 'N3'`, 50, 600},
		{"tickets at N2", `SELECT COUNT(*) FROM tickets WHERE level = 'N2'`, 300, 2000},
		{"requests", `SELECT COUNT(*) FROM tickets WHERE kind = 'request'`, 500, 2000},
		{"resolution breached", `SELECT COUNT(*) FROM tickets WHERE ttr_met = ?`, 50, 800},
		{"ownership breached", `SELECT COUNT(*) FROM tickets WHERE tto_met = ?`, 50, 800},
		{"tickets without convention", `SELECT COUNT(*) FROM tickets WHERE agreement_service_id IS NULL`, 1, 400},
		{"survey answers", `SELECT COUNT(*) FROM satisfaction_surveys WHERE score IS NOT NULL`, 200, 2000},
		{"notifications", `SELECT COUNT(*) FROM notifications`, 0, 0},
		{"tickets in the future", `SELECT COUNT(*) FROM ticket_events WHERE at > ?`, 0, 0},
	} {
		var args []any
		switch c.what {
		case "resolution breached", "ownership breached":
			args = []any{false}
		case "tickets in the future":
			args = []any{demoNow}
		}
		if n := f.count(t, c.query, args...); n < c.lo || n > c.hi {
			t.Errorf("%d %s, want %d–%d", n, c.what, c.lo, c.hi)
		}
	}
	for _, q := range []string{"tickets", "ticket_events", "satisfaction_surveys", "agreements", "services", "request_types", "teams"} {
		t.Logf("%s: %d", q, f.count(t, `SELECT COUNT(*) FROM `+q))
	}
	t.Logf("open now: %d, pending: %d, N2: %d, N3: %d, TTR breached: %d, TTO breached: %d, without convention: %d, answered surveys: %d",
		f.count(t, `SELECT COUNT(*) FROM tickets WHERE status NOT IN ('solved', 'closed')`), f.count(t, `SELECT COUNT(*) FROM tickets WHERE status = 'pending'`),
		f.count(t, `SELECT COUNT(*) FROM tickets WHERE level = 'N2'`), f.count(t, `SELECT COUNT(*) FROM tickets WHERE level = 'N3'`),
		f.count(t, `SELECT COUNT(*) FROM tickets WHERE ttr_met = ?`, false), f.count(t, `SELECT COUNT(*) FROM tickets WHERE tto_met = ?`, false),
		f.count(t, `SELECT COUNT(*) FROM tickets WHERE agreement_service_id IS NULL`), f.count(t, `SELECT COUNT(*) FROM satisfaction_surveys WHERE score IS NOT NULL`))
	// Seasonality: September busier than August.
	sept := f.count(t, `SELECT COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ?`,
		time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	aug := f.count(t, `SELECT COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ?`,
		time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if sept < 4*aug || aug == 0 {
		t.Errorf("%d tickets in September, %d in August", sept, aug)
	}

	checkCoverage(t, f)
	checkClocks(t, f)
	checkReport(t, f)
	checkNearExpiry(t, f)

	// Twice: nothing added.
	tables := []string{"services", "agreements", "teams", "team_members", "tickets", "ticket_events", "satisfaction_surveys", "users"}
	before := map[string]int{}
	for _, tbl := range tables {
		before[tbl] = f.count(t, `SELECT COUNT(*) FROM `+tbl)
	}
	if _, created, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler), opts...); err != nil || created {
		t.Fatalf("second Seed: created=%v, %v", created, err)
	}
	for _, tbl := range tables {
		if n := f.count(t, `SELECT COUNT(*) FROM `+tbl); n != before[tbl] {
			t.Errorf("second Seed changed %s: %d rows, then %d", tbl, before[tbl], n)
		}
	}
}

// checkCoverage: every ticket with a convention has the one the catalogue
// finds for its school and service at its creation; the others have no
// service or no convention for it.
func checkCoverage(t *testing.T, f fullFixture) {
	t.Helper()
	ctx := context.Background()
	rows, err := f.db.QueryContext(ctx, `SELECT reference, establishment_id, COALESCE(service_id, 0), COALESCE(agreement_service_id, 0), created_at
		FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ est, svc int64 }
	type tk struct {
		ref     string
		k       key
		as      int64
		created time.Time
	}
	var list []tk
	for rows.Next() {
		var x tk
		if err := rows.Scan(&x.ref, &x.k.est, &x.k.svc, &x.as, &x.created); err != nil {
			t.Fatal(err)
		}
		list = append(list, x)
	}
	rows.Close()
	cache := map[key]int64{}
	bad := 0
	for _, x := range list {
		want, ok := cache[x.k]
		if !ok && x.k.svc != 0 {
			cov, err := f.cat.Coverage(ctx, x.k.est, x.k.svc, x.created)
			if err != nil {
				t.Fatal(err)
			}
			if cov != nil {
				want = cov.AgreementServiceID
			}
			cache[x.k] = want
		}
		if want != x.as && bad < 5 {
			bad++
			t.Errorf("%s: agreement service %d, the catalogue says %d", x.ref, x.as, want)
		}
	}
	// No two conventions promise one service to one school at once.
	var ids []int64
	r2, err := f.db.QueryContext(ctx, `SELECT id FROM agreements`)
	if err != nil {
		t.Fatal(err)
	}
	for r2.Next() {
		var id int64
		_ = r2.Scan(&id)
		ids = append(ids, id)
	}
	r2.Close()
	for _, id := range ids {
		over, err := f.cat.Store().Overlaps(ctx, f.db, id)
		if err != nil || len(over) > 0 {
			t.Errorf("agreement %d overlaps %+v (%v)", id, over, err)
		}
	}
}

// checkClocks recomputes the clocks of a sample of tickets from their
// events, as the helpdesk's ticket page does, and compares the stored
// columns.
func checkClocks(t *testing.T, f fullFixture) {
	t.Helper()
	ctx := context.Background()
	adm, err := f.auth.Login(ctx, "admin@demo.socle.fr", Password, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.auth.Principal(ctx, adm.ID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.db.QueryContext(ctx, `SELECT reference, tto_due, ttr_due, tto_met, ttr_met, resolve_open_seconds, updated_at
		FROM tickets WHERE id % 37 = 0 OR status IN ('pending', 'assigned') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type stored struct {
		ref            string
		ttoDue, ttrDue sql.NullTime
		ttoMet, ttrMet sql.NullBool
		resolve        sql.NullInt64
		updated        time.Time
	}
	var sample []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.ref, &s.ttoDue, &s.ttrDue, &s.ttoMet, &s.ttrMet, &s.resolve, &s.updated); err != nil {
			t.Fatal(err)
		}
		sample = append(sample, s)
	}
	rows.Close()
	if len(sample) < 50 {
		t.Fatalf("sample of %d tickets", len(sample))
	}
	bad := 0
	for _, s := range sample {
		d, err := f.help.Get(ctx, p, s.ref)
		if err != nil {
			t.Fatal(err)
		}
		tl := helpdesk.Timeline{Created: d.CreatedAt}
		var targets *helpdesk.Targets
		for _, e := range d.Events {
			switch e.Type {
			case "status":
				if e.To != "new" {
					tl.Events = append(tl.Events, helpdesk.StatusEvent{At: e.At, Kind: helpdesk.EventKind(e.To)})
				}
			case "level":
				if e.Detail != "null" {
					targets = &helpdesk.Targets{}
					if err := json.Unmarshal([]byte(e.Detail), targets); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		tl.Targets = targets
		if targets == nil {
			if s.ttoDue.Valid || s.ttrDue.Valid || s.ttoMet.Valid || d.Clocks.Engagement {
				t.Errorf("%s: no convention but clocks stored", s.ref)
			}
			continue
		}
		var cal *catalog.Calendar
		cov, err := f.cat.Coverage(ctx, d.EstablishmentID, d.ServiceID, d.CreatedAt)
		if err != nil || cov == nil {
			t.Fatalf("%s: coverage %v %v", s.ref, cov, err)
		}
		cal = cov.Calendar
		sla, err := helpdesk.ComputeSLA(cal, tl, s.updated)
		if err != nil {
			t.Fatal(err)
		}
		ok := s.ttoDue.Valid && s.ttoDue.Time.Equal(sla.TTO.Due) && s.ttrDue.Valid && s.ttrDue.Time.Equal(sla.TTR.Due)
		if sla.TTO.StoppedAt.IsZero() {
			ok = ok && !s.ttoMet.Valid
		} else {
			ok = ok && s.ttoMet.Valid && s.ttoMet.Bool == (sla.TTO.State == helpdesk.ClockMet)
		}
		if sla.TTR.StoppedAt.IsZero() {
			ok = ok && !s.ttrMet.Valid && !s.resolve.Valid
		} else {
			ok = ok && s.ttrMet.Valid && s.ttrMet.Bool == (sla.TTR.State == helpdesk.ClockMet) &&
				s.resolve.Valid && s.resolve.Int64 == int64(sla.TTR.Consumed.Duration()/time.Second)
		}
		// The page computes the same clocks now.
		if !d.Clocks.Engagement || !d.Clocks.TTR.Due.Equal(sla.TTR.Due) && !sla.TTR.StoppedAt.IsZero() {
			ok = false
		}
		if !ok && bad < 5 {
			bad++
			t.Errorf("%s: stored tto %v/%v ttr %v/%v/%v, computed %+v / %+v", s.ref, s.ttoDue, s.ttoMet, s.ttrDue, s.ttrMet, s.resolve,
				sla.TTO.State, sla.TTR.State)
		}
	}
	t.Logf("clocks checked on %d tickets", len(sample))
}

// checkReport reads the métropole's monthly report of a past month.
func checkReport(t *testing.T, f fullFixture) {
	t.Helper()
	ctx := context.Background()
	u, err := f.auth.Login(ctx, "agent.metropole@demo.socle.fr", Password, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.auth.Principal(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var epci int64
	if err := f.db.QueryRowContext(ctx, `SELECT id FROM organizations WHERE kind = 'epci'`).Scan(&epci); err != nil {
		t.Fatal(err)
	}
	for _, m := range []time.Month{time.March, time.September} {
		r, err := f.help.MonthlyReport(ctx, p, epci, time.Date(2026, m, 15, 12, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if r.Opened == 0 || r.Solved == 0 || r.TTOCompliance == nil || r.TTRCompliance == nil ||
			*r.TTOCompliance <= 0 || *r.TTOCompliance >= 100 || *r.TTRCompliance <= 0 || *r.TTRCompliance >= 100 || r.SurveyAnswers == 0 {
			t.Errorf("report of %s: %+v", m, r)
		}
		t.Logf("métropole, %s 2026: %d opened, %d solved, TTO %.1f %%, TTR %.1f %%, %d answers", m, r.Opened, r.Solved,
			*r.TTOCompliance, *r.TTRCompliance, r.SurveyAnswers)
	}
}

// checkNearExpiry: the catalogue flags the ENT convention.
func checkNearExpiry(t *testing.T, f fullFixture) {
	t.Helper()
	n := f.count(t, `SELECT COUNT(*) FROM agreements WHERE status = 'signed' AND valid_until < ?`, "2027-02-21")
	if n != 1 {
		t.Errorf("%d signed conventions ending within 90 days of %s, want 1", n, demoNow.Format(time.DateOnly))
	}
}
