package sso

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// casResponse reads a serviceResponse the way CAS clients do.
type casResponse struct {
	Success *struct {
		User       string `xml:"user"`
		Attributes struct {
			Email          string   `xml:"email"`
			DisplayName    string   `xml:"displayName"`
			Role           []string `xml:"role"`
			UAI            []string `xml:"uai"`
			IsFromNewLogin bool     `xml:"isFromNewLogin"`
		} `xml:"attributes"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code string `xml:"code,attr"`
	} `xml:"authenticationFailure"`
}

func (f *fixture) validate(path, ticket, service string, extra ...string) casResponse {
	f.t.Helper()
	q := url.Values{"ticket": {ticket}, "service": {service}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	resp := f.get(http.DefaultClient, f.srv.URL+path+"?"+q.Encode())
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	var cr casResponse
	if err := xml.NewDecoder(resp.Body).Decode(&cr); err != nil {
		f.t.Fatal(err)
	}
	return cr
}

func (f *fixture) registerApp(t *testing.T) CASService {
	t.Helper()
	svc, err := f.svc.RegisterCASService(context.Background(), f.admin, NewCASService{Name: "Pronote", Match: MatchPrefix,
		Pattern: "https://app.example.fr/", Attributes: []string{AttrEmail, AttrDisplayName, AttrRole, AttrUAI}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// ticketFor drives /cas/login with a logged-in browser.
func (f *fixture) ticketFor(c *http.Client, service string, extra ...string) string {
	f.t.Helper()
	q := url.Values{"service": {service}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	loc := location(f.t, f.get(c, f.srv.URL+"/cas/login?"+q.Encode()))
	prefix := service + "?ticket="
	if strings.Contains(service, "?") {
		prefix = service + "&ticket="
	}
	if !strings.HasPrefix(loc, prefix) {
		f.t.Fatalf("redirected to %q, want %s...", loc, prefix)
	}
	tk, _ := url.QueryUnescape(strings.TrimPrefix(loc, prefix))
	return tk
}

func TestCASLoginAndValidation(t *testing.T) {
	f := newFixture(t)
	f.registerApp(t)
	b := f.browser()
	service := "https://app.example.fr/cahier?classe=6A"

	// Anonymous: to the login page, and back to /cas/login after it.
	loc := location(t, f.get(b, f.srv.URL+"/cas/login?service="+url.QueryEscape(service)))
	if !strings.HasPrefix(loc, "/connexion?retour=") {
		t.Fatalf("anonymous /cas/login went to %q", loc)
	}
	retour, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/connexion?retour="))
	next := f.login(b, "lea.martin@eleve.test", retour)
	if !strings.HasPrefix(next, "/cas/login?") {
		t.Fatalf("login sent the browser to %q", next)
	}
	loc = location(t, f.get(b, f.abs(next)))
	if !strings.HasPrefix(loc, service+"&ticket=ST-") {
		t.Fatalf("after login: redirected to %q", loc)
	}
	ticket := strings.TrimPrefix(loc, service+"&ticket=")

	r := f.validate("/cas/p3/serviceValidate", ticket, service)
	if r.Success == nil {
		t.Fatalf("validation failed: %+v", r.Failure)
	}
	a := r.Success.Attributes
	if a.Email != "lea.martin@eleve.test" || a.DisplayName != "Léa Martin" || len(a.Role) != 1 || a.Role[0] != "pupil" ||
		len(a.UAI) != 1 || a.UAI[0] != "0750001A" || !a.IsFromNewLogin {
		t.Errorf("attributes = %+v", a)
	}
	if r.Success.User == "" || strings.Contains(r.Success.User, "@") {
		t.Errorf("cas:user must be a pairwise identifier, got %q", r.Success.User)
	}
	pairwise := r.Success.User

	// Single use: the same ticket again is refused.
	if r := f.validate("/cas/p3/serviceValidate", ticket, service); r.Failure == nil || r.Failure.Code != "INVALID_TICKET" {
		t.Errorf("replayed ticket: %+v", r)
	}

	// With the session now open, no login page: a ticket at once, not
	// from a new login; CAS 2.0 gives the same user and no attributes.
	t2 := f.ticketFor(b, service)
	r = f.validate("/cas/serviceValidate", t2, service)
	if r.Success == nil || r.Success.User != pairwise || r.Success.Attributes.Email != "" {
		t.Errorf("CAS 2.0 validation: %+v", r)
	}

	// A ticket for another service is refused, and spent.
	t3 := f.ticketFor(b, service)
	if r := f.validate("/cas/p3/serviceValidate", t3, "https://app.example.fr/autre"); r.Failure == nil || r.Failure.Code != "INVALID_SERVICE" {
		t.Errorf("ticket for another service: %+v", r)
	}
	if r := f.validate("/cas/p3/serviceValidate", t3, service); r.Failure == nil {
		t.Error("a ticket refused once must be spent")
	}

	// A ticket validated with renew=true must come from a new login.
	t4 := f.ticketFor(b, service)
	if r := f.validate("/cas/p3/serviceValidate", t4, service, "renew", "true"); r.Failure == nil || r.Failure.Code != "INVALID_TICKET" {
		t.Errorf("renew validation of an SSO ticket: %+v", r)
	}

	// Malformed requests.
	if r := f.validate("/cas/serviceValidate", "", service); r.Failure == nil || r.Failure.Code != "INVALID_REQUEST" {
		t.Errorf("missing ticket: %+v", r)
	}
	if r := f.validate("/cas/serviceValidate", "PT-123", service); r.Failure == nil || r.Failure.Code != "INVALID_TICKET_SPEC" {
		t.Errorf("proxy ticket: %+v", r)
	}

	// Expired: five minutes and one second later.
	t5 := f.ticketFor(b, service)
	f.svc.now = func() time.Time { return time.Now().Add(TicketTTL + time.Second) }
	if r := f.validate("/cas/serviceValidate", t5, service); r.Failure == nil || r.Failure.Code != "INVALID_TICKET" {
		t.Errorf("expired ticket: %+v", r)
	}
	f.svc.now = time.Now
}

func TestCASUnregisteredService(t *testing.T) {
	f := newFixture(t)
	f.registerApp(t)
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	for _, service := range []string{"https://evil.example.com/", "https://app.example.fr.evil.example/", "javascript:alert(1)"} {
		resp := f.get(b, f.srv.URL+"/cas/login?service="+url.QueryEscape(service))
		text := body(t, resp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "n&#39;est pas autorisé") {
			t.Errorf("%s: status %d, page %q", service, resp.StatusCode, text)
		}
	}
	// Disabled services get nothing either.
	off := false
	if _, err := f.svc.RegisterCASService(context.Background(), f.admin, NewCASService{Name: "Ancien", Match: MatchRegex,
		Pattern: `https://old\.example\.fr/.*`, Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if resp := f.get(b, f.srv.URL+"/cas/login?service="+url.QueryEscape("https://old.example.fr/x")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disabled service: status %d", resp.StatusCode)
	}
}

