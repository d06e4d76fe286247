package sso

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"socle/internal/platform/auth"
)

// startProvider runs the certified npm oidc-provider (clienttest/
// provider.mjs) on loopback as the external provider, with a client for
// this Socle. Without node or the package, skipped locally, failed in CI.
func startProvider(t *testing.T, redirectURI string, accounts map[string]map[string]any) string {
	t.Helper()
	dir, _ := filepath.Abs("clienttest")
	_, nodeErr := exec.LookPath("node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider")); err != nil || nodeErr != nil {
		msg := "Node peer oidc-provider not installed: run `" + NpmCI + "` (needs node 20+)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	acc, _ := json.Marshal(accounts)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "provider.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CLIENT_ID=socle", "CLIENT_SECRET="+providerSecret, "REDIRECT_URI="+redirectURI, "ACCOUNTS="+string(acc))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oidc-provider stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		var ready struct{ Issuer string }
		if !ok || json.Unmarshal([]byte(line), &ready) != nil || ready.Issuer == "" {
			t.Fatalf("oidc-provider did not start: %q\n%s", line, stderr.String())
		}
		return ready.Issuer
	case <-time.After(30 * time.Second):
		t.Fatalf("oidc-provider did not start in 30 s\n%s", stderr.String())
	}
	return ""
}

const providerSecret = "secret-du-client-socle-chez-le-fournisseur"

// delegationFixture: a Socle whose login is delegated to oidc-provider.
type delegationFixture struct {
	*fixture
	issuer    string
	teacherID int64
}

func newDelegationFixture(t *testing.T) *delegationFixture {
	t.Helper()
	f := newFixture(t)
	teacherID, err := f.auth.CreateUser(context.Background(), auth.NewUser{Email: "paul.dupont@college.test", DisplayName: "Paul Dupont",
		Password: testPassword, Grants: []auth.Grant{{Role: auth.RoleTeacher, OrgID: 7}}})
	if err != nil {
		t.Fatal(err)
	}
	issuer := startProvider(t, f.srv.URL+DelegationCallbackPath, map[string]map[string]any{
		"ext-prof":     {"email": "Paul.Dupont@college.test", "email_verified": true, "given_name": "Paul"},
		"ext-lea":      {"email": "lea.martin@eleve.test", "email_verified": true},
		"ext-inconnu":  {"email": "personne@ailleurs.test", "email_verified": true},
		"ext-nonverif": {"email": "paul.dupont@college.test", "email_verified": false},
	})
	// Configured as the app does from its flags, once the provider's port
	// is known.
	f.svc.opts.Delegation = Delegation{Issuer: issuer, ClientID: "socle", ClientSecret: providerSecret, Label: "ÉduConnect", LinkByEmail: true}
	f.renderer.Site.ExternalLogin = f.svc.DelegationLabel()
	return &delegationFixture{fixture: f, issuer: issuer, teacherID: teacherID}
}

// loginAs makes the provider log in account, then walks the browser from
// Socle's button through the provider and back, and returns the last
// response (Socle's answer to the callback) and the callback URL.
func (f *delegationFixture) loginAs(b *http.Client, account string) (*http.Response, string) {
	f.t.Helper()
	resp, err := http.Get(f.issuer + "/_test/as?account=" + url.QueryEscape(account))
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	next := f.srv.URL + DelegationStartPath + "?retour=" + url.QueryEscape("/documents?dossier=3")
	for hop := 0; hop < 20; hop++ {
		resp := f.get(b, next)
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || strings.HasPrefix(next, f.srv.URL+DelegationCallbackPath) {
			return resp, next
		}
		loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			f.t.Fatal(err)
		}
		next = loc.String()
	}
	f.t.Fatal("too many redirects")
	return nil, ""
}

func (f *delegationFixture) sessionUser(b *http.Client) int64 {
	f.t.Helper()
	secret := f.sessionCookie(b)
	if secret == "" {
		return 0
	}
	p, _, err := f.auth.SessionPrincipal(context.Background(), secret)
	if err != nil || p == nil {
		return 0
	}
	return p.User.ID
}

