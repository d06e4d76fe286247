// Package yjs is Socle's Go implementation of the Yjs CRDT document model,
// wire-compatible with the yjs 13.6 JavaScript library, for the real-time
// collaboration engine (sync server, imports, templates, exports).
//
// It reads and writes the v1 update format (structs Item, GC and Skip with
// every content type, delete sets, state vectors), integrates updates with
// the YATA algorithm exactly as yjs does (so concurrent inserts converge to
// the same order), keeps structs and deletions whose dependencies are missing
// pending until the missing update arrives, garbage-collects deleted content,
// and merges and diffs updates without a document (MergeUpdates,
// DiffUpdate) with byte-identical results to Y.mergeUpdates/Y.diffUpdate.
//
// Reading: root types are reached by name with a type hint, as in yjs
// (GetText, GetMap, GetArray, GetXMLFragment); nested types appear as views
// (*Text, *Map, *Array, *XMLElement, *XMLFragment, *XMLText, *XMLHook).
// Text positions and lengths are UTF-16 code units, like JavaScript's.
//
// Writing: Doc.Transact runs server-side edits (text insert/delete/format,
// map set/delete, array insert/push/delete, XML inserts, nested types through
// the *Prelim values) and returns the update to broadcast.
//
// Safety: ApplyUpdate decodes and validates a whole update before touching
// the document, so malformed input returns an error and changes nothing;
// lengths read from the wire are checked against the bytes left, nesting is
// bounded, and list walks are bounded by the number of structs, so hostile
// input cannot panic, hang or make the decoder allocate more than a small
// multiple of the message size.
//
// Differences from yjs, on purpose: after remote changes yjs clients delete
// redundant formatting markers ("formatting cleanup") in a local transaction;
// a Doc here does not (it would make the server author edits), and Delta
// joins adjacent runs with equal attributes so the result does not depend on
// whether such markers remain. Undo/redo, snapshots, relative positions,
// observers and the v2 update format are not implemented.
//
// The differential tests (difftest_test.go) replay random multi-client yjs
// sessions; they need `npm ci` in the difftest folder.
package yjs
