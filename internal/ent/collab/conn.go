package collab

import (
	"context"
	"errors"
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

// conn is one WebSocket client of a room.
type conn struct {
	s         *Server
	ws        *websocket.Conn
	room      *room
	principal *auth.Principal
	access    atomic.Int32
	// send is the bounded queue of outgoing messages; a client that lets it
	// fill is dropped rather than slowing the room down.
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	// killed is closed when the close handshake ended (or timed out).
	killed chan struct{}
	// clients are the awareness ids this connection announced (room.mu).
	clients map[uint64]struct{}

	msgs, bytes *tokenBucket
}

func (c *conn) accessLevel() Access { return Access(c.access.Load()) }

// enqueue never blocks: it is called with the room locked.
func (c *conn) enqueue(msg []byte) {
	select {
	case c.send <- msg:
	default:
		c.kill(websocket.StatusPolicyViolation, "send queue full")
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
		go func() {
			defer close(c.killed)
			defer c.cancel()
			timeout := c.s.opts.WriteTimeout
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if last != nil {
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

// writeLoop sends queued messages and keep-alive pings.
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case msg := <-c.send:
			ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.WriteTimeout)
			err := c.ws.Write(ctx, websocket.MessageBinary, msg)
			cancel()
			if err != nil {
				c.kill(websocket.StatusGoingAway, "write failed")
				return
			}
		case <-ping.C:
			ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.WriteTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				c.kill(websocket.StatusGoingAway, "ping timeout")
				return
			}
		}
	}
}

// readLoop handles messages until the peer leaves or misbehaves. Any
// protocol violation closes this connection only: nothing of it has
// reached the document.
func (c *conn) readLoop() {
	log := c.s.log.With("doc", c.room.id)
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == -1 && c.ctx.Err() == nil {
				log.Debug("collab: connection ended", "err", err)
			}
			c.kill(websocket.StatusNormalClosure, "")
			return
		}
		now := time.Now()
		if !c.msgs.take(1, now) || !c.bytes.take(float64(len(data)), now) {
			log.Warn("collab: rate limit exceeded, closing connection")
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
				log.Warn("collab: malformed message, closing connection", "err", err)
				c.kill(websocket.StatusProtocolError, "malformed message")
			case errors.Is(err, errGone):
				c.kill(websocket.StatusTryAgainLater, "document reloading")
			default:
				log.Error("collab: message failed, closing connection", "err", err)
				c.kill(statusInternal, "server error")
			}
			return
		}
	}
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
			err := c.s.applyUpdate(c.ctx, r, m.payload, c)
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
