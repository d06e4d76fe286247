package space

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"socle/internal/platform/db"
)

// columnsOf reads the tables and columns a migration creates.
func columnsOf(sqlText string) []string {
	table := regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	var out []string
	for _, m := range table.FindAllStringSubmatch(sqlText, -1) {
		for _, line := range strings.Split(m[2], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "--") || strings.HasPrefix(line, "UNIQUE") || strings.HasPrefix(line, "PRIMARY KEY") {
				continue
			}
			out = append(out, m[1]+"."+strings.Fields(line)[0])
		}
	}
	slices.Sort(out)
	return out
}

func TestMigrationsMatchAcrossEngines(t *testing.T) {
	lite, err := Migrations().Load(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Migrations().Load(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) || len(lite) == 0 {
		t.Fatalf("%d SQLite migrations, %d PostgreSQL", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: %s on SQLite, %s on PostgreSQL", i, lite[i].Name, pg[i].Name)
		}
		lc, pc := columnsOf(lite[i].SQL), columnsOf(pg[i].SQL)
		if len(lc) < 25 {
			t.Fatalf("%s: only %d columns parsed, the parser is broken", lite[i].Name, len(lc))
		}
		if !slices.Equal(lc, pc) {
			t.Errorf("%s: columns differ\nSQLite:     %v\nPostgreSQL: %v", lite[i].Name, lc, pc)
		}
	}
}
