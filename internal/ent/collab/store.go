package collab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/db"
)

// store is the SQL of the engine: the update log and the snapshots.
type store struct {
	db *db.DB
	// instance names this process in notifications, so that it skips its
	// own; empty disables NOTIFY (SQLite).
	instance string
}

// notifyChannel is the PostgreSQL channel of the engine. Payloads are
// "kind:instance:seq:docID" (docID last: it may contain colons), far below
// the 8000-byte limit: an update itself is read from its row.
const notifyChannel = "socle_collab"

func notifyPayloadString(kind byte, instance, arg, docID string) string {
	return string(kind) + ":" + instance + ":" + arg + ":" + docID
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// appendUpdates writes updates to the log in one transaction (a group
// commit) and sets their sequence numbers in seqs. It commits before
// returning: the caller broadcasts only then.
func (s *store) appendUpdates(ctx context.Context, batch []pendingUpdate, seqs []int64) error {
	at := now()
	if s.db.Dialect() == db.SQLite && len(batch) <= maxInsertRows {
		// One statement is one implicit transaction: no BEGIN and COMMIT
		// to parse and run. SQLite has one writer and gives the rows of
		// an INSERT consecutive AUTOINCREMENT rowids, the last one being
		// LastInsertId.
		q, args := insertStatement(batch, at)
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("append %d updates: %w", len(batch), err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("append %d updates: %w", len(batch), err)
		}
		for i := range seqs {
			seqs[i] = last - int64(len(seqs)-1-i)
		}
		return nil
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for start := 0; start < len(batch); start += maxInsertRows {
			end := min(len(batch), start+maxInsertRows)
			if err := insertUpdates(ctx, tx, batch[start:end], seqs[start:end], at); err != nil {
				return err
			}
		}
		if s.instance == "" || tx.Dialect() != db.Postgres {
			return nil
		}
		// Inside the transaction: PostgreSQL delivers them at commit, and
		// only if the rows are committed.
		for start := 0; start < len(batch); start += maxInsertRows {
			end := min(len(batch), start+maxInsertRows)
			q := make([]byte, 0, 32*(end-start))
			q = append(q, "SELECT "...)
			args := make([]any, 0, 2*(end-start))
			for i := start; i < end; i++ {
				if i > start {
					q = append(q, ", "...)
				}
				q = append(q, "pg_notify(?, ?)"...)
				args = append(args, notifyChannel, notifyPayloadString('u', s.instance, strconv.FormatInt(seqs[i], 10), batch[i].r.id))
			}
			if _, err := tx.ExecContext(ctx, string(q), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append %d updates: %w", len(batch), err)
	}
	return nil
}

func insertStatement(batch []pendingUpdate, at string) (string, []any) {
	q := make([]byte, 0, 80+12*len(batch))
	q = append(q, "INSERT INTO collab_updates (doc_id, data, created_at) VALUES "...)
	args := make([]any, 0, 3*len(batch))
	for i, p := range batch {
		if i > 0 {
			q = append(q, ", "...)
		}
		q = append(q, "(?, ?, ?)"...)
		args = append(args, p.r.id, p.update, at)
	}
	return string(q), args
}

// maxInsertRows bounds one INSERT's rows (3 parameters each).
const maxInsertRows = 100

// insertUpdates writes rows with one statement: parsing it costs more than
// inserting a row. Both engines assign seq in the order of the VALUES
// rows, so the returned numbers, sorted, are the rows' in order (RETURNING
// itself promises no order).
func insertUpdates(ctx context.Context, tx *db.Tx, batch []pendingUpdate, seqs []int64, at string) error {
	q, args := insertStatement(batch, at)
	rows, err := tx.QueryContext(ctx, q+" RETURNING seq", args...)
	if err != nil {
		return fmt.Errorf("append updates: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if n == len(seqs) {
			return fmt.Errorf("append updates: more rows returned than inserted")
		}
		if err := rows.Scan(&seqs[n]); err != nil {
			return fmt.Errorf("append updates: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("append updates: %w", err)
	}
	if n != len(seqs) {
		return fmt.Errorf("append updates: %d rows returned for %d inserted", n, len(seqs))
	}
	slices.Sort(seqs)
	return nil
}

// load returns a document's snapshot (nil if none) and the log rows after it.
func (s *store) load(ctx context.Context, docID string) (snapshot []byte, updates [][]byte, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT state FROM collab_snapshots WHERE doc_id = ?`, docID).Scan(&snapshot)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("load snapshot of %s: %w", docID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM collab_updates WHERE doc_id = ? ORDER BY seq`, docID)
	if err != nil {
		return nil, nil, fmt.Errorf("load updates of %s: %w", docID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, nil, fmt.Errorf("load updates of %s: %w", docID, err)
		}
		updates = append(updates, b)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load updates of %s: %w", docID, err)
	}
	return snapshot, updates, nil
}

// update reads one log row; found is false when compaction removed it (its
// content is then in the snapshot).
func (s *store) update(ctx context.Context, docID string, seq int64) (data []byte, found bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT data FROM collab_updates WHERE doc_id = ? AND seq = ?`, docID, seq).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read update %s/%d: %w", docID, seq, err)
	}
	return data, true, nil
}

func (s *store) snapshot(ctx context.Context, docID string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT state FROM collab_snapshots WHERE doc_id = ?`, docID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read snapshot of %s: %w", docID, err)
	}
	return b, nil
}

// forget deletes a document's log and snapshot.
func (s *store) forget(ctx context.Context, docID string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM collab_updates WHERE doc_id = ?`, docID); err != nil {
			return fmt.Errorf("forget %s: %w", docID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM collab_snapshots WHERE doc_id = ?`, docID); err != nil {
			return fmt.Errorf("forget %s: %w", docID, err)
		}
		return nil
	})
}

