package yjs

// Yjs stores three kinds of structs per client, in clock order:
//
//   - Item: a run of content with the YATA metadata (origins, parent);
//   - GC: a run of clocks whose content was garbage collected — only the
//     fact that the clocks exist remains;
//   - Skip: only in updates, a gap in a client's clocks (merged updates that
//     are not contiguous).
//
// One Go struct represents all three (kind tells which) so that the store,
// the decoder and the merge code can share slices of pointers without
// interface dispatch; GC and Skip simply leave the item fields empty.

type blockKind uint8

const (
	kindItem blockKind = iota
	kindGC
	kindSkip
)

// parentRef is how an update names an item's parent before integration: by
// root name, by the ID of the item holding the parent type, or not at all
// (the parent is then copied from the left or right neighbour).
type parentRefKind uint8

const (
	parentNone parentRefKind = iota
	parentRoot
	parentID
)

const (
	flagKeep      = 1 << 0
	flagCountable = 1 << 1
	flagDeleted   = 1 << 2
)

type item struct {
	id     ID
	length uint64
	kind   blockKind
	flags  uint8

	hasOrigin, hasRightOrigin bool
	origin, rightOrigin       ID

	left, right *item

	// parent is set once integrated (or for items created locally).
	parent *branch
	// parentKind/parentName/parentItem describe the parent as decoded.
	parentKind parentRefKind
	parentName string
	parentItem ID

	hasParentSub bool
	parentSub    string

	content content
}

func newGC(id ID, length uint64) *item {
	return &item{id: id, length: length, kind: kindGC, flags: flagDeleted}
}

func newSkip(id ID, length uint64) *item {
	return &item{id: id, length: length, kind: kindSkip}
}

func (it *item) deleted() bool   { return it.flags&flagDeleted != 0 }
func (it *item) countable() bool { return it.flags&flagCountable != 0 }
func (it *item) keep() bool      { return it.flags&flagKeep != 0 }
func (it *item) markDeleted()    { it.flags |= flagDeleted }

func (it *item) lastID() ID { return ID{it.id.Client, it.id.Clock + it.length - 1} }

// visibleCountable reports content that occupies a position in its list.
func (it *item) visibleCountable() bool {
	return it.flags&(flagDeleted|flagCountable) == flagCountable
}

func (it *item) setContent(c content) {
	it.content = c
	it.length = c.length()
	if c.countable() {
		it.flags |= flagCountable
	} else {
		it.flags &^= flagCountable
	}
}

// isFormat reports a rich-text formatting marker.
func (it *item) isFormat() bool {
	_, ok := it.content.(*contentFormat)
	return ok
}

// next returns the next non-deleted item to the right.
func (it *item) next() *item {
	n := it.right
	for n != nil && n.deleted() {
		n = n.right
	}
	return n
}

// prev returns the previous non-deleted item to the left.
func (it *item) prev() *item {
	n := it.left
	for n != nil && n.deleted() {
		n = n.left
	}
	return n
}

// mergeWith fuses right into it when they are two halves of what was once a
// single run (same client, contiguous clocks, right directly after it in the
// list with it as origin). Merging keeps the store small after splits.
func (it *item) mergeWith(right *item) bool {
	if it.kind != right.kind {
		return false
	}
	switch it.kind {
	case kindGC, kindSkip:
		it.length += right.length
		return true
	}
	if right.hasOrigin && right.origin == it.lastID() &&
		it.right == right &&
		it.hasRightOrigin == right.hasRightOrigin && (!it.hasRightOrigin || it.rightOrigin == right.rightOrigin) &&
		it.id.Client == right.id.Client &&
		it.id.Clock+it.length == right.id.Clock &&
		it.deleted() == right.deleted() &&
		it.content.ref() == right.content.ref() &&
		it.content.mergeWith(right.content) {
		if right.keep() {
			it.flags |= flagKeep
		}
		it.right = right.right
		if it.right != nil {
			it.right.left = it
		}
		it.length += right.length
		return true
	}
	return false
}

