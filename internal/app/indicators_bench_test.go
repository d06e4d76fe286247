package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"socle/internal/governance"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

// The governance benchmarks run on a generated territory: an académie of
// 100 communes × 30 establishments (3,000), 1,000,000 tickets over the
// last two years (a tenth with a satisfaction answer), 30,000 assets and
// a year of daily ENT audience (3,000 establishments × 208 school days ×
// 2 profiles). The SQLite file is kept in os.TempDir between runs
// (SOCLE_BENCH_FRESH=1 rebuilds it); on PostgreSQL a fresh schema is
// generated each run.
//
//	go test -run '^$' -bench Governance -benchtime 5x ./internal/app/
const (
	govBenchCommunes   = 100
	govBenchPerCommune = 30
	govBenchTickets    = 1_000_000
	govBenchVersion    = "gov-v2"
)

func openGovBench(b *testing.B) (*App, int64, int64) {
	b.Helper()
	ctx := context.Background()
	url := dbtest.URL(b)
	reuse := false
	if os.Getenv(dbtest.EnvURL) == "" {
		path := filepath.Join(os.TempDir(), "socle-governance-bench-"+govBenchVersion+".db")
		if os.Getenv("SOCLE_BENCH_FRESH") != "" {
			for _, s := range []string{"", "-wal", "-shm", ".done"} {
				_ = os.Remove(path + s)
			}
		}
		_, err := os.Stat(path + ".done")
		reuse = err == nil
		if !reuse {
			for _, s := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(path + s)
			}
		}
		url = "sqlite:" + path
	}
	a, err := Open(ctx, Config{DatabaseURL: url, DataDir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	if !reuse {
		start := time.Now()
		if err := generateGovBench(ctx, a); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated the governance bench territory in %v (%s)", time.Since(start).Round(time.Millisecond), a.DB.Dialect())
		if a.DB.Dialect() == db.SQLite {
			_ = os.WriteFile(strings.TrimPrefix(url, "sqlite:")+".done", nil, 0o644)
		}
	}
	_, _ = a.DB.ExecContext(ctx, `ANALYZE`)
	var academy, meeting int64
	if err := a.DB.QueryRowContext(ctx, `SELECT id FROM organizations WHERE kind = 'academy' AND code = 'BENCH'`).Scan(&academy); err != nil {
		b.Fatal(err)
	}
	if err := a.DB.QueryRowContext(ctx, `SELECT MAX(id) FROM gov_meetings`).Scan(&meeting); err != nil {
		b.Fatal(err)
	}
	return a, academy, meeting
}

// generateGovBench writes the territory, tickets, assets and audience with
// multi-row INSERTs, then the governance (bodies, roadmap with every
// computed indicator) through the service.
func generateGovBench(ctx context.Context, a *App) error {
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now().UTC()
	type est struct {
		id      int64
		uai     string
		commune string
		auth    int64
	}
	var ests []est
	var academy int64
	err := a.DB.InTx(ctx, func(tx *db.Tx) (rerr error) {
		insertID := func(q string, args ...any) (int64, error) {
			var id int64
			err := tx.QueryRowContext(ctx, q, args...).Scan(&id)
			return id, err
		}
		var err error
		if academy, err = insertID(`INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('academy', 'BENCH', 'Académie de banc d''essai', ?, ?) RETURNING id`, now, now); err != nil {
			return err
		}
		for c := range govBenchCommunes {
			code := fmt.Sprintf("B%04d", c)
			cid, err := insertID(`INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES ('commune', ?, ?, ?, ?) RETURNING id`, code, "Commune "+code, now, now)
			if err != nil {
				return err
			}
			for e := range govBenchPerCommune {
				uai := fmt.Sprintf("09%05dZ", c*govBenchPerCommune+e)
				eid, err := insertID(`INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at) VALUES ('establishment', ?, ?, ?, ?, ?) RETURNING id`,
					uai, "École "+uai, academy, now, now)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO establishments (org_id, uai, commune_code, commune_name) VALUES (?, ?, ?, ?)`, eid, uai, code, "Commune "+code); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO org_edges (parent_id, child_id) VALUES (?, ?), (?, ?)`, academy, eid, cid, eid); err != nil {
					return err
				}
				ests = append(ests, est{eid, uai, code, cid})
			}
		}
		if err := auth.RebuildClosure(ctx, tx); err != nil {
			return err
		}
		// A bulk load: the tickets' indexes are dropped and built again
		// at the end, sorted once instead of updated a million times.
		indexes, err := ticketIndexes(ctx, tx)
		if err != nil {
			return err
		}
		for _, ix := range indexes {
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+ix[0]); err != nil {
				return fmt.Errorf("drop index %s: %w", ix[0], err)
			}
		}
		defer func() {
			for _, ix := range indexes {
				if _, err := tx.ExecContext(ctx, ix[1]); err != nil && rerr == nil {
					rerr = fmt.Errorf("index %s: %w", ix[0], err)
				}
			}
		}()
		// Tickets, batch by batch.
		const batch = 500
		var sb strings.Builder
		var args []any
		flush := func(prefix string) error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, prefix+strings.TrimSuffix(sb.String(), ","), args...)
			sb.Reset()
			args = args[:0]
			return err
		}
		const tq = `INSERT INTO tickets (reference, kind, title, establishment_id, authority_id, commune_code, status, created_at, updated_at, solved_at, ttr_met, tto_met) VALUES `
		span := int64(2 * 365 * 24 * time.Hour)
		for i := range govBenchTickets {
			e := ests[rng.IntN(len(ests))]
			created := now.Add(-time.Duration(rng.Int64N(span)))
			solved := created.Add(time.Duration(1+rng.IntN(96)) * time.Hour)
			sb.WriteString("(?, 'incident', 'Panne', ?, ?, ?, 'closed', ?, ?, ?, ?, ?),")
			args = append(args, fmt.Sprintf("B-%07d", i), e.id, e.auth, e.commune, created, solved, solved, rng.IntN(10) < 8, rng.IntN(10) < 9)
			if (i+1)%batch == 0 {
				if err := flush(tq); err != nil {
					return fmt.Errorf("tickets: %w", err)
				}
			}
		}
		if err := flush(tq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO satisfaction_surveys (ticket_id, token_hash, sent_at, answered_at, score)
			SELECT id, 'h' || CAST(id AS TEXT), solved_at, solved_at, 1 + ((id / 10) % 5) FROM tickets WHERE id % 10 = 0`); err != nil {
			return fmt.Errorf("surveys: %w", err)
		}
		const aq = `INSERT INTO assets (establishment_id, type, name, assigned_use, state, purchase_date, created_at, updated_at) VALUES `
		for i, e := range ests {
			for k := range 10 {
				sb.WriteString("(?, 'laptop', ?, 'pupils', 'in-service', ?, ?, ?),")
				args = append(args, e.id, fmt.Sprintf("PC-%d-%d", i, k), fmt.Sprintf("%d-09-01", 2015+rng.IntN(11)), now, now)
			}
			if (i+1)%50 == 0 {
				if err := flush(aq); err != nil {
					return fmt.Errorf("assets: %w", err)
				}
			}
		}
		if err := flush(aq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO enrolments (uai, school_year, source, name, commune_name, sector, priority, pupils, classes, levels, content_hash)
			SELECT uai, '2025-2026', 'bench', uai, commune_name, 'public', '', 180, 8, '{}', uai FROM establishments`); err != nil {
			return fmt.Errorf("enrolments: %w", err)
		}
		// A year of audience up to today: the school days (four a week),
		// two profiles.
		const uq = `INSERT INTO gov_audience_daily (day, service, profile, uai, visits, visitors) VALUES `
		for day := now.AddDate(-1, 0, 0); day.Before(now); day = day.AddDate(0, 0, 1) {
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday || wd == time.Wednesday {
				continue
			}
			for i, e := range ests {
				if i%7 == 6 {
					continue
				}
				n := 5 + rng.IntN(60)
				sb.WriteString("(?, 'accueil', 'eleve', ?, ?, ?),(?, 'accueil', 'enseignant', ?, ?, ?),")
				ds := day.Format(time.DateOnly)
				args = append(args, ds, e.uai, 3*n, n, ds, e.uai, n/2+1, n/6+1)
				if (i+1)%250 == 0 {
					if err := flush(uq); err != nil {
						return fmt.Errorf("audience: %w", err)
					}
				}
			}
			if err := flush(uq); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return benchGovernance(ctx, a, academy, now)
}

