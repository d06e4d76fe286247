package collab

import (
	"context"
	"fmt"
)

// Group commit. An update is applied to its room's document under the room
// lock, handed to the committer, and the lock is released while the
// database works: the other clients of the room keep applying theirs. The
// committer writes everything handed to it meanwhile in one transaction,
// then broadcasts each update in the order it was applied. Nothing reaches
// a client before it is committed:
//   - updates are broadcast by the committer, after the commit;
//   - whatever is encoded from the live document (the answer to a sync
//     step 1, a catch-up, the API's reads) waits until everything the
//     document held at that moment is committed (room.waitDurableLocked);
//   - a failed commit unloads the room and disconnects its clients, as
//     before: they resync from what is durable.
// The caller of applyUpdate still returns only once its update is committed,
// so a client's reader, and an API call, see their own write's outcome.

// pendingUpdate is one applied update waiting for its commit.
type pendingUpdate struct {
	r      *room
	update []byte
	origin *conn  // not sent the update back; nil for the API and catch-ups
	n      uint64 // the room's applied count after this update
}

// stageLocked hands an update already applied to r.doc to the committer and
// returns its number in the room, for waitDurableLocked. Called with r.mu
// held, so the committer sees a room's updates in the order they were
// applied.
func (s *Server) stageLocked(r *room, update []byte, origin *conn) uint64 {
	r.applied++
	r.size += int64(len(update))
	n := r.applied
	s.cq.mu.Lock()
	s.cq.items = append(s.cq.items, pendingUpdate{r: r, update: update, origin: origin, n: n})
	start := !s.cq.running
	s.cq.running = true
	s.cq.mu.Unlock()
	if start {
		// No goroutine while nothing is pending.
		go s.commitLoop()
	}
	return n
}

// commitLoop commits batches until nothing is pending. The queue is bounded
// by the writers themselves: each waits for its own commit.
func (s *Server) commitLoop() {
	var batch []pendingUpdate
	for {
		s.cq.mu.Lock()
		batch, s.cq.items = s.cq.items, batch[:0]
		if len(batch) == 0 {
			s.cq.items, s.cq.running = nil, false
			s.cq.mu.Unlock()
			return
		}
		s.cq.mu.Unlock()
		s.commitBatch(batch)
		clear(batch)
	}
}

func (s *Server) commitBatch(batch []pendingUpdate) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	seqs := make([]int64, len(batch))
	errs := make([]error, len(batch))
	if err := s.store.appendUpdates(ctx, batch, seqs); err != nil {
		if len(batch) == 1 {
			errs[0] = err
		} else {
			// One bad row must not fail the others' rooms: retry them
			// one by one, so that only the failing rooms are unloaded.
			for i := range batch {
				errs[i] = s.store.appendUpdates(ctx, batch[i:i+1], seqs[i:i+1])
			}
		}
	}
	for i, p := range batch {
		r := p.r
		r.mu.Lock()
		switch {
		case errs[i] != nil:
			if !r.gone {
				s.log.Error("collab: cannot persist update, unloading document", "doc", r.id, "err", errs[i])
				r.failed = fmt.Errorf("collab: save update to %s: %w", r.id, errs[i])
				s.unloadLocked(r)
			}
		case r.gone:
			// Committed after an earlier update of the room failed: durable,
			// but the room's clients are gone and will resync.
		default:
			r.durable = p.n
			msg := encodeSync(syncUpdate, p.update)
			for c := range r.conns {
				if c != p.origin {
					c.enqueue(msg)
				}
			}
		}
		r.cond.Broadcast()
		r.mu.Unlock()
		if errs[i] == nil {
			s.publish(Change{DocID: r.id, Seq: seqs[i], Update: p.update})
		}
	}
}

// waitDurableLocked waits (r.mu held, released while waiting) until the
// room's first n applied updates are committed. It fails when the room was
// unloaded meanwhile: with the commit's error if a commit failed.
func (r *room) waitDurableLocked(n uint64) error {
	for r.durable < n && !r.gone {
		r.cond.Wait()
	}
	if r.durable >= n {
		return nil
	}
	if r.failed != nil {
		return r.failed
	}
	return errGone
}

// quiesceLocked waits (r.mu held) until everything applied to the document
// is committed, holding new updates back meanwhile so that a steady stream
// of edits cannot starve the caller. Call unquiesceLocked when done.
func (r *room) quiesceLocked() error {
	r.holds++
	err := r.waitDurableLocked(r.applied)
	if err != nil {
		r.unquiesceLocked()
	}
	return err
}

func (r *room) unquiesceLocked() {
	r.holds--
	if r.holds == 0 {
		r.cond.Broadcast()
	}
}

// waitUnheldLocked is where an update waits while an API read quiesces the
// room.
func (r *room) waitUnheldLocked() error {
	for r.holds > 0 && !r.gone {
		r.cond.Wait()
	}
	if r.gone {
		return errGone
	}
	return nil
}
