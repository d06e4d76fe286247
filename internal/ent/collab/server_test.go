package collab

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"socle/internal/ent/collab/yjs"
	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/db/dbtest"
)

// env is a server on an httptest listener with real accounts and tokens;
// the authorizer reads a table the test changes at will.
type env struct {
	t    *testing.T
	db   *db.DB
	auth *auth.Service
	srv  *Server
	hs   *httptest.Server
	opts Options
	// authz replaces the env's own authorizer (a second server sharing
	// the first one's access table).
	authz Authorizer

	mu     sync.Mutex
	access map[int64]Access // by user id; missing means none
	tokens map[string]string
	ids    map[string]int64
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("COLLAB_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	d := dbtest.Open(t, auth.Migrations(), Migrations())
	e := &env{t: t, db: d, opts: opts, access: map[int64]Access{}, tokens: map[string]string{}, ids: map[string]int64{}}
	e.auth = auth.NewService(d, auth.DefaultSettings(), testLogger(t))
	e.start()
	return e
}

func (e *env) authorize(_ context.Context, p *auth.Principal, _ string) (Access, error) {
	if p == nil {
		return AccessNone, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.access[p.User.ID], nil
}

// start (re)starts the server on the same database, as a restart would.
func (e *env) start() {
	authz := e.authz
	if authz == nil {
		authz = e.authorize
	}
	e.srv = NewServer(e.db, e.auth, authz, testLogger(e.t), e.opts)
	ctx, cancel := context.WithCancel(context.Background())
	e.srv.Start(ctx)
	mux := http.NewServeMux()
	mux.Handle("GET /collab/{id}", e.srv)
	e.hs = httptest.NewServer(mux)
	srv, hs := e.srv, e.hs
	e.t.Cleanup(func() {
		cancel()
		hs.Close()
		srv.Close()
	})
}

func (e *env) stop() {
	e.srv.Close()
	e.hs.Close()
}

// user creates an account with a token and an access level.
func (e *env) user(name string, a Access) string {
	e.t.Helper()
	ctx := context.Background()
	id, err := e.auth.CreateUser(ctx, auth.NewUser{Email: name + "@example.fr", Password: "un-mot-de-passe"})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.auth.IssueToken(ctx, id, "collab test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.access[id] = a
	e.tokens[name] = tok
	e.ids[name] = id
	e.mu.Unlock()
	return tok
}

func (e *env) setAccess(name string, a Access) {
	e.mu.Lock()
	e.access[e.ids[name]] = a
	e.mu.Unlock()
}

func (e *env) url(doc, name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/collab/" + doc + "?token=" + e.tokens[name]
}

func (e *env) dial(doc, name string) *testClient { return dial(e.t, e.url(doc, name)) }

// serverText reads the live document through the API.
func (e *env) serverText(doc string) string {
	e.t.Helper()
	var s string
	if err := e.srv.Read(context.Background(), doc, func(d *yjs.Doc) error {
		s = d.GetText("t").String()
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestSyncAwarenessAndLeave(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)

	a := e.dial("doc1", "anne")
	a.insertText("Bonjour")
	waitServerText(t, e, "doc1", "Bonjour")

	// A late joiner gets the content through sync step 2, then live updates.
	b := e.dial("doc1", "bruno")
	b.waitText("Bonjour")
	b.waitFor("sync step 1 from the server", 5*time.Second, func() bool { return b.step1s == 1 })
	b.insertText(" !")
	a.waitText("Bonjour !")

	// Presence is relayed to everybody, the sender included (the stock
	// client takes its own echo as a sign of life).
	a.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 11, Clock: 1, State: `{"user":"anne"}`}})))
	b.waitFor("anne's presence", 5*time.Second, func() bool { return b.presence[11].State == `{"user":"anne"}` })
	a.waitFor("own presence echo", 5*time.Second, func() bool { return b.presence[11].Clock == 1 })
	// An older clock is ignored.
	a.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 11, Clock: 0, State: `{"user":"old"}`}})))
	// Bruno cannot overwrite a presence Anne's connection controls.
	b.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 11, Clock: 9, State: "null"}})))

	// A newcomer receives the known states on connection.
	c := e.dial("doc1", "bruno")
	c.waitFor("known states", 5*time.Second, func() bool { return c.presence[11].State == `{"user":"anne"}` && c.presence[11].Clock == 1 })
	// queryAwareness is answered with every state.
	c.mu.Lock()
	delete(c.presence, 11)
	c.mu.Unlock()
	c.send([]byte{msgQueryAwareness})
	c.waitFor("queried states", 5*time.Second, func() bool { return c.presence[11].State == `{"user":"anne"}` })

	// When Anne leaves, the others see her removed: next clock, null state.
	_ = a.ws.Close(websocket.StatusNormalClosure, "")
	b.waitFor("anne's removal", 5*time.Second, func() bool {
		p := b.presence[11]
		return p.State == "null" && p.Clock == 2
	})

	// Anne comes back with her old clock: the server tells her she is
	// offline at clock 2, so that she re-announces herself above it (what
	// the stock client does), and everybody sees her again at once.
	a2 := e.dial("doc1", "anne")
	a2.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 11, Clock: 1, State: `{"user":"anne"}`}})))
	a2.waitFor("offline notice", 5*time.Second, func() bool { return a2.presence[11].State == "null" && a2.presence[11].Clock == 2 })
	a2.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 11, Clock: 3, State: `{"user":"anne"}`}})))
	b.waitFor("anne back", 5*time.Second, func() bool { return b.presence[11].State == `{"user":"anne"}` && b.presence[11].Clock == 3 })
}

