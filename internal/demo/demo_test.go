package demo

import (
	"context"
	"database/sql"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without zoneinfo, as the binary does

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/territory"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generate(), generate()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generations differ")
	}
	if !reflect.DeepEqual(Accounts(), Accounts()) {
		t.Fatal("two account lists differ")
	}
}

// TestGeneratedTerritory checks the plan itself, without a database: what
// the writing steps store is only as right as this.
func TestGeneratedTerritory(t *testing.T) {
	p := generate()
	if n := len(p.communes); n < 35 || n > 45 {
		t.Errorf("%d communes, want about 40", n)
	}
	byType := map[territory.Type]int{}
	uais := map[string]bool{}
	names := map[string]bool{}
	publicEcoles := map[*commune]int{}
	for _, s := range p.schools {
		byType[s.Type]++
		if !territory.ValidUAI(s.UAI) || uais[s.UAI] {
			t.Errorf("UAI %q invalid or repeated", s.UAI)
		}
		uais[s.UAI] = true
		if k := s.CommuneCode + "|" + s.Name; names[k] {
			t.Errorf("two schools named %q in %s", s.Name, s.CommuneName)
		} else {
			names[k] = true
		}
		if lat, lon := *s.Latitude, *s.Longitude; lat < minLat-0.05 || lat > maxLat+0.05 || lon < minLon-0.1 || lon > maxLon+0.1 {
			t.Errorf("%s at %f,%f, outside the département", s.UAI, lat, lon)
		}
		if !s.public() && (s.Priority != territory.PriorityNone || s.PrivateContract == "") {
			t.Errorf("private %s: priority %q, contract %q", s.UAI, s.Priority, s.PrivateContract)
		}
		if s.Type == territory.TypeEcole && s.public() {
			publicEcoles[s.commune]++
		}
		if len(s.enrolments) != len(schoolYears) {
			t.Errorf("%s has %d years of enrolments, want %d", s.UAI, len(s.enrolments), len(schoolYears))
		}
		for _, e := range s.enrolments {
			sum := 0
			for _, n := range e.Levels {
				sum += n
			}
			if sum != e.Pupils || e.Pupils <= 0 || e.Classes == nil || *e.Classes <= 0 || e.UAI != s.UAI {
				t.Errorf("%s %s: %d pupils, levels add up to %d, classes %v", s.UAI, e.SchoolYear, e.Pupils, sum, e.Classes)
			}
		}
	}
	for typ, r := range map[territory.Type][2]int{territory.TypeEcole: {130, 175}, territory.TypeCollege: {16, 25}, territory.TypeLycee: {5, 8}} {
		if byType[typ] < r[0] || byType[typ] > r[1] {
			t.Errorf("%d %s, want %d–%d", byType[typ], typ, r[0], r[1])
		}
	}
	for _, c := range p.communes {
		if publicEcoles[c] == 0 {
			t.Errorf("commune %s has no public école", c.name)
		}
	}
	if p.epciMembers() < 8 || p.epciMembers() > 12 || !p.chefLieu.inEPCI {
		t.Errorf("the EPCI has %d communes (chef-lieu member: %v)", p.epciMembers(), p.chefLieu.inEPCI)
	}
	// The carte scolaire covers every commune, with public collèges only.
	publicColleges := map[string]bool{}
	for _, s := range p.schools {
		if s.kind == kindCollege && s.public() {
			publicColleges[s.UAI] = true
		}
	}
	keys, covered := map[string]bool{}, map[*commune]bool{}
	for _, s := range p.sectors {
		if keys[s.key] || !publicColleges[s.collegeUAI] {
			t.Errorf("sector %s: repeated key or %s not a public collège", s.key, s.collegeUAI)
		}
		keys[s.key], covered[s.commune] = true, true
	}
	if len(covered) != len(p.communes) {
		t.Errorf("the carte scolaire covers %d communes of %d", len(covered), len(p.communes))
	}
}

type fixture struct {
	db   *db.DB
	auth *auth.Service
	terr *territory.Service
}

