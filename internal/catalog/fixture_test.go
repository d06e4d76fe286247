package catalog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// fx is a small territory with two collectivités, Rennes and Brest, and
// their schools, on the engine the run is for, served through the same
// middlewares as in production.
type fx struct {
	t      *testing.T
	ctx    context.Context
	db     *db.DB
	svc    *Service
	auth   *auth.Service
	terr   *territory.Service
	server http.Handler
	files  string

	academy, departement, rennes, brest int64
	ecoleA, ecoleB, ecoleBrest          territory.Establishment

	// agent manages Rennes' catalogue; brestAgent Brest's; head leads
	// école A.
	agent, brestAgent, head *auth.Principal
	// tokens of the same people, for the HTTP tests.
	agentToken, brestToken, headToken string
}

func fxUAI(n int) string { return strconv.Itoa(n)[1:] + string(territory.UAICheckLetter(n%10_000_000)) }

func newFx(t *testing.T) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fx{t: t, ctx: ctx, db: d, files: t.TempDir()}
	f.auth = auth.NewService(d, auth.DefaultSettings(), log)
	f.terr = territory.NewService(d, f.auth, log)
	f.svc = NewService(d, f.files, log)
	st := f.terr.Store()
	must := func(id int64, _ territory.Outcome, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.academy = must(st.EnsureOrg(ctx, d, territory.KindAcademy, "14", "Académie de Rennes", 0))
	f.departement = must(st.EnsureOrg(ctx, d, territory.KindDepartement, "035", "Département d'Ille-et-Vilaine", 0))
	f.rennes = must(st.EnsureOrg(ctx, d, territory.KindCommune, "35238", "Rennes", f.departement))
	f.brest = must(st.EnsureOrg(ctx, d, territory.KindCommune, "29019", "Brest", 0))
	f.ecoleA = f.addSchool(10350001, "École des Tilleuls", f.rennes)
	f.ecoleB = f.addSchool(10350002, "École des Ormes", f.rennes)
	f.ecoleBrest = f.addSchool(10290003, "École du Port", f.brest)

	f.agent = &auth.Principal{User: auth.User{ID: 1}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: f.rennes, Recursive: true}}}
	f.brestAgent = &auth.Principal{User: auth.User{ID: 2}, Grants: []auth.Grant{{Role: auth.RoleAuthorityAgent, OrgID: f.brest, Recursive: true}}}
	f.head = &auth.Principal{User: auth.User{ID: 3}, Grants: []auth.Grant{{Role: auth.RoleEstablishmentHead, OrgID: f.ecoleA.ID}}}
	f.agentToken = f.token("agent@rennes.test", f.agent.Grants)
	f.brestToken = f.token("agent@brest.test", f.brestAgent.Grants)
	f.headToken = f.token("direction@tilleuls.test", f.head.Grants)

	renderer, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	router := web.NewRouter(log, renderer.ErrorPage)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	NewHandler(f.svc, renderer).Routes(router)
	f.server = web.Chain(router, web.SecurityHeaders, sessions.Middleware)
	return f
}

// addSchool creates a public école maintained by authority, and rebuilds
// the scope tree as the territory's imports do.
func (f *fx) addSchool(n int, name string, authority int64) territory.Establishment {
	f.t.Helper()
	st := f.terr.Store()
	e := territory.Establishment{UAI: fxUAI(n), Name: name, Type: territory.TypeEcole, Sector: territory.SectorPublic, Status: territory.StatusOpen}
	id, _, err := st.UpsertEstablishment(f.ctx, f.db, &e, f.academy)
	if err != nil {
		f.t.Fatal(err)
	}
	e.ID = id
	if err := st.SetResponsibility(f.ctx, f.db, id, "maintenance", authority); err != nil {
		f.t.Fatal(err)
	}
	if err := st.SyncScopeTree(f.ctx, f.db); err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fx) token(email string, grants []auth.Grant) string {
	f.t.Helper()
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, Password: "mot-de-passe-de-test", Grants: grants})
	if err != nil {
		f.t.Fatal(err)
	}
	tok, _, err := f.auth.IssueToken(f.ctx, id, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// office is Monday to Friday, 08:00–12:00 and 13:30–17:30.
func office() map[string][]TimeRange {
	day := []TimeRange{{"08:00", "12:00"}, {"13:30", "17:30"}}
	return map[string][]TimeRange{"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day}
}

func (f *fx) calendar(name, zone string) int64 {
	f.t.Helper()
	bc, _, err := f.svc.CreateCalendar(f.ctx, f.agent, CalendarInput{OwnerID: f.rennes, Name: name, Hours: office(), SchoolHolidayZone: zone})
	if err != nil {
		f.t.Fatalf("CreateCalendar: %v", err)
	}
	return bc.ID
}

func (f *fx) service(code string) int64 {
	f.t.Helper()
	o, err := f.svc.CreateService(f.ctx, f.agent, ServiceInput{OwnerID: f.rennes, Family: "Poste de travail", Code: code, Name: "Service " + code,
		Status: StatusProduction, RequestTypes: []RequestTypeInput{{Kind: KindIncident, Name: "Panne"}, {Kind: KindRequest, IMAC: "install", Name: "Installation d'un poste"}}})
	if err != nil {
		f.t.Fatalf("CreateService: %v", err)
	}
	return o.ID
}

// levels is a small grid: incidents P1 1h/4h and P3 4h/3d, requests P3
// 1d/5d.
func levels() []LevelInput {
	return []LevelInput{
		{RequestKind: KindIncident, Priority: 1, TTO: "1h", TTR: "4h"},
		{RequestKind: KindIncident, Priority: 3, TTO: "4h", TTR: "3d"},
		{RequestKind: KindRequest, Priority: 3, TTO: "1d", TTR: "5d"},
	}
}

// listed is a convention from Rennes to the académie for the schools
// given, with one service.
func (f *fx) listed(ref string, status AgreementStatus, from, until string, serviceID, calendarID int64, uais ...string) AgreementInput {
	return AgreementInput{Reference: ref, Title: "Convention " + ref, ProviderID: f.rennes, BeneficiaryID: f.academy,
		ValidFrom: from, ValidUntil: until, Status: status, Coverage: CoverageListed, Establishments: uais,
		Services: []CoveredServiceInput{{ServiceID: serviceID, CalendarID: calendarID, Levels: levels()}}}
}

// wantProblem checks that err is a problem with that status and code.
func wantProblem(t *testing.T, err error, status int, code string) *problem.Error {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v is not a problem, want %d %s", err, status, code)
	}
	if p.Status != status || p.Code != code {
		t.Fatalf("problem %d %s (%s), want %d %s", p.Status, p.Code, p.Message, status, code)
	}
	return p
}

// request runs a request with a bearer token ("" for anonymous).
func (f *fx) request(method, path, token string, body io.Reader, contentType string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.server.ServeHTTP(rec, req)
	return rec
}

// getJSON fetches path and decodes the answer, which must have status.
func (f *fx) getJSON(path, token string, status int, v any) {
	f.t.Helper()
	rec := f.request(http.MethodGet, path, token, nil, "")
	if rec.Code != status {
		f.t.Fatalf("GET %s: %d, want %d\n%s", path, rec.Code, status, rec.Body.String())
	}
	if v != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			f.t.Fatalf("GET %s: decode %s: %v", path, rec.Body.String(), err)
		}
	}
}

// parisTime reads a Paris wall time "2006-01-02 15:04".
func parisTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, paris(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q", w)
		}
	}
}
