package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"socle/internal/platform/auth"
	"socle/internal/platform/db/dbtest"
	"socle/internal/platform/problem"
	"socle/internal/platform/web"
)

var discard = slog.New(slog.DiscardHandler)

// errorPage stands for the HTML error page the application gives the
// router: it writes the status and message as plain text.
func errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("PAGE " + message))
}

func ok(w http.ResponseWriter, r *http.Request) error { return nil }

// The router records its patterns in mounting order, and hands out a copy.
func TestRouterPatterns(t *testing.T) {
	rt := web.NewRouter(discard, errorPage)
	rt.Handle("GET /a", ok)
	rt.HandleHTTP("GET /static/", http.NotFoundHandler())
	rt.Handle("POST /api/v1/b/{id}", ok)
	want := []string{"GET /a", "GET /static/", "POST /api/v1/b/{id}"}
	got := rt.Patterns()
	if !slices.Equal(got, want) {
		t.Fatalf("Patterns() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if rt.Patterns()[0] != "GET /a" {
		t.Fatal("Patterns() returned the router's own slice")
	}
}

// An error is answered in the caller's language: JSON with a stable code
// under /api/, the error page elsewhere; nobody sees an internal cause.
func TestErrorsAnswerInTheCallersLanguage(t *testing.T) {
	rt := web.NewRouter(discard, errorPage)
	fail := func(err error) web.HandlerFunc {
		return func(http.ResponseWriter, *http.Request) error { return err }
	}
	rt.Handle("GET /api/v1/missing", fail(problem.NotFound("Établissement")))
	rt.Handle("GET /api/v1/private", fail(problem.Unauthenticated()))
	rt.Handle("GET /api/v1/broken", fail(errors.New("pq: relation secret_table does not exist")))
	rt.Handle("GET /page/missing", fail(problem.NotFound("Établissement")))
	rt.Handle("GET /page/private", fail(problem.Unauthenticated()))
	rt.Handle("GET /page/broken", fail(errors.New("pq: relation secret_table does not exist")))

	cases := []struct {
		path        string
		status      int
		code        string // JSON answers
		page        string // HTML answers: the start of the body
		location    string
		wwwAuth     bool
		contentType string
	}{
		{path: "/api/v1/missing", status: 404, code: "not_found", contentType: "application/json"},
		{path: "/api/v1/private", status: 401, code: "unauthenticated", wwwAuth: true, contentType: "application/json"},
		{path: "/api/v1/broken", status: 500, code: "internal", contentType: "application/json"},
		{path: "/page/missing", status: 404, page: "PAGE Établissement introuvable.", contentType: "text/html"},
		{path: "/page/private?x=1", status: 303, location: "/connexion?retour=" + url.QueryEscape("/page/private?x=1")},
		{path: "/page/broken", status: 500, page: "PAGE Une erreur interne", contentType: "text/html"},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
		body := w.Body.String()
		if w.Code != c.status {
			t.Errorf("%s: %d %s, want %d", c.path, w.Code, body, c.status)
			continue
		}
		if strings.Contains(body, "secret_table") {
			t.Errorf("%s: the internal cause reached the answer: %s", c.path, body)
		}
		if c.contentType != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), c.contentType) {
			t.Errorf("%s: Content-Type %q, want %s", c.path, w.Header().Get("Content-Type"), c.contentType)
		}
		if c.code != "" {
			var e web.APIError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != c.code || e.Message == "" {
				t.Errorf("%s: %s, want code %s and a message", c.path, body, c.code)
			}
		}
		if c.page != "" && !strings.HasPrefix(body, c.page) {
			t.Errorf("%s: page %q, want it to start with %q", c.path, body, c.page)
		}
		if got := w.Header().Get("Location"); got != c.location {
			t.Errorf("%s: Location %q, want %q", c.path, got, c.location)
		}
		if got := w.Header().Get("WWW-Authenticate") != ""; got != c.wwwAuth {
			t.Errorf("%s: WWW-Authenticate present = %v, want %v", c.path, got, c.wwwAuth)
		}
	}
}