func (f *delegationFixture) countUsers() int {
	var n int
	if err := f.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestDelegatedLoginWithOIDCProvider(t *testing.T) {
	f := newDelegationFixture(t)
	ctx := context.Background()
	users := f.countUsers()

	// A teacher whose verified e-mail matches: linked on first login,
	// logged in, sent back where they were going.
	b := f.browser()
	resp, cb := f.loginAs(b, "ext-prof")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/documents?dossier=3" {
		t.Fatalf("teacher's delegated login: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
	}
	if got := f.sessionUser(b); got != f.teacherID {
		t.Fatalf("session of user %d, want the teacher %d", got, f.teacherID)
	}
	links, err := f.svc.store.Links(ctx, f.teacherID)
	if err != nil || len(links) != 1 || links[0].Subject != "ext-prof" || links[0].LinkedBy != LinkedByEmail || links[0].Issuer != f.issuer {
		t.Errorf("links: %+v %v", links, err)
	}
	// The callback is single use.
	if resp := f.get(b, cb); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, resp), "expiré") {
		t.Errorf("replayed callback: %d", resp.StatusCode)
	}
	// Second login: through the stored link.
	b2 := f.browser()
	if resp, _ := f.loginAs(b2, "ext-prof"); resp.StatusCode != http.StatusSeeOther || f.sessionUser(b2) != f.teacherID {
		t.Errorf("second login: %d", resp.StatusCode)
	}

	// A pupil is never linked by e-mail: refused, in French, until an
	// administrator links the identity.
	b = f.browser()
	resp, _ = f.loginAs(b, "ext-lea")
	page := body(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "n&#39;est reliée à aucun compte") || !strings.Contains(page, "ÉduConnect") || f.sessionUser(b) != 0 {
		t.Fatalf("pupil's first delegated login: %d %s", resp.StatusCode, page)
	}
	if err := f.svc.LinkIdentity(ctx, f.admin, f.pupilID, "ext-lea"); err != nil {
		t.Fatal(err)
	}
	pupil, _ := f.auth.Principal(ctx, f.pupilID)
	if err := f.svc.LinkIdentity(ctx, pupil, f.pupilID, "ext-autre"); err == nil {
		t.Error("a pupil linked an identity herself")
	}
	if err := f.svc.LinkIdentity(ctx, f.admin, f.teacherID, "ext-lea"); err == nil {
		t.Error("one identity linked to two accounts")
	}
	b = f.browser()
	if resp, _ := f.loginAs(b, "ext-lea"); resp.StatusCode != http.StatusSeeOther || f.sessionUser(b) != f.pupilID {
		t.Errorf("pupil after the administrator's link: %d", resp.StatusCode)
	}

	// Unknown identity, or an e-mail the provider did not verify: refused,
	// no account created.
	for _, acc := range []string{"ext-inconnu", "ext-nonverif"} {
		b = f.browser()
		resp, _ := f.loginAs(b, acc)
		if resp.StatusCode != http.StatusForbidden || f.sessionUser(b) != 0 {
			t.Errorf("%s: %d", acc, resp.StatusCode)
		}
	}
	if got := f.countUsers(); got != users {
		t.Errorf("%d accounts after delegated logins, want %d (never provisioned)", got, users)
	}

	// Cancelled at the provider: a French page, no session.
	b = f.browser()
	if resp, _ := f.loginAs(b, ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body(t, resp), "pas abouti") {
		t.Errorf("cancelled login: %d", resp.StatusCode)
	}
}

