package sso

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"socle/internal/platform/db"
)

// Store is the SQL of the single sign-on server.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// Key returns a stored key by name; sql.ErrNoRows when absent.
func (s *Store) Key(ctx context.Context, name string) (kid, secret string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT kid, secret FROM sso_keys WHERE name = ?`, name).Scan(&kid, &secret)
	return kid, secret, err
}

// PutKeyOnce stores a key unless one of that name exists: when two
// processes start at once, the first one's key wins and both read it back.
func (s *Store) PutKeyOnce(ctx context.Context, name, kid, secret string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_keys (name, kid, secret, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, kid, secret, time.Now().UTC())
	return err
}

const casServiceCols = `id, name, match_kind, pattern, enabled, attributes, username, created_at`

func scanCASService(row interface{ Scan(...any) error }) (CASService, error) {
	var c CASService
	var kind, attrs, username string
	if err := row.Scan(&c.ID, &c.Name, &kind, &c.Pattern, &c.Enabled, &attrs, &username, &c.CreatedAt); err != nil {
		return c, err
	}
	c.Match, c.Username = MatchKind(kind), Username(username)
	c.Attributes = splitList(attrs, ",")
	return c, nil
}

func splitList(s, sep string) []string {
	out := []string{}
	for _, v := range strings.Split(s, sep) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// CreateCASService inserts a service and returns its id.
func (s *Store) CreateCASService(ctx context.Context, c CASService) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO sso_cas_services (name, match_kind, pattern, enabled, attributes, username, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Name, string(c.Match), c.Pattern, c.Enabled, strings.Join(c.Attributes, ","), string(c.Username), c.CreatedAt.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert cas service: %w", err)
	}
	return id, nil
}

// CASServices lists the registered services, enabled ones only if asked.
func (s *Store) CASServices(ctx context.Context, enabledOnly bool) ([]CASService, error) {
	q := `SELECT ` + casServiceCols + ` FROM sso_cas_services`
	if enabledOnly {
		q += ` WHERE enabled`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CASService
	for rows.Next() {
		c, err := scanCASService(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CASService returns one service.
func (s *Store) CASService(ctx context.Context, id int64) (CASService, error) {
	return scanCASService(s.db.QueryRowContext(ctx, `SELECT `+casServiceCols+` FROM sso_cas_services WHERE id = ?`, id))
}

// casTicket is a stored service ticket.
type casTicket struct {
	ServiceID    int64
	Service      string
	UserID       int64
	FromNewLogin bool
	AuthTime     time.Time
	ExpiresAt    time.Time
}

// CreateTicket stores a service ticket and drops the expired ones.
func (s *Store) CreateTicket(ctx context.Context, hash string, t casTicket, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sso_cas_tickets WHERE expires_at <= ?`, now.UTC()); err != nil {
		return fmt.Errorf("purge tickets: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_cas_tickets (ticket_hash, service_id, service, user_id, from_new_login, auth_time, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, hash, t.ServiceID, t.Service, t.UserID, t.FromNewLogin, t.AuthTime.UTC(), now.UTC(), t.ExpiresAt.UTC())
	return err
}

// TakeTicket deletes a ticket and returns it: one statement, so that two
// validations racing in two processes cannot both get it.
func (s *Store) TakeTicket(ctx context.Context, hash string) (casTicket, error) {
	var t casTicket
	err := s.db.QueryRowContext(ctx, `DELETE FROM sso_cas_tickets WHERE ticket_hash = ?
		RETURNING service_id, service, user_id, from_new_login, auth_time, expires_at`, hash).
		Scan(&t.ServiceID, &t.Service, &t.UserID, &t.FromNewLogin, &t.AuthTime, &t.ExpiresAt)
	return t, err
}

const clientCols = `client_id, name, secret_hash, public, redirect_uris, scopes, enabled, created_at`

func scanClient(row interface{ Scan(...any) error }) (OIDCClient, error) {
	var c OIDCClient
	var uris, scopes string
	if err := row.Scan(&c.ClientID, &c.Name, &c.secretHash, &c.Public, &uris, &scopes, &c.Enabled, &c.CreatedAt); err != nil {
		return c, err
	}
	c.RedirectURIs, c.Scopes = splitList(uris, "\n"), splitList(scopes, " ")
	return c, nil
}

// CreateClient inserts a relying party.
func (s *Store) CreateClient(ctx context.Context, c OIDCClient) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_oidc_clients (`+clientCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ClientID, c.Name, c.secretHash, c.Public, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.Scopes, " "), c.Enabled, c.CreatedAt.UTC())
	return err
}

// Client returns a relying party.
func (s *Store) Client(ctx context.Context, clientID string) (OIDCClient, error) {
	return scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientCols+` FROM sso_oidc_clients WHERE client_id = ?`, clientID))
}

// authCode is a stored authorization code.
type authCode struct {
	ClientID      string
	UserID        int64
	RedirectURI   string
	Scope         string
	Nonce         string
	CodeChallenge string
	AuthTime      time.Time
	ExpiresAt     time.Time
}

// CreateCode stores an authorization code and drops the expired ones.
func (s *Store) CreateCode(ctx context.Context, hash string, c authCode, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sso_oidc_codes WHERE expires_at <= ?`, now.UTC()); err != nil {
		return fmt.Errorf("purge codes: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_oidc_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hash, c.ClientID, c.UserID, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
		c.AuthTime.UTC(), now.UTC(), c.ExpiresAt.UTC())
	return err
}

// errCodeReplayed: the code exists but was already exchanged.
var errCodeReplayed = errors.New("authorization code replayed")

// UseCode marks a code used and returns it, in one statement so that only
// one exchange wins. A code already used gives errCodeReplayed and revokes
// the tokens issued from it (RFC 6749 §4.1.2); an unknown one gives
// sql.ErrNoRows.
func (s *Store) UseCode(ctx context.Context, hash string, now time.Time) (authCode, error) {
	var c authCode
	err := s.db.QueryRowContext(ctx, `UPDATE sso_oidc_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
		RETURNING client_id, user_id, redirect_uri, scope, nonce, code_challenge, auth_time, expires_at`, now.UTC(), hash).
		Scan(&c.ClientID, &c.UserID, &c.RedirectURI, &c.Scope, &c.Nonce, &c.CodeChallenge, &c.AuthTime, &c.ExpiresAt)
	if !errors.Is(err, sql.ErrNoRows) {
		return c, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sso_oidc_codes WHERE code_hash = ?`, hash).Scan(&n); err != nil {
		return c, err
	}
	if n == 0 {
		return c, sql.ErrNoRows
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sso_oidc_tokens WHERE code_hash = ?`, hash); err != nil {
		return c, fmt.Errorf("revoke tokens of a replayed code: %w", err)
	}
	return c, errCodeReplayed
}

// accessToken is a stored access token.
type accessToken struct {
	ClientID  string
	UserID    int64
	Scope     string
	ExpiresAt time.Time
}

// CreateToken stores an access token and drops the expired ones.
func (s *Store) CreateToken(ctx context.Context, hash, codeHash string, t accessToken, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sso_oidc_tokens WHERE expires_at <= ?`, now.UTC()); err != nil {
		return fmt.Errorf("purge tokens: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_oidc_tokens (token_hash, code_hash, client_id, user_id, scope, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, hash, codeHash, t.ClientID, t.UserID, t.Scope, now.UTC(), t.ExpiresAt.UTC())
	return err
}

// Token returns a live access token.
func (s *Store) Token(ctx context.Context, hash string, now time.Time) (accessToken, error) {
	var t accessToken
	err := s.db.QueryRowContext(ctx, `SELECT client_id, user_id, scope, expires_at FROM sso_oidc_tokens WHERE token_hash = ? AND expires_at > ?`,
		hash, now.UTC()).Scan(&t.ClientID, &t.UserID, &t.Scope, &t.ExpiresAt)
	return t, err
}

// CreateDelegationState stores a delegated login in flight and drops the
// expired ones.
func (s *Store) CreateDelegationState(ctx context.Context, hash, verifier, nonce, returnTo string, expires, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sso_delegation_states WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("purge delegation states: %w", err)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_delegation_states (state_hash, verifier, nonce, return_to, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hash, verifier, nonce, returnTo, expires)
	return err
}

// TakeDelegationState deletes a live state and returns it, in one
// statement so that a state serves once across processes.
func (s *Store) TakeDelegationState(ctx context.Context, hash string, now time.Time) (verifier, nonce, returnTo string, err error) {
	err = s.db.QueryRowContext(ctx, `DELETE FROM sso_delegation_states WHERE state_hash = ? AND expires_at > ?
		RETURNING verifier, nonce, return_to`, hash, now).Scan(&verifier, &nonce, &returnTo)
	return verifier, nonce, returnTo, err
}

// LinkedUser returns the account an external identity is linked to.
func (s *Store) LinkedUser(ctx context.Context, issuer, subject string) (int64, error) {
	var uid int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM sso_linked_identities WHERE issuer = ? AND subject = ?`, issuer, subject).Scan(&uid)
	return uid, err
}