func TestKeepAlive(t *testing.T) {
	e := newEnv(t, Options{PingInterval: 50 * time.Millisecond, WriteTimeout: 300 * time.Millisecond})
	e.user("anne", AccessWrite)
	live := e.dial("doc", "anne")
	// A peer that stops answering pings is dropped.
	dead, err := tryDial(t, e.url("doc", "anne"), true)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	close(dead.readPause)
	dead.waitClosed(5 * time.Second)
	// One that answers stays across many pings.
	if live.isClosed() {
		t.Error("a live client was dropped")
	}
	live.insertText("ok")
	waitServerText(t, e, "doc", "ok")
}

func TestSchemaColumns(t *testing.T) {
	// The same on both engines: CI runs this once on each.
	d := dbtest.Open(t, Migrations())
	cols, err := d.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		if strings.HasPrefix(c.Table, "collab_") {
			got = append(got, c.Table+"."+c.Name)
		}
	}
	want := "collab_snapshots.doc_id collab_snapshots.seq collab_snapshots.state collab_snapshots.updated_at " +
		"collab_updates.created_at collab_updates.data collab_updates.doc_id collab_updates.seq"
	if strings.Join(got, " ") != want {
		t.Errorf("columns = %v", got)
	}
}

func waitServerText(t *testing.T, e *env, doc, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := e.serverText(doc)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server text = %q, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAwarenessTimeout(t *testing.T) {
	e := newEnv(t, Options{AwarenessTimeout: 300 * time.Millisecond})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)
	a := e.dial("doc", "anne")
	b := e.dial("doc", "bruno")
	a.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 5, Clock: 3, State: `{"c":1}`}})))
	b.waitFor("presence", 5*time.Second, func() bool { return b.presence[5].State == `{"c":1}` })
	// Not renewed: removed after the timeout with the same clock, as
	// y-protocols does.
	b.waitFor("timeout removal", 5*time.Second, func() bool { return b.presence[5].State == "null" && b.presence[5].Clock == 3 })
}

