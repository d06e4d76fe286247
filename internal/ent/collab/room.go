package collab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"socle/internal/ent/collab/yjs"
)

// room is one loaded document and its connections. Its mutex serializes
// everything that touches the Yjs document (which is not safe for concurrent
// use), the connection set and the awareness states.
type room struct {
	id    string
	ready chan struct{} // closed when loading ended
	err   error         // loading error, set before ready is closed

	// users counts connections and in-flight API calls; with lastUsed it
	// decides unloading. Both are guarded by Server.mu, not room.mu.
	users    int
	lastUsed time.Time

	mu    sync.Mutex
	doc   *yjs.Doc
	size  int64 // upper bound of the encoded document size
	conns map[*conn]struct{}
	aw    map[uint64]*presence
	gone  bool // unloaded after a storage failure: callers must retry

	// Group commit state (see commit.go): updates applied to doc and
	// handed to the committer, and how many of them are committed; cond
	// (on mu) signals progress, a failure, and the end of holds.
	applied, durable uint64
	holds            int   // API reads waiting for a fully durable document
	failed           error // the commit error that unloaded the room
	cond             sync.Cond
}

const (
	// maxClientsPerConn bounds the awareness ids one connection may
	// announce (a stock client uses one).
	maxClientsPerConn = 16
	// forgetAfter × AwarenessTimeout: how long the clock of an offline
	// client is kept.
	forgetAfter = 10
)

// presence is the server's view of one awareness client (y-protocols'
// MetaClientState plus the state).
type presence struct {
	clock   uint64
	state   string // JSON; "" when the client is known to be offline
	updated time.Time
	owner   *conn // nil when the state came from another process
}

var (
	errTooLarge = errors.New("collab: document size limit reached")
	errGone     = errors.New("collab: document was unloaded, retry")
)

// emptyUpdate is a v1 update with no structs and no deletions: what a client
// with nothing new answers to sync step 1.
func isEmptyUpdate(u []byte) bool { return len(u) == 2 && u[0] == 0 && u[1] == 0 }

// loadRoom reads a document from the database: its snapshot then its log.
func (s *Server) loadRoom(ctx context.Context, r *room) error {
	snap, updates, err := s.store.load(ctx, r.id)
	if err != nil {
		return err
	}
	d := yjs.NewDoc()
	size := int64(0)
	for i, u := range append([][]byte{snap}, updates...) {
		if u == nil {
			continue
		}
		if err := d.ApplyUpdate(u); err != nil {
			// Rows are validated before they are written; a bad one means
			// outside tampering. Losing it beats losing the document.
			s.log.Error("collab: skipping unreadable stored update", "doc", r.id, "index", i, "err", err)
			continue
		}
		size += int64(len(u))
	}
	r.doc, r.size = d, size
	return nil
}

// applyUpdate integrates an update from a client (origin) or from the API
// (origin nil): validated by applying it, written to the log, then
// broadcast. The order matters: what any client receives is durable.
func (s *Server) applyUpdate(r *room, update []byte, origin *conn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.waitUnheldLocked(); err != nil {
		return err
	}
	// Clients resend what the server has (a sync step 2 racing an update,
	// a reconnection after offline edits): only the difference is applied,
	// logged and broadcast, and an update that brings nothing is skipped.
	diff, err := yjs.DiffUpdate(update, r.doc.EncodeStateVector())
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	if isEmptyUpdate(diff) {
		return nil
	}
	if r.size+int64(len(diff)) > s.opts.MaxDocumentBytes {
		return errTooLarge
	}
	// With no struct (first varuint: zero clients), the diff still carries
	// the sender's whole delete set, which every reconnecting client sends
	// again: compare the document's deletions before and after to skip it.
	var before []byte
	if diff[0] == 0 {
		if before, err = r.doc.EncodeStateAsUpdate(r.doc.StateVector()); err != nil {
			return err
		}
	}
	// ApplyUpdate validates the whole update before changing anything, so
	// a malformed one leaves the document intact.
	if err := r.doc.ApplyUpdate(diff); err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	if before != nil {
		after, err := r.doc.EncodeStateAsUpdate(r.doc.StateVector())
		if err == nil && bytes.Equal(before, after) {
			return nil
		}
	}
	// The lock is released while the committer works; this returns once
	// the update is committed and broadcast (or the room is unloaded).
	return r.waitDurableLocked(s.stageLocked(r, diff, origin))
}

// unloadLocked drops a room whose memory may differ from the database.
func (s *Server) unloadLocked(r *room) {
	r.gone = true
	r.cond.Broadcast()
	for c := range r.conns {
		c.kill(statusInternal, "storage failure")
	}
	s.mu.Lock()
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	s.mu.Unlock()
}

