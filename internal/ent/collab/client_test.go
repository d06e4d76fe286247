package collab

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
)

// testClient is a minimal y-websocket peer in Go: it answers sync step 1,
// applies what it receives to its own document, and records presence and
// auth messages, so that tests can check what a real client would see.
type testClient struct {
	t   testing.TB
	ws  *websocket.Conn
	ctx context.Context

	mu        sync.Mutex
	doc       *yjs.Doc
	updates   [][]byte // updates received (step 2 and update messages)
	step1s    int
	answered  int // sync step 2 answers sent
	denied    []string
	presence  map[uint64]awarenessEntry
	awMsgs    int
	changed   chan struct{}
	closeErr  error
	closed    chan struct{}
	noAnswer  bool // do not answer sync step 1 (raw-protocol tests)
	readPause chan struct{}
}

func dial(t testing.TB, url string) *testClient {
	t.Helper()
	c, err := tryDial(t, url, false)
	if err != nil {
		t.Fatalf("dial %s: %v", redactURL(url), err)
	}
	return c
}

func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

func tryDial(t testing.TB, url string, paused bool) (*testClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(64 << 20)
	c := &testClient{
		t: t, ws: ws, ctx: context.Background(), doc: yjs.NewDoc(),
		presence: map[uint64]awarenessEntry{},
		changed:  make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
	if paused {
		c.readPause = make(chan struct{})
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	go c.readLoop()
	// Like y-websocket, a client starts with its own sync step 1.
	c.send(encodeSync(syncStep1, c.doc.EncodeStateVector()))
	return c, nil
}

func (c *testClient) readLoop() {
	defer close(c.closed)
	if c.readPause != nil {
		<-c.readPause
	}
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			c.signal()
			return
		}
		m, err := decodeMessage(data)
		if err != nil {
			c.t.Errorf("client got a malformed message: %v", err)
			return
		}
		c.mu.Lock()
		switch {
		case m.kind == msgSync && m.sub == syncStep1:
			c.step1s++
			if !c.noAnswer {
				sv, _ := yjs.DecodeStateVector(m.payload)
				u, _ := c.doc.EncodeStateAsUpdate(sv)
				go func() {
					c.send(encodeSync(syncStep2, u))
					c.mu.Lock()
					c.answered++
					c.mu.Unlock()
					c.signal()
				}()
			}
		case m.kind == msgSync:
			c.updates = append(c.updates, m.payload)
			if err := c.doc.ApplyUpdate(m.payload); err != nil {
				c.t.Errorf("client: apply update: %v", err)
			}
		case m.kind == msgAwareness:
			c.awMsgs++
			entries, err := decodeAwareness(m.payload)
			if err != nil {
				c.t.Errorf("client: awareness: %v", err)
			}
			for _, e := range entries {
				c.presence[e.ClientID] = e
			}
		case m.kind == msgAuth:
			c.denied = append(c.denied, string(m.payload))
		}
		c.mu.Unlock()
		c.signal()
	}
}

func (c *testClient) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *testClient) send(msg []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageBinary, msg)
}

// edit makes a local change and sends it as an update message.
func (c *testClient) edit(fn func(d *yjs.Doc, tx *yjs.Tx) error) []byte {
	c.t.Helper()
	c.mu.Lock()
	u, err := c.doc.Transact(func(tx *yjs.Tx) error { return fn(c.doc, tx) })
	c.mu.Unlock()
	if err != nil {
		c.t.Fatalf("local edit: %v", err)
	}
	c.send(encodeSync(syncUpdate, u))
	return u
}

func (c *testClient) insertText(s string) []byte {
	return c.edit(func(d *yjs.Doc, tx *yjs.Tx) error {
		t := d.GetText("t")
		return t.Insert(tx, t.Len(), s, nil)
	})
}

func (c *testClient) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doc.GetText("t").String()
}

// waitFor polls cond (called with the client locked) until it holds.
func (c *testClient) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (c *testClient) waitText(want string) {
	c.t.Helper()
	c.waitFor("text "+want, 10*time.Second, func() bool { return c.doc.GetText("t").String() == want })
}

// waitClosed returns the close status the server sent.
func (c *testClient) waitClosed(timeout time.Duration) websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(timeout):
		c.t.Fatalf("connection not closed after %v", timeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return websocket.CloseStatus(c.closeErr)
}

func (c *testClient) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *testClient) deniedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.denied)
}

var errTest = errors.New("test")
