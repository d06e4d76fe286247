package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// Store is the SQL of accounts, grants, sessions and tokens.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const userCols = `id, email, display_name, disabled, created_at, last_login_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var last sql.NullTime
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.Disabled, &u.CreatedAt, &last)
	if last.Valid {
		t := last.Time
		u.LastLoginAt = &t
	}
	return u, err
}

// CreateUser inserts an account and returns its id.
func (s *Store) CreateUser(ctx context.Context, q db.Querier, email, name, hash string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO users (email, display_name, password_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		email, name, hash, time.Now().UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert user: %w", err)
	}
	return id, nil
}

// UserByEmail returns the account and its password hash.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, string, error) {
	var hash string
	row := s.db.QueryRowContext(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE email = ?`, email)
	var u User
	var last sql.NullTime
	err := row.Scan(&u.ID, &u.Email, &u.DisplayName, &u.Disabled, &u.CreatedAt, &last, &hash)
	if last.Valid {
		t := last.Time
		u.LastLoginAt = &t
	}
	return u, hash, err
}

// UserByID returns an account.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// SetPassword replaces an account's password hash.
func (s *Store) SetPassword(ctx context.Context, q db.Querier, id int64, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, id)
	return err
}

// SetDisabled disables or enables an account. Disabling also ends its
// sessions and revokes its API tokens, so nothing it opened outlives it.
func (s *Store) SetDisabled(ctx context.Context, q db.Querier, id int64, disabled bool) error {
	if _, err := q.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, id); err != nil {
		return fmt.Errorf("set disabled %d: %w", id, err)
	}
	if !disabled {
		return nil
	}
	for _, stmt := range []string{`DELETE FROM sessions WHERE user_id = ?`, `DELETE FROM api_tokens WHERE user_id = ?`} {
		if _, err := q.ExecContext(ctx, stmt, id); err != nil {
			return fmt.Errorf("disable %d: %w", id, err)
		}
	}
	return nil
}

// RemoveGrant withdraws a role held on an organization.
func (s *Store) RemoveGrant(ctx context.Context, q db.Querier, userID, orgID int64, role Role) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM grants WHERE user_id = ? AND org_id = ? AND role = ?`, userID, orgID, string(role)); err != nil {
		return fmt.Errorf("remove grant: %w", err)
	}
	return nil
}

// TouchLogin records a successful login.
func (s *Store) TouchLogin(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, time.Now().UTC(), id)
	return err
}

// CountUsers counts accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// AddGrant gives a role, ignoring an identical existing grant.
func (s *Store) AddGrant(ctx context.Context, q db.Querier, g Grant) error {
	var org any
	if g.OrgID != 0 {
		org = g.OrgID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO grants (user_id, role, org_id, recursive, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, g.UserID, string(g.Role), org, g.Recursive, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("insert grant: %w", err)
	}
	return nil
}

// Grants lists a user's grants.
func (s *Store) Grants(ctx context.Context, userID int64) ([]Grant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, role, COALESCE(org_id, 0), recursive FROM grants WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var role string
		if err := rows.Scan(&g.ID, &g.UserID, &role, &g.OrgID, &g.Recursive); err != nil {
			return nil, err
		}
		g.Role = Role(role)
		out = append(out, g)
	}
	return out, rows.Err()
}

// CreateSession stores a session by the hash of its secret.
func (s *Store) CreateSession(ctx context.Context, idHash string, userID int64, csrf string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		idHash, userID, csrf, time.Now().UTC(), expires.UTC())
	return err
}

// Session returns the user id and CSRF token of a live session.
func (s *Store) Session(ctx context.Context, idHash string, now time.Time) (userID int64, csrf string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.expires_at > ? AND NOT u.disabled`, idHash, now.UTC()).Scan(&userID, &csrf)
	return userID, csrf, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// DeleteExpired removes expired sessions and tokens.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now.UTC()); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE expires_at <= ?`, now.UTC())
	return err
}

// CreateToken stores an API token by its hash.
func (s *Store) CreateToken(ctx context.Context, userID int64, name, hash string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		userID, name, hash, time.Now().UTC(), expires.UTC())
	return err
}

// TokenUser returns the user of a live token.
func (s *Store) TokenUser(ctx context.Context, hash string, now time.Time) (int64, error) {
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ? AND t.expires_at > ? AND NOT u.disabled`, hash, now.UTC()).Scan(&id)
	return id, err
}

// Failures returns the failed-login count of a key within the window.
func (s *Store) Failures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT failures FROM login_failures WHERE key = ? AND window_start > ?`, key, since.UTC()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// AddFailure counts a failed login, starting a new window when the old one
// has passed.
func (s *Store) AddFailure(ctx context.Context, key string, now, windowStart time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
		  failures = CASE WHEN login_failures.window_start > ? THEN login_failures.failures + 1 ELSE 1 END,
		  window_start = CASE WHEN login_failures.window_start > ? THEN login_failures.window_start ELSE excluded.window_start END`,
		key, now.UTC(), windowStart.UTC(), windowStart.UTC())
	return err
}

// ClearFailures forgets a key's failures after a successful login.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key)
	return err
}
