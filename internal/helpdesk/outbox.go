package helpdesk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/problem"
)

// The outbox: notifications are written to mail_outbox in the transaction
// of the change they report (Service.send) and delivered afterwards, right
// after the commit for the ticket just changed (flushTicket) and by the
// worker (RunOutbox) for everything else due: retries after a failure, and
// messages a crashed process had claimed. Delivery is at least once: a
// process that dies between the SMTP server's acceptance and the
// bookkeeping sends that message again after the lease.

// outboxLease is how long a claimed message is reserved for the process
// delivering it; longer than deliver's own timeout.
const outboxLease = 2 * time.Minute

// outboxBatch bounds one pass of the worker.
const outboxBatch = 20

// OutboxMessage is a notification in the outbox, as administrators see it.
type OutboxMessage struct {
	ID            int64     `json:"id"`
	Reference     string    `json:"reference"`
	Kind          string    `json:"kind"`
	Recipient     string    `json:"recipient"`
	Subject       string    `json:"subject"`
	CreatedAt     time.Time `json:"created_at"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	FailedAt      time.Time `json:"failed_at,omitzero"`
}

// State is the message's state in French.
func (m OutboxMessage) State() string {
	switch {
	case !m.SentAt.IsZero():
		return "Envoyé"
	case !m.FailedAt.IsZero():
		return "Abandonné"
	case m.Attempts > 0:
		return "Nouvel essai prévu"
	}
	return "En attente"
}

type outboxItem struct {
	id, ticketID int64
	recipient    string
	message      string
	attempts     int
}

func (s *Store) enqueueMail(ctx context.Context, q db.Querier, ticketID int64, kind, to, subject, messageID string, msg []byte, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO mail_outbox (ticket_id, kind, recipient, subject, message_id, message, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ticketID, kind, to, subject, messageID, string(msg), now.UTC(), now.UTC())
	if err != nil {
		return fmt.Errorf("queue notification of ticket %d: %w", ticketID, err)
	}
	return nil
}

// claimMail reserves up to limit due messages (of one ticket when ticketID
// is not 0) by pushing their next attempt past the lease, and returns
// them. On PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, so
// processes sharing the database claim different messages instead of
// waiting on each other; SQLite has one writer, which serializes claims.
func (s *Store) claimMail(ctx context.Context, now time.Time, ticketID int64, limit int) ([]outboxItem, error) {
	var out []outboxItem
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		out = nil
		cond, args := `sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?`, []any{now.UTC()}
		if ticketID != 0 {
			cond, args = cond+` AND ticket_id = ?`, append(args, ticketID)
		}
		lock := ""
		if tx.Dialect() == db.Postgres {
			lock = ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, ticket_id, recipient, message, attempts FROM mail_outbox WHERE `+cond+
			` ORDER BY next_attempt_at, id LIMIT ?`+lock, append(args, limit)...)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		for rows.Next() {
			var it outboxItem
			if err := rows.Scan(&it.id, &it.ticketID, &it.recipient, &it.message, &it.attempts); err != nil {
				rows.Close()
				return err
			}
			out = append(out, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET next_attempt_at = ? WHERE id = ?`, now.Add(outboxLease).UTC(), it.id); err != nil {
				return fmt.Errorf("lease outbox message %d: %w", it.id, err)
			}
		}
		return nil
	})
	return out, err
}

func (s *Store) mailSent(ctx context.Context, id int64, attempts int, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE mail_outbox SET sent_at = ?, attempts = ?, last_error = '' WHERE id = ?`, now.UTC(), attempts, id)
	return err
}

func (s *Store) mailFailed(ctx context.Context, id int64, attempts int, next time.Time, giveUp bool, msg string, now time.Time) error {
	var failed any
	if giveUp {
		failed = now.UTC()
	}
	_, err := s.db.ExecContext(ctx, `UPDATE mail_outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, failed_at = ? WHERE id = ?`,
		attempts, next.UTC(), msg, failed, id)
	return err
}