func TestReadOnlyAndRefused(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	e.user("lea", AccessRead)
	e.user("intrus", AccessNone)
	a := e.dial("doc", "anne")
	a.insertText("texte")
	waitServerText(t, e, "doc", "texte")

	r := e.dial("doc", "lea")
	r.waitText("texte") // readers sync
	r.insertText(" modifié")
	r.waitFor("auth message", 5*time.Second, func() bool { return len(r.denied) == 1 && r.denied[0] == reasonReadOnly })
	if r.step1s != 0 {
		t.Errorf("a read-only member got %d sync step 1", r.step1s)
	}
	// The refused update reached nobody and nothing.
	a.insertText(".")
	r.waitFor("the writer's edit", 5*time.Second, func() bool { return strings.Contains(r.doc.GetText("t").String(), ".") })
	waitServerText(t, e, "doc", "texte.")
	if a.text() != "texte." {
		t.Errorf("writer text = %q", a.text())
	}
	if r.isClosed() {
		t.Error("a read-only member was disconnected for trying to write")
	}

	// No access at all: the auth message, then the socket is closed.
	x := e.dial("doc", "intrus")
	if st := x.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
		t.Errorf("close status = %v", st)
	}
	if x.deniedCount() != 1 || len(x.updates) != 0 {
		t.Errorf("refused client: denied=%v updates=%d", x.denied, len(x.updates))
	}
	// An anonymous client and a bad token are refused the same way.
	y := dial(t, "ws"+strings.TrimPrefix(e.hs.URL, "http")+"/collab/doc?token=socle_nope")
	if st := y.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
		t.Errorf("bad token close status = %v", st)
	}
}

func TestReauthorize(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)
	a := e.dial("doc", "anne")
	b := e.dial("doc", "bruno")
	// b answers the server's sync step 1 from another goroutine: that
	// answer must reach the server before the downgrade, or it is refused
	// too and counted below. The server handles b's messages in order, so
	// once a sees b's next edit, the answer was handled.
	b.waitFor("sync answer", 5*time.Second, func() bool { return b.answered >= 1 })
	b.insertText("un")
	a.waitText("un")

	// Downgraded: told, and further updates dropped.
	e.setAccess("bruno", AccessRead)
	e.srv.Reauthorize("doc")
	b.waitFor("downgrade message", 5*time.Second, func() bool { return len(b.denied) == 1 })
	b.insertText(" deux")
	b.waitFor("refusal", 5*time.Second, func() bool { return len(b.denied) == 2 })
	a.insertText("!")
	// b keeps its local edit, the others never see it.
	b.waitFor("the writer's edit", 5*time.Second, func() bool { return strings.Contains(b.doc.GetText("t").String(), "!") })
	waitServerText(t, e, "doc", "un!")

	// Upgraded again: sync step 1 makes the client send what it has.
	e.setAccess("bruno", AccessWrite)
	e.srv.Reauthorize("doc")
	merged := b.text()
	a.waitText(merged)

	// Revoked: told and disconnected; the others stay.
	e.setAccess("bruno", AccessNone)
	e.srv.Reauthorize("doc")
	if st := b.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
		t.Errorf("revoked close status = %v", st)
	}
	if b.denied[len(b.denied)-1] != reasonRevoked {
		t.Errorf("revoked client told %q", b.denied[len(b.denied)-1])
	}
	a.insertText("?")
	waitServerText(t, e, "doc", merged+"?")
	if a.isClosed() {
		t.Error("writer disconnected by another's revocation")
	}
}

