// Package dbtest gives tests a fresh, migrated database on the engine the run
// is for: SQLite in a temporary directory by default, or a private schema on
// the PostgreSQL server named by SOCLE_TEST_DATABASE_URL. CI runs the whole
// suite once each way.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"socle/internal/platform/db"
)

// EnvURL names the variable that points the suite at PostgreSQL.
const EnvURL = "SOCLE_TEST_DATABASE_URL"

// URL returns the database URL a test should use for a fresh database, and a
// cleanup: an empty URL (SQLite in dir) or a PostgreSQL URL whose search_path
// is a new schema dropped at cleanup.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("SOCLE_TEST_REQUIRE_POSTGRES") != "" {
			tb.Fatalf("%s is not set but this run must use PostgreSQL", EnvURL)
		}
		return "sqlite:" + tb.TempDir() + "/socle.db"
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base, "")
	if err != nil {
		tb.Fatalf("open PostgreSQL at %s: %v", EnvURL, err)
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "t_" + hex.EncodeToString(buf)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a fresh database with the given migrations applied, closed at
// the end of the test.
func Open(tb testing.TB, sets ...db.MigrationSet) *db.DB {
	tb.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, URL(tb), "")
	if err != nil {
		tb.Fatalf("open database: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx, sets); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return d
}
