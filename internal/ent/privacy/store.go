package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// store is the SQL of data protection, nothing else.
type store struct{ db *db.DB }

// person is an account as the summary names it.
type person struct {
	ID          int64
	Email       string
	DisplayName string
}

func (s *store) person(ctx context.Context, id int64) (person, error) {
	p := person{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT email, display_name FROM users WHERE id = ?`, id).Scan(&p.Email, &p.DisplayName)
	return p, err
}

// roleOrgs lists the organizations a person holds roles on.
func (s *store) roleOrgs(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org_id FROM grants WHERE user_id = ? AND org_id IS NOT NULL`, userID)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// underAny reports whether one of orgs lies below one of ancestors.
func (s *store) underAny(ctx context.Context, ancestors, orgs []int64) (bool, error) {
	if len(ancestors) == 0 || len(orgs) == 0 {
		return false, nil
	}
	args := make([]any, 0, len(ancestors)+len(orgs))
	for _, a := range ancestors {
		args = append(args, a)
	}
	for _, o := range orgs {
		args = append(args, o)
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM org_closure WHERE ancestor_id IN (`+db.Placeholders(len(ancestors))+
		`) AND descendant_id IN (`+db.Placeholders(len(orgs))+`)`, args...).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read organization tree: %w", err)
	}
	return n > 0, nil
}

func (s *store) recordAccess(ctx context.Context, readerID, subjectID int64, what string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO privacy_access_log (reader_id, subject_id, what, at) VALUES (?, ?, ?, ?)`,
		readerID, subjectID, what, at)
	if err != nil {
		return fmt.Errorf("record access: %w", err)
	}
	return nil
}

// accessLog reads a person's log newest first, below the id before (0:
// from the top), on the (subject_id, id) index.
func (s *store) accessLog(ctx context.Context, subjectID, before int64, limit int) ([]Access, error) {
	q := `SELECT l.id, l.reader_id, COALESCE(u.display_name, ''), l.what, l.at FROM privacy_access_log l
		LEFT JOIN users u ON u.id = l.reader_id WHERE l.subject_id = ?`
	args := []any{subjectID}
	if before > 0 {
		q += ` AND l.id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY l.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read access log: %w", err)
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var a Access
		if err := rows.Scan(&a.ID, &a.ReaderID, &a.ReaderName, &a.What, &a.At); err != nil {
			return nil, err
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *store) eraseAccessLog(ctx context.Context, subjectID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM privacy_access_log WHERE subject_id = ?`, subjectID); err != nil {
		return fmt.Errorf("erase access log: %w", err)
	}
	return nil
}

// secret returns the named secret, creating it with fresh when absent;
// when two processes race, the first insert wins and both read it.
func (s *store) secret(ctx context.Context, name, fresh string, now time.Time) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO privacy_secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, fresh, now); err != nil {
		return "", fmt.Errorf("create secret: %w", err)
	}
	var v string
	// Read through a transaction: on SQLite it runs on the write
	// connection, which has just inserted.
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT value FROM privacy_secrets WHERE name = ?`, name).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return v, nil
}

const deletionCols = `id, user_id, status, requested_by, requested_at, due_at, cancelled_at, done_at`

func scanDeletion(row interface{ Scan(...any) error }) (Deletion, error) {
	var d Deletion
	var cancelled, done sql.NullTime
	if err := row.Scan(&d.ID, &d.UserID, &d.Status, &d.RequestedBy, &d.RequestedAt, &d.DueAt, &cancelled, &done); err != nil {
		return d, err
	}
	d.RequestedAt, d.DueAt = d.RequestedAt.UTC(), d.DueAt.UTC()
	if cancelled.Valid {
		t := cancelled.Time.UTC()
		d.CancelledAt = &t
	}
	if done.Valid {
		t := done.Time.UTC()
		d.DoneAt = &t
	}
	return d, nil
}

// lastDeletion is the person's latest deletion request (sql.ErrNoRows:
// none).
func (s *store) lastDeletion(ctx context.Context, userID int64) (Deletion, error) {
	return scanDeletion(s.db.QueryRowContext(ctx, `SELECT `+deletionCols+` FROM privacy_deletions WHERE user_id = ?
		ORDER BY id DESC LIMIT 1`, userID))
}

func (s *store) scheduleDeletion(ctx context.Context, userID, by int64, now, due time.Time) (int64, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO privacy_deletions (user_id, status, requested_by, requested_at, due_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, userID, StatusScheduled, by, now, due).Scan(&id)
	})
	return id, err
}

// setStatus moves a deletion from one status to another; false when it was
// not in the from status any more (cancelled or taken meanwhile).
func (s *store) setStatus(ctx context.Context, id int64, from, to string, by int64, now time.Time) (bool, error) {
	q := `UPDATE privacy_deletions SET status = ?`
	args := []any{to}
	switch to {
	case StatusCancelled:
		q += `, cancelled_by = ?, cancelled_at = ?`
		args = append(args, by, now)
	case StatusDone:
		q += `, done_at = ?`
		args = append(args, now)
	}
	q += ` WHERE id = ? AND status = ?`
	args = append(args, id, from)
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("update deletion: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *store) setArchive(ctx context.Context, id int64, path string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE privacy_deletions SET archive = ? WHERE id = ?`, path, id)
	return err
}

// fulfil marks the person's waiting deletion done.
func (s *store) fulfil(ctx context.Context, userID int64, archive string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE privacy_deletions SET status = ?, done_at = ?, archive = ? WHERE user_id = ? AND status = ?`,
		StatusDone, now, archive, userID, StatusScheduled)
	if err != nil {
		return fmt.Errorf("fulfil deletion: %w", err)
	}
	return nil
}

// due lists scheduled deletions whose grace period is over.
func (s *store) due(ctx context.Context, now time.Time) ([]Deletion, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deletionCols+` FROM privacy_deletions WHERE status = ? AND due_at <= ?
		ORDER BY due_at, id`, StatusScheduled, now)
	if err != nil {
		return nil, fmt.Errorf("read due deletions: %w", err)
	}
	defer rows.Close()
	var out []Deletion
	for rows.Next() {
		d, err := scanDeletion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
