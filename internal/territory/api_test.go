package territory

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/problem"
)

// The query string of the search: what it accepts, the defaults it
// applies, and the stable code and parameter it names when it refuses.
func TestFilterFromQuery(t *testing.T) {
	ok := []struct {
		query string
		want  Filter
	}{
		{"", Filter{Limit: DefaultPageSize}},
		{"q=+Jean+Moulin+&type=college&commune=35238&responsible=7&rep=REP%2B&sector=prive&limit=200&offset=400",
			Filter{Query: "Jean Moulin", Type: TypeCollege, CommuneCode: "35238", Responsible: 7, Priority: "REP+", Sector: SectorPrivate, Limit: 200, Offset: 400}},
		{"type=inconnu", Filter{Type: TypeUnknown, TypeSet: true, Limit: DefaultPageSize}},
		{"rep=any&limit=1", Filter{Priority: "any", Limit: 1}},
		{"rep=none&offset=0", Filter{Priority: "none", Limit: DefaultPageSize}},
		{"q=" + strings.Repeat("é", maxQueryLen), Filter{Query: strings.Repeat("é", maxQueryLen), Limit: DefaultPageSize}},
	}
	for _, c := range ok {
		q, _ := url.ParseQuery(c.query)
		got, err := filterFromQuery(q)
		if err != nil || got != c.want {
			t.Errorf("%.60s: %+v, %v; want %+v", c.query, got, err, c.want)
		}
	}
	bad := []struct{ query, code, field string }{
		{"type=Ecole", "invalid_filter", "type"},
		{"type=", "", ""}, // empty is no filter
		{"sector=privé", "invalid_filter", "sector"},
		{"rep=REP%20", "invalid_filter", "rep"},
		{"q=" + strings.Repeat("é", maxQueryLen+1), "invalid_filter", "q"},
		{"limit=0", "invalid_parameter", "limit"},
		{"limit=201", "invalid_parameter", "limit"},
		{"limit=1e2", "invalid_parameter", "limit"},
		{"offset=-1", "invalid_parameter", "offset"},
		{"offset=99999999999", "invalid_parameter", "offset"},
		{"responsible=0", "invalid_parameter", "responsible"},
		{"responsible=x", "invalid_parameter", "responsible"},
	}
	for _, c := range bad {
		q, _ := url.ParseQuery(c.query)
		_, err := filterFromQuery(q)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v, want no error", c.query, err)
			}
			continue
		}
		p, isProblem := problem.As(err)
		if !isProblem || p.Status != 400 || p.Code != c.code || p.Fields[c.field] == "" || p.Message == "" {
			t.Errorf("%.40s: %v, want 400 %s on %s", c.query, err, c.code, c.field)
		}
	}
}

