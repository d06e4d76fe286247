package privacy

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

// writeJSON adds one indented JSON entry to a contributor's zip.
func writeJSON(zw *zip.Writer, name string, v any, now time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// AccountContributor is the auth-level data of a person: the account
// (e-mail, display name), the roles, the last login, API tokens and open
// sessions. It lives here rather than in auth so the platform knows
// nothing of the ENT's data protection.
//
// Erasure anonymises the account rather than deleting its row: tickets,
// shares and logs of other people point to it, and must keep pointing to
// "a deleted account" rather than break. What identifies the person (e-mail,
// name, password, roles, tokens, sessions) is removed.
type AccountContributor struct {
	db  *db.DB
	now func() time.Time
}

// NewAccountContributor builds the account contributor.
func NewAccountContributor(d *db.DB) *AccountContributor {
	return &AccountContributor{db: d, now: time.Now}
}

// Name is the account's folder in an export.
func (a *AccountContributor) Name() string { return "compte" }

type accountExport struct {
	ID          int64            `json:"id"`
	Email       string           `json:"email"`
	DisplayName string           `json:"display_name"`
	Disabled    bool             `json:"disabled"`
	CreatedAt   time.Time        `json:"created_at"`
	LastLoginAt *time.Time       `json:"last_login_at,omitempty"`
	Roles       []accountRole    `json:"roles"`
	Tokens      []accountToken   `json:"api_tokens"`
	Sessions    []accountSession `json:"open_sessions"`
}

type accountRole struct {
	Role      string `json:"role"`
	Label     string `json:"label"`
	OrgID     int64  `json:"organization_id,omitempty"`
	Recursive bool   `json:"recursive"`
}

type accountToken struct {
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

type accountSession struct {
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// ExportPerson writes compte/compte.json.
func (a *AccountContributor) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	out := accountExport{ID: userID, Roles: []accountRole{}, Tokens: []accountToken{}, Sessions: []accountSession{}}
	var last sql.NullTime
	err := a.db.QueryRowContext(ctx, `SELECT email, display_name, disabled, created_at, last_login_at FROM users WHERE id = ?`, userID).
		Scan(&out.Email, &out.DisplayName, &out.Disabled, &out.CreatedAt, &last)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export account: %w", err)
	}
	out.CreatedAt = out.CreatedAt.UTC()
	out.LastLoginAt = nullTime(last)
	rows, err := a.db.QueryContext(ctx, `SELECT role, COALESCE(org_id, 0), recursive FROM grants WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return fmt.Errorf("export roles: %w", err)
	}
	for rows.Next() {
		var r accountRole
		if err := rows.Scan(&r.Role, &r.OrgID, &r.Recursive); err != nil {
			rows.Close()
			return err
		}
		r.Label = auth.Role(r.Role).Label()
		out.Roles = append(out.Roles, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = a.db.QueryContext(ctx, `SELECT name, created_at, expires_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return fmt.Errorf("export tokens: %w", err)
	}
	for rows.Next() {
		var t accountToken
		var used sql.NullTime
		if err := rows.Scan(&t.Name, &t.CreatedAt, &t.ExpiresAt, &used); err != nil {
			rows.Close()
			return err
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC(), nullTime(used)
		out.Tokens = append(out.Tokens, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Sessions are listed by their dates only: their ids are secrets.
	rows, err = a.db.QueryContext(ctx, `SELECT created_at, expires_at FROM sessions WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return fmt.Errorf("export sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s accountSession
		if err := rows.Scan(&s.CreatedAt, &s.ExpiresAt); err != nil {
			return err
		}
		s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
		out.Sessions = append(out.Sessions, s)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return writeJSON(zw, "compte/compte.json", out, a.now().UTC())
}

// ErasedEmail is the address an erased account keeps: unique, reserved
// (.invalid, RFC 2606) so that it never receives mail nor matches a login.
func ErasedEmail(userID int64) string {
	return "compte-supprime-" + strconv.FormatInt(userID, 10) + "@socle.invalid"
}

// ErasePerson anonymises the account and removes its roles, tokens,
// sessions and throttling records.
func (a *AccountContributor) ErasePerson(ctx context.Context, userID int64) error {
	return a.db.InTx(ctx, func(tx *db.Tx) error {
		var email string
		err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&email)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return fmt.Errorf("erase account: %w", err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM sessions WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM api_tokens WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM grants WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM login_failures WHERE key = ?`, []any{"account:" + email}},
			{`UPDATE users SET email = ?, display_name = ?, password_hash = '', disabled = ?, last_login_at = NULL WHERE id = ?`,
				[]any{ErasedEmail(userID), "Compte supprimé", true, userID}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("erase account: %w", err)
			}
		}
		return nil
	})
}

// accessLogContributor is this package's own data about a person: who
// read their data, and the deletions asked for them.
type accessLogContributor struct{ s *Service }

func (c accessLogContributor) Name() string { return "acces" }

func (c accessLogContributor) ExportPerson(ctx context.Context, userID int64, zw *zip.Writer) error {
	all := []Access{}
	var before int64
	for {
		page, err := c.s.store.accessLog(ctx, userID, before, 1000)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if len(page) < 1000 {
			break
		}
		before = page[len(page)-1].ID
	}
	return writeJSON(zw, "acces/journal-des-acces.json", all, c.s.now().UTC())
}

// ErasePerson removes the log of reads of the person's data. Reads the
// person made of others' data stay in those people's logs: they are the
// others' data, and the reader's account now shows as deleted.
func (c accessLogContributor) ErasePerson(ctx context.Context, userID int64) error {
	return c.s.store.eraseAccessLog(ctx, userID)
}