// The CSRF rule: state-changing requests carried by a session cookie, and
// anonymous HTML form posts, must bear the token; bearer-token calls and
// anonymous API calls (a script logging in) bear none.
func TestSessionsCSRF(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, auth.Migrations())
	authSvc := auth.NewService(d, auth.DefaultSettings(), discard)
	uid, err := authSvc.CreateUser(ctx, auth.NewUser{Email: "a@exemple.test", Password: "mot-de-passe-long", Grants: []auth.Grant{{Role: auth.RolePlatformAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	secret, csrf, _, err := authSvc.StartSession(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := authSvc.IssueToken(ctx, uid, "test")
	if err != nil {
		t.Fatal(err)
	}

	rt := web.NewRouter(discard, errorPage)
	sessions := &web.Sessions{Auth: authSvc, Router: rt}
	whoami := func(w http.ResponseWriter, r *http.Request) error {
		p := web.PrincipalFrom(r.Context())
		name := "anonymous"
		if !p.IsAnonymous() {
			name = p.User.Email
		}
		_, err := w.Write([]byte(name))
		return err
	}
	rt.Handle("POST /api/v1/do", whoami)
	rt.Handle("POST /form", whoami)
	rt.Handle("GET /api/v1/read", whoami)
	h := sessions.Middleware(rt)

	const anonCSRF = "anonymous-csrf-token-0123456789"
	cases := []struct {
		name, method, path   string
		session, bearer      bool
		csrfHeader, csrfForm string
		anonCookie           bool
		status               int
		who                  string
	}{
		{name: "API, no session", method: "POST", path: "/api/v1/do", status: 200, who: "anonymous"},
		{name: "API, bearer", method: "POST", path: "/api/v1/do", bearer: true, status: 200, who: "a@exemple.test"},
		{name: "API, session, no token", method: "POST", path: "/api/v1/do", session: true, status: 403},
		{name: "API, session, wrong token", method: "POST", path: "/api/v1/do", session: true, csrfHeader: "nope", status: 403},
		{name: "API, session, token", method: "POST", path: "/api/v1/do", session: true, csrfHeader: csrf, status: 200, who: "a@exemple.test"},
		{name: "API read, session", method: "GET", path: "/api/v1/read", session: true, status: 200, who: "a@exemple.test"},
		{name: "form, anonymous, no token", method: "POST", path: "/form", status: 403},
		{name: "form, anonymous, cookie token", method: "POST", path: "/form", anonCookie: true, csrfForm: anonCSRF, status: 200, who: "anonymous"},
		{name: "form, session, no token", method: "POST", path: "/form", session: true, status: 403},
		{name: "form, session, form token", method: "POST", path: "/form", session: true, csrfForm: csrf, status: 200, who: "a@exemple.test"},
	}
	for _, c := range cases {
		var body *strings.Reader
		if c.csrfForm != "" {
			body = strings.NewReader(url.Values{web.CSRFField: {c.csrfForm}}.Encode())
		} else {
			body = strings.NewReader("")
		}
		req := httptest.NewRequest(c.method, c.path, body)
		if c.csrfForm != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if c.session {
			req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
		}
		if c.anonCookie {
			req.AddCookie(&http.Cookie{Name: "socle_csrf", Value: anonCSRF})
		}
		if c.bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if c.csrfHeader != "" {
			req.Header.Set(web.CSRFHeader, c.csrfHeader)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.status || (c.who != "" && w.Body.String() != c.who) {
			t.Errorf("%s: %d %q, want %d %q", c.name, w.Code, w.Body.String(), c.status, c.who)
		}
	}
}

// Metrics carry the route pattern, never the raw path, and requests no
// route takes are counted apart.
func TestInstrumentLabelsRoutePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	rt := web.NewRouter(discard, errorPage)
	rt.Handle("GET /things/{id}", ok)
	h := web.Instrument(discard, web.NewMetrics(reg))(rt)
	for _, p := range []string{"/things/1", "/things/2", "/things/3", "/elsewhere/4"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "socle_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var route, status string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "route":
					route = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			got[route+" "+status] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"GET /things/{id} 200": 3, "unmatched 404": 1}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestFormatEuros(t *testing.T) {
	for _, c := range []struct {
		cents     int64
		withCents bool
		want      string
	}{
		{123456, true, "1\u202f234,56\u00a0€"},
		{123456, false, "1\u202f235\u00a0€"},
		{5, true, "0,05\u00a0€"},
		{-380000, true, "-3\u202f800,00\u00a0€"},
		{-49, false, "0\u00a0€"},
		{3810000, false, "38\u202f100\u00a0€"},
	} {
		if got := web.FormatEuros(c.cents, c.withCents); got != c.want {
			t.Errorf("FormatEuros(%d, %v) = %q, want %q", c.cents, c.withCents, got, c.want)
		}
	}
}
