package fleet

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"socle/internal/platform/db"
)

// fileColumns lists "table.column" of the CREATE TABLEs of a migration.
func fileColumns(sqlText string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`).FindAllStringSubmatch(sqlText, -1) {
		for _, line := range strings.Split(m[2], "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "--") || strings.HasPrefix(line, "PRIMARY KEY") || strings.HasPrefix(line, "UNIQUE") {
				continue
			}
			out = append(out, m[1]+"."+strings.Fields(line)[0])
		}
	}
	slices.Sort(out)
	return out
}

// Both folders must create the same tables and columns, and the live
// schema of this run's engine must be exactly that.
func TestMigrationsMatchAcrossEngines(t *testing.T) {
	lite, err := Migrations().Load(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := Migrations().Load(db.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != 1 || len(pg) != 1 || lite[0].Name != pg[0].Name {
		t.Fatalf("migrations differ: %v / %v", lite, pg)
	}
	lc, pc := fileColumns(lite[0].SQL), fileColumns(pg[0].SQL)
	if len(lc) < 40 || !slices.Equal(lc, pc) {
		t.Fatalf("columns differ:\nsqlite   %v\npostgres %v", lc, pc)
	}
	f := newFx(t)
	cols, err := f.db.Columns(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, c := range lc {
		tables[strings.Split(c, ".")[0]] = true
	}
	var live []string
	for _, c := range cols {
		if tables[c.Table] {
			live = append(live, c.Table+"."+c.Name)
		}
	}
	slices.Sort(live)
	if !slices.Equal(live, lc) {
		t.Fatalf("live schema differs from the migration:\nlive %v\nfile %v", live, lc)
	}
}
