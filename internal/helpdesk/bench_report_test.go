package helpdesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// The benchmarks run on a generated territory: 100 communes of 30
// establishments each (3,000), and 1,000,000 tickets over 5 years, written
// with multi-row INSERTs in one transaction. The database is kept between
// runs, keyed by the schema and the generator (an SQLite file in
// os.TempDir, a schema on PostgreSQL); SOCLE_BENCH_FRESH=1 rebuilds it.
//
//	go test -run '^$' -bench Helpdesk1M -benchtime 200x ./internal/helpdesk/
//	SOCLE_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench Helpdesk1M -benchtime 200x ./internal/helpdesk/
const (
	benchTickets        = 1_000_000
	benchCommunes       = 100
	benchPerCommune     = 30
	benchGenerator      = "v1"
	benchBatch          = 1000
	benchYears          = 5
	benchServices       = 5
	benchTypesPerSvc    = 4
	benchTeamsPerCommun = 2
)

// benchEnd is the instant the data set ends at (and the service's clock).
var benchEnd = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

type benchEnv struct {
	db        *db.DB
	svc       *Service
	authority int64 // one commune
	estUAI    string
	agent     *auth.Principal
}

// benchKey names the data set: the migrations it was built with and the
// generator's version, so a changed schema rebuilds it.
func benchKey(b *testing.B) string {
	h := sha256.New()
	for _, set := range []db.MigrationSet{auth.Migrations(), territory.Migrations(), catalog.Migrations(), Migrations()} {
		_ = fs.WalkDir(set.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := fs.ReadFile(set.FS, p)
			h.Write([]byte(p))
			h.Write(raw)
			return err
		})
	}
	fmt.Fprint(h, benchGenerator, benchTickets, benchCommunes, benchPerCommune)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func openBench(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	key := benchKey(b)
	fresh := os.Getenv("SOCLE_BENCH_FRESH") != ""
	var dsn string
	if base := os.Getenv(dbtest.EnvURL); base != "" {
		schema := "bench_helpdesk_" + key
		admin, err := db.Open(ctx, base, "")
		if err != nil {
			b.Fatal(err)
		}
		var done int
		_ = admin.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'bench_done'`, schema).Scan(&done)
		if fresh || done == 0 {
			if _, err := admin.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`); err != nil {
				b.Fatal(err)
			}
			if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
				b.Fatal(err)
			}
		}
		admin.Close()
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		path := filepath.Join(os.TempDir(), "socle-helpdesk-bench-"+key+".db")
		if fresh || !fileExists(path+".done") {
			for _, suffix := range []string{"", "-wal", "-shm", ".done"} {
				_ = os.Remove(path + suffix)
			}
		}
		dsn = "sqlite:" + path
	}
	d, err := db.Open(ctx, dsn, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, []db.MigrationSet{auth.Migrations(), territory.Migrations(), catalog.Migrations(), Migrations()}); err != nil {
		b.Fatal(err)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == 0 {
		start := time.Now()
		if err := generateBench(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d tickets, %d establishments in %v (%s)", benchTickets, benchCommunes*benchPerCommune, time.Since(start).Round(time.Millisecond), d.Dialect())
		if d.Dialect() == db.Postgres {
			if _, err := d.ExecContext(ctx, `CREATE TABLE bench_done (at TIMESTAMPTZ)`); err != nil {
				b.Fatal(err)
			}
		} else if err := os.WriteFile(strings.TrimPrefix(dsn, "sqlite:")+".done", nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(d, auth.DefaultSettings(), log)
	svc := NewService(d, authSvc, &fakeLevels{}, Options{FilesRoot: b.TempDir()}, log)
	svc.now = func() time.Time { return benchEnd }
	env := &benchEnv{db: d, svc: svc}
	if err := d.QueryRowContext(ctx, `SELECT id FROM organizations WHERE kind = 'commune' AND code = 'C042'`).Scan(&env.authority); err != nil {
		b.Fatal(err)
	}
	if err := d.QueryRowContext(ctx, `SELECT e.uai FROM establishments e JOIN org_edges g ON g.child_id = e.org_id
		WHERE g.parent_id = ? ORDER BY e.uai LIMIT 1`, env.authority).Scan(&env.estUAI); err != nil {
		b.Fatal(err)
	}
	env.agent = &auth.Principal{User: auth.User{ID: 1 << 40, Email: "agent@c042.test"},
		Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: env.authority, Recursive: true}}}
	// Fresh statistics, as a running server's autovacuum or optimize would
	// have them.
	_, _ = d.ExecContext(ctx, `ANALYZE`)
	return env
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// generateBench writes the territory and the tickets in one transaction.
func generateBench(ctx context.Context, d *db.DB) error {
	rng := rand.New(rand.NewPCG(1, 2))
	now := benchEnd
	return d.InTx(ctx, func(tx *db.Tx) error {
		insertID := func(q string, args ...any) (int64, error) {
			var id int64
			err := tx.QueryRowContext(ctx, q, args...).Scan(&id)
			return id, err
		}
		type est struct {
			id, authority int64
			commune       string
		}
		var ests []est
		var teams, services, types []int64
		var edges []any
		for c := range benchCommunes {
			code := fmt.Sprintf("C%03d", c)
			cid, err := insertID(`INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('commune', ?, ?, ?, ?) RETURNING id`,
				code, "Commune "+code, now, now)
			if err != nil {
				return err
			}
			for k := range benchTeamsPerCommun {
				t, err := insertID(`INSERT INTO teams (org_id, name, level, email) VALUES (?, ?, 'N1', '') RETURNING id`, cid, fmt.Sprintf("Équipe %s-%d", code, k))
				if err != nil {
					return err
				}
				teams = append(teams, t)
			}
			for e := range benchPerCommune {
				n := 10350000 + c*benchPerCommune + e
				uai := uaiOf(n)
				eid, err := insertID(`INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('establishment', ?, ?, ?, ?) RETURNING id`,
					uai, "École "+uai, now, now)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO establishments (org_id, uai, commune_code) VALUES (?, ?, ?)`, eid, uai, code); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO responsibilities (establishment_id, domain, authority_id) VALUES (?, 'maintenance', ?)`, eid, cid); err != nil {
					return err
				}
				edges = append(edges, cid, eid)
				ests = append(ests, est{eid, cid, code})
			}
		}
		for i := 0; i < len(edges); i += 1000 {
			part := edges[i:min(i+1000, len(edges))]
			vals := strings.TrimSuffix(strings.Repeat("(?, ?),", len(part)/2), ",")
			if _, err := tx.ExecContext(ctx, `INSERT INTO org_edges (parent_id, child_id) VALUES `+vals, part...); err != nil {
				return err
			}
		}
		if err := auth.RebuildClosure(ctx, tx); err != nil {
			return err
		}
		fam, err := insertID(`INSERT INTO service_families (owner_id, name) VALUES (?, 'Numérique') RETURNING id`, ests[0].authority)
		if err != nil {
			return err
		}
		for s := range benchServices {
			sid, err := insertID(`INSERT INTO services (family_id, owner_id, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				fam, ests[0].authority, fmt.Sprintf("S%d", s), fmt.Sprintf("Service %d", s), now, now)
			if err != nil {
				return err
			}
			services = append(services, sid)
			for k := range benchTypesPerSvc {
				tid, err := insertID(`INSERT INTO request_types (service_id, kind, name) VALUES (?, 'incident', ?) RETURNING id`, sid, fmt.Sprintf("Type %d.%d", s, k))
				if err != nil {
					return err
				}
				types = append(types, tid)
			}
		}

		const cols = 19
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
		span := float64(benchYears * 365 * 24 * time.Hour)
		start := now.Add(-time.Duration(span))
		args := make([]any, 0, benchBatch*cols)
		flush := func(n int) error {
			if n == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO tickets (reference, kind, title, establishment_id, authority_id, commune_code,
				service_id, request_type_id, priority, status, level, team_id, tto_met, ttr_met, resolve_open_seconds, solved_at, closed_at,
				created_at, updated_at) VALUES `+strings.TrimSuffix(strings.Repeat(row+",", n), ","), args...)
			args = args[:0]
			return err
		}
		// The indexes of tickets are dropped during the load and built
		// after it, sorted once, as a bulk load does.
		indexes, err := dropTicketIndexes(ctx, tx)
		if err != nil {
			return err
		}
		// Tickets are written in the order they were opened, as in life.
		createdAt := make([]time.Time, benchTickets)
		for i := range createdAt {
			createdAt[i] = start.Add(time.Duration(rng.Float64() * span)).Truncate(time.Second)
		}
		slices.SortFunc(createdAt, func(a, b time.Time) int { return a.Compare(b) })
		statuses := []Status{StatusNew, StatusAssigned, StatusPlanned, StatusPending}
		for i := range benchTickets {
			e := ests[rng.IntN(len(ests))]
			created := createdAt[i]
			si := rng.IntN(len(services))
			svc, typ := services[si], types[si*benchTypesPerSvc+rng.IntN(benchTypesPerSvc)]
			kind := KindIncident
			if rng.IntN(3) == 0 {
				kind = KindRequest
			}
			age := now.Sub(created)
			status := statuses[rng.IntN(len(statuses))]
			var solved, closed, ttrMet, openSecs any
			ttoMet := any(rng.IntN(10) != 0)
			// Old tickets are almost all done; the last weeks hold the
			// open work.
			if age > 30*24*time.Hour && rng.IntN(200) != 0 || age <= 30*24*time.Hour && rng.IntN(2) == 0 {
				wall := time.Duration(30+rng.IntN(10*24*60)) * time.Minute
				st := created.Add(wall)
				if st.After(now) {
					st = now
				}
				solved, openSecs, ttrMet = st, int64(wall.Seconds()/3), rng.IntN(100) < 85
				status = StatusSolved
				if st.Add(7 * 24 * time.Hour).Before(now) {
					status, closed = StatusClosed, st.Add(7*24*time.Hour)
				}
			}
			args = append(args, fmt.Sprintf("B-%07d", i), string(kind), "Ticket généré", e.id, e.authority, e.commune, svc, typ,
				1+rng.IntN(5), string(status), LevelN1, teams[rng.IntN(len(teams))], ttoMet, ttrMet, openSecs, solved, closed,
				created, created)
			if len(args) == benchBatch*cols {
				if err := flush(benchBatch); err != nil {
					return fmt.Errorf("insert tickets: %w", err)
				}
			}
		}
		if err := flush(len(args) / cols); err != nil {
			return fmt.Errorf("insert tickets: %w", err)
		}
		for _, ix := range indexes {
			if _, err := tx.ExecContext(ctx, ix); err != nil {
				return fmt.Errorf("rebuild index: %w", err)
			}
		}
		return nil
	})
}

// dropTicketIndexes drops the secondary indexes of tickets and returns the
// statements that recreate them.
func dropTicketIndexes(ctx context.Context, tx *db.Tx) ([]string, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL`
	if tx.Dialect() == db.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'tickets'
			AND indexname NOT LIKE '%pkey' AND indexname NOT LIKE '%reference_key'`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		names, defs = append(names, n), append(defs, d)
	}
	rows.Close()
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+n); err != nil {
			return nil, err
		}
	}
	return defs, rows.Err()
}

