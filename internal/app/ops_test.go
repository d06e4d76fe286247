package app

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"socle/internal/platform/auth"
)

// The probes: /healthz says the process lives, /readyz that the database
// answers, and stops saying so when it does not.
func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		r := s.do(t, request{Path: path})
		var body struct{ Status string }
		r.json(t, &body)
		if r.Status != http.StatusOK || body.Status != want {
			t.Errorf("GET %s: %d %s, want 200 %q", path, r.Status, r.Body, want)
		}
	}
	// The database goes away: the process still lives, but is not ready.
	if err := s.app.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if r := s.do(t, request{Path: "/readyz"}); r.Status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the database closed: %d %s, want 503", r.Status, r.Body)
	}
	if r := s.do(t, request{Path: "/healthz"}); r.Status != http.StatusOK {
		t.Errorf("GET /healthz with the database closed: %d, want 200", r.Status)
	}
}

// socle_http_requests_total is labelled by the route pattern, never by the
// raw path: one series per establishment would swamp Prometheus, and a
// path can hold personal data.
func TestMetricsLabelRoutesNotPaths(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createUser(t, "admin@exemple.test", auth.Grant{Role: auth.RolePlatformAdmin})
	tok := s.login(t, "admin@exemple.test", testPassword)
	uais := []string{"0350001A", "0350002B", "0359999Z"}
	for _, u := range uais {
		s.do(t, request{Path: "/api/v1/establishments/" + u, Token: tok})
	}
	s.do(t, request{Path: "/api/v1/establishments?q=jaures", Token: tok})
	s.do(t, request{Path: "/healthz"})
	s.do(t, request{Path: "/no/such/page/0350001A"})

	r := s.do(t, request{Path: "/metrics"})
	if r.Status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", r.Status)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "socle_http_requests_total{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		series[line[:i]] = v
	}
	want := map[string]float64{
		`socle_http_requests_total{method="GET",route="GET /api/v1/establishments/{uai}",status="404"}`: 3,
		`socle_http_requests_total{method="GET",route="GET /api/v1/establishments",status="200"}`:       1,
		`socle_http_requests_total{method="POST",route="POST /api/v1/auth/login",status="200"}`:         1,
		`socle_http_requests_total{method="GET",route="GET /healthz",status="200"}`:                     1,
	}
	for k, v := range want {
		if series[k] != v {
			t.Errorf("%s = %v, want %v", k, series[k], v)
		}
	}
	for k := range series {
		for _, u := range uais {
			if strings.Contains(k, u) {
				t.Errorf("a series is labelled with a raw path: %s", k)
			}
		}
		if strings.Contains(k, "jaures") {
			t.Errorf("a series holds the query string: %s", k)
		}
	}
	if !bytes.Contains(r.Body, []byte("socle_http_request_duration_seconds_bucket")) || !bytes.Contains(r.Body, []byte("go_goroutines")) {
		t.Error("/metrics lacks the request durations or the Go runtime metrics")
	}
}
