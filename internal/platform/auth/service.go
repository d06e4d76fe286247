package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// Settings of sessions, tokens and throttling.
type Settings struct {
	SessionTTL     time.Duration
	TokenTTL       time.Duration
	MaxFailures    int           // per account within FailureWindow
	MaxIPFailures  int           // per client address within FailureWindow
	FailureWindow  time.Duration // how long failures are remembered
	MinPasswordLen int
}

// DefaultSettings are what serve uses unless told otherwise.
func DefaultSettings() Settings {
	return Settings{
		SessionTTL:     12 * time.Hour,
		TokenTTL:       30 * 24 * time.Hour,
		MaxFailures:    5,
		MaxIPFailures:  50,
		FailureWindow:  15 * time.Minute,
		MinPasswordLen: 8,
	}
}

// Service is the rules of accounts and access.
type Service struct {
	db       *db.DB
	store    *Store
	settings Settings
	log      *slog.Logger
	now      func() time.Time
	// dummyHash is verified when the account does not exist, so that the
	// answer takes as long and nobody learns which e-mails have accounts.
	dummyHash string
}

// NewService builds the service.
func NewService(d *db.DB, settings Settings, log *slog.Logger) *Service {
	h, _ := HashPassword("not-a-real-password")
	return &Service{db: d, store: NewStore(d), settings: settings, log: log, now: time.Now, dummyHash: h}
}

// Store exposes the store to wiring code (demo data, tests).
func (s *Service) Store() *Store { return s.store }

// NewUser is what CreateUser needs.
type NewUser struct {
	Email       string
	DisplayName string
	Password    string
	Grants      []Grant // UserID is filled in
}

// NormalizeEmail lowercases and validates an e-mail address.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e {
		return "", problem.Invalid("invalid_email", "Adresse électronique invalide.").Field("email", "Adresse électronique invalide.")
	}
	return e, nil
}

// CreateUser creates an account with its grants in one transaction.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (int64, error) {
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return 0, err
	}
	if len([]rune(nu.Password)) < s.settings.MinPasswordLen {
		return 0, problem.Invalid("weak_password", fmt.Sprintf("Le mot de passe doit compter au moins %d caractères.", s.settings.MinPasswordLen))
	}
	for _, g := range nu.Grants {
		if !g.Role.Valid() {
			return 0, problem.Invalid("invalid_role", fmt.Sprintf("Rôle inconnu : %q.", g.Role))
		}
		if g.Role == RolePlatformAdmin && g.OrgID != 0 {
			return 0, problem.Invalid("invalid_grant", "Le rôle administrateur de la plateforme ne se rattache à aucune organisation.")
		}
		if g.Role != RolePlatformAdmin && g.OrgID == 0 {
			return 0, problem.Invalid("invalid_grant", fmt.Sprintf("Le rôle %s doit être rattaché à une organisation.", g.Role))
		}
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return 0, err
	}
	name := strings.TrimSpace(nu.DisplayName)
	if name == "" {
		name = email
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = s.store.CreateUser(ctx, tx, email, name, hash)
		if err != nil {
			if db.IsUniqueViolation(err) {
				return problem.Conflict("email_taken", "Un compte existe déjà avec cette adresse.")
			}
			return err
		}
		for _, g := range nu.Grants {
			g.UserID = id
			if err := s.store.AddGrant(ctx, tx, g); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// AddGrant gives an existing account one more role.
func (s *Service) AddGrant(ctx context.Context, g Grant) error {
	if !g.Role.Valid() {
		return problem.Invalid("invalid_role", fmt.Sprintf("Rôle inconnu : %q.", g.Role))
	}
	return s.store.AddGrant(ctx, s.db, g)
}

// SetPassword changes an account's password.
func (s *Service) SetPassword(ctx context.Context, userID int64, password string) error {
	if len([]rune(password)) < s.settings.MinPasswordLen {
		return problem.Invalid("weak_password", fmt.Sprintf("Le mot de passe doit compter au moins %d caractères.", s.settings.MinPasswordLen))
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, s.db, userID, hash)
}

// UserByEmail finds an account.
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	u, _, err := s.store.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, problem.NotFound("Compte")
	}
	return u, err
}

var errBadCredentials = problem.New(http.StatusUnauthorized, "bad_credentials", "Adresse ou mot de passe incorrect.")
var errThrottled = problem.New(http.StatusTooManyRequests, "too_many_attempts", "Trop de tentatives de connexion. Réessayez dans quelques minutes.")

