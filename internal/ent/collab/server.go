package collab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
	"socle/internal/platform/web"
)

// Server is the sync server and the in-process API over the same loaded
// documents. Create it with NewServer, call Start for the background work
// (compaction, presence expiry, PostgreSQL listener) and Close at shutdown.
type Server struct {
	db        *db.DB
	store     *store
	auth      *auth.Service
	authorize Authorizer
	log       *slog.Logger
	opts      Options
	instance  string

	// base is the parent of every connection's context: requests'
	// contexts do not end at server shutdown once hijacked.
	base    context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup // background goroutines
	conns   sync.WaitGroup // connection handlers
	notifyQ chan string    // NOTIFY payloads of presence, best effort

	// Lock order: room.mu before mu, never the reverse.
	mu      sync.Mutex
	rooms   map[string]*room
	closing bool

	// cq is the committer's queue (commit.go). Lock order: room.mu
	// before cq.mu.
	cq struct {
		mu      sync.Mutex
		items   []pendingUpdate
		running bool
	}

	// batchBufs are the connections' write batches (*[]byte), lent
	// while a batch is written.
	batchBufs sync.Pool

	subsMu sync.Mutex
	subs   map[*subscription]struct{}
}

// NewServer builds the engine. authSvc may be nil when the caller
// authenticates requests itself (web.WithPrincipal); authorize is required.
// On PostgreSQL, set opts.ListenerURL to the database URL so that several
// processes serve the same documents.
func NewServer(d *db.DB, authSvc *auth.Service, authorize Authorizer, log *slog.Logger, opts Options) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	buf := make([]byte, 8)
	_, _ = rand.Read(buf)
	s := &Server{
		db: d, auth: authSvc, authorize: authorize, log: log, opts: opts.withDefaults(),
		instance: hex.EncodeToString(buf),
		rooms:    map[string]*room{},
		subs:     map[*subscription]struct{}{},
	}
	s.store = &store{db: d}
	s.batchBufs.New = func() any {
		b := make([]byte, 0, 1024)
		return &b
	}
	if s.opts.ListenerURL != "" && d.Dialect() == db.Postgres {
		s.store.instance = s.instance
		s.notifyQ = make(chan string, 256)
	}
	s.base, s.stop = context.WithCancel(context.Background())
	return s
}

// Start runs the background work until ctx ends or Close is called.
func (s *Server) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.base.Done():
		}
		cancel()
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.maintain(ctx)
	}()
	if s.notifyQ != nil {
		s.wg.Add(2)
		go func() {
			defer s.wg.Done()
			s.listen(ctx)
		}()
		go func() {
			defer s.wg.Done()
			s.notifier(ctx)
		}()
	}
}

// Close disconnects every client (going away: stock clients reconnect,
// possibly to another process), waits for them, then stops the background
// work.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.mu.Lock()
		for c := range r.conns {
			c.kill(websocket.StatusGoingAway, "server shutting down")
		}
		r.mu.Unlock()
	}
	s.conns.Wait()
	s.stop()
	s.wg.Wait()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// validDocID keeps ids usable in logs, URLs and notifications.
func validDocID(id string) bool {
	return id != "" && len(id) <= 200 && utf8.ValidString(id) && !strings.ContainsAny(id, "/\x00\r\n")
}

// principal authenticates a request: already done by the web middleware,
// else the session cookie (browsers), else the token query parameter (what
// y-websocket's params option sets for non-browser clients).
func (s *Server) principal(r *http.Request) (*auth.Principal, error) {
	if p := web.PrincipalFrom(r.Context()); p != nil {
		return p, nil
	}
	if s.auth == nil {
		return nil, nil
	}
	if ck, err := r.Cookie(web.SessionCookie); err == nil && ck.Value != "" {
		p, _, err := s.auth.SessionPrincipal(r.Context(), ck.Value)
		if err != nil || p != nil {
			return p, err
		}
	}
	if tok := r.URL.Query().Get("token"); tok != "" {
		return s.auth.TokenPrincipal(r.Context(), tok)
	}
	return nil, nil
}