// measure runs op b.N times and reports p50 and p95 in milliseconds.
func measure(b *testing.B, op func() error) {
	b.Helper()
	var ds []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(ds)
	q := func(p float64) float64 {
		i := int(float64(len(ds))*p+0.999999) - 1
		return float64(ds[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}

// BenchmarkHelpdesk1M: (a) a filtered, sorted page of 50 tickets, the
// List of GET /api/v1/tickets, for an agent of one commune (30
// establishments, ~10,000 tickets); target p95 < 20 ms. (b) the monthly
// report of one commune over 12 months; target p95 < 200 ms.
func BenchmarkHelpdesk1M(b *testing.B) {
	env := openBench(b)
	ctx := context.Background()
	list := func(f Filter) func() error {
		return func() error {
			res, err := env.svc.List(ctx, env.agent, f)
			if err == nil && len(res.Items) == 0 {
				err = fmt.Errorf("empty page for %+v", f)
			}
			return err
		}
	}
	b.Run("list_status_new_created_desc", func(b *testing.B) { measure(b, list(Filter{Status: StatusNew, Limit: 50})) })
	b.Run("list_status_closed_created_desc", func(b *testing.B) { measure(b, list(Filter{Status: StatusClosed, Limit: 50})) })
	b.Run("list_all_created_desc", func(b *testing.B) { measure(b, list(Filter{Limit: 50})) })
	b.Run("list_establishment_created_desc", func(b *testing.B) { measure(b, list(Filter{UAI: env.estUAI, Limit: 50})) })
	b.Run("list_status_closed_page_20", func(b *testing.B) { measure(b, list(Filter{Status: StatusClosed, Limit: 50, Offset: 1000})) })
	report := func(q ReportQuery) func() error {
		return func() error {
			rep, err := env.svc.Report(ctx, env.agent, q)
			if err == nil && rep.Total.Opened == 0 {
				err = fmt.Errorf("empty report")
			}
			return err
		}
	}
	from := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	b.Run("report_month_commune_12m", func(b *testing.B) {
		measure(b, report(ReportQuery{Group: GroupMonth, From: from, To: benchEnd, OrgID: env.authority}))
	})
	b.Run("report_establishment_commune_12m", func(b *testing.B) {
		measure(b, report(ReportQuery{Group: GroupEstablishment, From: from, To: benchEnd, OrgID: env.authority}))
	})
	b.Run("report_month_scope_12m", func(b *testing.B) {
		measure(b, report(ReportQuery{Group: GroupMonth, From: from, To: benchEnd}))
	})
}