// searchFixture writes establishments named as given, each in its own
// commune of the same name, and returns their ids by name (a name given
// twice yields two establishments).
func searchFixture(t *testing.T, d *db.DB, names ...string) map[string][]int64 {
	t.Helper()
	ctx := context.Background()
	st := NewStore(d)
	ids := map[string][]int64{}
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for i, name := range names {
			n := 3500001 + i
			e := Establishment{UAI: fmt.Sprintf("%07d%c", n, UAICheckLetter(n)), Name: name, Type: TypeEcole, Sector: SectorPublic,
				Status: StatusOpen, CommuneName: "Plouvien", CommuneCode: "29195", PostalCode: "29860"}
			id, _, err := st.UpsertEstablishment(ctx, tx, &e, 0)
			if err != nil {
				return err
			}
			ids[name] = append(ids[name], id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func searchNames(t *testing.T, st *Store, query string) []string {
	t.Helper()
	res, err := st.Search(context.Background(), Filter{Query: query, Limit: 50}, "1=1", nil)
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	var out []string
	for _, e := range res.Items {
		out = append(out, e.Name)
	}
	if res.Total != len(out) {
		t.Errorf("search %q: total %d for %d items", query, res.Total, len(out))
	}
	return out
}

// The text search finds words anywhere in the name, UAI and commune,
// whatever their accents, case and length (SQLite answers words of three
// letters or more from its trigram index, shorter ones with LIKE), and it
// follows every write: new names, renames and deletions.
func TestSearchTextFollowsWrites(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	st := NewStore(d)
	ids := searchFixture(t, d, "Collège Jean Moulin", "École des Moulins", "Lycée Marie Curie", "École du Bourg")

	cases := []struct {
		query string
		want  []string
	}{
		{"moulin", []string{"Collège Jean Moulin", "École des Moulins"}},
		{"MOULINS", []string{"École des Moulins"}},
		{"oul", []string{"Collège Jean Moulin", "École des Moulins"}}, // inside a word
		{"ecole", []string{"École des Moulins", "École du Bourg"}},
		{"jean moul", []string{"Collège Jean Moulin"}}, // every word must match
		{"du", []string{"École du Bourg"}},             // two letters
		{"e de", []string{"École des Moulins"}},        // short words only
		{"curie de", nil},
		{"plouvien", []string{"Collège Jean Moulin", "École des Moulins", "Lycée Marie Curie", "École du Bourg"}},
		{"3500003", []string{"Lycée Marie Curie"}}, // the UAI
		{"'\" % _ *", nil},                         // nothing to search for: no filter, no SQL error
	}
	for _, c := range cases {
		got := searchNames(t, st, c.query)
		want := c.want
		if strings.Trim(c.query, "'\" %_*") == "" {
			want = []string{"Collège Jean Moulin", "École des Moulins", "Lycée Marie Curie", "École du Bourg"}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", c.query, got, want)
		}
	}

	// A rename through the import path, and a deletion.
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		e := Establishment{UAI: fmt.Sprintf("%07d%c", 3500003, UAICheckLetter(3500003)), Name: "Lycée Simone Veil", Type: TypeLycee,
			Sector: SectorPublic, Status: StatusOpen, CommuneName: "Plouvien", CommuneCode: "29195", PostalCode: "29860"}
		if _, _, err := st.UpsertEstablishment(ctx, tx, &e, 0); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM organizations WHERE id = ?`, ids["École du Bourg"][0])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string][]string{"curie": nil, "simone veil": {"Lycée Simone Veil"}, "bourg": nil, "du": nil} {
		if got := searchNames(t, st, query); !slices.Equal(got, want) {
			t.Errorf("after the writes, search %q: %v, want %v", query, got, want)
		}
	}
}

// Both shapes of a page give the same rows in the same order, by name then
// id, at every offset; the choice between them is a matter of speed only.
func TestSearchPageShapesAgree(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	st := NewStore(d)
	names := []string{"Ecole Bleue", "Ecole Abeille", "College Zola", "Ecole Bleue", "Lycee Hugo", "Ecole Abeille", "Ecole Bleue", "College Ferry"}
	ids := searchFixture(t, d, names...)

	type row struct {
		name string
		id   int64
	}
	var want []row
	for name, list := range ids {
		for _, id := range list {
			want = append(want, row{name, id})
		}
	}
	sort.Slice(want, func(i, j int) bool {
		if want[i].name != want[j].name {
			return want[i].name < want[j].name
		}
		return want[i].id < want[j].id
	})
	for _, walk := range []bool{false, true} {
		for _, page := range []struct{ limit, offset int }{{50, 0}, {3, 0}, {3, 3}, {3, 6}, {3, 8}} {
			items, err := st.searchPage(ctx, "1=1", nil, walk, page.limit, page.offset)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, e := range items {
				got = append(got, row{e.Name, e.ID})
			}
			w := want[min(page.offset, len(want)):min(page.offset+page.limit, len(want))]
			if !slices.Equal(got, w) {
				t.Errorf("walkNames=%v limit %d offset %d: %v, want %v", walk, page.limit, page.offset, got, w)
			}
		}
	}
}