func newFixture(tb testing.TB) fixture {
	d := dbtest.Open(tb, auth.Migrations(), territory.Migrations())
	log := slog.New(slog.DiscardHandler)
	a := auth.NewService(d, auth.DefaultSettings(), log)
	return fixture{db: d, auth: a, terr: territory.NewService(d, a, log)}
}

func (f fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	start := time.Now()
	info, created, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler))
	if err != nil || !created {
		t.Fatalf("Seed: created=%v, %v", created, err)
	}
	t.Logf("seeded %d establishments on %s in %s", info.Establishments, f.db.Dialect(), time.Since(start))
	if info.Academy != academyName || info.Departement != departementName || !reflect.DeepEqual(info.Accounts, Accounts()) {
		t.Errorf("info = %+v", info)
	}
	total := f.count(t, `SELECT COUNT(*) FROM establishments`)
	if info.Establishments != total {
		t.Errorf("info counts %d establishments, the database %d", info.Establishments, total)
	}
	for _, c := range []struct {
		what   string
		query  string
		lo, hi int
	}{
		{"communes", `SELECT COUNT(*) FROM organizations WHERE kind = 'commune'`, 35, 45},
		{"écoles", `SELECT COUNT(*) FROM establishments WHERE type = 'ecole'`, 130, 175},
		{"collèges", `SELECT COUNT(*) FROM establishments WHERE type = 'college'`, 16, 25},
		{"lycées", `SELECT COUNT(*) FROM establishments WHERE type = 'lycee'`, 5, 8},
		{"private establishments", `SELECT COUNT(*) FROM establishments WHERE sector = 'prive'`, 10, 50},
		{"REP+", `SELECT COUNT(*) FROM establishments WHERE priority = 'REP+'`, 3, 20},
		{"REP", `SELECT COUNT(*) FROM establishments WHERE priority = 'REP'`, 3, 30},
		{"EPCI members", `SELECT COUNT(*) FROM organizations c JOIN organizations e ON e.id = c.parent_id
			WHERE c.kind = 'commune' AND e.kind = 'epci'`, 8, 12},
		{"régions, départements, académies, DSDEN, DANE, EPCI", `SELECT COUNT(*) FROM organizations
			WHERE kind IN ('region', 'departement', 'academy', 'dsden', 'dane', 'epci')`, 6, 6},
		{"school years", `SELECT COUNT(DISTINCT school_year) FROM enrolments`, 3, 10},
		{"enrolment sources", `SELECT COUNT(DISTINCT source) FROM enrolments WHERE source IN ('ecoles', 'colleges', 'second-degre')`, 3, 3},
		{"zone B holidays", `SELECT COUNT(*) FROM school_holidays WHERE zone = 'Zone B' AND academy = 'Brocéliande'`, 18, 18},
		{"communes without a collège de secteur", `SELECT COUNT(*) FROM organizations o WHERE o.kind = 'commune'
			AND NOT EXISTS (SELECT 1 FROM school_sectors s JOIN establishments e ON e.uai = s.college_uai
				WHERE s.commune_code = o.code AND e.type = 'college' AND e.sector = 'public')`, 0, 0},
		{"REP in the chef-lieu", `SELECT COUNT(*) FROM establishments WHERE priority <> '' AND commune_name = 'Brumeval'`, 8, 40},
	} {
		if n := f.count(t, c.query); n < c.lo || n > c.hi {
			t.Errorf("%d %s, want %d–%d", n, c.what, c.lo, c.hi)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM enrolments`); n != total*len(schoolYears) {
		t.Errorf("%d enrolment rows, want %d", n, total*len(schoolYears))
	}
	checkResponsibilities(t, f)
	checkHolidays(t, f)
	checkAccounts(t, f)

	// A second start finds the data and leaves it alone.
	tables := []string{"organizations", "establishments", "responsibilities", "enrolments", "school_holidays", "school_sectors",
		"users", "grants", "org_edges"}
	before := map[string]int{}
	for _, tbl := range tables {
		before[tbl] = f.count(t, `SELECT COUNT(*) FROM `+tbl)
	}
	info2, created, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler))
	if err != nil || created {
		t.Fatalf("second Seed: created=%v, %v", created, err)
	}
	if !reflect.DeepEqual(info2.Accounts, Accounts()) {
		t.Error("second Seed does not list the accounts")
	}
	for _, tbl := range tables {
		if n := f.count(t, `SELECT COUNT(*) FROM `+tbl); n != before[tbl] {
			t.Errorf("second Seed changed %s: %d rows, then %d", tbl, before[tbl], n)
		}
	}
}

// TestSeedConcurrent starts two servers on one empty database at once: one
// seeds, the other waits and finds the data.
func TestSeedConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	type result struct {
		created bool
		err     error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			_, created, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler))
			results <- result{created, err}
		}()
	}
	createdN := 0
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("Seed: %v", r.err)
		}
		createdN += boolInt(r.created)
	}
	if createdN != 1 {
		t.Fatalf("%d of two concurrent Seed calls created the territory, want 1", createdN)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM organizations WHERE kind = 'academy'`); n != 1 {
		t.Errorf("%d académies", n)
	}
}

