package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// The search benchmark's territory: 1,000 establishments, 200,000 assets
// and 5,000,000 software installations (100,000 computers with 50 packages
// each). Generating it takes minutes, so it is kept between runs: a SQLite
// file under os.TempDir(), a schema on the PostgreSQL test server. Bump
// benchDataVersion when the generator or the fleet's schema changes.
const (
	benchDataVersion   = "v3"
	benchSchools       = 1000
	benchAssets        = 200_000
	benchPackages      = 300
	benchPackagesEvery = 6 // each computer runs one package in 6: 50
)

// openBenchDB returns the generated database, creating it on first use.
func openBenchDB(b *testing.B) *db.DB {
	b.Helper()
	ctx := context.Background()
	var dbURL string
	if base := os.Getenv(dbtest.EnvURL); base != "" {
		u, err := url.Parse(base)
		if err != nil {
			b.Fatal(err)
		}
		schema := "fleet_bench_" + benchDataVersion
		admin, err := db.Open(ctx, base, "")
		if err != nil {
			b.Fatal(err)
		}
		_, err = admin.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema)
		admin.Close()
		if err != nil {
			b.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dbURL = u.String()
	} else {
		dbURL = "sqlite:" + filepath.Join(os.TempDir(), "socle-fleet-bench-"+benchDataVersion+".db")
	}
	d, err := db.Open(ctx, dbURL, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, []db.MigrationSet{auth.Migrations(), territory.Migrations(), Migrations()}); err != nil {
		b.Fatal(err)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM assets`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == benchAssets {
		return d
	}
	if n != 0 {
		b.Fatalf("bench database %s holds %d assets: delete it", dbURL, n)
	}
	start := time.Now()
	if err := generateBenchData(ctx, d); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d assets and %d installations in %v (%s)", benchAssets,
		benchAssets/2*benchPackages/benchPackagesEvery, time.Since(start).Round(time.Second), d.Dialect())
	return d
}

// generateBenchData writes the territory with set-based statements: the
// rows are produced by the engine itself (a recursive counter), which is
// one to two orders of magnitude faster than binding them one by one.
func generateBenchData(ctx context.Context, d *db.DB) error {
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	counter := func(n int) string {
		return fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `, n-1)
	}
	return d.InTx(ctx, func(tx *db.Tx) error {
		steps := []struct {
			what string
			q    string
			args []any
		}{
			{"organizations", `INSERT INTO organizations (kind, code, name, created_at, updated_at) ` + counter(benchSchools) +
				`SELECT 'establishment', 'B' || CAST(1000000 + i AS TEXT), 'École ' || CAST(i AS TEXT), ?, ? FROM n`, []any{now, now}},
			{"establishments", `INSERT INTO establishments (org_id, uai, commune_code, commune_name)
				SELECT id, code, '35' || CAST(100 + id % 300 AS TEXT), 'Commune ' || CAST(id % 300 AS TEXT) FROM organizations WHERE kind = 'establishment'`, nil},
		}
		for _, s := range steps {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return fmt.Errorf("%s: %w", s.what, err)
			}
		}
		var lo, hi int64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(org_id), MAX(org_id) FROM establishments`).Scan(&lo, &hi); err != nil {
			return err
		}
		if hi-lo != benchSchools-1 {
			return fmt.Errorf("establishment ids not contiguous: %d..%d", lo, hi)
		}
		// Half of the assets are computers (the software below goes to
		// them), the rest the other types; names, serials and inventory
		// numbers are unique, models repeat.
		q := `INSERT INTO assets (establishment_id, type, name, manufacturer, model, serial, hardware_uuid, inventory_number,
			building, room, assigned_use, state, purchase_date, supplier, order_ref, price_cents, funding, warranty_start,
			warranty_months, warranty_supplier, os_name, os_version, source, created_at, updated_at, search_text) ` + counter(benchAssets) + `
			SELECT ? + i % ?,
				CASE i % 10 WHEN 0 THEN 'workstation' WHEN 1 THEN 'workstation' WHEN 2 THEN 'workstation' WHEN 3 THEN 'laptop'
					WHEN 4 THEN 'laptop' WHEN 5 THEN 'tablet' WHEN 6 THEN 'board' WHEN 7 THEN 'projector' WHEN 8 THEN 'printer'
					ELSE 'access-point' END,
				'EQ-' || CAST(100000 + i AS TEXT), CASE i % 3 WHEN 0 THEN 'Dell' WHEN 1 THEN 'HP' ELSE 'Lenovo' END,
				'Modèle ' || CAST(i % 97 AS TEXT), 'SN' || CAST(7000000 + i * 7 AS TEXT), '', 'INV-' || CAST(300000 + i AS TEXT),
				'Bâtiment ' || CAST(i % 3 AS TEXT), 'Salle ' || CAST(i % 40 AS TEXT), CASE i % 3 WHEN 0 THEN 'pupils' WHEN 1 THEN 'teachers' ELSE '' END,
				CASE i % 50 WHEN 0 THEN 'retired' WHEN 1 THEN 'in-repair' WHEN 2 THEN 'in-stock' ELSE 'in-service' END,
				CAST(2012 + i % 14 AS TEXT) || '-09-01', 'UGAP', 'BC-' || CAST(i % 5000 AS TEXT), 50000 + (i % 20) * 1000,
				'collectivite', CAST(2012 + i % 14 AS TEXT) || '-09-01', 36, 'UGAP',
				CASE WHEN i % 10 < 5 THEN 'Windows 11 Éducation' ELSE '' END, '', 'import', ?, ?,
				'eq ' || CAST(100000 + i AS TEXT) || ' sn' || CAST(7000000 + i * 7 AS TEXT) || ' inv ' || CAST(300000 + i AS TEXT) || ' ' ||
				CASE i % 3 WHEN 0 THEN 'dell' WHEN 1 THEN 'hp' ELSE 'lenovo' END || ' modele ' || CAST(i % 97 AS TEXT)
			FROM n`
		if _, err := tx.ExecContext(ctx, q, lo, benchSchools, now, now); err != nil {
			return fmt.Errorf("assets: %w", err)
		}
		// The name index is built after the load: one sort instead of five
		// million random inserts.
		if _, err := tx.ExecContext(ctx, `DROP INDEX asset_software_name`); err != nil {
			return err
		}
		q = `INSERT INTO asset_software (asset_id, name, version, publisher) ` + counter(benchPackages) + `
			SELECT a.id, 'Logiciel ' || CAST(n.i AS TEXT), CAST(1 + (a.id + n.i) % 4 AS TEXT) || '.' || CAST(n.i % 10 AS TEXT),
				'Éditeur ' || CAST(n.i % 40 AS TEXT)
			FROM assets a JOIN n ON (a.id + n.i) % ? = 0
			WHERE a.type IN ('workstation', 'laptop') ORDER BY a.id, 2, 3, 4`
		if _, err := tx.ExecContext(ctx, q, benchPackagesEvery); err != nil {
			return fmt.Errorf("software: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE assets SET software_count = (SELECT COUNT(*) FROM asset_software s WHERE s.asset_id = assets.id)
			WHERE type IN ('workstation', 'laptop')`); err != nil {
			return fmt.Errorf("software counts: %w", err)
		}
		_, err := tx.ExecContext(ctx, `CREATE INDEX asset_software_name ON asset_software(name, publisher)`)
		return err
	})
}

