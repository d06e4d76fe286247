package yjs

import "slices"

// transaction groups the changes of one ApplyUpdate or one local edit. Its
// cleanup garbage-collects what it deleted and re-merges the structs it
// split, which keeps the store as compact as yjs keeps it.
type transaction struct {
	doc          *Doc
	beforeState  StateVector
	deleteSet    deleteSet
	mergeStructs []*item
	local        bool
}

func (d *Doc) newTransaction(local bool) *transaction {
	return &transaction{
		doc:         d,
		beforeState: d.store.stateVector(),
		deleteSet:   deleteSet{},
		local:       local,
	}
}

// commit runs the cleanup yjs runs at the end of every transaction.
func (tr *transaction) commit() {
	d := tr.doc
	store := d.store
	tr.deleteSet.sortAndMerge()
	afterState := store.stateVector()
	if d.gc {
		tr.gcDeleteSet()
	}
	tr.mergeDeleteSet()
	// Merge what this transaction added with its left neighbours.
	for client, clock := range afterState {
		before := tr.beforeState[client]
		if before == clock {
			continue
		}
		structs := store.clients[client]
		first := max(findIndex(structs, before), 1)
		for i := len(store.clients[client]) - 1; i >= first; {
			i -= 1 + tryMergeWithLefts(store, client, i)
		}
	}
	// Merge items that were split, now that the split is no longer needed.
	for i := len(tr.mergeStructs) - 1; i >= 0; i-- {
		id := tr.mergeStructs[i].id
		structs := store.clients[id.Client]
		pos := findIndex(structs, id.Clock)
		if pos < 0 {
			continue
		}
		if pos+1 < len(structs) {
			if tryMergeWithLefts(store, id.Client, pos+1) > 1 {
				continue
			}
		}
		if pos > 0 {
			tryMergeWithLefts(store, id.Client, pos)
		}
	}
	if !tr.local && afterState[d.clientID] != tr.beforeState[d.clientID] {
		// Another peer produced content under our client id; yjs then picks a
		// new id so that our future edits cannot collide with theirs.
		d.clientID = d.newClientID()
	}
}

// tryMergeWithLefts merges structs[pos] into its left neighbours for as long
// as they merge, and returns how many structs were removed.
func tryMergeWithLefts(store *structStore, client uint64, pos int) int {
	structs := store.clients[client]
	i := pos
	for ; i > 0; i-- {
		left, right := structs[i-1], structs[i]
		if left.deleted() != right.deleted() || left.kind != right.kind {
			break
		}
		if !left.mergeWith(right) {
			break
		}
		if right.kind == kindItem && right.hasParentSub && right.parent != nil && right.parent.mapItems[right.parentSub] == right {
			right.parent.mapItems[right.parentSub] = left
		}
	}
	merged := pos - i
	if merged > 0 {
		store.clients[client] = slices.Delete(structs, pos+1-merged, pos+1)
		store.count -= merged
	}
	return merged
}

// gcDeleteSet replaces the content of items deleted in this transaction.
func (tr *transaction) gcDeleteSet() {
	store := tr.doc.store
	for client, dels := range tr.deleteSet {
		structs := store.clients[client]
		for di := len(dels) - 1; di >= 0; di-- {
			del := dels[di]
			end := del.clock + del.len
			si := findIndex(structs, del.clock)
			if si < 0 {
				continue
			}
			for ; si < len(structs) && structs[si].id.Clock < end; si++ {
				st := structs[si]
				if st.kind == kindItem && st.deleted() && !st.keep() {
					st.gc(false)
				}
			}
			// gc(true) of nested content may have turned structs of this
			// client into GC in place; the slice itself is unchanged.
		}
	}
}

// mergeDeleteSet merges deleted (and collected) runs from right to left.
func (tr *transaction) mergeDeleteSet() {
	store := tr.doc.store
	for client, dels := range tr.deleteSet {
		for di := len(dels) - 1; di >= 0; di-- {
			del := dels[di]
			structs := store.clients[client]
			last := findIndex(structs, del.clock+del.len-1)
			if last < 0 {
				continue
			}
			most := min(len(structs)-1, 1+last)
			for si := most; si > 0 && store.clients[client][si].id.Clock >= del.clock; {
				si -= 1 + tryMergeWithLefts(store, client, si)
			}
		}
	}
}