// catchUp applies what the database has for a document and the room lacks
// (updates of other processes), and broadcasts the difference.
func (s *Server) catchUp(r *room, updates ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone || r.doc == nil {
		return
	}
	before := r.doc.StateVector()
	applied := 0
	for _, u := range updates {
		if err := r.doc.ApplyUpdate(u); err != nil {
			s.log.Error("collab: unreadable update from the database", "doc", r.id, "err", err)
			continue
		}
		applied += len(u)
	}
	if applied == 0 {
		return
	}
	r.size += int64(applied)
	// The difference from the previous state vector carries the new
	// structs and the whole delete set, so deletions get through too.
	diff, err := r.doc.EncodeStateAsUpdate(before)
	if err != nil {
		s.log.Error("collab: encode catch-up", "doc", r.id, "err", err)
		return
	}
	// The diff carries the whole delete set, this process's uncommitted
	// deletions included: sent once they are committed.
	if err := r.waitDurableLocked(r.applied); err != nil {
		return
	}
	msg := encodeSync(syncUpdate, diff)
	for c := range r.conns {
		c.enqueue(msg)
	}
}

// applyAwareness merges a client's awareness update with y-protocols' rule
// (a higher clock wins; an equal clock with a null state removes) and relays
// what changed to every connection, the sender included: the stock client
// counts its own echo as a sign of life. A connection may not overwrite a
// client id another live connection controls.
func (s *Server) applyAwareness(r *room, entries []awarenessEntry, from *conn) []awarenessEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	var changed, revive []awarenessEntry
	for _, e := range entries {
		p := r.aw[e.ClientID]
		if from != nil && p != nil && p.owner != nil && p.owner != from {
			continue
		}
		if from != nil && p == nil && len(from.clients) >= maxClientsPerConn {
			continue
		}
		var cur uint64
		if p != nil {
			cur = p.clock
		}
		if !(cur < e.Clock || (p != nil && cur == e.Clock && e.removed() && p.state != "")) {
			if from != nil && p != nil && p.state == "" && !e.removed() {
				// A client coming back at a clock the server already
				// declared offline: tell it so. y-protocols clients answer
				// a null for their own id by re-announcing themselves with
				// a higher clock, which everybody then accepts.
				revive = append(revive, awarenessEntry{ClientID: e.ClientID, Clock: cur, State: "null"})
			}
			continue
		}
		if p == nil {
			p = &presence{}
			r.aw[e.ClientID] = p
		}
		p.clock, p.updated = e.Clock, now
		if from != nil {
			p.owner = from
			if from.clients == nil {
				from.clients = map[uint64]struct{}{}
			}
			from.clients[e.ClientID] = struct{}{}
		}
		if e.removed() {
			p.state = ""
		} else {
			p.state = e.State
		}
		changed = append(changed, e)
	}
	if len(revive) > 0 {
		from.enqueue(encodeAwarenessMessage(encodeAwareness(revive)))
	}
	if len(changed) > 0 {
		msg := encodeAwarenessMessage(encodeAwareness(changed))
		for c := range r.conns {
			c.enqueue(msg)
		}
	}
	return changed
}

// awarenessStates encodes every present state, for a new connection and
// for queryAwareness.
func (r *room) awarenessStatesLocked() []byte {
	var entries []awarenessEntry
	for id, p := range r.aw {
		if p.state != "" {
			entries = append(entries, awarenessEntry{ClientID: id, Clock: p.clock, State: p.state})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return encodeAwarenessMessage(encodeAwareness(entries))
}

// leave removes a connection and the presence it controlled, announcing
// the removal with the next clock and a null state, as a client going
// offline does. The server keeps that clock: a client coming back with its
// old one is told to move past it (see applyAwareness).
func (s *Server) leave(r *room, c *conn) []awarenessEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	var removed []awarenessEntry
	now := time.Now()
	for id := range c.clients {
		p := r.aw[id]
		if p == nil || p.owner != c {
			continue
		}
		p.owner = nil
		if p.state != "" {
			p.clock++
			p.state, p.updated = "", now
			removed = append(removed, awarenessEntry{ClientID: id, Clock: p.clock, State: "null"})
		}
	}
	if len(removed) > 0 {
		msg := encodeAwarenessMessage(encodeAwareness(removed))
		for o := range r.conns {
			o.enqueue(msg)
		}
	}
	return removed
}

// expireAwareness drops states not renewed within the timeout (y-protocols
// removes them the same way, keeping the clock).
func (s *Server) expireAwareness(r *room, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var removed []awarenessEntry
	for id, p := range r.aw {
		if p.state == "" && p.owner == nil && now.Sub(p.updated) >= forgetAfter*s.opts.AwarenessTimeout {
			// Offline for long: forget the clock too, so the map does not
			// grow with every client that ever came by.
			delete(r.aw, id)
			continue
		}
		if p.state != "" && now.Sub(p.updated) >= s.opts.AwarenessTimeout {
			removed = append(removed, awarenessEntry{ClientID: id, Clock: p.clock, State: "null"})
			p.state = ""
		}
	}
	if len(removed) == 0 {
		return
	}
	s.log.Debug("collab: awareness timeout", "doc", r.id, "clients", len(removed))
	msg := encodeAwarenessMessage(encodeAwareness(removed))
	for c := range r.conns {
		c.enqueue(msg)
	}
}
