package collab

import (
	"context"
	"embed"
	"io/fs"
	"time"

	"socle/internal/platform/auth"
	"socle/internal/platform/db"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations is the schema of the collaboration engine.
func Migrations() db.MigrationSet {
	sub, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return db.MigrationSet{Component: "collab", FS: sub}
}

// Access is what a principal may do with a document.
type Access int

const (
	AccessNone Access = iota
	AccessRead
	AccessWrite
)

func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessWrite:
		return "write"
	default:
		return "none"
	}
}

// Authorizer decides what a principal (nil when anonymous) may do with a
// document. It is asked at connection and again by Server.Reauthorize.
type Authorizer func(ctx context.Context, p *auth.Principal, docID string) (Access, error)

// Options tunes the server; zero fields take the defaults below.
type Options struct {
	// MaxMessageBytes bounds one WebSocket message (default 4 MiB).
	MaxMessageBytes int64
	// MaxDocumentBytes bounds a document's encoded size; updates that would
	// exceed it are refused (default 32 MiB).
	MaxDocumentBytes int64
	// MessagesPerSecond and MessageBurst: token bucket of messages per
	// connection (defaults 100/s, burst 300).
	MessagesPerSecond float64
	MessageBurst      int
	// BytesPerSecond and ByteBurst: token bucket of received bytes per
	// connection (defaults 1 MiB/s, burst 2×MaxMessageBytes).
	BytesPerSecond float64
	ByteBurst      int64
	// SendQueue is the number of messages queued for one connection; a
	// client that lets it fill is disconnected (default 512). The queue
	// is allocated as it fills and released when written.
	SendQueue int
	// PingInterval is the keep-alive period (default 30 s); a peer that
	// does not answer within WriteTimeout is disconnected.
	PingInterval time.Duration
	// WriteTimeout bounds one write or ping (default 10 s).
	WriteTimeout time.Duration
	// AwarenessTimeout drops presence states not renewed in time (default
	// 30 s, the y-protocols outdatedTimeout).
	AwarenessTimeout time.Duration
	// CompactEvery is the compactor's period (default 30 s); a document is
	// compacted when it has at least CompactMinUpdates log rows (default 100).
	CompactEvery      time.Duration
	CompactMinUpdates int
	// IdleUnload unloads a document from memory after that long without
	// connections (default 2 min).
	IdleUnload time.Duration
	// OriginPatterns are extra allowed Origin host patterns for browsers
	// (the request's own host is always allowed), see websocket.AcceptOptions.
	OriginPatterns []string
	// ListenerURL is the PostgreSQL URL for LISTEN/NOTIFY; empty on
	// SQLite, where fan-out is in-process only.
	ListenerURL string
}

func (o Options) withDefaults() Options {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 4 << 20
	}
	if o.MaxDocumentBytes <= 0 {
		o.MaxDocumentBytes = 32 << 20
	}
	if o.MessagesPerSecond <= 0 {
		o.MessagesPerSecond = 100
	}
	if o.MessageBurst <= 0 {
		o.MessageBurst = 300
	}
	if o.BytesPerSecond <= 0 {
		o.BytesPerSecond = 1 << 20
	}
	if o.ByteBurst <= 0 {
		o.ByteBurst = 2 * o.MaxMessageBytes
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 512
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.AwarenessTimeout <= 0 {
		o.AwarenessTimeout = 30 * time.Second
	}
	if o.CompactEvery <= 0 {
		o.CompactEvery = 30 * time.Second
	}
	if o.CompactMinUpdates <= 0 {
		o.CompactMinUpdates = 100
	}
	if o.IdleUnload <= 0 {
		o.IdleUnload = 2 * time.Minute
	}
	return o
}

// Change is one accepted update, delivered to subscribers.
type Change struct {
	DocID string
	Seq   int64
	// Update is the Yjs v1 update; apply it to a copy or reload the
	// document with Server.Load.
	Update []byte
	// Missed counts changes dropped before this one because the
	// subscriber's buffer was full: reload the whole document when > 0.
	Missed int
}

// tokenBucket is a plain token bucket; the connection's reader owns it, so
// it needs no lock.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// take spends n tokens if available.
func (b *tokenBucket) take(n float64, now time.Time) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < n {
		return false
	}
	b.tokens -= n
	return true
}
