package collab

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
)

const statusInternal = websocket.StatusInternalError

// Reasons sent with the auth message (y-protocols permission denied); the
// stock client shows them, so they are in French like the rest of the UI.
const (
	reasonNoAccess = "Accès refusé à ce document."
	reasonReadOnly = "Lecture seule : vos modifications ne sont pas enregistrées."
	reasonTooLarge = "Le document a atteint sa taille maximale : modification refusée."
	reasonRevoked  = "Votre accès à ce document a été retiré."
)

// conn is one WebSocket client of a room. An idle connection costs one
// goroutine (its reader) and no buffer: outgoing messages are queued and a
// writer goroutine runs only while the queue is not empty, keep-alive pings
// run from a timer.
type conn struct {
	s         *Server
	ws        *websocket.Conn
	bc        *batchConn
	room      *room
	principal *auth.Principal
	access    atomic.Int32
	authMu    sync.Mutex // serializes reauthorizations (reauthorizeConn)
	once      sync.Once
	// killed is done when the close handshake ended (or timed out).
	killed sync.WaitGroup
	// clients are the awareness ids this connection announced (room.mu).
	clients map[uint64]struct{}
	ping    *time.Timer

	// qmu guards the send queue: the messages not yet taken by the
	// writer, at most Options.SendQueue; a client that lets it fill is
	// dropped rather than slowing the room down.
	qmu     sync.Mutex
	queue   [][]byte
	writing bool // a writer goroutine is draining the queue
	dead    bool // killed: nothing more is queued

	msgs, bytes tokenBucket
}

func (c *conn) accessLevel() Access { return Access(c.access.Load()) }

// enqueue never blocks: it is called with the room locked. The same
// encoded message is shared by every recipient.
func (c *conn) enqueue(msg []byte) {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		return
	}
	if len(c.queue) >= c.s.opts.SendQueue {
		c.qmu.Unlock()
		c.kill(websocket.StatusPolicyViolation, "send queue full")
		return
	}
	if c.writing {
		c.queue = append(c.queue, msg)
		c.qmu.Unlock()
		return
	}
	// Nothing queued nor being written: write now, without blocking; a
	// writer goroutine takes over only if the socket is full or busy.
	c.writing = true
	c.qmu.Unlock()
	switch c.bc.tryWrite(msg) {
	case writeDone:
		c.qmu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
	case writePending:
		// drain sends the rest first.
	case writeBusy:
		// First in line: before what was queued meanwhile.
		c.qmu.Lock()
		c.queue = append(c.queue, nil)
		copy(c.queue[1:], c.queue)
		c.queue[0] = msg
		c.qmu.Unlock()
	default:
		c.writeFailed()
		return
	}
	go c.drain()
}

func (c *conn) writeFailed() {
	c.kill(websocket.StatusGoingAway, "write failed")
	c.qmu.Lock()
	c.queue, c.writing = nil, false
	c.qmu.Unlock()
}

// drain writes the queue until it is empty, after what a non-blocking
// write left. Everything queued when it looks is written as one batch: one
// system call for all of it.
func (c *conn) drain() {
	if err := c.bc.flush(); err != nil {
		c.writeFailed()
		return
	}
	var batch [][]byte
	for {
		c.qmu.Lock()
		batch, c.queue = c.queue, batch[:0]
		if len(batch) == 0 || c.dead {
			c.queue, c.writing = nil, false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		c.bc.begin()
		var err error
		for i, msg := range batch {
			if err == nil {
				// No context: the socket's write deadline (batchConn)
				// bounds the write, without a timer per message.
				err = c.ws.Write(context.Background(), websocket.MessageBinary, msg)
			}
			batch[i] = nil
		}
		if ferr := c.bc.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			c.writeFailed()
			return
		}
	}
}

// kill closes the connection once, in the background (it may be called
// with the room locked, and a close handshake with a stuck peer takes time).
func (c *conn) kill(code websocket.StatusCode, reason string) {
	c.killAfter(nil, code, reason)
}

// killAfter writes a last message (the auth message of a revoked client)
// before closing.
func (c *conn) killAfter(last []byte, code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.qmu.Lock()
		c.dead = true
		c.qmu.Unlock()
		if c.ping != nil {
			c.ping.Stop()
		}
		go func() {
			defer c.killed.Done()
			timeout := c.s.opts.WriteTimeout
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if last != nil {
				// An auth message: small enough to leave the library's
				// write buffer in one Write, so no tryWrite frame can
				// land inside it.
				_ = c.ws.Write(ctx, websocket.MessageBinary, last)
			}
			done := make(chan struct{})
			go func() {
				_ = c.ws.Close(code, reason)
				close(done)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				_ = c.ws.CloseNow()
			}
		}()
	})
}

