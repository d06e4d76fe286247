package sso

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"socle/internal/platform/auth"
	"socle/internal/platform/problem"
)

// OAuthError is an OAuth 2.0 / OpenID Connect error answer.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, desc string) *OAuthError {
	return &OAuthError{Status: status, Code: code, Description: desc}
}

// Discovery is the OpenID Provider metadata.
func (s *Service) Discovery() map[string]any {
	iss := s.opts.Issuer
	return map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + "/oidc/authorize",
		"token_endpoint":                                 iss + "/oidc/token",
		"userinfo_endpoint":                              iss + "/oidc/userinfo",
		"jwks_uri":                                       iss + "/oidc/jwks",
		"end_session_endpoint":                           iss + "/cas/logout",
		"scopes_supported":                               Scopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code"},
		"subject_types_supported":                        []string{"pairwise"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":               []string{"S256"},
		"claims_supported":                               []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "email"},
		"prompt_values_supported":                        []string{"none", "login"},
		"authorization_response_iss_parameter_supported": true,
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
	}
}

// JWKS is the public half of the signing key.
func (s *Service) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.signing.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"}}}, nil
}

// AuthorizeRequest is an authorization request's parameters.
type AuthorizeRequest struct {
	ClientID, RedirectURI, ResponseType, Scope, State, Nonce string
	CodeChallenge, CodeChallengeMethod                       string
}

var errUnknownClient = problem.New(http.StatusBadRequest, "oidc_invalid_client",
	"Le service qui vous a envoyé ici n'est pas déclaré auprès de Socle, ou son adresse de retour ne correspond pas à celle qui a été enregistrée.")

// AuthorizeClient checks the client and its redirect URI, compared
// exactly: until both are known good, errors are shown to the person, never
// sent to the redirect URI.
func (s *Service) AuthorizeClient(ctx context.Context, clientID, redirectURI string) (OIDCClient, error) {
	c, err := s.store.Client(ctx, clientID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (!c.Enabled || !slices.Contains(c.RedirectURIs, redirectURI)) {
		return OIDCClient{}, errUnknownClient
	}
	return c, err
}

var pkceValue = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// CheckAuthorize checks the rest of a request from a known client and
// returns the granted scope; an error goes back to the client.
func (s *Service) CheckAuthorize(c OIDCClient, req AuthorizeRequest) (string, *OAuthError) {
	if req.ResponseType != "code" {
		return "", oauthErr(http.StatusBadRequest, "unsupported_response_type", "only response_type=code is supported")
	}
	var granted []string
	for _, sc := range strings.Fields(req.Scope) {
		if slices.Contains(c.Scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if !slices.Contains(granted, ScopeOpenID) {
		return "", oauthErr(http.StatusBadRequest, "invalid_scope", "the openid scope is required")
	}
	if req.CodeChallenge != "" || c.Public {
		if req.CodeChallengeMethod != "S256" {
			return "", oauthErr(http.StatusBadRequest, "invalid_request", "PKCE with code_challenge_method=S256 is required")
		}
		if len(req.CodeChallenge) != 43 || !pkceValue.MatchString(req.CodeChallenge) {
			return "", oauthErr(http.StatusBadRequest, "invalid_request", "malformed code_challenge")
		}
	}
	if len(req.Nonce) > 512 || len(req.State) > 2048 {
		return "", oauthErr(http.StatusBadRequest, "invalid_request", "nonce or state too long")
	}
	return strings.Join(granted, " "), nil
}

// IssueCode gives p an authorization code.
func (s *Service) IssueCode(ctx context.Context, p *auth.Principal, c OIDCClient, req AuthorizeRequest, scope string) (string, error) {
	if p.IsAnonymous() {
		return "", problem.Unauthenticated()
	}
	now := s.now()
	code := randomSecret(32)
	err := s.store.CreateCode(ctx, hashSecret(code), authCode{ClientID: c.ClientID, UserID: p.User.ID, RedirectURI: req.RedirectURI,
		Scope: scope, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge, AuthTime: authTime(p, now), ExpiresAt: now.Add(CodeTTL)}, now)
	if err != nil {
		return "", fmt.Errorf("store authorization code: %w", err)
	}
	return code, nil
}

// TokenRequest is a token request with the client's credentials.
type TokenRequest struct {
	GrantType, Code, RedirectURI, CodeVerifier string
	ClientID, ClientSecret                     string
}

// TokenResponse is a successful token answer.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope"`
}

// authenticateClient checks a client's credentials: a confidential client
// its secret, a public client only its id (PKCE then binds the code).
func (s *Service) authenticateClient(ctx context.Context, id, secret string) (OIDCClient, *OAuthError) {
	bad := oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed")
	c, err := s.store.Client(ctx, id)
	if err != nil || !c.Enabled {
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			s.log.Error("load oidc client", "err", err)
			return c, oauthErr(http.StatusInternalServerError, "server_error", "")
		}
		return c, bad
	}
	if c.Public {
		if secret != "" {
			return c, bad
		}
		return c, nil
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.secretHash)) != 1 {
		return c, bad
	}
	return c, nil
}

