package sso

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// Delegation lets people log in through an external OpenID Connect
// provider (the national ÉduConnect, an academic directory) instead of a
// Socle password: authorization code flow with PKCE (S256) and a nonce, the
// id_token checked against the provider's published keys.
//
// The external identity (issuer + subject) is linked to a local account;
// Socle never creates an account from it. The link is found, in order:
//
//  1. in sso_linked_identities: an earlier login, or a link an administrator
//     provisioned (LinkIdentity), the only way for pupils;
//  2. on a first login, when LinkByEmail is on: the provider's e-mail claim,
//     if the provider marks it verified (email_verified true), equals the
//     e-mail of exactly one active account that is not a pupil's, and that
//     account has no other identity of this provider. The link is then
//     stored (linked_by 'email').
//
// Anything else is refused with a French message asking to see the
// establishment's administrator: an unknown identity is never provisioned,
// and a minor's account is never claimed by an e-mail match.
type Delegation struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer/.well-known/openid-configuration. Empty: no delegation.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Label names the provider on the login page ("ÉduConnect").
	Label string
	// Scopes asked for; default openid, email, profile.
	Scopes []string
	// LinkByEmail allows rule 2 above.
	LinkByEmail bool
	// HTTPClient talks to the provider (default: 10 s timeout).
	HTTPClient *http.Client
}

// Delegation paths, under /connexion as the portal's login page.
const (
	DelegationStartPath    = "/connexion/externe"
	DelegationCallbackPath = "/connexion/externe/retour"
	// delegationCookie binds the login in flight to the browser that
	// started it (no login CSRF: a callback carrying someone else's code
	// is refused).
	delegationCookie = "socle_externe"
	delegationTTL    = 10 * time.Minute
)

// Link kinds.
const (
	LinkedByEmail = "email"
	LinkedByAdmin = "admin"
)

var (
	errDelegationOff = problem.NotFound("Connexion externe")
	errNotLinked     = problem.New(http.StatusForbidden, "identity_not_linked",
		"Votre identité %s n'est reliée à aucun compte de l'ENT. Aucun compte n'est créé automatiquement : "+
			"demandez à l'administrateur de votre établissement de relier votre compte, puis réessayez.")
	errDelegationState = problem.New(http.StatusBadRequest, "login_expired",
		"Cette tentative de connexion a expiré ou ne vient pas de ce navigateur. Recommencez depuis la page de connexion.")
	errProviderDown = problem.New(http.StatusBadGateway, "provider_unavailable",
		"Le service de connexion %s ne répond pas correctement. Réessayez plus tard ou connectez-vous avec votre mot de passe.")
	errAccountDisabled = problem.New(http.StatusForbidden, "account_disabled",
		"Ce compte de l'ENT est désactivé. Adressez-vous à l'administrateur de votre établissement.")
)

// delegationOn reports whether login can be delegated.
func (s *Service) delegationOn() bool {
	d := s.opts.Delegation
	return d.Issuer != "" && d.ClientID != ""
}

// DelegationLabel is the provider's name for the login page ("" when no
// delegation is configured).
func (s *Service) DelegationLabel() string {
	if !s.delegationOn() {
		return ""
	}
	if s.opts.Delegation.Label == "" {
		return "ÉduConnect"
	}
	return s.opts.Delegation.Label
}

// message fills the provider's name in a problem's message.
func (s *Service) message(p *problem.Error) *problem.Error {
	if !strings.Contains(p.Message, "%s") {
		return p
	}
	cp := *p
	cp.Message = fmt.Sprintf(p.Message, s.DelegationLabel())
	return &cp
}

// external is the provider, discovered on first use and kept once found: a
// provider down at start must not stop Socle.
type external struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

func (s *Service) providerContext(ctx context.Context) context.Context {
	c := s.opts.Delegation.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	return oidc.ClientContext(ctx, c)
}