// write writes the struct in v1 format starting offset clocks into it.
func (it *item) write(e *encoder, offset uint64) error {
	switch it.kind {
	case kindGC:
		e.writeByte(refGC)
		e.writeVarUint(it.length - offset)
		return nil
	case kindSkip:
		e.writeByte(refSkip)
		e.writeVarUint(it.length - offset)
		return nil
	}
	hasOrigin, origin := it.hasOrigin, it.origin
	if offset > 0 {
		hasOrigin, origin = true, ID{it.id.Client, it.id.Clock + offset - 1}
	}
	info := it.content.ref() & 0x1f
	if hasOrigin {
		info |= 0x80
	}
	if it.hasRightOrigin {
		info |= 0x40
	}
	if it.hasParentSub {
		info |= 0x20
	}
	e.writeByte(info)
	if hasOrigin {
		e.writeVarUint(origin.Client)
		e.writeVarUint(origin.Clock)
	}
	if it.hasRightOrigin {
		e.writeVarUint(it.rightOrigin.Client)
		e.writeVarUint(it.rightOrigin.Clock)
	}
	if !hasOrigin && !it.hasRightOrigin {
		if err := it.writeParent(e); err != nil {
			return err
		}
		if it.hasParentSub {
			e.writeVarString(it.parentSub)
		}
	}
	return it.content.write(e, offset)
}

// writeParent names the parent either by root name or by the ID of the item
// that holds it; only items without origins need it (the others inherit the
// parent of their neighbours).
func (it *item) writeParent(e *encoder) error {
	if p := it.parent; p != nil {
		if p.item == nil {
			e.writeVarUint(1)
			e.writeVarString(p.rootName)
		} else {
			e.writeVarUint(0)
			e.writeVarUint(p.item.id.Client)
			e.writeVarUint(p.item.id.Clock)
		}
		return nil
	}
	switch it.parentKind {
	case parentRoot:
		e.writeVarUint(1)
		e.writeVarString(it.parentName)
	case parentID:
		e.writeVarUint(0)
		e.writeVarUint(it.parentItem.Client)
		e.writeVarUint(it.parentItem.Clock)
	default:
		// A yjs peer would throw here too: the struct cannot be placed.
		return errNoParent
	}
	return nil
}

// sliceBlock returns the part of a decoded (not integrated) struct that
// starts diff clocks into it, the way update merging cuts overlaps.
func sliceBlock(b *item, diff uint64) *item {
	id := ID{b.id.Client, b.id.Clock + diff}
	switch b.kind {
	case kindGC:
		return newGC(id, b.length-diff)
	case kindSkip:
		return newSkip(id, b.length-diff)
	}
	c := cloneContent(b.content)
	right := c.splice(diff)
	n := &item{
		id:             id,
		kind:           kindItem,
		hasOrigin:      true,
		origin:         ID{b.id.Client, b.id.Clock + diff - 1},
		hasRightOrigin: b.hasRightOrigin,
		rightOrigin:    b.rightOrigin,
		parent:         b.parent,
		parentKind:     b.parentKind,
		parentName:     b.parentName,
		parentItem:     b.parentItem,
		hasParentSub:   b.hasParentSub,
		parentSub:      b.parentSub,
	}
	n.setContent(right)
	return n
}

// cloneContent copies splittable content so that slicing a decoded struct
// does not alter the original (which may still be written elsewhere).
func cloneContent(c content) content {
	switch x := c.(type) {
	case *contentDeleted:
		return &contentDeleted{x.n}
	case *contentString:
		return &contentString{x.s, x.n16}
	case *contentAny:
		c := &contentAny{vals: append([]any(nil), x.vals...)}
		if x.raw != nil {
			c.raw = append([][]byte(nil), x.raw...)
		}
		return c
	case *contentJSON:
		return &contentJSON{append([]string(nil), x.vals...)}
	}
	return c
}
