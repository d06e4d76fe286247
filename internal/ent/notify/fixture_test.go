package notify

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/emersion/go-smtp"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	assets "socle/web"
)

// clock is the service's clock in tests, moved by hand in Paris time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// mailbox is a real SMTP server on loopback capturing what the service
// sends.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailMsg
	addr *net.TCPAddr
}

type mailMsg struct {
	To      []string
	Subject string
	Body    string
}

type session struct {
	box *mailbox
	to  []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	head, body, _ := strings.Cut(string(b), "\r\n\r\n")
	m := mailMsg{To: s.to}
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Subject: "); ok {
			dec := new(mime.WordDecoder)
			if m.Subject, err = dec.DecodeHeader(v); err != nil {
				return err
			}
		}
	}
	plain, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		return err
	}
	m.Body = strings.ReplaceAll(string(plain), "\r\n", "\n")
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, m)
	s.box.mu.Unlock()
	return nil
}

func startMailbox(t testing.TB) *mailbox {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{box: box}, nil }))
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

func (b *mailbox) all() []mailMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mailMsg(nil), b.msgs...)
}

func (b *mailbox) to(addr string) []mailMsg {
	var out []mailMsg
	for _, m := range b.all() {
		for _, r := range m.To {
			if r == addr {
				out = append(out, m)
			}
		}
	}
	return out
}

type person struct {
	id    int64
	email string
	token string
	p     *auth.Principal
}

type fx struct {
	t     testing.TB
	ctx   context.Context
	db    *db.DB
	auth  *auth.Service
	svc   *Service
	clock *clock
	box   *mailbox
	alice person
	bruno person
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newFx(t testing.TB) *fx {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	f := &fx{t: t, ctx: ctx, db: d, auth: auth.NewService(d, auth.DefaultSettings(), quietLog()), clock: &clock{}}
	f.box = startMailbox(t)
	f.svc = NewService(d, Options{BaseURL: "https://socle.test/", Mail: MailConfig{Host: "127.0.0.1", Port: f.box.addr.Port,
		From: "Socle <notifications@socle.test>"}}, quietLog())
	f.svc.now = f.clock.now
	f.svc.Declare(Type{Key: "share", Label: "Partage avec moi", Default: Immediate})
	f.svc.Declare(Type{Key: "comment", Label: "Nouveau commentaire", Default: Daily})
	f.svc.Declare(Type{Key: "news", Label: "Actualités de l'établissement", Default: Weekly})
	f.svc.Declare(Type{Key: "ticket", Label: "Suivi d'une demande d'assistance", Default: Never})
	f.set("2026-11-17 10:00") // a Tuesday
	f.alice = f.user("alice@ecole.test")
	f.bruno = f.user("bruno@ecole.test")
	return f
}

func (f *fx) user(email string) person {
	f.t.Helper()
	id, err := f.auth.CreateUser(f.ctx, auth.NewUser{Email: email, DisplayName: email, Password: "motdepasse-solide",
		Grants: []auth.Grant{{Role: auth.RolePupil, OrgID: 1}}})
	if err != nil {
		f.t.Fatalf("create %s: %v", email, err)
	}
	tok, _, err := f.auth.IssueToken(f.ctx, id, "test")
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.auth.Principal(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return person{id: id, email: email, token: tok, p: p}
}

// set moves the clock to a Paris wall time.
func (f *fx) set(s string) {
	f.t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, DefaultQuietHours().Location)
	if err != nil {
		f.t.Fatalf("bad instant %q", s)
	}
	f.clock.mu.Lock()
	f.clock.t = v
	f.clock.mu.Unlock()
}

func (f *fx) notify(n Notification, to ...person) {
	f.t.Helper()
	var ids []int64
	for _, p := range to {
		ids = append(ids, p.id)
	}
	if err := f.svc.Notify(f.ctx, ids, n); err != nil {
		f.t.Fatalf("notify: %v", err)
	}
}

// send runs the worker once and returns how many mails left.
func (f *fx) send() int {
	f.t.Helper()
	n, err := f.svc.SendDue(f.ctx)
	if err != nil {
		f.t.Fatalf("send due: %v", err)
	}
	return n
}

func (f *fx) server() *httptest.Server {
	f.t.Helper()
	renderer, err := web.NewRenderer(assets.Templates(), quietLog(), nil)
	if err != nil {
		f.t.Fatalf("templates: %v", err)
	}
	router := web.NewRouter(quietLog(), renderer.ErrorPage)
	NewHandler(f.svc, renderer).Routes(router)
	sessions := &web.Sessions{Auth: f.auth, Router: router}
	srv := httptest.NewServer(sessions.Middleware(router))
	f.t.Cleanup(srv.Close)
	return srv
}

// call sends a request with a bearer token and returns status and body.
func call(t testing.TB, srv *httptest.Server, who person, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
