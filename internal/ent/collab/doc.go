// Package collab is Socle's real-time collaboration engine: a Yjs sync
// server speaking the y-websocket protocol at /collab/{document id}, durable
// in the database (an update log compacted into snapshots), fanned out
// across processes through PostgreSQL LISTEN/NOTIFY, with an in-process API
// for the other modules (load, read, server-side edits, subscriptions).
// The engine knows no domain: who may read or write a document is decided
// by the Authorizer the caller gives.
//
// Protocol. One WebSocket binary message is one y-protocols message: sync
// (step 1, step 2, update), awareness, auth (permission denied + reason),
// query awareness. A writer receives sync step 1 and the known presence
// states on connection; a read-only member receives no step 1 (whatever it
// would answer is refused anyway, so every write it sends gets the auth
// message) but is answered when it sends its own. Presence follows
// awareness.js: a higher clock wins, an equal clock with a null state
// removes, states not renewed within 30 s are dropped (same clock), a
// leaving connection's states are removed with clock+1. A client coming
// back with a clock the server already declared offline is sent a null for
// its own id, which makes a stock client re-announce itself above it at
// once instead of staying invisible until its next renewals.
//
// Durability. An update from a client is reduced to what the document lacks
// (DiffUpdate against its state vector; an update bringing nothing, such as
// a reconnecting client's resend, is dropped), applied (which validates it
// whole), committed to collab_updates, and only then broadcast: whatever a
// client receives is durable. Commits are grouped: the room lock is released
// while the database works, the updates applied meanwhile (in any room) go
// in the next transaction, and anything encoded from the live document for
// a client or the API waits until what it contains is committed (commit.go). A storage failure unloads the document and
// disconnects its clients, which resync from the database. The compactor
// replays a document's log into a fresh Yjs document (so deleted content is
// garbage-collected) and stores its state as the snapshot, deleting exactly
// the rows it read, in one transaction (serialized per document on
// PostgreSQL by an advisory lock). Documents load lazily and unload when
// idle.
//
// Scale-out. On PostgreSQL the update's insert sends, in the same
// transaction, a NOTIFY with (doc id, seq) — never the update, the payload
// limit is 8000 bytes; the other processes read the row (or the snapshot if
// compaction removed it) and broadcast what their copy lacked. Presence and
// share changes (Reauthorize) are notified too. On SQLite fan-out is
// in-process.
//
// Connections. An idle connection is one goroutine (its reader, started
// when the handler returns, so net/http's request and buffers are freed)
// with small buffers; its send queue grows on demand, a writer goroutine
// runs only while there is something to send and writes all that is queued
// in one system call; pings run from a timer.
//
// Limits. Per connection: message size, token buckets of messages/s and
// bytes/s (exceeded: closed with 1008), a bounded send queue (full: the
// slow client is closed, the others never wait), pings. Per document: a
// size bound, checked against a running upper bound (the stored size at load, or
// the exact size at compaction, plus the updates applied since), so a
// refusal may come early, never late. Malformed input closes its
// connection only (1002/1003); nothing of it reaches the document.
package collab