// ServeHTTP upgrades GET /collab/{id} to the y-websocket protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	docID := r.PathValue("id")
	if docID == "" {
		docID = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	// Only the path is logged: the query string may hold an API token.
	log := s.log.With("path", r.URL.Path)
	if !validDocID(docID) {
		http.Error(w, "Document introuvable.", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.conns.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "Service en cours d'arrêt.", http.StatusServiceUnavailable)
		return
	}
	// Once the connection is up, its reader goroutine owns it (and these
	// counts) and this handler returns: net/http's request, buffers and
	// the handler's deep stack are freed, an idle client keeps only what
	// it needs.
	handedOff := false
	defer func() {
		if !handedOff {
			s.conns.Done()
		}
	}()
	p, err := s.principal(r)
	if err != nil {
		log.Error("collab: authenticate", "err", err)
		http.Error(w, "Erreur interne.", http.StatusInternalServerError)
		return
	}
	access, err := s.authorize(r.Context(), p, docID)
	if err != nil {
		log.Error("collab: authorize", "err", err)
		http.Error(w, "Erreur interne.", http.StatusInternalServerError)
		return
	}
	// Accept checks the Origin against the Host (and OriginPatterns), which
	// stops other sites from riding a browser's session cookie.
	hw := &hijackWriter{ResponseWriter: w, newConn: s.newBatchConn}
	ws, err := websocket.Accept(hw, r, &websocket.AcceptOptions{OriginPatterns: s.opts.OriginPatterns})
	if err == nil && hw.conn == nil {
		err = errNotHijacked
		_ = ws.CloseNow()
	}
	if err != nil {
		log.Debug("collab: upgrade refused", "err", err)
		return
	}
	userID := int64(0)
	if p != nil {
		userID = p.User.ID
	}
	log = log.With("user", userID)
	if access <= AccessNone {
		log.Info("collab: access refused")
		ctx, cancel := context.WithTimeout(s.base, s.opts.WriteTimeout)
		defer cancel()
		_ = ws.Write(ctx, websocket.MessageBinary, encodePermissionDenied(reasonNoAccess))
		_ = ws.Close(websocket.StatusPolicyViolation, "permission denied")
		return
	}
	ws.SetReadLimit(s.opts.MaxMessageBytes)

	rm, err := s.acquire(r.Context(), docID)
	if err != nil {
		log.Error("collab: load document", "err", err)
		_ = ws.Close(websocket.StatusTryAgainLater, "document unavailable")
		return
	}
	defer func() {
		if !handedOff {
			s.release(rm)
		}
	}()

	now := time.Now()
	c := &conn{
		s: s, ws: ws, bc: hw.conn, room: rm, principal: p,
		msgs:  newBucket(s.opts.MessagesPerSecond, float64(s.opts.MessageBurst), now),
		bytes: newBucket(s.opts.BytesPerSecond, float64(s.opts.ByteBurst), now),
	}
	c.killed.Add(1)
	c.access.Store(int32(access))

	rm.mu.Lock()
	if rm.gone {
		rm.mu.Unlock()
		_ = ws.Close(websocket.StatusTryAgainLater, "document reloading")
		return
	}
	c.ping = time.AfterFunc(s.opts.PingInterval, c.keepAlive)
	rm.conns[c] = struct{}{}
	// Close collects connections room by room: one registering after its
	// room was visited sees the flag instead.
	if s.isClosing() {
		c.kill(websocket.StatusGoingAway, "server shutting down")
	}
	// A read-only member gets no sync step 1: whatever it would answer is
	// refused anyway, and an unsolicited write then always deserves the
	// auth message. It still syncs (its own step 1 is answered).
	if access >= AccessWrite {
		c.enqueue(encodeSync(syncStep1, rm.doc.EncodeStateVector()))
	}
	if msg := rm.awarenessStatesLocked(); msg != nil {
		c.enqueue(msg)
	}
	rm.mu.Unlock()
	log.Debug("collab: connected", "access", access.String())
	handedOff = true
	go c.serve()
}

