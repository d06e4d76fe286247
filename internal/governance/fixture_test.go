package governance

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
	"socle/internal/territory"
	assets "socle/web"
)

// fakeSource is a computed source whose value the test sets.
type fakeSource struct {
	v     Value
	calls int
	orgs  []int64
}

func (f *fakeSource) Measure(_ context.Context, orgID int64, _ Period) (Value, error) {
	f.calls++
	f.orgs = append(f.orgs, orgID)
	return f.v, nil
}

// fx is a small territory: an académie with its DSDEN and two schools, a
// commune maintaining the first school, and another académie with a
// school of its own.
type fx struct {
	t   testing.TB
	ctx context.Context
	db  *db.DB
	svc *Service
	src *fakeSource
	now time.Time

	academy, dsden, school1, school2, commune, academy2, school3 int64
	admin, dane, head1, agent2, teacher, communeAgent            *auth.Principal
}

func newFx(t testing.TB) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fx{t: t, ctx: ctx, db: d, src: &fakeSource{v: Measured(87.5, "35 sur 40")}, now: time.Date(2026, 10, 15, 10, 0, 0, 0, time.UTC)}
	f.svc = NewService(d, auth.NewService(d, auth.DefaultSettings(), log), log, Options{Sources: []SourceInfo{
		{Key: "test.sla", Label: "Tickets résolus dans le délai", Unit: "%", Source: f.src}}})
	f.svc.now = func() time.Time { return f.now }
	f.academy = f.org("academy", "A1", "Académie de Test", 0)
	f.dsden = f.org("dsden", "D1", "DSDEN de Test", f.academy)
	f.school1 = f.school("0350001A", "École des Tilleuls", f.dsden)
	f.school2 = f.school("0350002B", "École des Ormes", f.dsden)
	f.commune = f.org("commune", "35238", "Rennes", 0)
	f.academy2 = f.org("academy", "A2", "Autre académie", 0)
	f.school3 = f.school("0290003C", "École du Port", f.academy2)
	// The commune maintains school 1: the scope tree links them.
	if _, err := d.ExecContext(ctx, `INSERT INTO org_edges (parent_id, child_id) VALUES (?, ?)`, f.commune, f.school1); err != nil {
		t.Fatal(err)
	}
	if err := auth.RebuildClosure(ctx, d); err != nil {
		t.Fatal(err)
	}
	f.admin = auth.System()
	f.dane = &auth.Principal{User: auth.User{ID: 10, Email: "dane@test"}, Grants: []auth.Grant{{Role: auth.RoleAcademyObserver, OrgID: f.academy, Recursive: true}}}
	f.head1 = &auth.Principal{User: auth.User{ID: 11, Email: "direction@tilleuls.test"}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: f.school1}}}
	f.agent2 = &auth.Principal{User: auth.User{ID: 12, Email: "agent@autre.test"}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: f.academy2, Recursive: true}}}
	f.teacher = &auth.Principal{User: auth.User{ID: 13, Email: "prof@tilleuls.test"}, Grants: []auth.Grant{{Role: auth.RoleTeacher, OrgID: f.school1}}}
	f.communeAgent = &auth.Principal{User: auth.User{ID: 14, Email: "agent@rennes.test"}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: f.commune, Recursive: true}}}
	return f
}

func (f *fx) org(kind, code, name string, parent int64) int64 {
	f.t.Helper()
	now := time.Now().UTC()
	var id int64
	err := f.db.QueryRowContext(f.ctx, `INSERT INTO organizations (kind, code, name, parent_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, code, name, db.NullID(parent), now, now).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	if parent != 0 {
		if _, err := f.db.ExecContext(f.ctx, `INSERT INTO org_edges (parent_id, child_id) VALUES (?, ?)`, parent, id); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}

func (f *fx) school(uai, name string, parent int64) int64 {
	f.t.Helper()
	id := f.org("establishment", uai, name, parent)
	if _, err := f.db.ExecContext(f.ctx, `INSERT INTO establishments (org_id, uai, commune_code, commune_name) VALUES (?, ?, ?, ?)`,
		id, uai, "35238", "Rennes"); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// cycle creates the académie's coordination and strategic committees.
func (f *fx) cycle() (coord, strat Body) {
	f.t.Helper()
	coord, err := f.svc.CreateBody(f.ctx, f.dane, Body{OrgID: f.academy, Kind: BodyCoordination, Name: "Comité de coordination", MinPerYear: 3,
		Members: []Member{{Name: "Chef de projet", Role: "DANE"}, {OrgID: f.commune, Role: "Collectivité"}}})
	f.must(err)
	strat, err = f.svc.CreateBody(f.ctx, f.dane, Body{OrgID: f.academy, Kind: BodyStrategic, Name: "Comité stratégique", MinPerYear: 2,
		Members: []Member{{Name: "Directrice au numérique", Role: "Présidente"}}})
	f.must(err)
	return coord, strat
}

// heldMeeting creates a meeting of the body that took place yesterday and
// records its minutes.
func (f *fx) heldMeeting(b Body, title string) Meeting {
	f.t.Helper()
	m, err := f.svc.CreateMeeting(f.ctx, f.dane, Meeting{BodyID: b.ID, Title: title, StartsAt: f.now.Add(-24 * time.Hour)})
	f.must(err)
	m, err = f.svc.RecordMinutes(f.ctx, f.dane, m.ID, Minutes{Text: "Relevé de décisions.", Present: []int64{b.Members[0].ID}})
	f.must(err)
	return m
}

// server mounts governance's routes behind a middleware that logs in as p
// (nil: anonymous).
func (f *fx) server(p *auth.Principal) http.Handler {
	f.t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rd, err := web.NewRenderer(assets.Templates(), log, nil)
	f.must(err)
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
		req.Header.Set("Content-Type", "application/json")
		if strings.HasPrefix(body, "csrf=") || !strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func problemCode(err error) string {
	if p, ok := problem.As(err); ok {
		return p.Code
	}
	return ""
}
