package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Service is the rules of the single sign-on server.
type Service struct {
	db     *db.DB
	store  *Store
	auth   *auth.Service
	log    *slog.Logger
	opts   Options
	now    func() time.Time
	mu     sync.Mutex
	loaded *keys
	ext    *external // the delegation provider, once discovered
}

// NewService builds the service. Keys are read (or generated, at first
// start) on first use.
func NewService(d *db.DB, authSvc *auth.Service, log *slog.Logger, opts Options) *Service {
	opts.Issuer = strings.TrimRight(opts.Issuer, "/")
	return &Service{db: d, store: NewStore(d), auth: authSvc, log: log, opts: opts, now: time.Now}
}

// Issuer is the OIDC issuer and public base URL.
func (s *Service) Issuer() string { return s.opts.Issuer }

// keys are the server's secrets.
type keys struct {
	signing *rsa.PrivateKey
	kid     string
	// mac keys pairwise identifiers and the fresh-login markers.
	mac []byte
}

const (
	keySigning = "oidc-signing-rs256"
	keyMAC     = "pairwise-hmac"
)

// keys loads the secrets, generating those missing. PutKeyOnce keeps the
// first writer's key when several processes start together.
func (s *Service) keys(ctx context.Context) (*keys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded != nil {
		return s.loaded, nil
	}
	k := &keys{}
	_, secret, err := s.store.Key(ctx, keyMAC)
	if errors.Is(err, sql.ErrNoRows) {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		if err := s.store.PutKeyOnce(ctx, keyMAC, "mac", base64.StdEncoding.EncodeToString(b)); err != nil {
			return nil, fmt.Errorf("store pairwise key: %w", err)
		}
		_, secret, err = s.store.Key(ctx, keyMAC)
	}
	if err != nil {
		return nil, fmt.Errorf("load pairwise key: %w", err)
	}
	if k.mac, err = base64.StdEncoding.DecodeString(secret); err != nil {
		return nil, fmt.Errorf("decode pairwise key: %w", err)
	}
	kid, secret, err := s.store.Key(ctx, keySigning)
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.generateSigningKey(ctx); err != nil {
			return nil, err
		}
		kid, secret, err = s.store.Key(ctx, keySigning)
	}
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	block, _ := pem.Decode([]byte(secret))
	if block == nil {
		return nil, errors.New("signing key is not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	rsaKey, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("signing key is not RSA")
	}
	k.signing, k.kid = rsaKey, kid
	s.loaded = k
	return k, nil
}

// generateSigningKey stores a new RS256 key as PKCS#8 PEM, its kid a
// digest of the public key.
func (s *Service) generateSigningKey(ctx context.Context) error {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pub)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err := s.store.PutKeyOnce(ctx, keySigning, base64.RawURLEncoding.EncodeToString(sum[:12]), pemText); err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	s.log.Info("generated the OIDC signing key")
	return nil
}

// pairwise is the identifier of a person for one audience: an HMAC, so it
// is stable, reveals nothing of the account id, and differs between
// services.
func (k *keys) pairwise(audience string, userID int64) string {
	m := hmac.New(sha256.New, k.mac)
	fmt.Fprintf(m, "sub|%s|%d", audience, userID)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:20])
}

// Fresh-login markers let /cas/login?renew=true and prompt=login know, when
// the browser comes back from /connexion, that credentials were presented
// after the request: the marker carries the time it was made, signed, and
// the account's last login must not be older.
const markerTTL = 15 * time.Minute

func (k *keys) marker(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte("fresh|" + ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil)[:12])
}

func (k *keys) freshLogin(marker string, p *auth.Principal, now time.Time) bool {
	ts, sig, ok := strings.Cut(marker, ".")
	if !ok || p.IsAnonymous() || p.User.LastLoginAt == nil {
		return false
	}
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte("fresh|" + ts))
	want := hex.EncodeToString(m.Sum(nil)[:12])
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	made := time.Unix(n, 0)
	return now.Sub(made) < markerTTL && !p.User.LastLoginAt.Before(made)
}

// FreshLoginMarker returns a marker to carry through /connexion.
func (s *Service) FreshLoginMarker(ctx context.Context) (string, error) {
	k, err := s.keys(ctx)
	if err != nil {
		return "", err
	}
	return k.marker(s.now()), nil
}

// FreshLogin reports whether p logged in after the marker was made.
func (s *Service) FreshLogin(ctx context.Context, marker string, p *auth.Principal) bool {
	k, err := s.keys(ctx)
	if err != nil {
		return false
	}
	return k.freshLogin(marker, p, s.now())
}

// EndSession ends a Socle session (single logout from a service).
func (s *Service) EndSession(ctx context.Context, secret string) error {
	return s.auth.EndSession(ctx, secret)
}

func randomSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

func requireAdmin(p *auth.Principal) error {
	if p.IsAnonymous() {
		return problem.Unauthenticated()
	}
	if !p.Global(auth.PermUserManage) {
		return problem.Forbidden()
	}
	return nil
}

// NewCASService is what RegisterCASService needs.
type NewCASService struct {
	Name       string    `json:"name"`
	Match      MatchKind `json:"match"`
	Pattern    string    `json:"pattern"`
	Enabled    *bool     `json:"enabled,omitempty"`
	Attributes []string  `json:"attributes"`
	Username   Username  `json:"username,omitempty"`
}