// serve runs a connection until it ends, on its own goroutine.
func (c *conn) serve() {
	s, rm := c.s, c.room
	defer s.conns.Done()
	defer s.release(rm)
	c.readLoop()
	if removed := s.leave(rm, c); len(removed) > 0 {
		s.notifyAwareness(rm.id, removed)
	}
	// readLoop always ends by kill: let its close handshake finish, so the
	// peer learns why.
	c.killed.Wait()
	_ = c.ws.CloseNow()
	s.log.Debug("collab: disconnected", "doc", rm.id, "user", c.userID())
}

func (s *Server) newBatchConn(nc net.Conn, pre []byte) *batchConn {
	return &batchConn{Conn: nc, pre: pre, pool: &s.batchBufs, timeout: s.opts.WriteTimeout}
}

// acquire returns the loaded room of a document, loading it on first use.
func (s *Server) acquire(ctx context.Context, docID string) (*room, error) {
	s.mu.Lock()
	r := s.rooms[docID]
	load := r == nil
	if load {
		r = &room{id: docID, ready: make(chan struct{}), conns: map[*conn]struct{}{}, aw: map[uint64]*presence{}}
		r.cond.L = &r.mu
		s.rooms[docID] = r
	}
	r.users++
	s.mu.Unlock()
	if load {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		r.err = s.loadRoom(lctx, r)
		cancel()
		if r.err != nil {
			s.mu.Lock()
			if s.rooms[docID] == r {
				delete(s.rooms, docID)
			}
			s.mu.Unlock()
		}
		close(r.ready)
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
		s.release(r)
		return nil, ctx.Err()
	}
	if r.err != nil {
		s.release(r)
		return nil, r.err
	}
	return r, nil
}

func (s *Server) release(r *room) {
	s.mu.Lock()
	r.users--
	r.lastUsed = time.Now()
	s.mu.Unlock()
}

// loaded returns a document's room if this process has it in memory.
func (s *Server) loaded(docID string) *room {
	s.mu.Lock()
	r := s.rooms[docID]
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	<-r.ready
	if r.err != nil {
		return nil
	}
	return r
}

func (s *Server) allRooms() []*room {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		select {
		case <-r.ready:
			if r.err == nil {
				out = append(out, r)
			}
		default:
		}
	}
	return out
}

// Reauthorize asks the Authorizer again for every connection to a document,
// in this process and (through PostgreSQL) in the others: call it when the
// document's shares change. Downgraded to read: further writes are dropped
// and the client is told; revoked: the client is told and disconnected.
func (s *Server) Reauthorize(docID string) {
	s.reauthorizeLocal(docID)
	if s.notifyQ == nil {
		return
	}
	// Not through the best-effort queue: a revocation must not be dropped.
	ctx, cancel := context.WithTimeout(s.base, s.opts.WriteTimeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, `SELECT pg_notify(?, ?)`, notifyChannel, notifyPayloadString('r', s.instance, "", docID)); err != nil {
		s.log.Error("collab: notify share change", "doc", docID, "err", err)
	}
}

func (s *Server) reauthorizeLocal(docID string) {
	r := s.loaded(docID)
	if r == nil {
		return
	}
	r.mu.Lock()
	conns := make([]*conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.Unlock()
	for _, c := range conns {
		s.reauthorizeConn(r, c, docID)
	}
}

// reauthorizeConn asks the Authorizer again for one connection. Two
// reauthorizations of a connection (a share change, and the listener's
// after a reconnection) are serialized, so that an answer given before a
// change can never be applied after the answer given since: a revoked or
// downgraded member cannot get write access back that way.
func (s *Server) reauthorizeConn(r *room, c *conn, docID string) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	ctx, cancel := context.WithTimeout(s.base, s.opts.WriteTimeout)
	a, err := s.authorize(ctx, c.principal, docID)
	cancel()
	if err != nil {
		// Fail closed: the client reconnects and is asked again.
		s.log.Error("collab: reauthorize", "doc", docID, "err", err)
		c.kill(websocket.StatusTryAgainLater, "authorization unavailable")
		return
	}
	prev := Access(c.access.Swap(int32(a)))
	switch {
	case a <= AccessNone:
		c.killAfter(encodePermissionDenied(reasonRevoked), websocket.StatusPolicyViolation, "access revoked")
	case a == AccessRead && prev >= AccessWrite:
		c.enqueue(encodePermissionDenied(reasonReadOnly))
	case a >= AccessWrite && prev < AccessWrite:
		// Now a writer: sync step 1 makes the client send what it has.
		r.mu.Lock()
		if !r.gone {
			c.enqueue(encodeSync(syncStep1, r.doc.EncodeStateVector()))
		}
		r.mu.Unlock()
	}
}