// CreateLink links an external identity; it fails when the identity, or
// the account for this issuer, is already linked.
func (s *Store) CreateLink(ctx context.Context, issuer, subject string, userID int64, by string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sso_linked_identities (issuer, subject, user_id, linked_by, created_at, last_login_at)
		VALUES (?, ?, ?, ?, ?, ?)`, issuer, subject, userID, by, now, nullTime(by == LinkedByEmail, now))
	return err
}

func nullTime(set bool, t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: set} }

// TouchLink records a login through a linked identity.
func (s *Store) TouchLink(ctx context.Context, issuer, subject string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sso_linked_identities SET last_login_at = ? WHERE issuer = ? AND subject = ?`, now, issuer, subject)
	return err
}

// DeleteLinks removes the external identities of an account.
func (s *Store) DeleteLinks(ctx context.Context, userID int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sso_linked_identities WHERE user_id = ?`, userID)
	return err
}

// LinkedIdentity is an external identity linked to an account.
type LinkedIdentity struct {
	Issuer   string
	Subject  string
	LinkedBy string
}

// Links lists an account's external identities.
func (s *Store) Links(ctx context.Context, userID int64) ([]LinkedIdentity, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT issuer, subject, linked_by FROM sso_linked_identities WHERE user_id = ? ORDER BY issuer`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LinkedIdentity
	for rows.Next() {
		var l LinkedIdentity
		if err := rows.Scan(&l.Issuer, &l.Subject, &l.LinkedBy); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// RecentLinks lists an issuer's latest links with the accounts' e-mails.
func (s *Store) RecentLinks(ctx context.Context, issuer string, limit int) ([]IdentityLink, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u.email, l.subject, l.linked_by, l.created_at FROM sso_linked_identities l
		JOIN users u ON u.id = l.user_id WHERE l.issuer = ? ORDER BY l.created_at DESC, l.subject LIMIT ?`, issuer, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []IdentityLink
	for rows.Next() {
		var l IdentityLink
		if err := rows.Scan(&l.Email, &l.Subject, &l.LinkedBy, &l.Created); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
