package yjs

import (
	"fmt"
	"slices"
)

// Updates can be combined and filtered without a document, which is what a
// sync server does to store one compact update per document and to answer a
// peer's state vector. The algorithms follow yjs's updates.js so that the
// results are the same updates yjs would produce.

// blockReader iterates the structs of a decoded update in wire order.
type blockReader struct {
	blocks []*item
	pos    int
}

func newBlockReader(u *decodedUpdate, filterSkips bool) *blockReader {
	r := &blockReader{}
	for _, cb := range u.clients {
		for _, b := range cb.blocks {
			if filterSkips && b.kind == kindSkip {
				continue
			}
			r.blocks = append(r.blocks, b)
		}
	}
	return r
}

func (r *blockReader) curr() *item {
	if r.pos < len(r.blocks) {
		return r.blocks[r.pos]
	}
	return nil
}

func (r *blockReader) next() *item {
	r.pos++
	return r.curr()
}

// lazyWriter writes structs grouped in runs of one client and prefixes the
// number of runs at the end, since it is only known then.
type lazyWriter struct {
	currClient uint64
	written    int
	cur        encoder
	groups     []lazyGroup
}

type lazyGroup struct {
	written int
	data    []byte
}

func (w *lazyWriter) flush() {
	if w.written > 0 {
		w.groups = append(w.groups, lazyGroup{w.written, w.cur.bytes()})
		w.cur = encoder{}
		w.written = 0
	}
}

func (w *lazyWriter) write(b *item, offset uint64) error {
	if w.written > 0 && w.currClient != b.id.Client {
		w.flush()
	}
	if w.written == 0 {
		w.currClient = b.id.Client
		w.cur.writeVarUint(b.id.Client)
		w.cur.writeVarUint(b.id.Clock + offset)
	}
	if err := b.write(&w.cur, offset); err != nil {
		return err
	}
	w.written++
	return nil
}

func (w *lazyWriter) finish(e *encoder) {
	w.flush()
	e.writeVarUint(uint64(len(w.groups)))
	for _, g := range w.groups {
		e.writeVarUint(uint64(g.written))
		e.buf = append(e.buf, g.data...)
	}
}

// MergeUpdates combines v1 updates into one that has the same effect as
// applying all of them, like Y.mergeUpdates. Overlapping structs are written
// once; gaps between non-contiguous structs of a client become Skip structs.
func MergeUpdates(updates ...[]byte) ([]byte, error) {
	decoded := make([]*decodedUpdate, len(updates))
	for i, u := range updates {
		d, err := decodeUpdate(u)
		if err != nil {
			return nil, fmt.Errorf("yjs: merge updates: update %d: %w", i, err)
		}
		decoded[i] = d
	}
	if len(updates) == 1 {
		return updates[0], nil
	}
	return mergeDecoded(decoded)
}

type pendingWrite struct {
	b      *item
	offset uint64
}

func blockEnd(b *item) uint64 { return b.id.Clock + b.length }

