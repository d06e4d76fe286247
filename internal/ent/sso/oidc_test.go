package sso

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const callback = "http://127.0.0.1:9/callback"

type rp struct {
	conf     oauth2.Config
	provider *oidc.Provider
}

func (f *fixture) relyingParty(t *testing.T, public bool, clientID string) rp {
	t.Helper()
	ctx := context.Background()
	c, secret, err := f.svc.RegisterOIDCClient(ctx, f.admin, NewOIDCClient{ClientID: clientID, Name: "Application " + clientID,
		Public: public, RedirectURIs: []string{callback}})
	if err != nil {
		t.Fatal(err)
	}
	if public != (secret == "") {
		t.Fatalf("public=%v but secret %q", public, secret)
	}
	provider, err := oidc.NewProvider(ctx, f.srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return rp{provider: provider, conf: oauth2.Config{ClientID: c.ClientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
		RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}}
}

// authorize drives the authorization endpoint with a browser and returns
// the parameters sent back to the redirect URI.
func (f *fixture) authorize(t *testing.T, b *http.Client, authURL string) url.Values {
	t.Helper()
	loc := location(t, f.get(b, authURL))
	if !strings.HasPrefix(loc, callback+"?") {
		t.Fatalf("authorize redirected to %q", loc)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// The certified go-oidc relying party: discovery, code flow with PKCE,
// id_token verified against the JWKS, userinfo.
func TestOIDCCodeFlowWithGoOIDC(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	app := f.relyingParty(t, false, "cahier-de-textes")
	b := f.browser()

	verifier := oauth2.GenerateVerifier()
	authURL := app.conf.AuthCodeURL("etat-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))
	// Anonymous: the login page first, then back to the authorization.
	loc := location(t, f.get(b, authURL))
	if !strings.HasPrefix(loc, "/connexion?retour=") {
		t.Fatalf("anonymous authorize went to %q", loc)
	}
	retour, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/connexion?retour="))
	next := f.login(b, "lea.martin@eleve.test", retour)
	back := f.authorize(t, b, f.abs(next))
	if back.Get("state") != "etat-1" || back.Get("iss") != f.srv.URL || back.Get("code") == "" {
		t.Fatalf("callback parameters: %v", back)
	}

	tok, err := app.conf.Exchange(ctx, back.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := app.provider.Verifier(&oidc.Config{ClientID: app.conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	if idt.Nonce != "nonce-1" || idt.Issuer != f.srv.URL || idt.Subject == "" {
		t.Errorf("id_token: %+v", idt)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		AuthTime int64  `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Email != "lea.martin@eleve.test" || claims.Name != "Léa Martin" || claims.AuthTime == 0 {
		t.Errorf("id_token claims: %+v", claims)
	}
	ui, err := app.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != idt.Subject || ui.Email != "lea.martin@eleve.test" {
		t.Errorf("userinfo: %+v", ui)
	}

	// A second client sees another subject for the same person.
	other := f.relyingParty(t, true, "appli-mobile")
	v2 := oauth2.GenerateVerifier()
	back = f.authorize(t, b, other.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v2)))
	tok2, err := other.conf.Exchange(ctx, back.Get("code"), oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatalf("public client exchange: %v", err)
	}
	idt2, err := other.provider.Verifier(&oidc.Config{ClientID: "appli-mobile"}).Verify(ctx, tok2.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	if idt2.Subject == idt.Subject {
		t.Error("sub must be pairwise: two clients got the same subject")
	}

	// prompt=none without a session: login_required, sent to the client.
	anon := f.browser()
	back = f.authorize(t, anon, app.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if back.Get("error") != "login_required" {
		t.Errorf("prompt=none: %v", back)
	}
}

func TestOIDCRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	app := f.relyingParty(t, false, "cahier-de-textes")
	public := f.relyingParty(t, true, "appli-mobile")
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	code := func(rp rp, verifier string) string {
		t.Helper()
		return f.authorize(t, b, rp.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))).Get("code")
	}

	t.Run("code replay revokes the first tokens", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		c := code(app, v)
		tok, err := app.conf.Exchange(ctx, c, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.conf.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("replayed code: %v", err)
		}
		if _, err := app.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the tokens of a replayed code must be revoked")
		}
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		c := code(public, oauth2.GenerateVerifier())
		if _, err := public.conf.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("wrong verifier: %v", err)
		}
	})
	t.Run("no PKCE verifier", func(t *testing.T) {
		c := code(public, oauth2.GenerateVerifier())
		if _, err := public.conf.Exchange(ctx, c); err == nil {
			t.Error("exchange without the verifier succeeded")
		}
	})
	t.Run("public client without PKCE", func(t *testing.T) {
		back := f.authorize(t, b, public.conf.AuthCodeURL("s"))
		if back.Get("error") != "invalid_request" || back.Get("code") != "" {
			t.Errorf("public client without PKCE: %v", back)
		}
	})
	t.Run("plain PKCE", func(t *testing.T) {
		u := public.conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		if back := f.authorize(t, b, u); back.Get("error") != "invalid_request" {
			t.Errorf("plain PKCE: %v", back)
		}
	})
	t.Run("wrong redirect_uri at authorize", func(t *testing.T) {
		for _, uri := range []string{"http://127.0.0.1:9/callback/", "https://evil.example.com/callback"} {
			conf := app.conf
			conf.RedirectURL = uri
			resp := f.get(b, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s: status %d, location %q", uri, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
	t.Run("wrong redirect_uri at token", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		c := code(app, v)
		conf := app.conf
		conf.RedirectURL = "http://127.0.0.1:9/autre"
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Errorf("wrong redirect_uri: %v", err)
		}
	})
	t.Run("wrong secret and another client's code", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		c := code(app, v)
		conf := app.conf
		conf.ClientSecret = "pas-le-bon"
		if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("wrong secret: %v", err)
		}
		c = code(app, v)
		if _, err := public.conf.Exchange(ctx, c, oauth2.VerifierOption(v)); err == nil {
			t.Error("a public client exchanged another client's code")
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		conf := app.conf
		conf.ClientID = "inconnu"
		resp := f.get(b, conf.AuthCodeURL("s"))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown client: %d", resp.StatusCode)
		}
	})
	t.Run("userinfo without a token", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.srv.URL+"/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer nimporte-quoi")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e OAuthError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != http.StatusUnauthorized || e.Code != "invalid_token" {
			t.Errorf("userinfo: %d %+v", resp.StatusCode, e)
		}
	})
}

// prompt=login asks for the password again even with a session, and the
// code that follows carries the new authentication time.
func TestOIDCPromptLogin(t *testing.T) {
	f := newFixture(t)
	app := f.relyingParty(t, false, "examens")
	b := f.browser()
	f.login(b, "lea.martin@eleve.test", "/")
	old := f.sessionCookie(b)
	v := oauth2.GenerateVerifier()
	loc := location(t, f.get(b, app.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "login"))))
	if !strings.HasPrefix(loc, "/connexion?retour=") {
		t.Fatalf("prompt=login went to %q", loc)
	}
	if p, _, _ := f.auth.SessionPrincipal(context.Background(), old); p != nil {
		t.Error("prompt=login must end the current session")
	}
	retour, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/connexion?retour="))
	back := f.authorize(t, b, f.abs(f.login(b, "lea.martin@eleve.test", retour)))
	if _, err := app.conf.Exchange(context.Background(), back.Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("exchange after prompt=login: %v", err)
	}
}