// maintain runs presence expiry, compaction and unloading of idle rooms.
func (s *Server) maintain(ctx context.Context) {
	aw := time.NewTicker(max(s.opts.AwarenessTimeout/10, 10*time.Millisecond))
	defer aw.Stop()
	compact := time.NewTicker(s.opts.CompactEvery)
	defer compact.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-aw.C:
			for _, r := range s.allRooms() {
				s.expireAwareness(r, now)
			}
		case <-compact.C:
			s.Compact(ctx)
			s.unloadIdle(time.Now())
		}
	}
}

// Compact folds the update log of every document with enough rows into its
// snapshot. It runs in the background; exposed for tests and maintenance.
func (s *Server) Compact(ctx context.Context) {
	ids, err := s.store.docsToCompact(ctx, s.opts.CompactMinUpdates)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("collab: compaction", "err", err)
		}
		return
	}
	for _, id := range ids {
		r := s.loaded(id)
		var before int64
		if r != nil {
			r.mu.Lock()
			before = r.size
			r.mu.Unlock()
		}
		size, n, err := s.store.compact(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("collab: compaction", "doc", id, "err", err)
			}
			continue
		}
		if r != nil {
			r.mu.Lock()
			// The exact size, plus what was applied since compaction began
			// (some of it counted twice: the bound stays an upper bound).
			r.size = min(r.size, int64(size)+r.size-before)
			r.mu.Unlock()
		}
		s.log.Debug("collab: compacted", "doc", id, "updates", n, "bytes", size)
	}
}

func (s *Server) unloadIdle(now time.Time) {
	for _, r := range s.allRooms() {
		r.mu.Lock()
		s.mu.Lock()
		if r.users == 0 && len(r.conns) == 0 && now.Sub(r.lastUsed) >= s.opts.IdleUnload && s.rooms[r.id] == r {
			delete(s.rooms, r.id)
			r.gone = true
		}
		s.mu.Unlock()
		r.mu.Unlock()
	}
}

// subscription delivers a document's (or every document's) changes.
type subscription struct {
	docID  string
	ch     chan Change
	missed int
}

// Subscribe delivers the changes accepted by this process (from its clients
// and its API calls) to docID, or to every document when docID is "". Each
// change is delivered by exactly one process, so a search indexer
// subscribed in every process sees every change once. Delivery never blocks
// editing: when the buffer is full changes are dropped and the next one
// says how many (Change.Missed), time to reload the document. Call cancel
// when done; the channel is then closed.
func (s *Server) Subscribe(docID string, buffer int) (<-chan Change, func()) {
	sub := &subscription{docID: docID, ch: make(chan Change, max(buffer, 1))}
	s.subsMu.Lock()
	s.subs[sub] = struct{}{}
	s.subsMu.Unlock()
	var once sync.Once
	return sub.ch, func() {
		once.Do(func() {
			s.subsMu.Lock()
			delete(s.subs, sub)
			close(sub.ch)
			s.subsMu.Unlock()
		})
	}
}

func (s *Server) publish(ch Change) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for sub := range s.subs {
		if sub.docID != "" && sub.docID != ch.DocID {
			continue
		}
		c := ch
		c.Missed = sub.missed
		select {
		case sub.ch <- c:
			sub.missed = 0
		default:
			sub.missed++
		}
	}
}
