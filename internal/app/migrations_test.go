package app

import (
	"context"
	"os"
	"testing"

	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

// Both engines must end up with the same tables and columns, and every
// component must have the same migration versions in both folders.
func TestMigrationsMatchAcrossEngines(t *testing.T) {
	for _, set := range Migrations() {
		lite, err := set.Load(db.SQLite)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := set.Load(db.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		if len(lite) != len(pg) {
			t.Fatalf("%s: %d SQLite migrations, %d PostgreSQL", set.Component, len(lite), len(pg))
		}
		for i := range lite {
			if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
				t.Errorf("%s: migration %d is %s on SQLite, %s on PostgreSQL", set.Component, i, lite[i].Name, pg[i].Name)
			}
		}
	}
	if os.Getenv(dbtest.EnvURL) == "" {
		t.Log("schema comparison needs PostgreSQL: it runs in the PostgreSQL pass of CI")
		return
	}
	ctx := context.Background()
	lite, err := db.Open(ctx, "sqlite:"+t.TempDir()+"/s.db", "")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := db.Open(ctx, dbtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, d := range []*db.DB{lite, pg} {
		if _, err := d.Migrate(ctx, Migrations()); err != nil {
			t.Fatalf("%s: %v", d.Dialect(), err)
		}
	}
	lc, err := lite.Columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pg.Columns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := func(cols []db.Column) map[db.Column]bool {
		m := map[db.Column]bool{}
		for _, c := range cols {
			m[c] = true
		}
		return m
	}
	ls, ps := set(lc), set(pc)
	for c := range ls {
		if !ps[c] {
			t.Errorf("column %s.%s exists on SQLite only", c.Table, c.Name)
		}
	}
	for c := range ps {
		if !ls[c] {
			t.Errorf("column %s.%s exists on PostgreSQL only", c.Table, c.Name)
		}
	}
	if len(ls) < 20 {
		t.Fatalf("only %d columns found: the schema query is wrong", len(ls))
	}
}

// Migrating twice applies nothing the second time.
func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.URL(t), "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, err := d.Migrate(ctx, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 {
		t.Fatal("first migration applied nothing")
	}
	again, err := d.Migrate(ctx, Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second migration applied %v", again)
	}
}
