package sso

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/web"
	"socle/internal/portal"
	"socle/internal/territory"
	assets "socle/web"
)

const testPassword = "correct horse battery"

// fixture is a Socle serving the real portal (/connexion) and this
// package's handler behind the middleware chain of internal/app, with the
// session middleware exempting ExemptPaths as the app configures it.
type fixture struct {
	t       *testing.T
	db      *db.DB
	auth    *auth.Service
	svc     *Service
	srv     *httptest.Server
	admin   *auth.Principal
	pupilID int64
	// renderer is the pages' renderer; a test that configures delegation
	// sets its Site.ExternalLogin as the app does.
	renderer *web.Renderer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureExempt(t, ExemptPaths())
}

// newFixtureExempt builds the fixture with the given session-middleware
// exemptions (nil: none, to show why the app needs them).
func newFixtureExempt(t *testing.T, exemptPaths []string) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := dbtest.Open(t, auth.Migrations(), territory.Migrations(), Migrations())
	authSvc := auth.NewService(d, auth.DefaultSettings(), log)
	f := &fixture{t: t, db: d, auth: authSvc}
	adminID, err := authSvc.CreateUser(ctx, auth.NewUser{Email: "admin@socle.test", DisplayName: "Admin", Password: testPassword,
		Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	if f.admin, err = authSvc.Principal(ctx, adminID); err != nil {
		t.Fatal(err)
	}
	f.pupilID, err = authSvc.CreateUser(ctx, auth.NewUser{Email: "lea.martin@eleve.test", DisplayName: "Léa Martin", Password: testPassword,
		Grants: []auth.Grant{{Role: auth.RolePupil, OrgID: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := web.NewRenderer(assets.Templates(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	renderer.Site = web.SiteInfo{Name: "Socle"}
	f.renderer = renderer
	var handler http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	f.svc = NewService(d, authSvc, log, Options{Issuer: f.srv.URL,
		UAIs: func(context.Context, *auth.Principal) ([]string, error) { return []string{"0750001A"}, nil }})

	router := web.NewRouter(log, renderer.ErrorPage)
	sessions := &web.Sessions{Auth: authSvc, Router: router, Exempt: exemptPaths}
	portal.NewHandler(authSvc, territory.NewService(d, authSvc, log), renderer, sessions).Routes(router)
	NewHandler(f.svc, renderer).Routes(router)
	handler = web.Chain(router,
		web.Instrument(log, nil),
		web.Recover(log, router),
		web.SecurityHeaders,
		http.NewCrossOriginProtection().Handler,
		sessions.Middleware,
	)
	return f
}

// browser is a cookie-keeping client that does not follow redirects, so
// that each hop can be checked.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) get(c *http.Client, rawURL string) *http.Response {
	f.t.Helper()
	resp, err := c.Get(rawURL)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login posts the real login form, as a browser would, and returns where
// the portal sends the browser next.
func (f *fixture) login(c *http.Client, email, retour string) string {
	f.t.Helper()
	f.get(c, f.srv.URL+"/connexion")
	u, _ := url.Parse(f.srv.URL)
	var csrf string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "socle_csrf" {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		f.t.Fatal("no CSRF cookie from /connexion")
	}
	resp, err := c.PostForm(f.srv.URL+"/connexion", url.Values{"email": {email}, "password": {testPassword}, "csrf": {csrf}, "retour": {retour}})
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login: status %d: %s", resp.StatusCode, body(f.t, resp))
	}
	return resp.Header.Get("Location")
}

// sessionCookie returns the browser's Socle session secret.
func (f *fixture) sessionCookie(c *http.Client) string {
	u, _ := url.Parse(f.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == web.SessionCookie {
			return ck.Value
		}
	}
	return ""
}

func location(t *testing.T, resp *http.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d: %s", resp.StatusCode, body(t, resp))
	}
	return resp.Header.Get("Location")
}

func (f *fixture) abs(loc string) string {
	if strings.HasPrefix(loc, "/") {
		return f.srv.URL + loc
	}
	return loc
}
