package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

// benchSize is the size of the territory the search is measured on: about
// the whole country's directory (70,000 establishments, 3,000 communes).
const (
	benchEstablishments = 70_000
	benchCommunes       = 3_000
	benchDepartements   = 100
	benchAcademies      = 30
	benchRegions        = 13
)

// BenchmarkSearch measures the establishment search through the JSON API,
// as a client sees it (HTTP, bearer token, JSON), on 70,000
// establishments; it reports the median and the 95th percentile of the
// requests' durations. It runs on SQLite, and on PostgreSQL too when
// SOCLE_TEST_DATABASE_URL is set:
//
//	go test -run XXX -bench Search -benchtime 200x ./internal/app
func BenchmarkSearch(b *testing.B) {
	engines := []struct{ name, url string }{{"sqlite", "sqlite:" + b.TempDir() + "/bench.db"}}
	if os.Getenv(dbtest.EnvURL) != "" {
		engines = append(engines, struct{ name, url string }{"postgres", dbtest.URL(b)})
	}
	for _, eng := range engines {
		b.Run(eng.name, func(b *testing.B) { benchSearchOn(b, eng.url) })
	}
}

func benchSearchOn(b *testing.B, databaseURL string) {
	ctx := context.Background()
	a, err := Open(ctx, Config{DatabaseURL: databaseURL, DataDir: b.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	start := time.Now()
	terr, err := generateTerritory(ctx, a.DB, a.Territory.Store())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d establishments generated in %v", a.DB.Dialect(), benchEstablishments, time.Since(start).Round(time.Millisecond))

	h, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := &testServer{app: a, srv: srv, doc: loadAPIDoc(b)}
	for _, u := range []struct {
		email string
		g     auth.Grant
	}{
		{"admin@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin}},
		{"dane@exemple.test", auth.Grant{Role: auth.RoleAcademyObserver, OrgID: terr.academy, Recursive: true}},
	} {
		s.createUser(b, u.email, u.g)
	}
	tokens := map[string]string{
		"admin":    s.login(b, "admin@exemple.test", testPassword),
		"observer": s.login(b, "dane@exemple.test", testPassword),
	}

	queries := []struct {
		name string
		q    url.Values
	}{
		{"text", url.Values{"q": {"moulin"}}},
		{"type+commune", url.Values{"type": {"ecole"}, "commune": {terr.bigCommune}}},
		{"responsible", url.Values{"responsible": {strconv.FormatInt(terr.departement, 10)}}},
		{"rep", url.Values{"rep": {"REP"}}},
		{"all", url.Values{}},
	}
	for _, who := range []string{"admin", "observer"} {
		for _, qc := range queries {
			b.Run(who+"/"+qc.name, func(b *testing.B) {
				benchQuery(b, srv, tokens[who], "/api/v1/establishments?"+qc.q.Encode())
			})
		}
	}
}

// benchQuery runs one search b.N times and reports the percentiles of its
// durations, in milliseconds.
func benchQuery(b *testing.B, srv *httptest.Server, token, path string) {
	client := srv.Client()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	durations := make([]time.Duration, 0, b.N)
	var total int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		durations = append(durations, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %v %s", path, resp.StatusCode, err, body)
		}
		if i == 0 {
			var res apiSearchResult
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
			// A search that finds nothing would measure nothing.
			if res.Total == 0 || len(res.Items) != min(res.Total, territory.DefaultPageSize) {
				b.Fatalf("%s: %d results, %d on the page: the generated data does not exercise this search", path, res.Total, len(res.Items))
			}
			total = res.Total
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(total), "matches")
}

// benchTerritory names a few organizations of the generated territory.
type benchTerritory struct {
	academy, departement int64
	bigCommune           string
}

// Names are drawn so that a name fragment is about as selective as in the
// real directory, where the most common patron (Jules Ferry) names about
// one school in a hundred: a quarter of the names come from famous
// patrons, the rest from a thousand first name and surname pairs and from
// places.
var (
	benchFamous = []string{"Jules Ferry", "Jean Jaurès", "Victor Hugo", "Jean Moulin", "Louis Pasteur", "Marie Curie", "Jacques Prévert",
		"Paul Éluard", "Jean de La Fontaine", "Anatole France", "Albert Camus", "Charles de Gaulle", "Georges Brassens", "Simone Veil",
		"Pierre et Marie Curie", "Jean Macé", "Paul Bert", "Condorcet", "Voltaire", "Jean Rostand", "Antoine de Saint-Exupéry",
		"Louise Michel", "Émile Zola", "Camille Claudel", "Olympe de Gouges", "Françoise Dolto", "Robert Desnos", "Marcel Pagnol",
		"Pablo Picasso", "Jean Monnet", "Aristide Briand", "Gustave Eiffel", "Jules Verne", "George Sand", "Molière", "Rosa Parks",
		"Nelson Mandela", "Jean Zay", "Lucie Aubrac", "Germaine Tillion"}
	benchFirstNames = []string{"Anne", "Louis", "Marie", "Pierre", "Jeanne", "Paul", "Claire", "Henri", "Lucie", "Michel", "Hélène",
		"André", "Suzanne", "René", "Madeleine", "Marcel", "Yvonne", "Édouard", "Simone", "Gabriel", "Irène", "Léon", "Odette",
		"Félix", "Colette"}
	benchSurnames = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Simon",
		"Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André",
		"Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
		"Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin"}
	benchPlaces = []string{"du Centre", "des Tilleuls", "de la Gare", "du Bourg", "du Château", "des Prés", "des Marronniers",
		"du Parc", "des Vignes", "de la Plage", "du Val", "des Écureuils", "de la Source", "des Lilas", "du Stade", "des Chênes"}
	benchPrivatePatrons = []string{"Saint-Joseph", "Sainte-Marie", "Notre-Dame", "Saint-Michel", "Jeanne d'Arc", "La Salle", "Sainte-Thérèse"}
	benchCommuneRoots   = []string{"Mont", "Val", "Beau", "Saint-Martin", "Sainte-Marie", "Ville", "Bois", "Pont", "Fontaine", "Roche",
		"Champ", "Mesnil", "Neuville", "Clair", "Bel", "Saint-Jean", "Saint-Pierre", "Lande", "Plessis", "Château", "Ker", "Plou",
		"Vaux", "Grand", "Chapelle", "Ferté", "Villers", "Bourg", "Vic", "Loc", "Mar", "Cour", "Sauve", "Roque", "Aube", "Lor",
		"Bri", "Char", "Crois", "Pré"}
	benchCommuneEnds = []string{"", "-sur-Loire", "-en-Bray", "-le-Grand", "-la-Forêt", "-les-Bains", "-sur-Mer", "ville", "court",
		"mont", "ac", "y", "ières", "-d'Azur"}
)

// benchPatron draws the patron of a public establishment.
func benchPatron(rng *rand.Rand) string {
	switch x := rng.Float64(); {
	case x < 0.25:
		return benchFamous[rng.IntN(len(benchFamous))]
	case x < 0.70:
		return benchFirstNames[rng.IntN(len(benchFirstNames))] + " " + benchSurnames[rng.IntN(len(benchSurnames))]
	default:
		return benchPlaces[rng.IntN(len(benchPlaces))]
	}
}

// generateTerritory writes a country-sized territory with plain SQL in one
// transaction (row-by-row imports would take minutes): académies with a
// DSDEN per département, régions, départements, communes, and the
// establishments with their maintenance and pedagogy responsibilities, in
// realistic proportions, then the scope tree.
func generateTerritory(ctx context.Context, d *db.DB, st *territory.Store) (benchTerritory, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	var bt benchTerritory
	var orgs, ests, resps [][]any
	nextID := int64(0)
	org := func(kind territory.Kind, code, name string, parent int64, search string) int64 {
		nextID++
		var p any
		if parent != 0 {
			p = parent
		}
		orgs = append(orgs, []any{nextID, string(kind), code, name, p, search, now, now})
		return nextID
	}
	academies := make([]int64, benchAcademies)
	for i := range academies {
		code := fmt.Sprintf("A%02d", i+1)
		academies[i] = org(territory.KindAcademy, code, "Académie "+code, 0, territory.SearchKey("Académie "+code))
	}
	regions := make([]int64, benchRegions)
	for i := range regions {
		name := fmt.Sprintf("Région %d", i+1)
		regions[i] = org(territory.KindRegion, fmt.Sprintf("R%02d", i+1), name, 0, territory.SearchKey(name))
	}
	depts, dsdens := make([]int64, benchDepartements), make([]int64, benchDepartements)
	for i := range depts {
		code := fmt.Sprintf("%02d", i+1)
		depts[i] = org(territory.KindDepartement, code, "Département "+code, 0, territory.SearchKey("Département "+code))
		dsdens[i] = org(territory.KindDSDEN, code, "DSDEN "+code, academies[i%benchAcademies], territory.SearchKey("DSDEN "+code))
	}
	type commune struct {
		id         int64
		code, name string
		dept       int
	}
	communes := make([]commune, benchCommunes)
	for i := range communes {
		dept := i % benchDepartements
		c := commune{code: fmt.Sprintf("%02d%03d", dept+1, i/benchDepartements+1), dept: dept,
			name: benchCommuneRoots[rng.IntN(len(benchCommuneRoots))] + benchCommuneEnds[rng.IntN(len(benchCommuneEnds))]}
		c.id = org(territory.KindCommune, c.code, c.name, 0, territory.SearchKey(c.name, c.code))
		communes[i] = c
	}
	for i := 0; i < benchEstablishments; i++ {
		// Squaring skews establishments towards the first communes: a
		// few towns hold many schools, most villages one or two.
		r := rng.Float64()
		c := communes[int(r*r*benchCommunes)]
		var typ territory.Type
		var prefix string
		switch x := rng.Float64(); {
		case x < 0.68:
			typ, prefix = territory.TypeEcole, []string{"École élémentaire ", "École maternelle ", "École primaire "}[rng.IntN(3)]
		case x < 0.78:
			typ, prefix = territory.TypeCollege, "Collège "
		case x < 0.84:
			typ, prefix = territory.TypeLycee, []string{"Lycée ", "Lycée professionnel ", "Lycée polyvalent "}[rng.IntN(3)]
		case x < 0.842:
			typ, prefix = territory.TypeEREA, "EREA "
		case x < 0.98:
			typ, prefix = territory.TypeOther, []string{"CIO ", "Centre de formation ", "Institut médico-éducatif "}[rng.IntN(3)]
		default:
			typ, prefix = territory.TypeUnknown, "École supérieure "
		}
		sector := territory.SectorPublic
		patron := benchPatron(rng)
		if typ != territory.TypeOther && rng.Float64() < 0.15 {
			sector, patron = territory.SectorPrivate, benchPrivatePatrons[rng.IntN(len(benchPrivatePatrons))]
		}
		priority := territory.PriorityNone
		if sector == territory.SectorPublic && (typ == territory.TypeEcole || typ == territory.TypeCollege) {
			switch x := rng.Float64(); {
			case x < 0.04:
				priority = territory.PriorityREPPlus
			case x < 0.15:
				priority = territory.PriorityREP
			}
		}
		n := 1_000_000 + i
		uai := fmt.Sprintf("%07d%c", n, territory.UAICheckLetter(n))
		name := prefix + patron
		postal := c.code[:2] + fmt.Sprintf("%03d", rng.IntN(1000))
		academy := academies[c.dept%benchAcademies]
		id := org(territory.KindEstablishment, uai, name, dsdens[c.dept], territory.SearchKey(name, uai, c.name, postal))
		ests = append(ests, []any{id, uai, string(typ), string(sector), string(priority), "open", postal, c.code, c.name,
			fmt.Sprintf("%02d", c.dept+1), fmt.Sprintf("A%02d", c.dept%benchAcademies+1)})
		resps = append(resps, []any{id, "pedagogy", academy})
		if sector == territory.SectorPublic {
			var maintainer int64
			switch territory.MaintainingKind(typ) {
			case territory.KindCommune:
				maintainer = c.id
			case territory.KindDepartement:
				maintainer = depts[c.dept]
			case territory.KindRegion:
				maintainer = regions[c.dept%benchRegions]
			}
			if maintainer != 0 {
				resps = append(resps, []any{id, "maintenance", maintainer})
			}
		}
	}
	bt.academy, bt.departement, bt.bigCommune = academies[0], depts[0], communes[0].code

	err := d.InTx(ctx, func(tx *db.Tx) error {
		if err := insertRows(ctx, tx, "organizations", []string{"id", "kind", "code", "name", "parent_id", "search_text", "created_at", "updated_at"}, orgs); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, "establishments", []string{"org_id", "uai", "type", "sector", "priority", "status", "postal_code",
			"commune_code", "commune_name", "departement_code", "academy_code"}, ests); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, "responsibilities", []string{"establishment_id", "domain", "authority_id"}, resps); err != nil {
			return err
		}
		if tx.Dialect() == db.Postgres {
			// The ids were given explicitly: move the identity past them.
			if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('organizations', 'id'), (SELECT MAX(id) FROM organizations))`); err != nil {
				return fmt.Errorf("reset organizations id: %w", err)
			}
		}
		return st.SyncScopeTree(ctx, tx)
	})
	if err != nil {
		return bt, err
	}
	// What autovacuum does on PostgreSQL within a minute of a bulk load:
	// statistics for the planner, the visibility map for index-only scans
	// and the trigram index's pending entries merged. Measuring before it
	// would measure the minute after an import, not the service.
	if d.Dialect() == db.Postgres {
		if _, err := d.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			return bt, fmt.Errorf("vacuum analyze: %w", err)
		}
	}
	return bt, nil
}

// insertRows writes rows with multi-row INSERTs of a few hundred rows each,
// the same text on both engines.
func insertRows(ctx context.Context, tx *db.Tx, table string, cols []string, rows [][]any) error {
	const batch = 500
	for start := 0; start < len(rows); start += batch {
		chunk := rows[start:min(start+batch, len(rows))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + db.Placeholders(len(cols)) + ")")
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}