// BenchmarkAssetSearch is the asset search page and API against 200,000
// assets and 5,000,000 installations: per case, the p50 and p95 of the
// whole request (query, count, rendering).
func BenchmarkAssetSearch(b *testing.B) {
	d := openBenchDB(b)
	ctx := context.Background()
	// Statistics for the planners, and on PostgreSQL the visibility map
	// that index-only scans need (autovacuum's work on a live server,
	// after the bulk load's update of the software counts).
	maintenance := `ANALYZE`
	if d.Dialect() == db.Postgres {
		maintenance = `VACUUM ANALYZE assets, asset_software, establishments, organizations`
	}
	if _, err := d.ExecContext(ctx, maintenance); err != nil {
		b.Fatal(err)
	}
	var installs int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM asset_software`).Scan(&installs); err != nil {
		b.Fatal(err)
	}
	if installs != 5_000_000 {
		b.Fatalf("%d installations, want 5,000,000", installs)
	}
	f := &fx{t: b, ctx: ctx, db: d, svc: NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	var school int64
	if err := d.QueryRowContext(ctx, `SELECT org_id FROM establishments WHERE uai = 'B1000500'`).Scan(&school); err != nil {
		b.Fatal(err)
	}
	admin := &auth.Principal{User: auth.User{ID: 1, Email: "admin@bench"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
	head := &auth.Principal{User: auth.User{ID: 2, Email: "head@bench"}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: school}}}
	tAdmin, tHead := f.server(b, admin), f.server(b, head)
	for _, c := range []struct {
		name, path string
		head       bool
	}{
		{"school page", "/etablissements/B1000500/parc", true},
		{"school page text", "/etablissements/B1000500/parc?q=eq-1001", true},
		{"school page type", "/etablissements/B1000500/parc?type=laptop&state=in-service", true},
		{"territory api", "/api/v1/assets", false},
		{"territory api text", "/api/v1/assets?q=sn70012", false},
		{"territory api serial", "/api/v1/assets?q=SN7700007", false},
		{"territory api type", "/api/v1/assets?type=workstation&state=in-repair", false},
		{"territory api text type", "/api/v1/assets?q=mod%C3%A8le+4&type=printer", false},
		{"territory api deep page", "/api/v1/assets?type=laptop&offset=20000", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := tAdmin
			if c.head {
				h = tHead
			}
			// A server's steady state: the pages the case reads are in
			// the engine's cache, as they are after the first requests.
			for range 5 {
				do(b, h, "GET", c.path, "")
			}
			var times []time.Duration
			for b.Loop() {
				start := time.Now()
				rec := do(b, h, "GET", c.path, "")
				times = append(times, time.Since(start))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}