// docsToCompact lists the documents with at least min log rows.
func (s *store) docsToCompact(ctx context.Context, min int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT doc_id FROM collab_updates GROUP BY doc_id HAVING COUNT(*) >= ?`, min)
	if err != nil {
		return nil, fmt.Errorf("list documents to compact: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// compact folds a document's log into its snapshot in one transaction. It
// works from the rows it reads, never from a process's live document: with
// several processes, the live document may lack a row another process just
// wrote. Only the rows read are deleted, since on PostgreSQL a row with a
// lower seq can commit after a higher one. It returns the new state's size.
func (s *store) compact(ctx context.Context, docID string) (size int, merged int, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			// Two processes compacting the same document would each write a
			// snapshot missing the other's deleted rows.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "collab:"+docID); err != nil {
				return err
			}
		}
		var snap []byte
		var snapSeq int64
		err := tx.QueryRowContext(ctx, `SELECT state, seq FROM collab_snapshots WHERE doc_id = ?`, docID).Scan(&snap, &snapSeq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, data FROM collab_updates WHERE doc_id = ? ORDER BY seq`, docID)
		if err != nil {
			return err
		}
		var seqs []any
		var updates [][]byte
		maxSeq := snapSeq
		for rows.Next() {
			var seq int64
			var b []byte
			if err := rows.Scan(&seq, &b); err != nil {
				rows.Close()
				return err
			}
			seqs = append(seqs, seq)
			updates = append(updates, b)
			maxSeq = max(maxSeq, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(updates) == 0 {
			size = len(snap)
			return nil
		}
		// A document, rather than MergeUpdates, so that deleted content is
		// garbage-collected and the snapshot does not grow forever.
		d := yjs.NewDoc()
		for _, u := range append([][]byte{snap}, updates...) {
			if u == nil {
				continue
			}
			if err := d.ApplyUpdate(u); err != nil {
				return fmt.Errorf("replay log: %w", err)
			}
		}
		state, err := d.EncodeStateAsUpdate(nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO collab_snapshots (doc_id, state, seq, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (doc_id) DO UPDATE SET state = excluded.state, seq = excluded.seq, updated_at = excluded.updated_at`,
			docID, state, maxSeq, now()); err != nil {
			return err
		}
		for len(seqs) > 0 {
			n := min(len(seqs), 500)
			args := append([]any{docID}, seqs[:n]...)
			if _, err := tx.ExecContext(ctx, `DELETE FROM collab_updates WHERE doc_id = ? AND seq IN (`+db.Placeholders(n)+`)`, args...); err != nil {
				return err
			}
			seqs = seqs[n:]
		}
		size, merged = len(state), len(updates)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", docID, err)
	}
	return size, merged, nil
}
