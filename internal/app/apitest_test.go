package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"socle/internal/platform/db/dbtest"
)

// testServer is the real application handler, with every middleware,
// served over HTTP on a fresh database of the engine the run is for.
type testServer struct {
	app *App
	srv *httptest.Server
	// doc is the OpenAPI document, to hold every answer to it.
	doc *apiDoc
}

func newTestServer(tb testing.TB) *testServer {
	tb.Helper()
	ctx := context.Background()
	cfg := Config{DatabaseURL: dbtest.URL(tb), DataDir: tb.TempDir()}
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("open app: %v", err)
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
	return &testServer{app: a, srv: srv, doc: loadAPIDoc(tb)}
}

// reply is an answer, its body read.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// json decodes the body into v, failing the test when it is not JSON.
func (r reply) json(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("answer is not JSON (%v): %s", err, r.Body)
	}
}

// apiError decodes an error answer.
func (r reply) apiError(tb testing.TB) apiErrorBody {
	tb.Helper()
	var e apiErrorBody
	r.json(tb, &e)
	return e
}

type apiErrorBody struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// request is one call; token is sent as a bearer token when not empty.
type request struct {
	Method, Path string
	Token        string
	Body         string
	Header       map[string]string
	Cookies      []*http.Cookie
}

func (s *testServer) do(tb testing.TB, rq request) reply {
	tb.Helper()
	if rq.Method == "" {
		rq.Method = http.MethodGet
	}
	var body io.Reader
	if rq.Body != "" {
		body = strings.NewReader(rq.Body)
	}
	req, err := http.NewRequest(rq.Method, s.srv.URL+rq.Path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if rq.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.Token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.Token)
	}
	for k, v := range rq.Header {
		req.Header.Set(k, v)
	}
	for _, c := range rq.Cookies {
		req.AddCookie(c)
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", rq.Method, rq.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", rq.Method, rq.Path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// get calls a route and checks the answer against the OpenAPI document:
// its status must be documented for the route, and its body must match
// the documented schema.
func (s *testServer) get(tb testing.TB, path, token string) reply {
	tb.Helper()
	r := s.do(tb, request{Path: path, Token: token})
	s.doc.checkReply(tb, http.MethodGet, path, r)
	return r
}

// login gets an API token through the API, as a client would.
func (s *testServer) login(tb testing.TB, email, password string) string {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	r := s.do(tb, request{Method: http.MethodPost, Path: "/api/v1/auth/login", Body: string(body)})
	s.doc.checkReply(tb, http.MethodPost, "/api/v1/auth/login", r)
	if r.Status != http.StatusOK {
		tb.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.json(tb, &out)
	return out.Token
}

// compactJSON is used in messages, to show a body on one line.
func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}
