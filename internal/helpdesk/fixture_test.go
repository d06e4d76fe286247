package helpdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/emersion/go-smtp"

	"socle/internal/catalog"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	"socle/internal/territory"
	assets "socle/web"
)

// testClock is the service's clock in tests: instants are set by hand so
// the business calendar gives known deadlines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fakeLevels stands for the catalogue's adapter, with a real calendar.
type fakeLevels struct {
	mu  sync.Mutex
	lv  *Levels
	cal *catalog.Calendar
}

func (f *fakeLevels) LevelsFor(_ context.Context, _, _ int64, kind string, _ int, _ time.Time) (*Levels, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lv == nil || (kind != "incident" && kind != "request") {
		return nil, nil
	}
	c := *f.lv
	return &c, nil
}

func (f *fakeLevels) setTargets(tto, ttr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, _ := catalog.ParseDelay(tto)
	b, _ := catalog.ParseDelay(ttr)
	f.lv.TTO, f.lv.TTR = a, b
}

// outbox is a real SMTP server capturing what the service sends.
type outbox struct {
	mu   sync.Mutex
	msgs []captured
	addr *net.TCPAddr
}

type captured struct {
	From string
	To   []string
	Data []byte
}

type outSession struct {
	box  *outbox
	from string
	to   []string
}

func (s *outSession) Reset()                                      { s.from, s.to = "", nil }
func (s *outSession) Logout() error                               { return nil }
func (s *outSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *outSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *outSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, captured{From: s.from, To: s.to, Data: b})
	s.box.mu.Unlock()
	return nil
}

func startOutbox(t *testing.T) *outbox {
	t.Helper()
	box := &outbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &outSession{box: box}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	box.addr = l.Addr().(*net.TCPAddr)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	return box
}

func (b *outbox) all() []captured {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]captured(nil), b.msgs...)
}

// last returns the last message sent to an address.
func (b *outbox) last(t *testing.T, to string) captured {
	t.Helper()
	msgs := b.all()
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, r := range msgs[i].To {
			if r == to {
				return msgs[i]
			}
		}
	}
	t.Fatalf("no message sent to %s (%d sent)", to, len(msgs))
	return captured{}
}

type account struct {
	id    int64
	email string
	token string
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *db.DB
	auth   *auth.Service
	svc    *Service
	clock  *testClock
	levels *fakeLevels
	out    *outbox
	api    *httptest.Server
	paris  *time.Location

	authority, estA, estB      int64
	uaiA, uaiB                 string
	serviceID, teamN1, teamN2  int64
	teacher, head, headB, tech account
	admin                      account
}