// TestMalformedMessages: each bad message closes its own connection only;
// the document and the other clients are unaffected.
func TestMalformedMessages(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	e.user("bad", AccessWrite)
	a := e.dial("doc", "anne")
	a.insertText("intact")
	waitServerText(t, e, "doc", "intact")

	huge := (&writer{})
	huge.varUint(msgSync)
	huge.varUint(syncUpdate)
	huge.varUint(1 << 40)
	cases := []struct {
		name string
		msg  []byte
		text bool
		want websocket.StatusCode
	}{
		{"empty message", []byte{}, false, websocket.StatusProtocolError},
		{"truncated message type", []byte{0x80}, false, websocket.StatusProtocolError},
		{"truncated sync type", []byte{0x00, 0xff}, false, websocket.StatusProtocolError},
		{"varuint too long", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, false, websocket.StatusProtocolError},
		{"length larger than message", []byte{msgSync, syncUpdate, 10, 0, 0}, false, websocket.StatusProtocolError},
		{"huge length", huge.buf, false, websocket.StatusProtocolError},
		{"unknown message type", []byte{9}, false, websocket.StatusProtocolError},
		{"unknown sync type", []byte{msgSync, 7, 0}, false, websocket.StatusProtocolError},
		{"trailing bytes", append(encodeSync(syncUpdate, []byte{0, 0}), 1), false, websocket.StatusProtocolError},
		{"garbage update", encodeSync(syncUpdate, []byte{1, 1, 5, 0, 0x44, 0xff}), false, websocket.StatusProtocolError},
		{"garbage state vector", encodeSync(syncStep1, []byte{3, 1}), false, websocket.StatusProtocolError},
		{"awareness truncated", encodeAwarenessMessage([]byte{1, 5}), false, websocket.StatusProtocolError},
		{"awareness not JSON", encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 1, Clock: 1, State: "{oops"}})), false, websocket.StatusProtocolError},
		{"awareness count lies", encodeAwarenessMessage([]byte{0xff, 0xff, 0x03, 1, 1}), false, websocket.StatusProtocolError},
		{"text frame", []byte("hello"), true, websocket.StatusUnsupportedData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial("doc", "bad")
			c.waitText("intact")
			typ := websocket.MessageBinary
			if tc.text {
				typ = websocket.MessageText
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.ws.Write(ctx, typ, tc.msg); err != nil {
				t.Fatal(err)
			}
			if st := c.waitClosed(5 * time.Second); st != tc.want {
				t.Errorf("close status = %v, want %v", st, tc.want)
			}
			if a.isClosed() {
				t.Fatal("another client was disconnected")
			}
		})
	}
	a.insertText(" toujours")
	waitServerText(t, e, "doc", "intact toujours")
	// The log holds only valid updates: a restart restores the document.
	e.stop()
	e.start()
	if got := e.serverText("doc"); got != "intact toujours" {
		t.Errorf("after restart: %q", got)
	}
}

func TestMessageTooBig(t *testing.T) {
	e := newEnv(t, Options{MaxMessageBytes: 1024})
	e.user("anne", AccessWrite)
	c := e.dial("doc", "anne")
	c.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 1, Clock: 1, State: `"` + strings.Repeat("x", 2000) + `"`}})))
	if st := c.waitClosed(5 * time.Second); st != websocket.StatusMessageTooBig {
		t.Errorf("close status = %v", st)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("messages", func(t *testing.T) {
		e := newEnv(t, Options{MessagesPerSecond: 5, MessageBurst: 10})
		e.user("anne", AccessWrite)
		c := e.dial("doc", "anne")
		for i := range 30 {
			c.send(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 1, Clock: uint64(i + 1), State: "{}"}})))
		}
		if st := c.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
			t.Errorf("close status = %v", st)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		e := newEnv(t, Options{BytesPerSecond: 1000, ByteBurst: 4000})
		e.user("anne", AccessWrite)
		c := e.dial("doc", "anne")
		for range 3 {
			c.insertText(strings.Repeat("é", 1000))
		}
		if st := c.waitClosed(5 * time.Second); st != websocket.StatusPolicyViolation {
			t.Errorf("close status = %v", st)
		}
	})
	t.Run("within limits", func(t *testing.T) {
		e := newEnv(t, Options{MessagesPerSecond: 50, MessageBurst: 20})
		e.user("anne", AccessWrite)
		c := e.dial("doc", "anne")
		for range 15 {
			c.insertText("a")
			time.Sleep(5 * time.Millisecond)
		}
		waitServerText(t, e, "doc", strings.Repeat("a", 15))
		if c.isClosed() {
			t.Error("closed within limits")
		}
	})
}

func TestMaxDocumentSize(t *testing.T) {
	e := newEnv(t, Options{MaxDocumentBytes: 2000})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)
	a := e.dial("doc", "anne")
	b := e.dial("doc", "bruno")
	a.insertText(strings.Repeat("a", 1000))
	b.waitText(strings.Repeat("a", 1000))
	a.insertText(strings.Repeat("b", 1500))
	// Refused at least once: under load the client may also resend the
	// refused content in its sync step 2, which is refused again.
	a.waitFor("size refusal", 5*time.Second, func() bool {
		return len(a.denied) > 0 && !slices.ContainsFunc(a.denied, func(d string) bool { return d != reasonTooLarge })
	})
	// Intact, and still usable for small edits.
	a.insertText("c")
	want := strings.Repeat("a", 1000)
	waitServerText(t, e, "doc", want+"")
	if a.isClosed() {
		t.Error("client disconnected by a refused update")
	}
	if got := e.serverText("doc"); got != want {
		t.Errorf("document changed: %d chars", len(got))
	}
	// "c" depends on the refused insert: kept pending, never integrated.
	if b.text() != want {
		t.Errorf("other client got %d chars", len(b.text()))
	}
}