// RegisterCASService lets a service receive tickets (platform
// administrators only).
func (s *Service) RegisterCASService(ctx context.Context, p *auth.Principal, in NewCASService) (CASService, error) {
	if err := requireAdmin(p); err != nil {
		return CASService{}, err
	}
	c := CASService{Name: strings.TrimSpace(in.Name), Match: in.Match, Pattern: strings.TrimSpace(in.Pattern), Enabled: true,
		Attributes: []string{}, Username: in.Username, CreatedAt: s.now().UTC().Truncate(time.Second)}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if c.Username == "" {
		c.Username = UsernamePairwise
	}
	if c.Name == "" {
		return c, problem.Invalid("invalid_name", "Le nom du service est obligatoire.").Field("name", "Obligatoire.")
	}
	switch c.Match {
	case MatchPrefix:
		if !validPrefix(c.Pattern) {
			return c, problem.Invalid("invalid_pattern", "Le préfixe doit être une adresse http(s) complète avec un chemin, par exemple https://service.example.fr/.").Field("pattern", "Adresse invalide.")
		}
	case MatchRegex:
		if _, err := compilePattern(c.Pattern); err != nil || c.Pattern == "" {
			return c, problem.Invalid("invalid_pattern", "Expression régulière invalide.").Field("pattern", "Expression régulière invalide.")
		}
	default:
		return c, problem.Invalid("invalid_match", "Le type de correspondance doit être « prefix » ou « regex ».").Field("match", "prefix ou regex.")
	}
	for _, a := range in.Attributes {
		if !slices.Contains(Attributes, a) {
			return c, problem.Invalid("invalid_attribute", fmt.Sprintf("Attribut inconnu : %q (attendus : %s).", a, strings.Join(Attributes, ", "))).Field("attributes", "Attribut inconnu.")
		}
		if !slices.Contains(c.Attributes, a) {
			c.Attributes = append(c.Attributes, a)
		}
	}
	if c.Username != UsernamePairwise && c.Username != UsernameEmail {
		return c, problem.Invalid("invalid_username", "L'identifiant transmis doit être « pairwise » ou « email ».").Field("username", "pairwise ou email.")
	}
	id, err := s.store.CreateCASService(ctx, c)
	if err != nil {
		return c, err
	}
	c.ID = id
	s.log.Info("cas service registered", "id", id, "name", c.Name, "by", p.User.ID)
	return c, nil
}

// validPrefix accepts absolute http(s) URLs with a path, so that the
// prefix "https://a.fr" cannot be met by "https://a.fr.evil.example/".
func validPrefix(p string) bool {
	u, err := url.Parse(p)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && strings.HasPrefix(u.Path, "/") && u.User == nil
}

func compilePattern(p string) (*regexp.Regexp, error) { return regexp.Compile(`^(?:` + p + `)$`) }

// NewOIDCClient is what RegisterOIDCClient needs.
type NewOIDCClient struct {
	ClientID     string   `json:"client_id,omitempty"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes,omitempty"`
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{3,64}$`)

// RegisterOIDCClient registers a relying party and returns it with its
// secret (confidential clients), shown this once: only its hash is kept.
func (s *Service) RegisterOIDCClient(ctx context.Context, p *auth.Principal, in NewOIDCClient) (OIDCClient, string, error) {
	if err := requireAdmin(p); err != nil {
		return OIDCClient{}, "", err
	}
	c := OIDCClient{ClientID: strings.TrimSpace(in.ClientID), Name: strings.TrimSpace(in.Name), Public: in.Public,
		RedirectURIs: []string{}, Scopes: []string{}, Enabled: true, CreatedAt: s.now().UTC().Truncate(time.Second)}
	if c.ClientID == "" {
		c.ClientID = "socle-" + randomSecret(12)
	}
	if !clientIDPattern.MatchString(c.ClientID) {
		return c, "", problem.Invalid("invalid_client_id", "Identifiant de client invalide (3 à 64 caractères : lettres, chiffres, . _ -).").Field("client_id", "Identifiant invalide.")
	}
	if c.Name == "" {
		return c, "", problem.Invalid("invalid_name", "Le nom du client est obligatoire.").Field("name", "Obligatoire.")
	}
	if len(in.RedirectURIs) == 0 {
		return c, "", problem.Invalid("invalid_redirect_uri", "Au moins une adresse de retour est obligatoire.").Field("redirect_uris", "Obligatoire.")
	}
	for _, raw := range in.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || u.Fragment != "" || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
			return c, "", problem.Invalid("invalid_redirect_uri", fmt.Sprintf("Adresse de retour invalide : %q (https obligatoire, http seulement sur la machine locale, sans fragment).", raw)).Field("redirect_uris", "Adresse invalide.")
		}
		if strings.ContainsAny(raw, "\n\r") {
			return c, "", problem.Invalid("invalid_redirect_uri", "Adresse de retour invalide.")
		}
		c.RedirectURIs = append(c.RedirectURIs, raw)
	}
	scopes := in.Scopes
	if len(scopes) == 0 {
		scopes = Scopes
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return c, "", problem.Invalid("invalid_scope", fmt.Sprintf("Portée inconnue : %q (attendues : %s).", sc, strings.Join(Scopes, ", "))).Field("scopes", "Portée inconnue.")
		}
		if !slices.Contains(c.Scopes, sc) {
			c.Scopes = append(c.Scopes, sc)
		}
	}
	if !slices.Contains(c.Scopes, ScopeOpenID) {
		c.Scopes = append([]string{ScopeOpenID}, c.Scopes...)
	}
	var secret string
	if !c.Public {
		secret = randomSecret(32)
		c.secretHash = hashSecret(secret)
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		if db.IsUniqueViolation(err) {
			return c, "", problem.Conflict("client_id_taken", "Un client porte déjà cet identifiant.")
		}
		return c, "", fmt.Errorf("insert oidc client: %w", err)
	}
	s.log.Info("oidc client registered", "client_id", c.ClientID, "public", c.Public, "by", p.User.ID)
	return c, secret, nil
}

func isLoopback(host string) bool { return host == "127.0.0.1" || host == "::1" || host == "localhost" }
