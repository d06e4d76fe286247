package collab

import (
	"context"
	"errors"
	"fmt"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
)

// The in-process API for the other modules. Each call loads the document if
// this process does not have it yet and works on the same live document
// the WebSocket clients edit, under its lock.

// State returns the whole document as one Yjs v1 update.
func (s *Server) State(ctx context.Context, docID string) ([]byte, error) {
	var state []byte
	err := s.Read(ctx, docID, func(d *yjs.Doc) error {
		var err error
		state, err = d.EncodeStateAsUpdate(nil)
		return err
	})
	return state, err
}

// Load returns a private copy of the document, free to read and edit
// without locking (edits to it are not saved; use Apply for that).
func (s *Server) Load(ctx context.Context, docID string) (*yjs.Doc, error) {
	state, err := s.State(ctx, docID)
	if err != nil {
		return nil, err
	}
	d := yjs.NewDoc()
	if err := d.ApplyUpdate(state); err != nil {
		return nil, fmt.Errorf("collab: copy %s: %w", docID, err)
	}
	return d, nil
}

// Read runs fn on the live document under its lock, to read structured data
// (d.GetText(name).Delta(), d.GetMap(name).ToJSON()...) without copying.
// fn must not keep d nor edit it, and must be quick: clients wait.
func (s *Server) Read(ctx context.Context, docID string, fn func(d *yjs.Doc) error) error {
	if !validDocID(docID) {
		return fmt.Errorf("collab: invalid document id")
	}
	r, err := s.acquire(ctx, docID)
	if err != nil {
		return err
	}
	defer s.release(r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone {
		return errGone
	}
	// What fn reads may be exported or indexed: only committed content.
	if err := r.quiesceLocked(); err != nil {
		return err
	}
	defer r.unquiesceLocked()
	return fn(r.doc)
}

// Apply makes a server-side change: fn edits the document through tx under
// its lock; the resulting update is persisted, then broadcast to clients,
// other processes and subscribers, like a client's. Yjs has no rollback: if
// fn fails after some edits, those edits are still saved and sent, and
// fn's error is returned. Server-side changes are trusted and not held to
// the document size limit.
func (s *Server) Apply(ctx context.Context, docID string, fn func(d *yjs.Doc, tx *yjs.Tx) error) error {
	if !validDocID(docID) {
		return fmt.Errorf("collab: invalid document id")
	}
	for attempt := 0; ; attempt++ {
		err := s.applyOnce(ctx, docID, fn)
		// A room unloaded between acquire and lock is retried once on a
		// fresh load.
		if errors.Is(err, errGone) && attempt == 0 {
			continue
		}
		return err
	}
}

func (s *Server) applyOnce(ctx context.Context, docID string, fn func(d *yjs.Doc, tx *yjs.Tx) error) error {
	r, err := s.acquire(ctx, docID)
	if err != nil {
		return err
	}
	defer s.release(r)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.waitUnheldLocked(); err != nil {
		return err
	}
	update, ferr := r.doc.Transact(func(tx *yjs.Tx) error { return fn(r.doc, tx) })
	if update == nil {
		return ferr
	}
	if err := r.waitDurableLocked(s.stageLocked(r, update, nil)); err != nil {
		return errors.Join(ferr, fmt.Errorf("collab: save change to %s: %w", docID, err))
	}
	return ferr
}

// Forget deletes a document for good: its update log and snapshot, and its
// room if this process has it loaded (what was accepted is committed
// first, so that nothing lands after the delete; connections still open
// are closed). Call it once the authorizer refuses the document to
// everybody — after Reauthorize, other processes' clients are gone too.
func (s *Server) Forget(ctx context.Context, docID string) error {
	if !validDocID(docID) {
		return fmt.Errorf("collab: invalid document id")
	}
	if r := s.loaded(docID); r != nil {
		r.mu.Lock()
		// Held updates then fail with errGone instead of being saved.
		_ = r.quiesceLocked()
		r.gone = true
		conns := make([]*conn, 0, len(r.conns))
		for c := range r.conns {
			conns = append(conns, c)
		}
		s.mu.Lock()
		if s.rooms[docID] == r {
			delete(s.rooms, docID)
		}
		s.mu.Unlock()
		r.cond.Broadcast()
		r.mu.Unlock()
		for _, c := range conns {
			c.kill(websocket.StatusNormalClosure, "document deleted")
		}
	}
	return s.store.forget(ctx, docID)
}