func TestSlowClientIsDropped(t *testing.T) {
	e := newEnv(t, Options{SendQueue: 16, WriteTimeout: 2 * time.Second, BytesPerSecond: 1 << 30})
	e.user("anne", AccessWrite)
	e.user("lent", AccessWrite)
	e.user("vif", AccessWrite)
	a := e.dial("doc", "anne")
	slow, err := tryDial(t, e.url("doc", "lent"), true) // never reads
	if err != nil {
		t.Fatal(err)
	}
	fast := e.dial("doc", "vif")
	chunk := strings.Repeat("x", 60000)
	start := time.Now()
	const n = 200
	for range n {
		a.insertText(chunk)
	}
	fast.waitFor("every update", 30*time.Second, func() bool { return fast.doc.GetText("t").Len() == n*60000 })
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("fast client slowed down: %v", d)
	}
	// The slow client's connection was closed by the server.
	close(slow.readPause)
	slow.waitClosed(10 * time.Second)
}

func TestRestartAndCompaction(t *testing.T) {
	e := newEnv(t, Options{CompactMinUpdates: 5})
	e.user("anne", AccessWrite)
	a := e.dial("doc", "anne")
	for i := range 20 {
		a.insertText(fmt.Sprint(i % 10))
	}
	a.edit(func(d *yjs.Doc, tx *yjs.Tx) error { return d.GetText("t").Delete(tx, 0, 5) })
	want := "56789012345678901234567890"[:15]
	waitServerText(t, e, "doc", want)
	e.srv.Compact(context.Background())
	var rows, snaps int
	if err := e.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM collab_updates WHERE doc_id = ?`, "doc").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := e.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM collab_snapshots WHERE doc_id = ?`, "doc").Scan(&snaps); err != nil {
		t.Fatal(err)
	}
	if rows != 0 || snaps != 1 {
		t.Errorf("after compaction: %d log rows, %d snapshots", rows, snaps)
	}
	// A client resending everything, deletions included, adds no row.
	x := e.dial("doc", "anne")
	x.waitText(want)
	x.mu.Lock()
	full, err := x.doc.EncodeStateAsUpdate(nil)
	x.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	x.send(encodeSync(syncStep2, full))
	x.send(encodeSync(syncUpdate, full))
	// Messages of a connection are handled in order: once the query is
	// answered, the resends have been handled.
	x.send([]byte{msgQueryAwareness})
	x.waitFor("query answer", 5*time.Second, func() bool { return x.awMsgs == 1 })
	if err := e.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM collab_updates WHERE doc_id = ?`, "doc").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("a redundant resend was logged: %d rows", rows)
	}
	a.insertText("!")
	waitServerText(t, e, "doc", want+"!")
	e.stop()
	if st := a.waitClosed(5 * time.Second); st != websocket.StatusGoingAway {
		t.Errorf("close status at shutdown = %v", st)
	}
	e.start()
	b := e.dial("doc", "anne")
	b.waitText(want + "!")
}

func TestAPI(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	ctx := context.Background()
	changes, cancel := e.srv.Subscribe("doc", 16)
	defer cancel()
	all, cancelAll := e.srv.Subscribe("", 16)
	defer cancelAll()

	a := e.dial("doc", "anne")
	a.insertText("client ")
	if ch := <-changes; ch.DocID != "doc" || ch.Seq == 0 || ch.Missed != 0 {
		t.Errorf("change = %+v", ch)
	}
	<-all

	// A server-side change is saved and reaches the clients.
	if err := e.srv.Apply(ctx, "doc", func(d *yjs.Doc, tx *yjs.Tx) error {
		if err := d.GetText("t").Insert(tx, d.GetText("t").Len(), "serveur", nil); err != nil {
			return err
		}
		return d.GetMap("meta").Set(tx, "titre", "Compte rendu")
	}); err != nil {
		t.Fatal(err)
	}
	a.waitText("client serveur")
	<-changes

	copyDoc, err := e.srv.Load(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	if got := copyDoc.GetMap("meta").ToJSON()["titre"]; got != "Compte rendu" {
		t.Errorf("copy meta = %v", got)
	}
	state, err := e.srv.State(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	d := yjs.NewDoc()
	if err := d.ApplyUpdate(state); err != nil || d.GetText("t").String() != "client serveur" {
		t.Errorf("state: %v %q", err, d.GetText("t").String())
	}
	// An error after an edit: the edit stays (no rollback in Yjs), saved.
	err = e.srv.Apply(ctx, "doc", func(d *yjs.Doc, tx *yjs.Tx) error {
		_ = d.GetText("t").Insert(tx, 0, ">", nil)
		return errTest
	})
	if err != errTest {
		t.Errorf("Apply error = %v", err)
	}
	a.waitText(">client serveur")
	// Other documents' changes do not reach a document's subscriber.
	if err := e.srv.Apply(ctx, "autre", func(d *yjs.Doc, tx *yjs.Tx) error { return d.GetText("t").Insert(tx, 0, "x", nil) }); err != nil {
		t.Fatal(err)
	}
	<-changes // the ">" change
	select {
	case ch := <-changes:
		t.Errorf("unexpected change %+v", ch)
	case <-time.After(100 * time.Millisecond):
	}
	// A full buffer drops changes and says so.
	small, cancelSmall := e.srv.Subscribe("doc", 1)
	defer cancelSmall()
	for range 3 {
		_ = e.srv.Apply(ctx, "doc", func(d *yjs.Doc, tx *yjs.Tx) error { return d.GetText("t").Insert(tx, 0, "-", nil) })
	}
	<-small
	_ = e.srv.Apply(ctx, "doc", func(d *yjs.Doc, tx *yjs.Tx) error { return d.GetText("t").Insert(tx, 0, "-", nil) })
	if ch := <-small; ch.Missed != 2 {
		t.Errorf("missed = %d, want 2", ch.Missed)
	}
}

// TestSessionCookieAndOrigin: browsers authenticate with the session
// cookie; another site's page cannot ride it (Origin check).
func TestSessionCookieAndOrigin(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	secret, _, _, err := e.auth.StartSession(context.Background(), e.ids["anne"])
	if err != nil {
		t.Fatal(err)
	}
	base := "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/collab/doc"
	dialWith := func(h http.Header) (*websocket.Conn, *http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return websocket.Dial(ctx, base, &websocket.DialOptions{HTTPHeader: h})
	}
	cookie := "socle_session=" + secret
	ws, _, err := dialWith(http.Header{"Cookie": {cookie}, "Origin": {e.hs.URL}})
	if err != nil {
		t.Fatalf("same-origin browser: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := decodeMessage(data); err != nil || m.kind != msgSync || m.sub != syncStep1 {
		t.Errorf("first message = %+v %v, want sync step 1 (a writer)", m, err)
	}
	ws.CloseNow()

	_, resp, err := dialWith(http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin: err=%v resp=%v", err, resp)
	}
	// An unknown session is anonymous: refused by the authorizer.
	c, _, err := dialWith(http.Header{"Cookie": {"socle_session=nope"}})
	if err != nil {
		t.Fatal(err)
	}
	_, data, err = c.Read(ctx)
	if m, derr := decodeMessage(data); err != nil || derr != nil || m.kind != msgAuth {
		t.Errorf("unknown session: %v %v", err, derr)
	}
	c.CloseNow()
}

// TestTwoServersOnePostgreSQL runs two servers in this process on one
// PostgreSQL database, each with its own listener: edits cross, and a
// share revoked through one server closes the client of the other.
func TestTwoServersOnePostgreSQL(t *testing.T) {
	if os.Getenv(dbtest.EnvURL) == "" {
		t.Skip("cross-process fan-out needs PostgreSQL: set " + dbtest.EnvURL)
	}
	u := dbtest.URL(t)
	d, err := db.Open(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background(), []db.MigrationSet{auth.Migrations(), Migrations()}); err != nil {
		t.Fatal(err)
	}
	opts := Options{ListenerURL: u}
	e1 := &env{t: t, db: d, opts: opts, access: map[int64]Access{}, tokens: map[string]string{}, ids: map[string]int64{}}
	e1.auth = auth.NewService(d, auth.DefaultSettings(), testLogger(t))
	e1.start()
	e1.user("anne", AccessWrite)
	e1.user("bruno", AccessWrite)
	e2 := &env{t: t, db: d, auth: e1.auth, opts: opts, authz: e1.authorize, tokens: e1.tokens, ids: e1.ids}
	e2.start()

	a := e1.dial("doc", "anne")
	b := e2.dial("doc", "bruno")
	a.insertText("un")
	b.waitText("un")
	b.insertText(" deux")
	a.waitText("un deux")

	e1.setAccess("bruno", AccessNone)
	e1.srv.Reauthorize("doc")
	if st := b.waitClosed(10 * time.Second); st != websocket.StatusPolicyViolation {
		t.Errorf("close status on the other server = %v", st)
	}
	// The API of one server reaches the clients of the other.
	if err := e2.srv.Apply(context.Background(), "doc", func(d *yjs.Doc, tx *yjs.Tx) error {
		return d.GetText("t").Insert(tx, 0, "> ", nil)
	}); err != nil {
		t.Fatal(err)
	}
	a.waitText("> un deux")
}

// TestStorageFailure: an update that cannot be written is never broadcast;
// the document is unloaded and its clients disconnected, so that nobody
// holds content the database lacks.
func TestStorageFailure(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	e.user("bruno", AccessWrite)
	ctx := context.Background()
	a := e.dial("doc", "anne")
	b := e.dial("doc", "bruno")
	a.insertText("sauvé")
	b.waitText("sauvé")

	if _, err := e.db.ExecContext(ctx, `ALTER TABLE collab_updates RENAME TO collab_updates_away`); err != nil {
		t.Fatal(err)
	}
	a.insertText(" perdu")
	if st := b.waitClosed(5 * time.Second); st != websocket.StatusInternalError {
		t.Errorf("close status = %v", st)
	}
	a.waitClosed(5 * time.Second)
	if b.text() != "sauvé" {
		t.Errorf("an update that was not saved reached a client: %q", b.text())
	}
	if _, err := e.db.ExecContext(ctx, `ALTER TABLE collab_updates_away RENAME TO collab_updates`); err != nil {
		t.Fatal(err)
	}
	// Reloaded from the database; the author's client still has its edit
	// and would resend it on reconnection.
	c := e.dial("doc", "bruno")
	c.waitText("sauvé")
	if got := e.serverText("doc"); got != "sauvé" {
		t.Errorf("server text = %q", got)
	}
}

// Forget deletes a document for good: open connections close, its log and
// snapshot are gone, and it reloads empty.
func TestForget(t *testing.T) {
	e := newEnv(t, Options{})
	e.user("anne", AccessWrite)
	ctx := context.Background()
	a := e.dial("doc", "anne")
	a.insertText("texte d'une élève")
	if err := e.srv.Apply(ctx, "autre", func(d *yjs.Doc, tx *yjs.Tx) error { return d.GetText("t").Insert(tx, 0, "reste", nil) }); err != nil {
		t.Fatal(err)
	}
	e.srv.Compact(ctx)
	waitServerText(t, e, "doc", "texte d'une élève")
	if err := e.srv.Forget(ctx, "doc"); err != nil {
		t.Fatal(err)
	}
	if code := a.waitClosed(5 * time.Second); code != websocket.StatusNormalClosure {
		t.Errorf("connection closed with %v", code)
	}
	for _, table := range []string{"collab_updates", "collab_snapshots"} {
		var n int
		if err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE doc_id = 'doc'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s keeps %d rows (%v)", table, n, err)
		}
	}
	if got := e.serverText("doc"); got != "" {
		t.Errorf("forgotten document reloads with %q", got)
	}
	if got := e.serverText("autre"); got != "reste" {
		t.Errorf("another document lost its text: %q", got)
	}
	if err := e.srv.Forget(ctx, "../x"); err == nil {
		t.Error("invalid id accepted")
	}
}