func TestCASGatewayRenewLogout(t *testing.T) {
	f := newFixture(t)
	f.registerApp(t)
	service := "https://app.example.fr/"
	b := f.browser()

	// gateway without a session: back to the service, no ticket.
	if loc := location(t, f.get(b, f.srv.URL+"/cas/login?gateway=true&service="+url.QueryEscape(service))); loc != service {
		t.Errorf("gateway: redirected to %q", loc)
	}

	f.login(b, "lea.martin@eleve.test", "/")
	old := f.sessionCookie(b)
	// renew with a session: the session ends and the login page is asked
	// for again; the ticket after it is from a new login.
	loc := location(t, f.get(b, f.srv.URL+"/cas/login?renew=true&service="+url.QueryEscape(service)))
	if !strings.HasPrefix(loc, "/connexion?retour=") {
		t.Fatalf("renew went to %q", loc)
	}
	if p, _, _ := f.auth.SessionPrincipal(context.Background(), old); p != nil {
		t.Error("renew must end the current session")
	}
	retour, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/connexion?retour="))
	// A forged marker is not a fresh login.
	forged := strings.Replace(retour, "socle_fresh=", "socle_fresh=1.00", 1)
	f.login(b, "lea.martin@eleve.test", "/")
	if loc := location(t, f.get(b, f.abs(forged))); !strings.HasPrefix(loc, "/connexion?") {
		t.Errorf("forged fresh-login marker accepted: %q", loc)
	}
	next := f.login(b, "lea.martin@eleve.test", retour)
	loc = location(t, f.get(b, f.abs(next)))
	if !strings.HasPrefix(loc, service+"?ticket=") {
		t.Fatalf("renew after login: %q", loc)
	}
	tk := strings.TrimPrefix(loc, service+"?ticket=")
	if r := f.validate("/cas/p3/serviceValidate", tk, service, "renew", "true"); r.Success == nil || !r.Success.Attributes.IsFromNewLogin {
		t.Errorf("renewed ticket: %+v", r)
	}

	// logout: the session ends; back to a registered service only.
	secret := f.sessionCookie(b)
	if loc := location(t, f.get(b, f.srv.URL+"/cas/logout?service="+url.QueryEscape(service))); loc != service {
		t.Errorf("logout redirect: %q", loc)
	}
	if p, _, _ := f.auth.SessionPrincipal(context.Background(), secret); p != nil {
		t.Error("logout must end the session")
	}
	f.login(b, "lea.martin@eleve.test", "/")
	resp := f.get(b, f.srv.URL+"/cas/logout?service="+url.QueryEscape("https://evil.example.com/"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "Vous êtes déconnecté") {
		t.Errorf("logout with an unregistered service must stay here: %d", resp.StatusCode)
	}
}