// ticketIndexes lists the secondary indexes of the tickets table (name,
// definition) on either engine.
func ticketIndexes(ctx context.Context, tx *db.Tx) ([][2]string, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tickets' AND sql IS NOT NULL`
	if tx.Dialect() == db.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets' AND schemaname = current_schema()
			AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'`
	}
	rows, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("ticket indexes: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		out = append(out, [2]string{name, def})
	}
	return out, rows.Err()
}

func benchGovernance(ctx context.Context, a *App, academy int64, now time.Time) error {
	g, sys := a.Governance, auth.System()
	strat, err := g.CreateBody(ctx, sys, governance.Body{OrgID: academy, Kind: governance.BodyStrategic, Name: "Comité stratégique", MinPerYear: 2})
	if err != nil {
		return err
	}
	rm, err := g.CreateRoadmap(ctx, sys, governance.Roadmap{OrgID: academy, Title: "Feuille de route", FirstYear: now.Year(), LastYear: now.Year() + 1})
	if err != nil {
		return err
	}
	amb, err := g.AddItem(ctx, sys, rm.ID, governance.RoadmapItem{Title: "Ambition"})
	if err != nil {
		return err
	}
	tgt, err := g.AddItem(ctx, sys, rm.ID, governance.RoadmapItem{ParentID: amb.ID, Title: "Cible"})
	if err != nil {
		return err
	}
	obj, err := g.AddItem(ctx, sys, rm.ID, governance.RoadmapItem{ParentID: tgt.ID, Title: "Objectif", Year: now.Year()})
	if err != nil {
		return err
	}
	for _, si := range g.Sources() {
		target := 50.0
		freq := governance.Monthly
		if strings.HasPrefix(si.Key, "fleet.") {
			freq = governance.Yearly
		}
		if _, err := g.AddIndicator(ctx, sys, obj.ID, governance.Indicator{Name: si.Label, Unit: si.Unit, Source: si.Key, Target: &target, HigherBest: true, Frequency: freq}); err != nil {
			return err
		}
	}
	_, err = g.CreateMeeting(ctx, sys, governance.Meeting{BodyID: strat.ID, Title: "Comité stratégique", StartsAt: now.AddDate(0, 0, 14)})
	return err
}

