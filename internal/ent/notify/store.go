package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"socle/internal/platform/db"
)

// store is the SQL of notifications, nothing else.
type store struct{ db *db.DB }

const itemCols = `id, type, title, body, link, created_at, read_at`

func scanItem(row interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var read sql.NullTime
	if err := row.Scan(&it.ID, &it.Type, &it.Title, &it.Body, &it.Link, &it.CreatedAt, &read); err != nil {
		return it, err
	}
	it.CreatedAt = it.CreatedAt.UTC()
	if read.Valid {
		t := read.Time.UTC()
		it.ReadAt = &t
	}
	return it, nil
}

// insert adds one notification to a timeline.
func (s *store) insert(ctx context.Context, q db.Querier, userID int64, n Notification, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO notify_timeline (user_id, type, title, body, link, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, userID, n.Type, n.Title, n.Body, n.Link, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert notification: %w", err)
	}
	return id, nil
}

func (s *store) enqueue(ctx context.Context, q db.Querier, userID, notificationID int64, f Frequency, due time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO notify_outbox (user_id, notification_id, frequency, due_at) VALUES (?, ?, ?, ?)`,
		userID, notificationID, string(f), due); err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// choices returns, for the users given, their frequency for a type (when
// they chose one) and whether they keep quiet hours (true when unset).
func (s *store) choices(ctx context.Context, q db.Querier, userIDs []int64, typ string) (map[int64]Frequency, map[int64]bool, error) {
	freq := map[int64]Frequency{}
	quiet := map[int64]bool{}
	if len(userIDs) == 0 {
		return freq, quiet, nil
	}
	args := make([]any, 0, len(userIDs)+1)
	args = append(args, typ)
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT user_id, frequency FROM notify_preferences WHERE type = ? AND user_id IN (`+
		db.Placeholders(len(userIDs))+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read preferences: %w", err)
	}
	for rows.Next() {
		var id int64
		var f string
		if err := rows.Scan(&id, &f); err != nil {
			rows.Close()
			return nil, nil, err
		}
		freq[id] = Frequency(f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = q.QueryContext(ctx, `SELECT user_id, quiet_hours FROM notify_settings WHERE user_id IN (`+
		db.Placeholders(len(userIDs))+`)`, args[1:]...)
	if err != nil {
		return nil, nil, fmt.Errorf("read settings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var b bool
		if err := rows.Scan(&id, &b); err != nil {
			return nil, nil, err
		}
		quiet[id] = b
	}
	return freq, quiet, rows.Err()
}

// page reads a timeline newest first, from just below the id before (0:
// from the top). It walks the (user_id, id) index backwards and stops after
// limit rows, whatever the timeline's length.
func (s *store) page(ctx context.Context, userID, before int64, limit int) ([]Item, error) {
	query := `SELECT ` + itemCols + ` FROM notify_timeline WHERE user_id = ?`
	args := []any{userID}
	if before > 0 {
		query += ` AND id < ?`
		args = append(args, before)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	defer rows.Close()
	items := make([]Item, 0, limit)
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

func (s *store) unread(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notify_timeline WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// item reads one notification of one person's timeline; another
// person's is sql.ErrNoRows, as if it did not exist.
func (s *store) item(ctx context.Context, userID, id int64) (Item, error) {
	return scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemCols+` FROM notify_timeline WHERE id = ? AND user_id = ?`, id, userID))
}

func (s *store) markRead(ctx context.Context, userID, id int64, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notify_timeline SET read_at = COALESCE(read_at, ?) WHERE id = ? AND user_id = ?`, now, id, userID)
	if err != nil {
		return false, fmt.Errorf("mark read: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s *store) markAllRead(ctx context.Context, userID int64, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notify_timeline SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, now, userID)
	if err != nil {
		return 0, fmt.Errorf("mark all read: %w", err)
	}
	return res.RowsAffected()
}

// preferences returns the frequencies a person chose and their quiet
// hours setting.
func (s *store) preferences(ctx context.Context, userID int64) (map[string]Frequency, bool, error) {
	out := map[string]Frequency{}
	rows, err := s.db.QueryContext(ctx, `SELECT type, frequency FROM notify_preferences WHERE user_id = ?`, userID)
	if err != nil {
		return nil, false, fmt.Errorf("read preferences: %w", err)
	}
	for rows.Next() {
		var t, f string
		if err := rows.Scan(&t, &f); err != nil {
			rows.Close()
			return nil, false, err
		}
		out[t] = Frequency(f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	quiet := true
	err = s.db.QueryRowContext(ctx, `SELECT quiet_hours FROM notify_settings WHERE user_id = ?`, userID).Scan(&quiet)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("read settings: %w", err)
	}
	return out, quiet, nil
}

func (s *store) setFrequency(ctx context.Context, q db.Querier, userID int64, typ string, f Frequency) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notify_preferences (user_id, type, frequency) VALUES (?, ?, ?)
		ON CONFLICT (user_id, type) DO UPDATE SET frequency = excluded.frequency`, userID, typ, string(f))
	if err != nil {
		return fmt.Errorf("save preference: %w", err)
	}
	return nil
}

func (s *store) setQuiet(ctx context.Context, q db.Querier, userID int64, quiet bool) error {
	_, err := q.ExecContext(ctx, `INSERT INTO notify_settings (user_id, quiet_hours) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET quiet_hours = excluded.quiet_hours`, userID, quiet)
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// outMail is one outbox row with what its mail needs.
type outMail struct {
	ID        int64
	UserID    int64
	Frequency Frequency
	Attempts  int
	Email     string
	Disabled  bool
	Item      Item
}

// claim takes up to limit due rows for this process until the given
// instant, so that another process polling meanwhile skips them; a row
// whose claim ran out (a process died mid-send) is taken again.
func (s *store) claim(ctx context.Context, now, until time.Time, limit int) ([]int64, error) {
	lock := ""
	if s.db.Dialect() == db.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ids []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE notify_outbox SET claimed_until = ?
			WHERE id IN (SELECT id FROM notify_outbox WHERE sent_at IS NULL AND due_at <= ?
				AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?`+lock+`)
			RETURNING id`, until, now, now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return ids, nil
}

// mails reads the claimed rows with their notification and address.
func (s *store) mails(ctx context.Context, ids []int64) ([]outMail, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT o.id, o.user_id, o.frequency, o.attempts, u.email, u.disabled,
		n.id, n.type, n.title, n.body, n.link, n.created_at, n.read_at
		FROM notify_outbox o JOIN notify_timeline n ON n.id = o.notification_id JOIN users u ON u.id = o.user_id
		WHERE o.id IN (`+db.Placeholders(len(ids))+`) ORDER BY o.user_id, n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []outMail
	for rows.Next() {
		var m outMail
		var f string
		var read sql.NullTime
		if err := rows.Scan(&m.ID, &m.UserID, &f, &m.Attempts, &m.Email, &m.Disabled,
			&m.Item.ID, &m.Item.Type, &m.Item.Title, &m.Item.Body, &m.Item.Link, &m.Item.CreatedAt, &read); err != nil {
			return nil, err
		}
		m.Frequency = Frequency(f)
		if read.Valid {
			t := read.Time.UTC()
			m.Item.ReadAt = &t
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// done marks rows sent (errText says why a row was dropped instead).
func (s *store) done(ctx context.Context, ids []int64, now time.Time, errText string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{now, errText}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE notify_outbox SET sent_at = ?, last_error = ?, claimed_until = NULL
		WHERE id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("mark sent: %w", err)
	}
	return nil
}

// retry releases rows for a later attempt.
func (s *store) retry(ctx context.Context, ids []int64, at time.Time, errText string) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{at, errText}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE notify_outbox SET attempts = attempts + 1, due_at = ?, last_error = ?,
		claimed_until = NULL WHERE id IN (`+db.Placeholders(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("reschedule mail: %w", err)
	}
	return nil
}

// outboxRow is a mail as the person's export shows it.
type outboxRow struct {
	NotificationID int64      `json:"notification_id"`
	Frequency      string     `json:"frequency"`
	DueAt          time.Time  `json:"due_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
}

func (s *store) outboxOf(ctx context.Context, userID int64) ([]outboxRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT notification_id, frequency, due_at, sent_at FROM notify_outbox
		WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		var sent sql.NullTime
		if err := rows.Scan(&r.NotificationID, &r.Frequency, &r.DueAt, &sent); err != nil {
			return nil, err
		}
		r.DueAt = r.DueAt.UTC()
		if sent.Valid {
			t := sent.Time.UTC()
			r.SentAt = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// erase removes everything of a person, outbox first (it points to the
// notifications).
func (s *store) erase(ctx context.Context, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, q := range []string{
			`DELETE FROM notify_outbox WHERE user_id = ?`,
			`DELETE FROM notify_timeline WHERE user_id = ?`,
			`DELETE FROM notify_preferences WHERE user_id = ?`,
			`DELETE FROM notify_settings WHERE user_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, userID); err != nil {
				return fmt.Errorf("erase notifications: %w", err)
			}
		}
		return nil
	})
}