// checkResponsibilities: public écoles are maintained by their commune,
// collèges by the département, lycées by the région, private schools by
// nobody; the académie is in charge of pedagogy everywhere.
func checkResponsibilities(t *testing.T, f fixture) {
	t.Helper()
	rows, err := f.db.QueryContext(context.Background(), `SELECT e.uai, e.type, e.sector, e.commune_code, a.kind, a.code, p.code
		FROM establishments e
		LEFT JOIN responsibilities r ON r.establishment_id = e.org_id AND r.domain = 'maintenance'
		LEFT JOIN organizations a ON a.id = r.authority_id
		LEFT JOIN responsibilities rp ON rp.establishment_id = e.org_id AND rp.domain = 'pedagogy'
		LEFT JOIN organizations p ON p.id = rp.authority_id AND p.kind = 'academy'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var uai, typ, sector, commune string
		var kind, code, academy sql.NullString
		if err := rows.Scan(&uai, &typ, &sector, &commune, &kind, &code, &academy); err != nil {
			t.Fatal(err)
		}
		n++
		if !territory.ValidUAI(uai) {
			t.Errorf("invalid UAI %q", uai)
		}
		if academy.String != academyCode {
			t.Errorf("%s: pedagogy by %q", uai, academy.String)
		}
		want := map[string][2]string{"ecole": {"commune", commune}, "college": {"departement", departementCode}, "lycee": {"region", regionCode}}[typ]
		if territory.Sector(sector) == territory.SectorPrivate {
			want = [2]string{}
		}
		if got := [2]string{kind.String, code.String}; got != want {
			t.Errorf("%s (%s, %s) maintained by %v, want %v", uai, typ, sector, got, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no establishment")
	}
}

// checkHolidays reads the calendar back as the territory does: the
// periods are stored in UTC for midnight in Paris.
func checkHolidays(t *testing.T, f fixture) {
	t.Helper()
	from := time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC)
	hs, err := f.terr.Store().HolidaysOfZone(context.Background(), "B", from, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 5 {
		t.Fatalf("%d holiday periods from 23 November 2026, want 5 (Noël to Été): %+v", len(hs), hs)
	}
	noel := hs[0]
	if noel.Description != "Vacances de Noël" || noel.SchoolYear != "2026-2027" ||
		!noel.StartsAt.Equal(time.Date(2026, time.December, 18, 23, 0, 0, 0, time.UTC)) ||
		!noel.EndsAt.Equal(time.Date(2027, time.January, 3, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("first period = %+v", noel)
	}
}

// checkAccounts logs every account in and checks what it sees.
func checkAccounts(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()
	p := generate()
	all := f.count(t, `SELECT COUNT(*) FROM establishments`)
	publicColleges := f.count(t, `SELECT COUNT(*) FROM establishments WHERE type = 'college' AND sector = 'public'`)
	chefEcoles := f.count(t, `SELECT COUNT(*) FROM establishments WHERE type = 'ecole' AND sector = 'public' AND commune_code = ?`, p.chefLieu.code)
	epciEcoles := f.count(t, `SELECT COUNT(*) FROM establishments WHERE type = 'ecole' AND sector = 'public' AND commune_code IN
		(SELECT c.code FROM organizations c JOIN organizations e ON e.id = c.parent_id WHERE c.kind = 'commune' AND e.kind = 'epci')`)
	ecole, college := p.demoEcole().UAI, p.demoCollege().UAI

	search := func(email string, flt territory.Filter) territory.SearchResult {
		t.Helper()
		u, err := f.auth.Login(ctx, email, Password, "")
		if err != nil {
			t.Fatalf("login %s: %v", email, err)
		}
		pr, err := f.auth.Principal(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		flt.Limit = territory.MaxPageSize
		res, err := f.terr.Search(ctx, pr, flt)
		if err != nil {
			t.Fatalf("search as %s: %v", email, err)
		}
		return res
	}
	ecoleType := territory.Filter{Type: territory.TypeEcole}
	only := func(uai string) func(territory.SearchResult) bool {
		return func(r territory.SearchResult) bool { return r.Total == 1 && r.Items[0].UAI == uai }
	}
	cases := []struct {
		email  string
		filter territory.Filter
		ok     func(territory.SearchResult) bool
	}{
		{"admin@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool { return r.Total == all }},
		{"dane@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool { return r.Total == all }},
		{"agent.departement@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool {
			return r.Total == publicColleges && allOf(r, territory.TypeCollege)
		}},
		{"agent.departement@demo.socle.fr", ecoleType, func(r territory.SearchResult) bool { return r.Total == 0 }},
		{"technicien@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool {
			return r.Total == publicColleges && allOf(r, territory.TypeCollege)
		}},
		{"agent.commune@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool {
			return r.Total == chefEcoles && allOf(r, territory.TypeEcole) &&
				!slices.ContainsFunc(r.Items, func(e territory.Establishment) bool { return e.CommuneCode != p.chefLieu.code })
		}},
		{"agent.metropole@demo.socle.fr", territory.Filter{}, func(r territory.SearchResult) bool {
			communes := map[string]bool{}
			for _, e := range r.Items {
				communes[e.CommuneCode] = true
			}
			return r.Total == epciEcoles && r.Total > chefEcoles && allOf(r, territory.TypeEcole) && len(communes) == p.epciMembers()
		}},
		{"direction.ecole@demo.socle.fr", territory.Filter{}, only(ecole)},
		{"enseignant@demo.socle.fr", territory.Filter{}, only(ecole)},
		{"eleve@demo.socle.fr", territory.Filter{}, only(ecole)},
		{"parent@demo.socle.fr", territory.Filter{}, only(ecole)},
		{"principal.college@demo.socle.fr", territory.Filter{}, only(college)},
	}
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.email] = true
		if r := search(c.email, c.filter); !c.ok(r) {
			t.Errorf("%s with %+v sees %d establishments (%d listed)", c.email, c.filter, r.Total, len(r.Items))
		}
	}
	for _, a := range Accounts() {
		if !tested[a.Email] {
			t.Errorf("account %s is not tested", a.Email)
		}
	}
}

func allOf(r territory.SearchResult, typ territory.Type) bool {
	return len(r.Items) == r.Total && !slices.ContainsFunc(r.Items, func(e territory.Establishment) bool { return e.Type != typ })
}

// BenchmarkSeed measures a whole demo generation, accounts included (the
// argon2 hashing of eleven passwords is most of it on SQLite).
func BenchmarkSeed(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		if _, _, err := Seed(ctx, f.db, f.auth, f.terr, slog.New(slog.DiscardHandler)); err != nil {
			b.Fatal(err)
		}
	}
}