// BenchmarkGovernanceIndicators measures every computed indicator of the
// 3,000-establishment territory (helpdesk over 1,000,000 tickets, fleet,
// a year of audience).
func BenchmarkGovernanceIndicators(b *testing.B) {
	a, academy, _ := openGovBench(b)
	ctx := context.Background()
	sys := auth.System()
	views, err := a.Governance.Indicators(ctx, sys, 0, academy)
	if err != nil || len(views) < 7 {
		b.Fatalf("%d indicators: %v", len(views), err)
	}
	for b.Loop() {
		if _, err := a.Governance.Refresh(ctx, sys, 0); err != nil {
			b.Fatal(err)
		}
	}
	views, _ = a.Governance.Indicators(ctx, sys, 0, academy)
	for _, v := range views {
		if v.Latest == nil || v.Latest.Value == nil {
			b.Fatalf("%s has no value: %+v", v.Name, v.Latest)
		}
	}
}

// BenchmarkGovernanceCommitteePDF assembles the committee file (indicators
// measured, quality by commune over a year of tickets) and writes its PDF.
func BenchmarkGovernanceCommitteePDF(b *testing.B) {
	a, _, meeting := openGovBench(b)
	ctx := context.Background()
	sys := auth.System()
	for b.Loop() {
		d, err := a.Governance.CommitteeFile(ctx, sys, meeting)
		if err != nil {
			b.Fatal(err)
		}
		if err := governance.WritePDF(io.Discard, d); err != nil {
			b.Fatal(err)
		}
		if len(d.Quality) != govBenchCommunes {
			b.Fatalf("%d communes in the file", len(d.Quality))
		}
	}
}
