package yjs

import (
	"errors"
	"fmt"
	"slices"
)

var (
	errNoParent = fmt.Errorf("%w: struct has neither origin nor parent", ErrMalformed)
	// errCorrupt is returned when integration meets a state that only a
	// hostile update can create; the caller reports it instead of panicking.
	errCorrupt = errors.New("yjs: inconsistent document structure")
)

// structStore holds every struct of a document, per client, sorted by clock
// and contiguous: the clocks of a client's structs tile [0, state).
type structStore struct {
	clients map[uint64][]*item
	// count is the number of structs, used to bound list walks so that a
	// structure corrupted by a hostile update cannot loop forever.
	count int
}

func newStructStore() *structStore {
	return &structStore{clients: map[uint64][]*item{}}
}

func (s *structStore) state(client uint64) uint64 {
	structs := s.clients[client]
	if len(structs) == 0 {
		return 0
	}
	last := structs[len(structs)-1]
	return last.id.Clock + last.length
}

func (s *structStore) stateVector() StateVector {
	sv := make(StateVector, len(s.clients))
	for client, structs := range s.clients {
		last := structs[len(structs)-1]
		sv[client] = last.id.Clock + last.length
	}
	return sv
}

func (s *structStore) add(it *item) error {
	structs := s.clients[it.id.Client]
	if len(structs) > 0 {
		last := structs[len(structs)-1]
		if last.id.Clock+last.length != it.id.Clock {
			return fmt.Errorf("%w: struct %d:%d does not follow the client's state", errCorrupt, it.id.Client, it.id.Clock)
		}
	} else if it.id.Clock != 0 {
		return fmt.Errorf("%w: first struct of client %d starts at %d", errCorrupt, it.id.Client, it.id.Clock)
	}
	s.clients[it.id.Client] = append(structs, it)
	s.count++
	return nil
}

// findIndex returns the index of the struct containing clock, or -1.
func findIndex(structs []*item, clock uint64) int {
	lo, hi := 0, len(structs)-1
	for lo <= hi {
		mid := int(uint(lo+hi) >> 1)
		m := structs[mid]
		if m.id.Clock <= clock {
			if clock < m.id.Clock+m.length {
				return mid
			}
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return -1
}

// find returns the struct containing id, or nil when the store lacks it.
func (s *structStore) find(id ID) *item {
	structs := s.clients[id.Client]
	i := findIndex(structs, id.Clock)
	if i < 0 {
		return nil
	}
	return structs[i]
}

// findIndexCleanStart returns the index of the struct starting exactly at
// clock, splitting an item if clock falls inside it.
func (tr *transaction) findIndexCleanStart(structs []*item, clock uint64) int {
	i := findIndex(structs, clock)
	if i < 0 {
		return -1
	}
	st := structs[i]
	if st.id.Clock < clock && st.kind == kindItem {
		tr.splitAndInsert(st, i, clock-st.id.Clock)
		return i + 1
	}
	return i
}

// getItemCleanStart returns the struct starting exactly at id (splitting if
// needed), or nil if id is unknown.
func (tr *transaction) getItemCleanStart(id ID) *item {
	structs := tr.doc.store.clients[id.Client]
	i := tr.findIndexCleanStart(structs, id.Clock)
	if i < 0 {
		return nil
	}
	return tr.doc.store.clients[id.Client][i]
}

// getItemCleanEnd returns the struct ending exactly at id (splitting if
// needed), or nil if id is unknown.
func (tr *transaction) getItemCleanEnd(id ID) *item {
	structs := tr.doc.store.clients[id.Client]
	i := findIndex(structs, id.Clock)
	if i < 0 {
		return nil
	}
	st := structs[i]
	if id.Clock != st.id.Clock+st.length-1 && st.kind == kindItem {
		tr.splitAndInsert(st, i, id.Clock-st.id.Clock+1)
	}
	return st
}

// splitAndInsert splits the item at index i of its client's structs and
// inserts the right half after it.
func (tr *transaction) splitAndInsert(st *item, i int, diff uint64) *item {
	right := tr.splitItem(st, diff)
	store := tr.doc.store
	structs := store.clients[st.id.Client]
	store.clients[st.id.Client] = slices.Insert(structs, i+1, right)
	store.count++
	return right
}

// splitItem cuts left into two items at diff; the right half keeps left's
// right origin, and gets left's last clock as origin, so that both halves
// integrate identically on every peer.
func (tr *transaction) splitItem(left *item, diff uint64) *item {
	right := &item{
		id:             ID{left.id.Client, left.id.Clock + diff},
		kind:           kindItem,
		flags:          left.flags,
		hasOrigin:      true,
		origin:         ID{left.id.Client, left.id.Clock + diff - 1},
		left:           left,
		right:          left.right,
		hasRightOrigin: left.hasRightOrigin,
		rightOrigin:    left.rightOrigin,
		parent:         left.parent,
		hasParentSub:   left.hasParentSub,
		parentSub:      left.parentSub,
	}
	right.content = left.content.splice(diff)
	right.length = left.length - diff
	left.length = diff
	left.right = right
	if right.right != nil {
		right.right.left = right
	}
	tr.mergeStructs = append(tr.mergeStructs, right)
	if right.hasParentSub && right.right == nil && right.parent != nil {
		right.parent.mapItems[right.parentSub] = right
	}
	return right
}

// replaceWithGC turns a deleted item into a GC struct in place. Other items
// may still point at it (only from garbage lists), which is harmless.
func replaceWithGC(it *item) {
	it.kind = kindGC
	it.content = nil
	it.parent = nil
	it.left, it.right = nil, nil
	it.hasParentSub, it.parentSub = false, ""
	it.hasOrigin, it.hasRightOrigin = false, false
	it.flags = flagDeleted
}
