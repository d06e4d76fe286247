package collab

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Buffer sizes of a connection. net/http hands a hijacked connection 4 KiB
// read and write buffers that websocket.Conn would keep for the life of the
// connection: 8 KiB per idle client. Smaller ones cost nothing in
// throughput: a read larger than the buffer bypasses it, and outgoing
// frames are gathered in batchConn, whose buffer exists only while a batch
// is being written.
const (
	readBufSize = 256
	// writeBufSize holds any control frame (125 bytes of payload plus its
	// 2-byte header) so that a pong or close frame is one write.
	writeBufSize = 128 + 16
	// maxPooledBatch keeps a burst's big buffer out of the pool.
	maxPooledBatch = 64 << 10
)

// hijackWriter is the ResponseWriter given to websocket.Accept: it hijacks
// the underlying connection itself and returns it wrapped in a batchConn,
// with small buffers.
type hijackWriter struct {
	http.ResponseWriter
	newConn func(net.Conn, []byte) *batchConn
	conn    *batchConn
}

// Hijack implements http.Hijacker (websocket.Accept looks for it first).
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The 101 response is already on the wire (net/http flushes it on
	// Hijack); what remains to carry over is what net/http read past the
	// request, when a client sends its first frame without waiting.
	var pre []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		pre = bytes.Clone(b)
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			_ = nc.Close()
			return nil, nil, err
		}
	}
	c := h.newConn(nc, pre)
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.br = bufio.NewReaderSize(c, readBufSize)
	h.conn = c
	return c, bufio.NewReadWriter(c.br, bufio.NewWriterSize(c, writeBufSize)), nil
}

// batchConn is the network connection under a websocket.Conn. Outside a
// batch every write goes straight to the socket; between begin and flush,
// writes (the frames of every queued message, and any control frame the
// library sends meanwhile) are gathered and sent in one system call. Every
// blocking socket write carries a deadline, so a peer that stops reading
// cannot hold a writer forever; tryWrite never blocks.
type batchConn struct {
	net.Conn
	pool    *sync.Pool // of *[]byte, shared by the server's connections
	timeout time.Duration

	// Reader side: touched by the connection's reader goroutine, and by
	// the close handshake once the connection is dead.
	pre  []byte        // read ahead by net/http
	br   *bufio.Reader // the websocket.Conn's read buffer
	raw  syscall.RawConn
	peek [1]byte

	mu       sync.Mutex
	batching bool
	buf      *[]byte
	err      error // first write error: the connection is dead
}

func (c *batchConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		if len(c.pre) == 0 {
			c.pre = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// buffered reports whether bytes already read from the socket wait in the
// buffers. Only the connection's reader may call it, and not during a
// close handshake, which reads the same buffers (see conn.readLoop).
func (c *batchConn) buffered() bool {
	return len(c.pre) > 0 || c.br.Buffered() > 0
}

// waitReadable returns once the socket has something to read (or an error
// or end of stream to report). An idle connection's reader waits here,
// when nothing is buffered, rather than deep inside websocket.Conn.Read,
// so that its goroutine's stack, nearly empty, shrinks back at the next
// garbage collection after a message made it grow.
func (c *batchConn) waitReadable() {
	if c.raw != nil {
		_ = c.raw.Read(c.peekReady)
	}
}

// peekReady reports whether the socket has something to read (or fails);
// false makes RawConn.Read wait for readability and ask again. A peek,
// not an edge, decides: data already there counts.
func (c *batchConn) peekReady(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), c.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EINTR
}

// Write writes p after whatever is still unwritten (the rest of a
// non-blocking flush), or gathers it during a batch.
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.batching {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	if c.buf != nil {
		*c.buf = append(*c.buf, p...)
		return len(p), c.flushLocked()
	}
	return c.writeLocked(p)
}

// writeLocked writes p whole. The write timeout bounds each chunk, not
// the whole of a batch: a client that keeps reading is not dropped for
// being sent many messages at once, one that stops is within the timeout.
func (c *batchConn) writeLocked(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	written := 0
	for written < len(p) {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
			c.err = err
			return written, err
		}
		n, err := c.Conn.Write(p[written:min(len(p), written+writeChunk)])
		written += n
		if err != nil {
			c.err = err
			return written, err
		}
	}
	// A deadline left in place would fail tryWrite once it has passed.
	// (TestDirectWriteAfterQueuedWrite)
	if err := c.Conn.SetWriteDeadline(time.Time{}); err != nil {
		c.err = err
		return written, err
	}
	return written, nil
}

// writeChunk is the unit of progress the write timeout bounds.
const writeChunk = 64 << 10

// begin starts gathering writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// flush sends what is unwritten (gathered since begin, or left by
// tryWrite), blocking up to the write timeout, and returns the buffer to
// the pool: an idle connection holds none.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.flushLocked()
}

func (c *batchConn) flushLocked() error {
	b := c.buf
	if b == nil {
		return c.err
	}
	var err error
	if len(*b) > 0 {
		_, err = c.writeLocked(*b)
	} else {
		err = c.err
	}
	c.release()
	return err
}

func (c *batchConn) release() {
	b := c.buf
	c.buf = nil
	if cap(*b) <= maxPooledBatch {
		*b = (*b)[:0]
		c.pool.Put(b)
	}
}

// Outcomes of tryWrite.
const (
	writeBusy    = iota // not attempted: another write is under way
	writeDone           // the whole frame went
	writePending        // part of it went; the rest waits for flush
	writeFailed         // the connection is dead
)

// maxDirectFrame bounds the messages tryWrite copies into one buffer;
// bigger ones go through the writer goroutine.
const maxDirectFrame = 16 << 10

// tryWrite sends msg as one binary frame with one non-blocking system
// call, when nothing else is being written or waits to be. A broadcast to a
// connection that keeps up thus costs no goroutine, and never blocks the
// broadcaster: if another writer holds the connection (possibly stuck on a
// full socket) it returns writeBusy at once. websocket.Conn writes every
// frame of its own (control frames; data frames only in a batch) in one
// Write call under c.mu, so frames never interleave.
func (c *batchConn) tryWrite(msg []byte) int {
	if c.raw == nil || len(msg) > maxDirectFrame || !c.mu.TryLock() {
		return writeBusy
	}
	defer c.mu.Unlock()
	if c.err != nil {
		return writeFailed
	}
	if c.batching || c.buf != nil {
		return writeBusy
	}
	c.buf = c.pool.Get().(*[]byte)
	b := appendFrameHeader((*c.buf)[:0], len(msg))
	b = append(b, msg...)
	*c.buf = b
	var n int
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	})
	if err == nil && werr != nil && werr != syscall.EAGAIN && werr != syscall.EINTR {
		err = werr
	}
	if err != nil {
		c.err = err
		c.release()
		return writeFailed
	}
	if n == len(b) {
		c.release()
		return writeDone
	}
	n = max(n, 0)
	*c.buf = b[:copy(b, b[n:])]
	return writePending
}

// appendFrameHeader is RFC 6455's header of a final, unmasked (server to
// client) binary frame.
func appendFrameHeader(b []byte, n int) []byte {
	b = append(b, 0x82)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		for shift := 56; shift >= 0; shift -= 8 {
			b = append(b, byte(n>>shift))
		}
		return b
	}
}

var errNotHijacked = errors.New("collab: connection was not hijacked")
