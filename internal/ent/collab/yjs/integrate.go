package yjs

import "fmt"

// getMissing returns the client of a struct this item depends on and that the
// store lacks yet (origin, right origin or parent). When nothing is missing it
// resolves the neighbours and the parent type, as yjs's Item.getMissing does.
func (it *item) getMissing(tr *transaction) (uint64, bool, error) {
	store := tr.doc.store
	if it.hasOrigin && it.origin.Client != it.id.Client && it.origin.Clock >= store.state(it.origin.Client) {
		return it.origin.Client, true, nil
	}
	if it.hasRightOrigin && it.rightOrigin.Client != it.id.Client && it.rightOrigin.Clock >= store.state(it.rightOrigin.Client) {
		return it.rightOrigin.Client, true, nil
	}
	if it.parentKind == parentID && it.parentItem.Client != it.id.Client && it.parentItem.Clock >= store.state(it.parentItem.Client) {
		return it.parentItem.Client, true, nil
	}

	// Same-client dependencies are satisfied by the clock check of the caller,
	// except in hostile updates where an origin points at or after the item
	// itself; those cannot be placed.
	if it.hasOrigin {
		it.left = tr.getItemCleanEnd(it.origin)
		if it.left == nil {
			return 0, false, fmt.Errorf("%w: origin %d:%d is unknown", errCorrupt, it.origin.Client, it.origin.Clock)
		}
		it.origin = it.left.lastID()
	}
	if it.hasRightOrigin {
		it.right = tr.getItemCleanStart(it.rightOrigin)
		if it.right == nil {
			return 0, false, fmt.Errorf("%w: right origin %d:%d is unknown", errCorrupt, it.rightOrigin.Client, it.rightOrigin.Clock)
		}
		it.rightOrigin = it.right.id
	}
	switch {
	case (it.left != nil && it.left.kind == kindGC) || (it.right != nil && it.right.kind == kindGC):
		// A neighbour was garbage collected: so was the parent, and this item
		// can only become a GC struct.
		it.parent = nil
	case it.parentKind == parentNone:
		if it.left != nil && it.left.kind == kindItem {
			it.parent, it.hasParentSub, it.parentSub = it.left.parent, it.left.hasParentSub, it.left.parentSub
		} else if it.right != nil && it.right.kind == kindItem {
			it.parent, it.hasParentSub, it.parentSub = it.right.parent, it.right.hasParentSub, it.right.parentSub
		}
	case it.parentKind == parentRoot:
		it.parent = tr.doc.root(it.parentName)
	case it.parentKind == parentID:
		p := store.find(it.parentItem)
		if p == nil {
			return 0, false, fmt.Errorf("%w: parent %d:%d is unknown", errCorrupt, it.parentItem.Client, it.parentItem.Clock)
		}
		if ct, ok := p.content.(*contentType); ok && p.kind == kindItem {
			it.parent = ct.t
		} else {
			// yjs would crash on a parent that is not a type; treating the
			// item as garbage keeps the document readable.
			it.parent = nil
		}
	}
	return 0, false, nil
}