func (s *Store) outboxMessages(ctx context.Context, onlyProblems bool, limit, offset int) ([]OutboxMessage, int, error) {
	where := `1=1`
	if onlyProblems {
		where = `m.sent_at IS NULL AND (m.attempts > 0 OR m.failed_at IS NOT NULL)`
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox m WHERE `+where).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count outbox: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.id, t.reference, m.kind, m.recipient, m.subject, m.created_at, m.attempts,
		m.next_attempt_at, m.last_error, m.sent_at, m.failed_at
		FROM mail_outbox m JOIN tickets t ON t.id = m.ticket_id WHERE `+where+` ORDER BY m.id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxMessage{}
	for rows.Next() {
		var m OutboxMessage
		var sent, failed sql.NullTime
		if err := rows.Scan(&m.ID, &m.Reference, &m.Kind, &m.Recipient, &m.Subject, &m.CreatedAt, &m.Attempts,
			&m.NextAttemptAt, &m.LastError, &sent, &failed); err != nil {
			return nil, 0, err
		}
		m.CreatedAt, m.NextAttemptAt = m.CreatedAt.UTC(), m.NextAttemptAt.UTC()
		if sent.Valid {
			m.SentAt = sent.Time.UTC()
		}
		if failed.Valid {
			m.FailedAt = failed.Time.UTC()
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// backoff is the wait after the n-th failed attempt (n ≥ 1).
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.OutboxBackoff
	if d <= 0 {
		d = 30 * time.Second
	}
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (s *Service) maxAttempts() int {
	if s.opts.OutboxMaxAttempts > 0 {
		return s.opts.OutboxMaxAttempts
	}
	return 10
}

// deliverOutbox makes one pass over the due messages (of one ticket when
// ticketID is not 0) and returns how many were delivered.
func (s *Service) deliverOutbox(ctx context.Context, ticketID int64) (int, error) {
	if s.opts.Mail.Host == "" {
		return 0, nil
	}
	items, err := s.store.claimMail(ctx, s.now(), ticketID, outboxBatch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, it := range items {
		n := it.attempts + 1
		err := s.deliver(ctx, it.recipient, []byte(it.message))
		now := s.now()
		if err == nil {
			if err := s.store.mailSent(ctx, it.id, n, now); err != nil {
				return sent, fmt.Errorf("mark outbox message %d sent: %w", it.id, err)
			}
			sent++
			continue
		}
		giveUp := n >= s.maxAttempts()
		s.log.Warn("notification not delivered", "outbox_id", it.id, "ticket_id", it.ticketID, "attempt", n, "give_up", giveUp, "err", err)
		if err := s.store.mailFailed(ctx, it.id, n, now.Add(s.backoff(n)), giveUp, err.Error(), now); err != nil {
			return sent, fmt.Errorf("mark outbox message %d failed: %w", it.id, err)
		}
	}
	return sent, nil
}

// DeliverOutbox makes one pass over every due message.
func (s *Service) DeliverOutbox(ctx context.Context) (int, error) { return s.deliverOutbox(ctx, 0) }

// flushTicket delivers, right after a commit, what the change of one
// ticket queued, so a notification does not wait for the worker's next
// pass; a failure is left to the worker's retries.
func (s *Service) flushTicket(ctx context.Context, t *Ticket, since time.Time) {
	if _, err := s.deliverOutbox(ctx, t.ID); err != nil {
		s.log.Warn("outbox flush failed", "ticket_id", t.ID, "err", err)
	}
	if s.opts.Timeline == nil {
		return
	}
	// What the change notified, read back once committed: a timeline write
	// inside the ticket's transaction would wait for SQLite's one writer.
	rows, err := s.db.QueryContext(ctx, `SELECT recipient, subject FROM notifications WHERE ticket_id = ? AND sent_at >= ? ORDER BY id`, t.ID, since.UTC())
	if err != nil {
		s.log.Warn("timeline of a ticket change", "ticket_id", t.ID, "err", err)
		return
	}
	type event struct{ to, subject string }
	var events []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.to, &e.subject); err != nil {
			rows.Close()
			s.log.Warn("timeline of a ticket change", "ticket_id", t.ID, "err", err)
			return
		}
		events = append(events, e)
	}
	rows.Close()
	for _, e := range events {
		if err := s.opts.Timeline.TicketEvent(ctx, e.to, t.Reference, e.subject); err != nil {
			s.log.Warn("timeline of a ticket change", "ticket_id", t.ID, "err", err)
		}
	}
}

// RunOutbox delivers due messages every interval until ctx ends: the
// retries, and what a process that stopped had left. Several processes
// may run it on one PostgreSQL database.
func (s *Service) RunOutbox(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 15 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := s.DeliverOutbox(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("outbox pass failed", "err", err)
			}
			if n < outboxBatch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Outbox lists the outgoing notifications, or only those that failed at
// least once; platform administrators only, as for the quarantine.
func (s *Service) Outbox(ctx context.Context, p *auth.Principal, onlyProblems bool, limit, offset int) ([]OutboxMessage, int, error) {
	if p.IsAnonymous() {
		return nil, 0, problem.Unauthenticated()
	}
	if !p.Global(auth.PermUserManage) {
		return nil, 0, problem.NotFound("Page")
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = 50
	}
	return s.store.outboxMessages(ctx, onlyProblems, limit, max(offset, 0))
}
