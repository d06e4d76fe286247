package collab

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxAwarenessNotify keeps presence notifications under PostgreSQL's
// 8000-byte payload limit once base64-encoded; bigger presence states
// (rare: a name, a colour, a cursor) stay local to their process.
const maxAwarenessNotify = 5000

// listen receives the other processes' notifications on a dedicated
// connection (database/sql pools cannot LISTEN), reconnecting on failure.
func (s *Server) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("collab: notification listener stopped, reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Server) listenOnce(ctx context.Context) error {
	pc, err := pgx.Connect(ctx, s.opts.ListenerURL)
	if err != nil {
		return err
	}
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	// Notifications sent while no listener was up are lost: catch up on
	// every loaded document from the database, and ask the Authorizer again
	// for every connection (a share may have been revoked meanwhile).
	for _, r := range s.allRooms() {
		s.reauthorizeLocal(r.id)
		snap, updates, err := s.store.load(ctx, r.id)
		if err != nil {
			return err
		}
		if snap != nil {
			updates = append([][]byte{snap}, updates...)
		}
		s.catchUp(r, updates...)
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		s.handleNotification(ctx, n.Payload)
	}
}

// handleNotification applies another process's update, presence or share
// change to this process's clients. Documents not loaded here are skipped:
// they will be read from the database when first needed.
func (s *Server) handleNotification(ctx context.Context, payload string) {
	parts := strings.SplitN(payload, ":", 4)
	if len(parts) != 4 || len(parts[0]) != 1 || parts[1] == s.instance {
		return
	}
	kind, arg, docID := parts[0][0], parts[2], parts[3]
	if kind == 'r' {
		s.reauthorizeLocal(docID)
		return
	}
	r := s.loaded(docID)
	if r == nil {
		return
	}
	switch kind {
	case 'u':
		seq, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return
		}
		data, found, err := s.store.update(ctx, docID, seq)
		if err == nil && !found {
			// Compacted meanwhile: its content is in the snapshot.
			data, err = s.store.snapshot(ctx, docID)
		}
		if err != nil {
			s.log.Error("collab: read notified update", "doc", docID, "seq", seq, "err", err)
			return
		}
		if data != nil {
			s.catchUp(r, data)
		}
	case 'a':
		raw, err := base64.RawURLEncoding.DecodeString(arg)
		if err != nil {
			return
		}
		entries, err := decodeAwareness(raw)
		if err != nil {
			return
		}
		s.applyAwareness(r, entries, nil)
	}
}

// notifyAwareness shares presence changes with the other processes.
func (s *Server) notifyAwareness(docID string, entries []awarenessEntry) {
	if s.notifyQ == nil {
		return
	}
	raw := encodeAwareness(entries)
	if len(raw) > maxAwarenessNotify {
		return
	}
	s.queueNotify(notifyPayloadString('a', s.instance, base64.RawURLEncoding.EncodeToString(raw), docID))
}

// queueNotify never blocks: presence is ephemeral and renewed every 15 s.
func (s *Server) queueNotify(payload string) {
	if s.notifyQ == nil {
		return
	}
	select {
	case s.notifyQ <- payload:
	default:
		s.log.Warn("collab: notification queue full, dropping")
	}
}

func (s *Server) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-s.notifyQ:
			if _, err := s.db.ExecContext(ctx, `SELECT pg_notify(?, ?)`, notifyChannel, p); err != nil && ctx.Err() == nil {
				s.log.Warn("collab: notify", "err", err)
			}
		}
	}
}
