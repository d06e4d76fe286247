package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"socle/internal/platform/auth"
	"socle/internal/platform/web"
)

// createUser makes an account for a test.
func (s *testServer) createUser(tb testing.TB, email string, g auth.Grant) int64 {
	tb.Helper()
	id, err := s.app.Auth.CreateUser(context.Background(), auth.NewUser{Email: email, Password: testPassword, Grants: []auth.Grant{g}})
	if err != nil {
		tb.Fatalf("create %s: %v", email, err)
	}
	return id
}

// expectError checks an error answer: status, stable code, a message in
// French (never the code itself, nor English), and the field in cause.
func expectError(t *testing.T, r reply, what string, status int, code, field string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
		return
	}
	e := r.apiError(t)
	if e.Code != code {
		t.Errorf("%s: code %q, want %q (%s)", what, e.Code, code, r.Body)
	}
	if !looksFrench(e.Message) {
		t.Errorf("%s: message %q is not a French sentence", what, e.Message)
	}
	if field != "" && e.Fields[field] == "" {
		t.Errorf("%s: no message for field %q in %s", what, field, r.Body)
	}
}

// looksFrench is a coarse check that a message is written for people, in
// French: a capital, a final full stop, and a French word or accent.
func looksFrench(s string) bool {
	if s == "" || strings.ToUpper(s[:1]) != s[:1] || !strings.HasSuffix(s, ".") {
		return false
	}
	for _, w := range []string{"é", "è", "ê", "à", "ç", " de ", " ou ", "Veuillez", "invalide", "inconnu", "introuvable"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// A search with a filter it cannot read is refused with a stable code
// naming the parameter, rather than answered as if the filter were absent.
func TestAPISearchRejectsInvalidFilters(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createUser(t, "admin@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	tok := s.login(t, "admin@exemple.test", testPassword)
	cases := []struct {
		query, code, field string
	}{
		{"type=lycée", "invalid_filter", "type"},
		{"type=ECOLE", "invalid_filter", "type"},
		{"sector=privé", "invalid_filter", "sector"},
		{"rep=rep", "invalid_filter", "rep"},
		{"rep=oui", "invalid_filter", "rep"},
		{"q=" + strings.Repeat("a", 201), "invalid_filter", "q"},
		{"limit=0", "invalid_parameter", "limit"},
		{"limit=201", "invalid_parameter", "limit"},
		{"limit=dix", "invalid_parameter", "limit"},
		{"offset=-1", "invalid_parameter", "offset"},
		{"offset=1.5", "invalid_parameter", "offset"},
		{"responsible=abc", "invalid_parameter", "responsible"},
		{"responsible=0", "invalid_parameter", "responsible"},
	}
	for _, c := range cases {
		r := s.get(t, "/api/v1/establishments?"+c.query, tok)
		expectError(t, r, c.query, http.StatusBadRequest, c.code, c.field)
	}
	// The bounds themselves are accepted, and the page size applied is
	// said in the answer.
	for query, limit := range map[string]int{"": 50, "limit=1": 1, "limit=200": 200, "q=" + strings.Repeat("a", 200): 50} {
		r := s.get(t, "/api/v1/establishments?"+query, tok)
		var res apiSearchResult
		r.json(t, &res)
		if r.Status != http.StatusOK || res.Limit != limit {
			t.Errorf("%.20s: %d, limit %d; want 200, limit %d", query, r.Status, res.Limit, limit)
		}
	}
}

// The login's errors: a body that is not the expected JSON, wrong
// credentials that do not say which part is wrong, and throttling after 5
// failures that holds even against the right password.
func TestAPILoginErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createUser(t, "agent@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	s.createUser(t, "autre@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	post := func(body string) reply {
		t.Helper()
		r := s.do(t, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: body})
		s.doc.checkReply(t, http.MethodPost, "/api/v1/auth/login", r)
		return r
	}
	for _, body := range []string{`{`, `[]`, `"x"`, `{"email":1,"password":"x"}`, `{"email":"agent@exemple.test","password":"x","remember":true}`, ``} {
		expectError(t, post(body), "login "+body, http.StatusBadRequest, "invalid_json", "")
	}
	expectError(t, post(`{"email":"`+strings.Repeat("a", 9<<10)+`","password":"x"}`), "huge login", http.StatusRequestEntityTooLarge, "body_too_large", "")

	wrong := post(`{"email":"agent@exemple.test","password":"pas-le-bon"}`)
	expectError(t, wrong, "wrong password", http.StatusUnauthorized, "bad_credentials", "")
	unknown := post(`{"email":"personne@exemple.test","password":"pas-le-bon"}`)
	expectError(t, unknown, "unknown account", http.StatusUnauthorized, "bad_credentials", "")
	if wrong.apiError(t).Message != unknown.apiError(t).Message {
		t.Errorf("a wrong password and an unknown account answer differently: %s / %s", wrong.Body, unknown.Body)
	}

	// Four more failures make five; the sixth attempt is refused even with
	// the right password, and the other accounts are not affected.
	for i := 0; i < 4; i++ {
		expectError(t, post(`{"email":"agent@exemple.test","password":"pas-le-bon"}`), "failure", http.StatusUnauthorized, "bad_credentials", "")
	}
	expectError(t, post(`{"email":"agent@exemple.test","password":"`+testPassword+`"}`), "after 5 failures", http.StatusTooManyRequests, "too_many_attempts", "")
	expectError(t, post(`{"email":"AGENT@exemple.test ","password":"`+testPassword+`"}`), "same account, other spelling", http.StatusTooManyRequests, "too_many_attempts", "")
	if tok := s.login(t, "autre@exemple.test", testPassword); !strings.HasPrefix(tok, auth.TokenPrefix) {
		t.Errorf("token %q lacks the %s prefix", tok, auth.TokenPrefix)
	}
}

// The API is also open to the web UI's session cookie; then, as for the
// pages, a state-changing call must carry the CSRF token. A script that
// logs in with no cookie needs none.
func TestAPISessionCookieNeedsCSRF(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	ctx := context.Background()
	uid := s.createUser(t, "agent@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	secret, csrf, _, err := s.app.Auth.StartSession(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	cookie := []*http.Cookie{{Name: web.SessionCookie, Value: secret}}
	login := `{"email":"agent@exemple.test","password":"` + testPassword + `"}`

	r := s.do(t, request{Path: "/api/v1/me", Cookies: cookie})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "agent@exemple.test") {
		t.Fatalf("GET /api/v1/me with the session cookie: %d %s", r.Status, r.Body)
	}

	r = s.do(t, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: login, Cookies: cookie})
	s.doc.checkReply(t, http.MethodPost, "/api/v1/auth/login", r)
	expectError(t, r, "POST with the session cookie, no CSRF token", http.StatusForbidden, "csrf", "")

	r = s.do(t, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: login, Cookies: cookie,
		Header: map[string]string{web.CSRFHeader: csrf + "x"}})
	expectError(t, r, "POST with the session cookie, wrong CSRF token", http.StatusForbidden, "csrf", "")

	r = s.do(t, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: login, Cookies: cookie,
		Header: map[string]string{web.CSRFHeader: csrf}})
	if r.Status != http.StatusOK {
		t.Errorf("POST with the session cookie and its CSRF token: %d %s", r.Status, r.Body)
	}

	r = s.do(t, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: login})
	if r.Status != http.StatusOK {
		t.Errorf("POST with no cookie at all (a script): %d %s", r.Status, r.Body)
	}
}

// A path or a method the API does not have answers in JSON, like every
// other API error, and a wrong method says which ones exist.
func TestAPIUnknownRoutesAnswerJSON(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createUser(t, "admin@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	tok := s.login(t, "admin@exemple.test", testPassword)
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{http.MethodGet, "/api/v1/nothing-here", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/api/v2/establishments", http.StatusNotFound, "not_found", ""},
		{http.MethodDelete, "/api/v1/establishments/0350001A", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodGet, "/api/v1/auth/login", http.StatusMethodNotAllowed, "method_not_allowed", "POST"},
	} {
		r := s.do(t, request{Method: c.method, Path: c.path, Token: tok})
		expectError(t, r, c.method+" "+c.path, c.status, c.code, "")
		if got := r.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}