func mergeDecoded(decoded []*decodedUpdate) ([]byte, error) {
	readers := make([]*blockReader, 0, len(decoded))
	for _, d := range decoded {
		readers = append(readers, newBlockReader(d, true))
	}
	var w lazyWriter
	var currWrite *pendingWrite
	for {
		readers = slices.DeleteFunc(readers, func(r *blockReader) bool { return r.curr() == nil })
		// Higher clients first; within a client by clock; non-skips first.
		slices.SortStableFunc(readers, func(a, b *blockReader) int {
			ca, cb := a.curr(), b.curr()
			if ca.id.Client == cb.id.Client {
				switch {
				case ca.id.Clock < cb.id.Clock:
					return -1
				case ca.id.Clock > cb.id.Clock:
					return 1
				}
				if ca.kind == cb.kind {
					return 0
				}
				if ca.kind == kindSkip {
					return 1
				}
				return -1
			}
			return cmpDesc(ca.id.Client, cb.id.Client)
		})
		if len(readers) == 0 {
			break
		}
		cd := readers[0]
		firstClient := cd.curr().id.Client
		if currWrite != nil {
			curr := cd.curr()
			iterated := false
			// Skip what has already been written (higher clients come first).
			for curr != nil && blockEnd(curr) <= blockEnd(currWrite.b) && curr.id.Client >= currWrite.b.id.Client {
				curr = cd.next()
				iterated = true
			}
			if curr == nil || curr.id.Client != firstClient || (iterated && curr.id.Clock > blockEnd(currWrite.b)) {
				continue
			}
			if firstClient != currWrite.b.id.Client {
				if err := w.write(currWrite.b, currWrite.offset); err != nil {
					return nil, err
				}
				currWrite = &pendingWrite{curr, 0}
				cd.next()
			} else if blockEnd(currWrite.b) < curr.id.Clock {
				// A gap: record it as a skip.
				if currWrite.b.kind == kindSkip {
					currWrite.b.length = blockEnd(curr) - currWrite.b.id.Clock
				} else {
					if err := w.write(currWrite.b, currWrite.offset); err != nil {
						return nil, err
					}
					diff := curr.id.Clock - blockEnd(currWrite.b)
					currWrite = &pendingWrite{newSkip(ID{firstClient, blockEnd(currWrite.b)}, diff), 0}
				}
			} else {
				diff := blockEnd(currWrite.b) - curr.id.Clock
				if diff > 0 {
					if currWrite.b.kind == kindSkip {
						// Prefer cutting the skip: the other struct has content.
						currWrite.b.length -= diff
					} else {
						curr = sliceBlock(curr, diff)
					}
				}
				if !currWrite.b.mergeWith(curr) {
					if err := w.write(currWrite.b, currWrite.offset); err != nil {
						return nil, err
					}
					currWrite = &pendingWrite{curr, 0}
					cd.next()
				}
			}
		} else {
			currWrite = &pendingWrite{cd.curr(), 0}
			cd.next()
		}
		for next := cd.curr(); next != nil && next.id.Client == firstClient && next.id.Clock == blockEnd(currWrite.b) && next.kind != kindSkip; next = cd.next() {
			if err := w.write(currWrite.b, currWrite.offset); err != nil {
				return nil, err
			}
			currWrite = &pendingWrite{next, 0}
		}
	}
	if currWrite != nil {
		if err := w.write(currWrite.b, currWrite.offset); err != nil {
			return nil, err
		}
	}
	var e encoder
	w.finish(&e)
	dss := make([]deleteSet, len(decoded))
	for i, d := range decoded {
		dss[i] = d.ds
	}
	mergeDeleteSets(dss...).write(&e)
	return e.bytes(), nil
}

// DiffUpdate returns the part of update that a peer whose encoded state
// vector is sv lacks, like Y.diffUpdate. All deletions are kept, since a
// state vector says nothing about them.
func DiffUpdate(update, sv []byte) ([]byte, error) {
	u, err := decodeUpdate(update)
	if err != nil {
		return nil, fmt.Errorf("yjs: diff update: %w", err)
	}
	state := StateVector{}
	if len(sv) > 0 {
		if state, err = DecodeStateVector(sv); err != nil {
			return nil, fmt.Errorf("yjs: diff update: %w", err)
		}
	}
	r := newBlockReader(u, false)
	var w lazyWriter
	for r.curr() != nil {
		curr := r.curr()
		client := curr.id.Client
		svClock := state[client]
		if curr.kind == kindSkip {
			r.next()
			continue
		}
		if blockEnd(curr) > svClock {
			offset := uint64(0)
			if svClock > curr.id.Clock {
				offset = svClock - curr.id.Clock
			}
			if err := w.write(curr, offset); err != nil {
				return nil, err
			}
			for n := r.next(); n != nil && n.id.Client == client; n = r.next() {
				if err := w.write(n, 0); err != nil {
					return nil, err
				}
			}
		} else {
			for n := r.curr(); n != nil && n.id.Client == client && blockEnd(n) <= svClock; n = r.next() {
			}
		}
	}
	var e encoder
	w.finish(&e)
	u.ds.write(&e)
	return e.bytes(), nil
}

// EncodeStateVectorFromUpdate computes the state vector a document would
// have after applying only update (clients whose structs do not start at
// clock 0 are left out, as in yjs).
func EncodeStateVectorFromUpdate(update []byte) ([]byte, error) {
	u, err := decodeUpdate(update)
	if err != nil {
		return nil, fmt.Errorf("yjs: state vector from update: %w", err)
	}
	sv := StateVector{}
	for _, cb := range u.clients {
		if len(cb.blocks) == 0 || cb.blocks[0].id.Clock != 0 {
			continue
		}
		clock := uint64(0)
		for _, b := range cb.blocks {
			if b.kind == kindSkip {
				break
			}
			clock = blockEnd(b)
		}
		if clock > 0 {
			sv[cb.client] = clock
		}
	}
	return EncodeStateVector(sv), nil
}