// keepAlive pings the peer; it runs from the connection's timer, so an idle
// connection has no goroutine waiting for the next ping.
func (c *conn) keepAlive() {
	ctx, cancel := context.WithTimeout(context.Background(), c.s.opts.WriteTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		c.kill(websocket.StatusGoingAway, "ping timeout")
		return
	}
	c.qmu.Lock()
	if !c.dead {
		c.ping.Reset(c.s.opts.PingInterval)
	}
	c.qmu.Unlock()
}

// readLoop handles messages until the peer leaves or misbehaves. Any
// protocol violation closes this connection only: nothing of it has
// reached the document.
func (c *conn) readLoop() {
	// Built when needed: a logger per idle connection would cost memory.
	log := func() *slog.Logger { return c.s.log.With("doc", c.room.id, "user", c.userID()) }
	for {
		// kill marks the connection dead before its close handshake
		// starts reading: checked under the same lock, the buffers are
		// never looked at while the handshake reads them.
		c.qmu.Lock()
		idle := !c.dead && !c.bc.buffered()
		c.qmu.Unlock()
		if idle {
			c.bc.waitReadable()
		}
		// No context: kill closes the connection, which ends the read,
		// without a timer armed per frame.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			if st := websocket.CloseStatus(err); st == -1 && !c.isDead() {
				log().Debug("collab: connection ended", "err", err)
			}
			c.kill(websocket.StatusNormalClosure, "")
			return
		}
		now := time.Now()
		if !c.msgs.take(1, now) || !c.bytes.take(float64(len(data)), now) {
			log().Warn("collab: rate limit exceeded, closing connection")
			c.kill(websocket.StatusPolicyViolation, "rate limit exceeded")
			return
		}
		if typ != websocket.MessageBinary {
			c.kill(websocket.StatusUnsupportedData, "binary messages only")
			return
		}
		if err := c.handle(data); err != nil {
			switch {
			case errors.Is(err, errMalformed):
				log().Warn("collab: malformed message, closing connection", "err", err)
				c.kill(websocket.StatusProtocolError, "malformed message")
			case errors.Is(err, errGone):
				c.kill(websocket.StatusTryAgainLater, "document reloading")
			default:
				log().Error("collab: message failed, closing connection", "err", err)
				c.kill(statusInternal, "server error")
			}
			return
		}
	}
}

func (c *conn) userID() int64 {
	if c.principal == nil {
		return 0
	}
	return c.principal.User.ID
}

func (c *conn) isDead() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.dead
}

func (c *conn) handle(data []byte) error {
	m, err := decodeMessage(data)
	if err != nil {
		return err
	}
	r := c.room
	switch m.kind {
	case msgSync:
		switch m.sub {
		case syncStep1:
			sv, err := yjs.DecodeStateVector(m.payload)
			if err != nil {
				return errors.Join(errMalformed, err)
			}
			r.mu.Lock()
			if r.gone {
				r.mu.Unlock()
				return errGone
			}
			update, err := r.doc.EncodeStateAsUpdate(sv)
			if err == nil {
				// Sent once everything it may contain is committed.
				err = r.waitDurableLocked(r.applied)
			}
			r.mu.Unlock()
			if err != nil {
				return err
			}
			c.enqueue(encodeSync(syncStep2, update))
		default: // step 2 and update carry an update alike
			if isEmptyUpdate(m.payload) {
				return nil
			}
			if c.accessLevel() < AccessWrite {
				c.enqueue(encodePermissionDenied(reasonReadOnly))
				return nil
			}
			err := c.s.applyUpdate(r, m.payload, c)
			if errors.Is(err, errTooLarge) {
				c.s.log.Warn("collab: update refused, document size limit", "doc", r.id, "bytes", len(m.payload))
				c.enqueue(encodePermissionDenied(reasonTooLarge))
				return nil
			}
			return err
		}
	case msgAwareness:
		entries, err := decodeAwareness(m.payload)
		if err != nil {
			return err
		}
		if changed := c.s.applyAwareness(r, entries, c); len(changed) > 0 {
			c.s.notifyAwareness(r.id, changed)
		}
	case msgQueryAwareness:
		r.mu.Lock()
		msg := r.awarenessStatesLocked()
		r.mu.Unlock()
		if msg == nil {
			msg = encodeAwarenessMessage(encodeAwareness(nil))
		}
		c.enqueue(msg)
	case msgAuth:
		// Clients have nothing to say in the auth protocol; ignored as the
		// reference server does.
	}
	return nil
}
