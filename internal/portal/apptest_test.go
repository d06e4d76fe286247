package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"socle/internal/app"
	"socle/internal/demo"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
)

// demoServer is the whole application, every middleware included, on the
// demo territory, served over loopback HTTP on the engine of the run.
type demoServer struct {
	app *app.App
	srv *httptest.Server
}

func newDemoServer(tb testing.TB) *demoServer {
	tb.Helper()
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DatabaseURL: dbtest.URL(tb), DataDir: tb.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("open app: %v", err)
	}
	if _, created, err := a.SeedDemo(ctx); err != nil || !created {
		a.Close()
		tb.Fatalf("seed demo: %v %v", created, err)
	}
	h, err := a.Handler()
	if err != nil {
		a.Close()
		tb.Fatalf("build handler: %v", err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &demoServer{app: a, srv: srv}
}

// userID finds an account by e-mail.
func (s *demoServer) userID(tb testing.TB, email string) int64 {
	tb.Helper()
	var id int64
	if err := s.app.DB.QueryRowContext(context.Background(), `SELECT id FROM users WHERE email = ?`, email).Scan(&id); err != nil {
		tb.Fatalf("user %s: %v", email, err)
	}
	return id
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// loginForm is what a browser holds before posting the login form: the
// CSRF cookie and the token of the form.
type loginForm struct {
	cookies []*http.Cookie
	token   string
}

// openLoginForm loads the login page as a browser does.
func (s *demoServer) openLoginForm(tb testing.TB, c *http.Client) loginForm {
	tb.Helper()
	resp, err := c.Get(s.srv.URL + "/connexion")
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		tb.Fatalf("login page: %d, csrf field found: %v", resp.StatusCode, m != nil)
	}
	return loginForm{cookies: resp.Cookies(), token: string(m[1])}
}

// postLogin posts the login form and returns the session cookie (nil when
// the login failed).
func (s *demoServer) postLogin(c *http.Client, f loginForm, email, password string) (*http.Cookie, int, error) {
	form := url.Values{"email": {email}, "password": {password}, "csrf": {f.token}}
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+"/connexion", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range f.cookies {
		req.AddCookie(ck)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == web.SessionCookie && ck.Value != "" {
			return ck, resp.StatusCode, nil
		}
	}
	return nil, resp.StatusCode, nil
}

// noRedirect is a client that reports redirects instead of following
// them, as the login answers one.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs a demo account in through the form and returns its session.
func (s *demoServer) login(tb testing.TB, email string) *http.Cookie {
	tb.Helper()
	c := noRedirect()
	ck, status, err := s.postLogin(c, s.openLoginForm(tb, c), email, demo.Password)
	if err != nil || ck == nil || status != http.StatusSeeOther {
		tb.Fatalf("login %s: status %d, session %v, %v", email, status, ck != nil, err)
	}
	return ck
}

// home gets the home page with a session.
func (s *demoServer) home(tb testing.TB, session *http.Cookie) string {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/", nil)
	req.AddCookie(session)
	resp, err := noRedirect().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("home: %d %s", resp.StatusCode, b)
	}
	return string(b)
}
