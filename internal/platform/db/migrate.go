package db

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MigrationSet is the schema of one component (a domain or a platform
// package): files NNN_name.sql under sqlite/ and postgres/, with the same
// version numbers in both folders.
type MigrationSet struct {
	Component string
	FS        fs.FS
}

// Migration is one versioned file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads the migrations of a set for an engine, sorted by version.
func (s MigrationSet) Load(dialect Dialect) ([]Migration, error) {
	dir := string(dialect)
	entries, err := fs.ReadDir(s.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", s.Component, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s/%s: name must be NNN_name.sql", s.Component, dir, e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d used by %s and %s", s.Component, v, other, e.Name())
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(s.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// MigrationResult says what Migrate applied.
type MigrationResult struct {
	Component string
	Version   int
	Name      string
}

// Migrate applies, in order, every migration not yet recorded. Each file runs
// in its own transaction with its bookkeeping row, so a failed migration
// leaves the schema at the previous version. On PostgreSQL an advisory lock
// keeps two processes starting at once from racing.
func (d *DB) Migrate(ctx context.Context, sets []MigrationSet) ([]MigrationResult, error) {
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT NOT NULL,
		version INTEGER NOT NULL,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL,
		PRIMARY KEY (component, version))`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []MigrationResult
	for _, set := range sets {
		migs, err := set.Load(d.dialect)
		if err != nil {
			return applied, err
		}
		for _, m := range migs {
			done := false
			err := d.InTx(ctx, func(tx *Tx) error {
				if d.dialect == Postgres {
					if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7283461)`); err != nil {
						return err
					}
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE component = ? AND version = ?`, set.Component, m.Version).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					done = true
					return nil
				}
				if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)`,
					set.Component, m.Version, m.Name, time.Now().UTC().Format(time.RFC3339))
				return err
			})
			if err != nil {
				return applied, fmt.Errorf("migration %s %s: %w", set.Component, m.Name, err)
			}
			if !done {
				applied = append(applied, MigrationResult{Component: set.Component, Version: m.Version, Name: m.Name})
			}
		}
	}
	return applied, nil
}

// Column describes one column of the live schema, for the test that both
// engines end up with the same tables and columns.
type Column struct{ Table, Name string }

// Columns lists the user tables' columns of the live schema.
func (d *DB) Columns(ctx context.Context) ([]Column, error) {
	var q string
	if d.dialect == Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2`
	} else {
		// Ordinary tables only: a virtual table (FTS5) and its shadow
		// tables are SQLite's own index, where PostgreSQL has an index.
		q = `SELECT t.name, p.name FROM pragma_table_list t, pragma_table_info(t.name) p
		     WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite_%' ORDER BY 1, 2`
	}
	rows, err := d.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Table, &c.Name); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