func (s *Service) external(ctx context.Context) (*external, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ext != nil {
		return s.ext, nil
	}
	d := s.opts.Delegation
	p, err := oidc.NewProvider(s.providerContext(ctx), strings.TrimRight(d.Issuer, "/"))
	if err != nil {
		s.log.Warn("external provider discovery failed", "issuer", d.Issuer, "err", err)
		return nil, s.message(errProviderDown)
	}
	scopes := d.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	s.ext = &external{
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: d.ClientID}),
		conf: oauth2.Config{ClientID: d.ClientID, ClientSecret: d.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: s.opts.Issuer + DelegationCallbackPath, Scopes: scopes},
	}
	return s.ext, nil
}

func hashState(state string) string {
	h := sha256.Sum256([]byte("delegation|" + state))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// StartDelegatedLogin prepares a login at the provider: it returns the URL
// to send the browser to and the state to bind to the browser.
func (s *Service) StartDelegatedLogin(ctx context.Context, returnTo string) (authURL, state string, err error) {
	if !s.delegationOn() {
		return "", "", errDelegationOff
	}
	ext, err := s.external(ctx)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := randomSecret(32), randomSecret(16), oauth2.GenerateVerifier()
	now := s.now().UTC()
	if err := s.store.CreateDelegationState(ctx, hashState(state), verifier, nonce, returnTo, now.Add(delegationTTL), now); err != nil {
		return "", "", fmt.Errorf("store delegation state: %w", err)
	}
	return ext.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), state, nil
}

// externalClaims are the claims this package reads.
type externalClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // some providers send "true"
	Nonce         string `json:"nonce"`
}