// A callback that did not start in this browser is refused (no login CSRF),
// and the login page offers the button only when delegation is on.
func TestDelegationBindingAndButton(t *testing.T) {
	f := newDelegationFixture(t)
	attacker := f.browser()
	if _, err := http.Get(f.issuer + "/_test/as?account=ext-prof"); err != nil {
		t.Fatal(err)
	}
	// The attacker starts a login and stops at the callback...
	next := f.srv.URL + DelegationStartPath
	for !strings.HasPrefix(next, f.srv.URL+DelegationCallbackPath) {
		resp := f.get(attacker, next)
		loc, err := resp.Request.URL.Parse(location(t, resp))
		if err != nil {
			t.Fatal(err)
		}
		next = loc.String()
	}
	// ...and hands the callback URL to a victim's browser.
	victim := f.browser()
	resp := f.get(victim, next)
	if resp.StatusCode != http.StatusBadRequest || f.sessionCookie(victim) != "" {
		t.Errorf("callback in another browser: %d", resp.StatusCode)
	}

	// CAS sends an anonymous browser to /connexion with the button.
	if _, err := f.svc.RegisterCASService(context.Background(), f.admin, NewCASService{Name: "Moodle", Match: MatchPrefix,
		Pattern: "https://moodle.example.fr/"}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	loc := location(t, f.get(b, f.srv.URL+"/cas/login?service="+url.QueryEscape("https://moodle.example.fr/login")))
	page := body(t, f.get(b, f.abs(loc)))
	if !strings.Contains(page, "Se connecter avec ÉduConnect") || !strings.Contains(page, `href="/connexion/externe?retour=%2fcas%2flogin`) {
		t.Errorf("login page without the ÉduConnect button: %s", page)
	}
	if page := body(t, f.get(f.browser(), f.srv.URL+"/connexion")); !strings.Contains(page, "Se connecter avec ÉduConnect") {
		t.Errorf("plain login page without the button: %s", page)
	}
	// Without delegation configured, the routes do not exist.
	f.svc.opts.Delegation = Delegation{}
	if resp := f.get(f.browser(), f.srv.URL+DelegationStartPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delegation off: %d", resp.StatusCode)
	}
}

// The administrators' page links a pupil's identity; nobody else reaches it.
func TestIdentityLinksPage(t *testing.T) {
	f := newFixture(t)
	// No provider is contacted to link: only the configuration is needed.
	f.svc.opts.Delegation = Delegation{Issuer: "https://educonnect.example.fr/idp", ClientID: "socle", Label: "ÉduConnect"}
	admin := f.browser()
	f.login(admin, "admin@socle.test", "/")
	page := body(t, f.get(admin, f.srv.URL+linksPath))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "Aucune identité reliée") {
		t.Fatalf("links page: %s", page)
	}
	post := func(email, subject string) *http.Response {
		resp, err := admin.PostForm(f.srv.URL+linksPath, url.Values{"csrf": {m[1]}, "email": {email}, "identifiant": {subject}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := post("lea.martin@eleve.test", "ext-lea"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("link: %d %s", resp.StatusCode, body(t, resp))
	}
	page = body(t, f.get(admin, f.srv.URL+linksPath))
	if !strings.Contains(page, "lea.martin@eleve.test") || !strings.Contains(page, "<code>ext-lea</code>") || !strings.Contains(page, "un administrateur") {
		t.Errorf("links page after linking: %s", page)
	}
	if uid, err := f.svc.store.LinkedUser(context.Background(), "https://educonnect.example.fr/idp", "ext-lea"); err != nil || uid != f.pupilID {
		t.Errorf("stored link: %d %v", uid, err)
	}
	if resp := post("inconnu@nulle-part.test", "ext-x"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, resp), "Aucun compte n&#39;a cette adresse") {
		t.Errorf("unknown account: %d", resp.StatusCode)
	}
	if resp := post("admin@socle.test", "ext-lea"); resp.StatusCode != http.StatusConflict {
		t.Errorf("identity linked twice: %d", resp.StatusCode)
	}
	pupil := f.browser()
	f.login(pupil, "lea.martin@eleve.test", "/")
	if resp := f.get(pupil, f.srv.URL+linksPath); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pupil on the links page: %d", resp.StatusCode)
	}
	if resp := f.get(f.browser(), f.srv.URL+linksPath); resp.StatusCode < 300 || resp.StatusCode == http.StatusOK {
		t.Errorf("anonymous on the links page: %d", resp.StatusCode)
	}
}