// Login checks credentials, with throttling per account and per client
// address kept in the database (so it holds across processes).
func (s *Service) Login(ctx context.Context, email, password, clientIP string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	now := s.now()
	since := now.Add(-s.settings.FailureWindow)
	accountKey, ipKey := "account:"+email, "ip:"+clientIP
	if n, err := s.store.Failures(ctx, accountKey, since); err != nil {
		return User{}, err
	} else if n >= s.settings.MaxFailures {
		return User{}, errThrottled
	}
	if clientIP != "" {
		if n, err := s.store.Failures(ctx, ipKey, since); err != nil {
			return User{}, err
		} else if n >= s.settings.MaxIPFailures {
			return User{}, errThrottled
		}
	}
	u, hash, err := s.store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, err
	}
	known := err == nil && !u.Disabled && hash != ""
	if !known {
		hash = s.dummyHash
	}
	ok, verr := VerifyPassword(hash, password)
	if verr != nil {
		s.log.Error("password hash unreadable", "user_id", u.ID, "err", verr)
	}
	if !known || !ok {
		if err := s.store.AddFailure(ctx, accountKey, now, since); err != nil {
			return User{}, err
		}
		if clientIP != "" {
			if err := s.store.AddFailure(ctx, ipKey, now, since); err != nil {
				return User{}, err
			}
		}
		return User{}, errBadCredentials
	}
	if err := s.store.ClearFailures(ctx, accountKey); err != nil {
		return User{}, err
	}
	if err := s.store.TouchLogin(ctx, u.ID); err != nil {
		return User{}, err
	}
	return u, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// StartSession opens a session; the returned secret goes in the cookie, only
// its hash is stored.
func (s *Service) StartSession(ctx context.Context, userID int64) (secret, csrf string, expires time.Time, err error) {
	secret, csrf = randomToken(32), randomToken(24)
	expires = s.now().Add(s.settings.SessionTTL)
	if err := s.store.CreateSession(ctx, hashSecret(secret), userID, csrf, expires); err != nil {
		return "", "", time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return secret, csrf, expires, nil
}

// SessionPrincipal returns who holds a session cookie, and its CSRF token.
// An unknown or expired session is (nil, "", nil).
func (s *Service) SessionPrincipal(ctx context.Context, secret string) (*Principal, string, error) {
	if secret == "" {
		return nil, "", nil
	}
	uid, csrf, err := s.store.Session(ctx, hashSecret(secret), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	p, err := s.Principal(ctx, uid)
	return p, csrf, err
}

// EndSession logs out.
func (s *Service) EndSession(ctx context.Context, secret string) error {
	return s.store.DeleteSession(ctx, hashSecret(secret))
}

// TokenPrefix marks Socle API tokens, so that secret scanners find them.
const TokenPrefix = "socle_"

// IssueToken creates an API token for a user.
func (s *Service) IssueToken(ctx context.Context, userID int64, name string) (string, time.Time, error) {
	tok := TokenPrefix + randomToken(32)
	exp := s.now().Add(s.settings.TokenTTL)
	if err := s.store.CreateToken(ctx, userID, name, hashSecret(tok), exp); err != nil {
		return "", time.Time{}, fmt.Errorf("create token: %w", err)
	}
	return tok, exp, nil
}

// TokenPrincipal returns who holds an API token, nil when it is unknown.
func (s *Service) TokenPrincipal(ctx context.Context, token string) (*Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return nil, nil
	}
	uid, err := s.store.TokenUser(ctx, hashSecret(token), s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Principal(ctx, uid)
}

// Principal loads a user and their grants.
func (s *Service) Principal(ctx context.Context, userID int64) (*Principal, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", userID, err)
	}
	grants, err := s.store.Grants(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load grants of %d: %w", userID, err)
	}
	return &Principal{User: u, Grants: grants}, nil
}

// Allowed reports whether an organization lies within the principal's scope
// for a permission.
func (s *Service) Allowed(ctx context.Context, p *Principal, perm Permission, orgID int64) (bool, error) {
	if p.Global(perm) {
		return true, nil
	}
	cond, args := p.ScopeSQL(perm, "o.id")
	if cond == "1=0" {
		return false, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT CAST(? AS BIGINT) AS id) o WHERE `+cond,
		append([]any{orgID}, args...)...).Scan(&n)
	return n > 0, err
}

// Cleanup removes expired sessions and tokens.
func (s *Service) Cleanup(ctx context.Context) error { return s.store.DeleteExpired(ctx, s.now()) }