func (c externalClaims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// FinishDelegatedLogin completes the login on the provider's callback: the
// state (single use), the code exchanged with the PKCE verifier, the
// id_token and its nonce checked; it returns the local account and where to
// go next.
func (s *Service) FinishDelegatedLogin(ctx context.Context, state, code string) (userID int64, returnTo string, err error) {
	if !s.delegationOn() {
		return 0, "", errDelegationOff
	}
	if state == "" || code == "" {
		return 0, "", errDelegationState
	}
	verifier, nonce, returnTo, err := s.store.TakeDelegationState(ctx, hashState(state), s.now().UTC())
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", errDelegationState
	}
	if err != nil {
		return 0, "", err
	}
	ext, err := s.external(ctx)
	if err != nil {
		return 0, "", err
	}
	pctx := s.providerContext(ctx)
	tok, err := ext.conf.Exchange(pctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		s.log.Warn("external code exchange refused", "err", err)
		return 0, "", s.message(errProviderDown)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := ext.verifier.Verify(pctx, raw)
	if err != nil {
		s.log.Warn("external id_token refused", "err", err)
		return 0, "", s.message(errProviderDown)
	}
	var claims externalClaims
	if err := idt.Claims(&claims); err != nil {
		return 0, "", fmt.Errorf("read id_token claims: %w", err)
	}
	if claims.Nonce != nonce {
		s.log.Warn("external id_token nonce mismatch")
		return 0, "", errDelegationState
	}
	if claims.Email == "" && s.opts.Delegation.LinkByEmail {
		// Many providers put the e-mail in userinfo only.
		if ui, err := ext.provider.UserInfo(pctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			var more externalClaims
			if ui.Claims(&more) == nil {
				claims.Email, claims.EmailVerified = more.Email, more.EmailVerified
			}
		}
	}
	uid, err := s.linkedAccount(ctx, idt.Issuer, idt.Subject, claims)
	if err != nil {
		return 0, "", err
	}
	if err := s.auth.Store().TouchLogin(ctx, uid); err != nil {
		return 0, "", err
	}
	return uid, returnTo, nil
}

// linkedAccount applies the linking rules of Delegation.
func (s *Service) linkedAccount(ctx context.Context, issuer, subject string, c externalClaims) (int64, error) {
	now := s.now().UTC()
	uid, err := s.store.LinkedUser(ctx, issuer, subject)
	if err == nil {
		p, err := s.auth.Principal(ctx, uid)
		if err != nil {
			return 0, err
		}
		if p.User.Disabled {
			return 0, errAccountDisabled
		}
		return uid, s.store.TouchLink(ctx, issuer, subject, now)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	refuse := func(why string) (int64, error) {
		// The reason goes to the log, not to the person: it would tell
		// whether an e-mail has an account here.
		s.log.Info("external identity refused", "issuer", issuer, "reason", why)
		return 0, s.message(errNotLinked)
	}
	if !s.opts.Delegation.LinkByEmail {
		return refuse("not linked")
	}
	if c.Email == "" || !c.verified() {
		return refuse("no verified e-mail")
	}
	u, err := s.auth.UserByEmail(ctx, c.Email)
	if p, ok := problem.As(err); ok && p.Status == http.StatusNotFound {
		return refuse("no account with that e-mail")
	}
	if err != nil {
		return 0, err
	}
	p, err := s.auth.Principal(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if p.User.Disabled {
		return 0, errAccountDisabled
	}
	if isMinorAccount(p) {
		return refuse("pupil account: administrator link required")
	}
	if err := s.store.CreateLink(ctx, issuer, subject, u.ID, LinkedByEmail, now); err != nil {
		return refuse("account already linked to another identity")
	}
	s.log.Info("external identity linked by e-mail", "user_id", u.ID, "issuer", issuer)
	return u.ID, nil
}

// isMinorAccount: pupils' accounts are never linked by an e-mail match.
func isMinorAccount(p *auth.Principal) bool {
	for _, g := range p.Grants {
		if g.Role == auth.RolePupil {
			return true
		}
	}
	return false
}

// LinkIdentity links an identity of the configured provider to an account
// (platform administrators), for pupils and for anyone whose e-mail the
// provider does not know. An identity already linked elsewhere is refused.
func (s *Service) LinkIdentity(ctx context.Context, p *auth.Principal, userID int64, subject string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	if !s.delegationOn() {
		return errDelegationOff
	}
	subject = strings.TrimSpace(subject)
	if subject == "" || len(subject) > 255 {
		return problem.Invalid("invalid_subject", "Identifiant externe invalide.").Field("subject", "Obligatoire, 255 caractères au plus.")
	}
	if _, err := s.auth.Principal(ctx, userID); err != nil {
		return problem.NotFound("Compte")
	}
	issuer := strings.TrimRight(s.opts.Delegation.Issuer, "/")
	if err := s.store.CreateLink(ctx, issuer, subject, userID, LinkedByAdmin, s.now().UTC()); err != nil {
		return problem.Conflict("identity_already_linked", "Cette identité, ou ce compte, est déjà relié(e) pour ce fournisseur.")
	}
	s.log.Info("external identity linked by an administrator", "user_id", userID, "by", p.User.ID)
	return nil
}

// UnlinkIdentities removes every external identity of an account (when the
// person is erased, or an administrator fixes a wrong link).
func (s *Service) UnlinkIdentities(ctx context.Context, p *auth.Principal, userID int64) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	return s.store.DeleteLinks(ctx, userID)
}

// IdentityLink is a linked identity as the administrator sees it.
type IdentityLink struct {
	Email    string
	Subject  string
	LinkedBy string
	Created  time.Time
}

// LinkByEmail links an identity to the account with that e-mail (the
// administrator's form).
func (s *Service) LinkByEmail(ctx context.Context, p *auth.Principal, email, subject string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	u, err := s.auth.UserByEmail(ctx, email)
	if pr, ok := problem.As(err); ok && pr.Status == http.StatusNotFound {
		return problem.Invalid("unknown_account", "Aucun compte n'a cette adresse électronique.").Field("email", "Compte inconnu.")
	}
	if err != nil {
		return err
	}
	return s.LinkIdentity(ctx, p, u.ID, subject)
}

// RecentLinks lists the latest links of the configured provider
// (administrators).
func (s *Service) RecentLinks(ctx context.Context, p *auth.Principal, limit int) ([]IdentityLink, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if !s.delegationOn() {
		return nil, errDelegationOff
	}
	return s.store.RecentLinks(ctx, strings.TrimRight(s.opts.Delegation.Issuer, "/"), limit)
}