// integrate places the item in its parent's list with the YATA rules, as
// yjs's Item.integrate does: among concurrent inserts at the same position,
// the order depends only on origins and client ids, so every peer converges.
func (it *item) integrate(tr *transaction, offset uint64) error {
	store := tr.doc.store
	if offset > 0 {
		it.id.Clock += offset
		it.left = tr.getItemCleanEnd(ID{it.id.Client, it.id.Clock - 1})
		if it.left == nil {
			return fmt.Errorf("%w: missing left part of %d:%d", errCorrupt, it.id.Client, it.id.Clock)
		}
		it.hasOrigin, it.origin = true, it.left.lastID()
		it.content = it.content.splice(offset)
		it.length -= offset
	}
	if it.parent == nil {
		gc := newGC(it.id, it.length)
		return store.add(gc)
	}
	parent := it.parent
	if st := store.state(it.id.Client); st != it.id.Clock {
		return fmt.Errorf("%w: struct %d:%d does not follow state %d", errCorrupt, it.id.Client, it.id.Clock, st)
	}
	if (it.left == nil && (it.right == nil || it.right.left != nil)) || (it.left != nil && it.left.right != it.right) {
		left := it.left
		var o *item
		switch {
		case left != nil:
			o = left.right
		case it.hasParentSub:
			o = parent.mapItems[it.parentSub]
			for guard := store.count + 1; o != nil && o.left != nil && guard > 0; guard-- {
				o = o.left
			}
		default:
			o = parent.start
		}
		// conflicting ⊆ beforeOrigin; see the yjs source for the proof sketch:
		// ***{origin}bbbb{this}{c,b}{c,b}{o}***
		conflicting := map[*item]struct{}{}
		beforeOrigin := map[*item]struct{}{}
		for guard := store.count + 1; o != nil && o != it.right; o = o.right {
			if guard--; guard < 0 {
				return fmt.Errorf("%w: cycle in list", errCorrupt)
			}
			beforeOrigin[o] = struct{}{}
			conflicting[o] = struct{}{}
			if sameOptID(it.hasOrigin, it.origin, o.hasOrigin, o.origin) {
				// Case 1: same origin; the lower client goes first.
				if o.id.Client < it.id.Client {
					left = o
					clear(conflicting)
				} else if sameOptID(it.hasRightOrigin, it.rightOrigin, o.hasRightOrigin, o.rightOrigin) {
					// Same integration points: the id decides and this goes first.
					break
				}
			} else if o.hasOrigin {
				oo := store.find(o.origin)
				if _, ok := beforeOrigin[oo]; oo != nil && ok {
					// Case 2: o's origin lies between our origin and o.
					if _, c := conflicting[oo]; !c {
						left = o
						clear(conflicting)
					}
				} else {
					break
				}
			} else {
				break
			}
		}
		it.left = left
	}
	// Reconnect left and right, updating the parent's start or map entry.
	if it.left != nil {
		it.right = it.left.right
		it.left.right = it
	} else {
		var r *item
		if it.hasParentSub {
			r = parent.mapItems[it.parentSub]
			for guard := store.count + 1; r != nil && r.left != nil && guard > 0; guard-- {
				r = r.left
			}
		} else {
			r = parent.start
			parent.start = it
		}
		it.right = r
	}
	if it.right != nil {
		it.right.left = it
	} else if it.hasParentSub {
		// The rightmost item under a key is the key's current value.
		parent.mapItems[it.parentSub] = it
		if it.left != nil {
			tr.deleteItem(it.left)
		}
	}
	if !it.hasParentSub && it.countable() && !it.deleted() {
		parent.length += int(it.length)
	}
	if err := store.add(it); err != nil {
		return err
	}
	it.integrateContent(tr)
	if (parent.item != nil && parent.item.deleted()) || (it.hasParentSub && it.right != nil) {
		// Inserted into deleted content, or overwritten by a concurrent
		// map write that wins: the item is born deleted.
		tr.deleteItem(it)
	}
	return nil
}

func sameOptID(ha bool, a ID, hb bool, b ID) bool {
	return ha == hb && (!ha || a == b)
}

func (it *item) integrateContent(tr *transaction) {
	switch c := it.content.(type) {
	case *contentType:
		c.t.integrate(tr.doc, it)
	case *contentDeleted:
		tr.deleteSet.add(it.id.Client, it.id.Clock, c.n)
		it.markDeleted()
	case *contentFormat:
		it.parent.hasFormatting = true
	}
}

// deleteItem marks an item deleted; deleting a type deletes its content.
func (tr *transaction) deleteItem(it *item) {
	if it.deleted() || it.kind != kindItem {
		return
	}
	if it.countable() && !it.hasParentSub && it.parent != nil {
		it.parent.length -= int(it.length)
	}
	it.markDeleted()
	tr.deleteSet.add(it.id.Client, it.id.Clock, it.length)
	if ct, ok := it.content.(*contentType); ok {
		tr.deleteTypeContent(ct.t)
	}
}

func (tr *transaction) deleteTypeContent(t *branch) {
	guard := tr.doc.store.count + 1
	for n := t.start; n != nil && guard > 0; n = n.right {
		guard--
		if !n.deleted() {
			tr.deleteItem(n)
		} else if n.id.Clock < tr.beforeState[n.id.Client] {
			// Deleted before this transaction: it will be collected now, so
			// give it a chance to merge with its neighbours afterwards.
			tr.mergeStructs = append(tr.mergeStructs, n)
		}
	}
	for _, n := range t.mapItems {
		if !n.deleted() {
			tr.deleteItem(n)
		} else if n.id.Clock < tr.beforeState[n.id.Client] {
			tr.mergeStructs = append(tr.mergeStructs, n)
		}
	}
}

// gc drops the content of a deleted item: it keeps its place (and length) as
// ContentDeleted, or becomes a GC struct when its parent is collected too.
func (it *item) gc(parentGCd bool) {
	if it.kind != kindItem || !it.deleted() {
		return
	}
	if ct, ok := it.content.(*contentType); ok {
		t := ct.t
		for n := t.start; n != nil; {
			next := n.right
			n.gc(true)
			n = next
		}
		t.start = nil
		for _, n := range t.mapItems {
			for n != nil {
				prev := n.left
				n.gc(true)
				n = prev
			}
		}
		t.mapItems = map[string]*item{}
	}
	if parentGCd {
		replaceWithGC(it)
	} else {
		it.content = &contentDeleted{it.length}
		it.flags &^= flagCountable
	}
}
