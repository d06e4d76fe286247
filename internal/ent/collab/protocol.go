package collab

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The y-websocket message set (y-protocols sync, awareness and auth), framed
// as lib0 varuints and length-prefixed byte arrays. One WebSocket binary
// message carries exactly one protocol message.
const (
	msgSync           = 0
	msgAwareness      = 1
	msgAuth           = 2
	msgQueryAwareness = 3

	syncStep1  = 0
	syncStep2  = 1
	syncUpdate = 2

	authPermissionDenied = 0
)

// errMalformed marks input that does not follow the protocol; the
// connection that sent it is closed, nothing else is affected.
var errMalformed = errors.New("collab: malformed message")

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER: lib0 refuses
// larger varuints, so a peer sending one is broken or hostile.
const maxSafeInteger = 1<<53 - 1

type reader struct {
	buf []byte
	pos int
}

func (r *reader) done() bool { return r.pos >= len(r.buf) }

func (r *reader) varUint() (uint64, error) {
	var n uint64
	for shift := uint(0); ; shift += 7 {
		if r.pos >= len(r.buf) {
			return 0, fmt.Errorf("%w: truncated varuint", errMalformed)
		}
		if shift > 49 {
			return 0, fmt.Errorf("%w: varuint too long", errMalformed)
		}
		b := r.buf[r.pos]
		r.pos++
		n |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if n > maxSafeInteger {
				return 0, fmt.Errorf("%w: varuint out of range", errMalformed)
			}
			return n, nil
		}
	}
}

func (r *reader) varBytes() ([]byte, error) {
	n, err := r.varUint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.buf)-r.pos) {
		return nil, fmt.Errorf("%w: length %d exceeds the %d bytes left", errMalformed, n, len(r.buf)-r.pos)
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

type writer struct{ buf []byte }

func (w *writer) varUint(n uint64) {
	for n >= 0x80 {
		w.buf = append(w.buf, byte(n)|0x80)
		n >>= 7
	}
	w.buf = append(w.buf, byte(n))
}

func (w *writer) varBytes(b []byte) {
	w.varUint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

// message is one decoded protocol message.
type message struct {
	kind    uint64 // msgSync, msgAwareness, msgAuth, msgQueryAwareness
	sub     uint64 // sync sub-type, or auth sub-type
	payload []byte // state vector, update, awareness update; reason for auth
}

// decodeMessage parses a whole WebSocket message. It never panics and
// refuses trailing bytes, unknown types and over-long lengths.
func decodeMessage(b []byte) (message, error) {
	r := &reader{buf: b}
	kind, err := r.varUint()
	if err != nil {
		return message{}, err
	}
	m := message{kind: kind}
	switch kind {
	case msgSync:
		if m.sub, err = r.varUint(); err != nil {
			return m, err
		}
		if m.sub > syncUpdate {
			return m, fmt.Errorf("%w: unknown sync message type %d", errMalformed, m.sub)
		}
		if m.payload, err = r.varBytes(); err != nil {
			return m, err
		}
	case msgAwareness:
		if m.payload, err = r.varBytes(); err != nil {
			return m, err
		}
	case msgAuth:
		if m.sub, err = r.varUint(); err != nil {
			return m, err
		}
		if m.payload, err = r.varBytes(); err != nil {
			return m, err
		}
	case msgQueryAwareness:
	default:
		return m, fmt.Errorf("%w: unknown message type %d", errMalformed, kind)
	}
	if !r.done() {
		return m, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(b)-r.pos)
	}
	return m, nil
}

func encodeSync(sub uint64, payload []byte) []byte {
	w := &writer{buf: make([]byte, 0, len(payload)+8)}
	w.varUint(msgSync)
	w.varUint(sub)
	w.varBytes(payload)
	return w.buf
}

func encodeAwarenessMessage(update []byte) []byte {
	w := &writer{buf: make([]byte, 0, len(update)+8)}
	w.varUint(msgAwareness)
	w.varBytes(update)
	return w.buf
}

// encodePermissionDenied is y-protocols' auth message: the stock client
// reports the reason to the user (console.warn in y-websocket).
func encodePermissionDenied(reason string) []byte {
	w := &writer{}
	w.varUint(msgAuth)
	w.varUint(authPermissionDenied)
	w.varBytes([]byte(reason))
	return w.buf
}

// awarenessEntry is one client's state in an awareness update. State is the
// JSON text as sent ("null" when the client is gone).
type awarenessEntry struct {
	ClientID uint64
	Clock    uint64
	State    string
}

func (e awarenessEntry) removed() bool { return e.State == "null" }

// decodeAwareness parses an awareness update (y-protocols' default JSON
// state encoding) and checks that every state is valid JSON, so that what
// is relayed cannot break the other clients' JSON.parse.
func decodeAwareness(b []byte) ([]awarenessEntry, error) {
	r := &reader{buf: b}
	n, err := r.varUint()
	if err != nil {
		return nil, err
	}
	// Each entry takes at least three bytes: bound the allocation by the
	// input, not by what the peer claims.
	if n > uint64(len(b))/3 {
		return nil, fmt.Errorf("%w: %d awareness entries in %d bytes", errMalformed, n, len(b))
	}
	out := make([]awarenessEntry, 0, n)
	for range n {
		var e awarenessEntry
		if e.ClientID, err = r.varUint(); err != nil {
			return nil, err
		}
		if e.Clock, err = r.varUint(); err != nil {
			return nil, err
		}
		s, err := r.varBytes()
		if err != nil {
			return nil, err
		}
		if !json.Valid(s) {
			return nil, fmt.Errorf("%w: awareness state is not JSON", errMalformed)
		}
		e.State = string(s)
		out = append(out, e)
	}
	if !r.done() {
		return nil, fmt.Errorf("%w: trailing bytes in awareness update", errMalformed)
	}
	return out, nil
}

func encodeAwareness(entries []awarenessEntry) []byte {
	w := &writer{}
	w.varUint(uint64(len(entries)))
	for _, e := range entries {
		w.varUint(e.ClientID)
		w.varUint(e.Clock)
		w.varBytes([]byte(e.State))
	}
	return w.buf
}