func uaiOf(n int) string {
	return strconv.Itoa(n)[1:] + string(territory.UAICheckLetter(n%10_000_000))
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), catalog.Migrations(), Migrations())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{t: t, ctx: ctx, db: d, auth: auth.NewService(d, auth.DefaultSettings(), log), clock: &testClock{}}
	var err error
	if f.paris, err = time.LoadLocation("Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	f.set("2026-11-16 09:00") // a Monday
	now := time.Now().UTC()
	org := func(kind, code, name string) int64 {
		var id int64
		if err := d.QueryRowContext(ctx, `INSERT INTO organizations (kind, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			kind, code, name, now, now).Scan(&id); err != nil {
			t.Fatalf("insert organization: %v", err)
		}
		return id
	}
	f.authority = org("commune", "35238", "Rennes")
	f.uaiA, f.uaiB = uaiOf(10350001), uaiOf(10350002)
	f.estA = org("establishment", f.uaiA, "École Jules Ferry")
	f.estB = org("establishment", f.uaiB, "École Louise Michel")
	for _, e := range []struct {
		id  int64
		uai string
	}{{f.estA, f.uaiA}, {f.estB, f.uaiB}} {
		if _, err := d.ExecContext(ctx, `INSERT INTO establishments (org_id, uai) VALUES (?, ?)`, e.id, e.uai); err != nil {
			t.Fatalf("insert establishment: %v", err)
		}
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		if err := auth.SetParents(ctx, tx, f.estA, f.authority); err != nil {
			return err
		}
		if err := auth.SetParents(ctx, tx, f.estB, f.authority); err != nil {
			return err
		}
		return auth.RebuildClosure(ctx, tx)
	})
	if err != nil {
		t.Fatalf("tree: %v", err)
	}
	var fam int64
	if err := d.QueryRowContext(ctx, `INSERT INTO service_families (owner_id, name) VALUES (?, ?) RETURNING id`, f.authority, "Poste de travail").Scan(&fam); err != nil {
		t.Fatalf("insert family: %v", err)
	}
	if err := d.QueryRowContext(ctx, `INSERT INTO services (family_id, owner_id, code, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		fam, f.authority, "PDT", "Postes de travail", now, now).Scan(&f.serviceID); err != nil {
		t.Fatalf("insert service: %v", err)
	}
	team := func(name, level, email string) int64 {
		var id int64
		if err := d.QueryRowContext(ctx, `INSERT INTO teams (org_id, name, level, email) VALUES (?, ?, ?, ?) RETURNING id`,
			f.authority, name, level, email).Scan(&id); err != nil {
			t.Fatalf("insert team: %v", err)
		}
		return id
	}
	f.teamN1 = team("Assistance", "N1", "assistance@rennes.test")
	f.teamN2 = team("Proximité", "N2", "proximite@rennes.test")

	user := func(email string, role auth.Role, orgID int64, recursive bool) account {
		id, err := f.auth.CreateUser(ctx, auth.NewUser{Email: email, DisplayName: email, Password: "motdepasse-solide",
			Grants: []auth.Grant{{Role: role, OrgID: orgID, Recursive: recursive}}})
		if err != nil {
			t.Fatalf("create %s: %v", email, err)
		}
		tok, _, err := f.auth.IssueToken(ctx, id, "test")
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		return account{id: id, email: email, token: tok}
	}
	f.teacher = user("prof@ecole-a.test", auth.RoleTeacher, f.estA, false)
	f.head = user("directrice@ecole-a.test", auth.RoleEstablishmentHead, f.estA, false)
	f.headB = user("directeur@ecole-b.test", auth.RoleEstablishmentHead, f.estB, false)
	f.tech = user("tech@rennes.test", auth.RoleTechnician, f.authority, true)
	f.admin = user("admin@socle.test", auth.RolePlatformAdmin, 0, false)

	day := []catalog.TimeRange{{Start: "08:00", End: "12:00"}, {Start: "13:30", End: "17:30"}}
	cal, err := catalog.NewCalendar(catalog.Spec{Hours: map[string][]catalog.TimeRange{
		"lundi": day, "mardi": day, "mercredi": day, "jeudi": day, "vendredi": day}}, nil)
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	f.levels = &fakeLevels{cal: cal, lv: &Levels{AgreementServiceID: 0, AgreementReference: "CONV-2026-01", Calendar: cal,
		N1TeamID: f.teamN1, N2TeamID: f.teamN2, SurveyEnabled: true}}
	f.levels.setTargets("4h", "16h")

	f.out = startOutbox(t)
	f.svc = NewService(d, f.auth, f.levels, Options{FilesRoot: t.TempDir(), BaseURL: "https://socle.test",
		Mail: MailConfig{Host: "127.0.0.1", Port: f.out.addr.Port, From: "Assistance Socle <assistance@socle.test>"}}, log)
	f.svc.now = f.clock.now

	renderer, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatalf("templates: %v", err)
	}
	router := web.NewRouter(log, renderer.ErrorPage)
	NewHandler(f.svc, renderer).Routes(router)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	f.api = httptest.NewServer(sessions.Middleware(router))
	t.Cleanup(f.api.Close)
	return f
}

// set moves the service's clock to a Paris wall time.
func (f *fixture) set(s string) time.Time {
	f.t.Helper()
	loc, _ := time.LoadLocation("Europe/Paris")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		f.t.Fatalf("bad instant %q", s)
	}
	f.clock.set(v)
	return v
}

// call sends a JSON request as an account and decodes the answer into out
// (when not nil); it returns the status.
func (f *fixture) call(who account, method, path string, body, out any) int {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.api.URL+path, r)
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		f.t.Logf("%s %s → %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// mustCall is call that fails the test unless the status is want.
func (f *fixture) mustCall(who account, method, path string, body, out any, want int) {
	f.t.Helper()
	if got := f.call(who, method, path, body, out); got != want {
		f.t.Fatalf("%s %s: status %d, want %d", method, path, got, want)
	}
}

func (f *fixture) principal(a account) *auth.Principal {
	f.t.Helper()
	p, err := f.auth.Principal(f.ctx, a.id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) detail(a account, ref string) Detail {
	f.t.Helper()
	d, err := f.svc.Get(f.ctx, f.principal(a), ref)
	if err != nil {
		f.t.Fatalf("get %s: %v", ref, err)
	}
	return d
}

func (f *fixture) countTickets() int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM tickets`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}
