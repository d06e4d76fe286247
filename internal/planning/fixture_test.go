package planning

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/opendata"
	"socle/internal/platform/web"
	"socle/internal/territory"
	assets "socle/web"
)

// testNow is the clock of every test: late November 2026.
var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// fakeAsset is a device of the generated fleet.
type fakeAsset struct {
	typ       string // workstation or board
	pupils    bool   // assigned to pupils
	bought    int    // purchase year (bought on 1 September)
	price     int64
	undated   bool
	inService bool
}

// fakeFleet is a generated fleet with the fleet's own arithmetic: ratios
// from the latest enrolments, devices past their type's lifetime
// (workstation 5 years, board 7) by date, renewals by purchase year.
type fakeFleet struct {
	db     *db.DB
	now    time.Time
	assets map[string][]fakeAsset
	// deployed records the deployments handed to the fleet.
	deployed []Deployment
}

var fakeLifetime = map[string]int{"workstation": 5, "board": 7}

func (f *fakeFleet) EquipmentRatios(ctx context.Context, p *auth.Principal) ([]EquipmentRatio, error) {
	var out []EquipmentRatio
	uais := make([]string, 0, len(f.assets))
	for u := range f.assets {
		uais = append(uais, u)
	}
	sort.Strings(uais)
	for _, u := range uais {
		r := EquipmentRatio{UAI: u}
		for _, a := range f.assets[u] {
			r.Devices++
			if a.pupils && a.typ == "workstation" {
				r.PupilDevices++
			}
			if a.typ == "board" {
				r.Boards++
			}
			if !a.undated && !f.now.Before(time.Date(a.bought+fakeLifetime[a.typ], 9, 1, 0, 0, 0, 0, time.UTC)) {
				r.OverLifetime++
			}
		}
		// The fleet keeps, per school, the largest figure of the latest year.
		rows, err := f.db.QueryContext(ctx, `SELECT school_year, MAX(pupils), COALESCE(MAX(classes), 0) FROM enrolments WHERE uai = ? GROUP BY school_year`, u)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var y string
			var pu, cl int
			if err := rows.Scan(&y, &pu, &cl); err != nil {
				rows.Close()
				return nil, err
			}
			if y > r.SchoolYear {
				r.SchoolYear, r.Pupils, r.Classes = y, pu, cl
			}
		}
		rows.Close()
		if r.Devices > 0 {
			r.OverLifetimeShare = float64(int64(float64(r.OverLifetime)/float64(r.Devices)*100+0.5)) / 100
		}
		out = append(out, r)
	}
	return out, nil
}

func (f *fakeFleet) Renewals(ctx context.Context, p *auth.Principal, life, years int) (Renewals, error) {
	first := f.now.Year()
	res := Renewals{TotalCostCents: make([]int64, years)}
	for i := range years {
		res.Years = append(res.Years, first+i)
	}
	uais := make([]string, 0, len(f.assets))
	for u := range f.assets {
		uais = append(uais, u)
	}
	sort.Strings(uais)
	for _, u := range uais {
		row := RenewalRow{UAI: u, Devices: make([]int, years), CostCents: make([]int64, years)}
		for _, a := range f.assets[u] {
			if a.undated {
				row.Undated++
				continue
			}
			i := max(a.bought+life-first, 0)
			if i >= years {
				continue
			}
			row.Devices[i]++
			row.CostCents[i] += a.price
			res.TotalCostCents[i] += a.price
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

func (f *fakeFleet) DeploymentDone(ctx context.Context, p *auth.Principal, d Deployment) error {
	f.deployed = append(f.deployed, d)
	return nil
}

// generate gives a school pupil workstations and boards from its number n
// (the UAI's digits) and classes: classes×(1 + n mod 3) workstations,
// classes − n mod 4 boards; the i-th device (workstations first) was
// bought (i mod 8) years ago; workstations cost 700 €, boards 3 000 €.
func generate(uai string, classes int, now time.Time) []fakeAsset {
	n := 0
	for _, c := range uai[:7] {
		n = n*10 + int(c-'0')
	}
	var out []fakeAsset
	ws, boards := classes*(1+n%3), max(0, classes-n%4)
	for i := range ws + boards {
		a := fakeAsset{typ: "workstation", pupils: true, bought: now.Year() - i%8, price: 70000}
		if i >= ws {
			a.typ, a.pupils, a.price = "board", false, 300000
		}
		out = append(out, a)
	}
	return out
}

type fx struct {
	t     testing.TB
	ctx   context.Context
	db    *db.DB
	terr  *territory.Service
	fleet *fakeFleet
	svc   *Service
}

func newFx(t testing.TB) *fx {
	t.Helper()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authSvc := auth.NewService(d, auth.DefaultSettings(), log)
	terr := territory.NewService(d, authSvc, log)
	fl := &fakeFleet{db: d, now: testNow, assets: map[string][]fakeAsset{}}
	svc := NewService(d, terr, fl, log, Options{Updater: fl, Now: func() time.Time { return testNow }})
	return &fx{t: t, ctx: context.Background(), db: d, terr: terr, fleet: fl, svc: svc}
}

func (f *fx) importFile(kind territory.ImportKind, name string) {
	f.t.Helper()
	file, err := os.Open(opendata.Path(f.t, name))
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	rep, err := f.terr.Import(f.ctx, auth.System(), kind, file, territory.ImportOptions{Filename: name, SkipInvalid: true})
	if err != nil {
		f.t.Fatalf("import %s: %v", name, err)
	}
	if rep.Created == 0 {
		f.t.Fatalf("import %s created nothing: %+v", name, rep)
	}
}

// ille imports the real Ille-et-Vilaine directory and école enrolments,
// and generates a fleet for every école with enrolments, except skip.
func (f *fx) ille(skip ...string) {
	f.t.Helper()
	f.importFile(territory.ImportAnnuaire, "fr-en-annuaire-education-35.csv")
	f.importFile(territory.ImportEffectifs, "fr-en-ecoles-effectifs-nb_classes-35.csv")
	rows, err := f.db.QueryContext(f.ctx, `SELECT uai, school_year, COALESCE(MAX(classes), 0) FROM enrolments GROUP BY uai, school_year`)
	if err != nil {
		f.t.Fatal(err)
	}
	latest := map[string]string{}
	classes := map[string]int{}
	for rows.Next() {
		var u, y string
		var c int
		if err := rows.Scan(&u, &y, &c); err != nil {
			f.t.Fatal(err)
		}
		if y > latest[u] {
			latest[u], classes[u] = y, c
		}
	}
	rows.Close()
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	for u, c := range classes {
		if !skipped[u] && c > 0 {
			f.fleet.assets[u] = generate(u, c, testNow)
		}
	}
}

// orgID returns an organization id by kind and code.
func (f *fx) orgID(kind, code string) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.QueryRowContext(f.ctx, `SELECT id FROM organizations WHERE kind = ? AND code = ?`, kind, code).Scan(&id); err != nil {
		f.t.Fatalf("org %s %s: %v", kind, code, err)
	}
	return id
}

// server mounts the plan's routes behind a middleware that logs in as p.
func (f *fx) server(p *auth.Principal) http.Handler {
	f.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	router := web.NewRouter(log, rd.ErrorPage)
	NewHandler(f.svc, rd).Routes(router)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		router.ServeHTTP(w, r.WithContext(web.WithPrincipal(r.Context(), p)))
	})
}

func do(t testing.TB, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func admin() *auth.Principal {
	return &auth.Principal{User: auth.User{ID: 1, Email: "admin@socle.test"}, Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}}
}
