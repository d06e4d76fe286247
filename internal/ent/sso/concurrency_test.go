package sso

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
)

// A ticket or a code raced by several validators (as several processes
// sharing the database would) is granted once.
func TestSingleUseUnderRace(t *testing.T) {
	f := newFixture(t)
	f.registerApp(t)
	app := f.relyingParty(t, false, "course")
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	service := "https://app.example.fr/"
	ticket := f.ticketFor(b, service)
	v := oauth2.GenerateVerifier()
	code := f.authorize(t, b, app.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v))).Get("code")

	var tickets, codes atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			val, err := f.svc.ValidateTicket(context.Background(), ticket, service, false)
			if err == nil && val.User != "" {
				tickets.Add(1)
			}
		})
		wg.Go(func() {
			if _, err := app.conf.Exchange(context.Background(), code, oauth2.VerifierOption(v)); err == nil {
				codes.Add(1)
			}
		})
	}
	wg.Wait()
	if tickets.Load() != 1 || codes.Load() != 1 {
		t.Errorf("granted %d tickets and %d codes out of 8 attempts each, want 1 and 1", tickets.Load(), codes.Load())
	}
}

// Without the exemption of ExemptPaths, the session middleware refuses the
// token endpoint (no CSRF token in a server-to-server call) and takes the
// userinfo bearer for an API token: this is why the app must exempt them.
func TestExemptionIsNeeded(t *testing.T) {
	f := newFixtureExempt(t, nil)
	resp, err := http.PostForm(f.srv.URL+"/oidc/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"y"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if text := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "expiré") {
		t.Errorf("token without exemption: %d %s", resp.StatusCode, text)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer abc")
	resp2, err := f.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	// The platform answers for us: its "invalid API token", sent to the
	// login page since the path is not under /api/.
	if resp2.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp2.Header.Get("Location"), "/connexion") {
		t.Errorf("userinfo without exemption answered by: %d %v", resp2.StatusCode, resp2.Header)
	}
}