// Exchange turns an authorization code into tokens.
func (s *Service) Exchange(ctx context.Context, req TokenRequest) (TokenResponse, *OAuthError) {
	if req.GrantType != "authorization_code" {
		return TokenResponse{}, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
	}
	c, oerr := s.authenticateClient(ctx, req.ClientID, req.ClientSecret)
	if oerr != nil {
		return TokenResponse{}, oerr
	}
	if req.Code == "" {
		return TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_request", "code is required")
	}
	now := s.now()
	codeHash := hashSecret(req.Code)
	invalid := oauthErr(http.StatusBadRequest, "invalid_grant", "invalid, expired or already used authorization code")
	code, err := s.store.UseCode(ctx, codeHash, now)
	switch {
	case errors.Is(err, errCodeReplayed):
		s.log.Warn("authorization code replayed; its tokens are revoked", "client_id", c.ClientID)
		return TokenResponse{}, invalid
	case errors.Is(err, sql.ErrNoRows):
		return TokenResponse{}, invalid
	case err != nil:
		s.log.Error("use authorization code", "err", err)
		return TokenResponse{}, oauthErr(http.StatusInternalServerError, "server_error", "")
	}
	if code.ClientID != c.ClientID || !now.Before(code.ExpiresAt) {
		return TokenResponse{}, invalid
	}
	if req.RedirectURI != code.RedirectURI {
		return TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorization request")
	}
	if code.CodeChallenge != "" || req.CodeVerifier != "" {
		sum := sha256.Sum256([]byte(req.CodeVerifier))
		if code.CodeChallenge == "" || !pkceValue.MatchString(req.CodeVerifier) ||
			subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.CodeChallenge)) != 1 {
			return TokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		}
	}
	p, err := s.auth.Principal(ctx, code.UserID)
	if err != nil || p.User.Disabled {
		return TokenResponse{}, invalid
	}
	k, err := s.keys(ctx)
	if err != nil {
		s.log.Error("load sso keys", "err", err)
		return TokenResponse{}, oauthErr(http.StatusInternalServerError, "server_error", "")
	}
	access := randomSecret(32)
	if err := s.store.CreateToken(ctx, hashSecret(access), codeHash, accessToken{ClientID: c.ClientID, UserID: p.User.ID,
		Scope: code.Scope, ExpiresAt: now.Add(AccessTokenTTL)}, now); err != nil {
		s.log.Error("store access token", "err", err)
		return TokenResponse{}, oauthErr(http.StatusInternalServerError, "server_error", "")
	}
	claims := s.claims(k, c.ClientID, p, code.Scope)
	claims["iss"] = s.opts.Issuer
	claims["aud"] = c.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(IDTokenTTL).Unix()
	claims["auth_time"] = code.AuthTime.Unix()
	if code.Nonce != "" {
		claims["nonce"] = code.Nonce
	}
	sum := sha256.Sum256([]byte(access))
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:16])
	idToken, err := k.sign(claims)
	if err != nil {
		s.log.Error("sign id_token", "err", err)
		return TokenResponse{}, oauthErr(http.StatusInternalServerError, "server_error", "")
	}
	return TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTokenTTL / time.Second), IDToken: idToken, Scope: code.Scope}, nil
}

// claims are what a client learns of a person for a scope. sub is
// pairwise per client.
func (s *Service) claims(k *keys, clientID string, p *auth.Principal, scope string) map[string]any {
	scopes := strings.Fields(scope)
	m := map[string]any{"sub": k.pairwise("oidc:"+clientID, p.User.ID)}
	if slices.Contains(scopes, ScopeProfile) {
		m["name"] = p.User.DisplayName
	}
	if slices.Contains(scopes, ScopeEmail) {
		m["email"] = p.User.Email
	}
	return m
}

func (k *keys) sign(claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.signing, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// UserInfo returns the claims an access token gives.
func (s *Service) UserInfo(ctx context.Context, token string) (map[string]any, *OAuthError) {
	invalid := oauthErr(http.StatusUnauthorized, "invalid_token", "invalid or expired access token")
	if token == "" {
		return nil, invalid
	}
	t, err := s.store.Token(ctx, hashSecret(token), s.now())
	if err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			s.log.Error("load access token", "err", err)
		}
		return nil, invalid
	}
	p, err := s.auth.Principal(ctx, t.UserID)
	if err != nil || p.User.Disabled {
		return nil, invalid
	}
	k, err := s.keys(ctx)
	if err != nil {
		return nil, oauthErr(http.StatusInternalServerError, "server_error", "")
	}
	return s.claims(k, t.ClientID, p, t.Scope), nil
}
