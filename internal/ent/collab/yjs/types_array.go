package yjs

import (
	"fmt"
	"sort"
)

// Array is a Y.Array: an ordered list of values and nested types.
type Array struct{ b *branch }

// GetArray returns the root Y.Array named name.
func (d *Doc) GetArray(name string) *Array { return &Array{d.root(name)} }

// Len returns the number of elements.
func (a *Array) Len() int { return max(a.b.length, 0) }

// Get returns the element at index.
func (a *Array) Get(index int) (any, bool) {
	var out any
	found := false
	i := index
	if i < 0 {
		return nil, false
	}
	a.b.forEachVisible(func(it *item) bool {
		if uint64(i) < it.length {
			out = contentValues(it.content)[i]
			found = true
			return false
		}
		i -= int(it.length)
		return true
	})
	return out, found
}

// ToSlice returns the elements, nested types as views.
func (a *Array) ToSlice() []any { return listValues(a.b) }

// ToJSON returns the elements as plain data, like yjs's toJSON.
func (a *Array) ToJSON() []any {
	vals := listValues(a.b)
	for i, v := range vals {
		vals[i] = toJSONValue(v)
	}
	return vals
}

func listValues(b *branch) []any {
	out := []any{}
	b.forEachVisible(func(it *item) bool {
		out = append(out, contentValues(it.content)...)
		return true
	})
	return out
}

// Insert inserts values at index. Plain values are packed into one item as
// yjs packs them; []byte, SubDoc and prelim types get an item each.
func (a *Array) Insert(tx *Tx, index int, values ...any) error {
	if err := tx.check(a.b); err != nil {
		return err
	}
	if index < 0 || index > a.Len() {
		return fmt.Errorf("yjs: array insert at %d: %w", index, ErrOutOfRange)
	}
	for _, v := range values {
		if err := validateValue(v); err != nil {
			return fmt.Errorf("yjs: array insert: %w", err)
		}
	}
	return tx.tr.listInsert(a.b, index, values)
}

// Push appends values at the end.
func (a *Array) Push(tx *Tx, values ...any) error {
	if err := tx.check(a.b); err != nil {
		return err
	}
	for _, v := range values {
		if err := validateValue(v); err != nil {
			return fmt.Errorf("yjs: array push: %w", err)
		}
	}
	// Insert after the last item, deleted or not, as yjs's push does.
	var last *item
	guard := tx.tr.doc.store.count + 1
	for n := a.b.start; n != nil && guard > 0; n = n.right {
		guard--
		last = n
	}
	return tx.tr.listInsertAfter(a.b, last, values)
}

// Delete removes length elements starting at index.
func (a *Array) Delete(tx *Tx, index, length int) error {
	if err := tx.check(a.b); err != nil {
		return err
	}
	if index < 0 || length < 0 || index+length > a.Len() {
		return fmt.Errorf("yjs: array delete %d+%d: %w", index, length, ErrOutOfRange)
	}
	tx.tr.listDelete(a.b, index, length)
	return nil
}

// listInsert finds the item after which index falls (splitting it) and
// inserts there.
func (tr *transaction) listInsert(b *branch, index int, values []any) error {
	if index == 0 {
		return tr.listInsertAfter(b, nil, values)
	}
	var n *item
	guard := tr.doc.store.count + 1
	for n = b.start; n != nil && guard > 0; n = n.right {
		guard--
		if n.visibleCountable() {
			if index <= int(n.length) {
				if index < int(n.length) {
					tr.getItemCleanStart(ID{n.id.Client, n.id.Clock + uint64(index)})
				}
				break
			}
			index -= int(n.length)
		}
	}
	return tr.listInsertAfter(b, n, values)
}

func (tr *transaction) listInsertAfter(b *branch, ref *item, values []any) error {
	left := ref
	var right *item
	if ref == nil {
		right = b.start
	} else {
		right = ref.right
	}
	var pending []any
	pack := func() error {
		if len(pending) == 0 {
			return nil
		}
		it, err := tr.newLocalItem(left, right, b, nil, &contentAny{vals: pending})
		if err != nil {
			return err
		}
		left, pending = it, nil
		return nil
	}
	for _, v := range values {
		c, fill, err := contentForValue(v)
		if err != nil {
			return err
		}
		if ca, ok := c.(*contentAny); ok {
			pending = append(pending, ca.vals...)
			continue
		}
		if err := pack(); err != nil {
			return err
		}
		it, err := tr.newLocalItem(left, right, b, nil, c)
		if err != nil {
			return err
		}
		left = it
		if fill != nil {
			if err := fill(tr, c.(*contentType).t); err != nil {
				return err
			}
		}
	}
	return pack()
}

func (tr *transaction) listDelete(b *branch, index, length int) {
	n := b.start
	guard := tr.doc.store.count + 1
	for ; n != nil && index > 0 && guard > 0; n = n.right {
		guard--
		if n.visibleCountable() {
			if index < int(n.length) {
				tr.getItemCleanStart(ID{n.id.Client, n.id.Clock + uint64(index)})
			}
			index -= int(n.length)
		}
	}
	for ; length > 0 && n != nil; n = n.right {
		if !n.deleted() {
			if length < int(n.length) {
				tr.getItemCleanStart(ID{n.id.Client, n.id.Clock + uint64(length)})
			}
			tr.deleteItem(n)
			length -= int(n.length)
		}
	}
}

// Prelim values create nested shared types when written into a map, an
// array or an XML node, like `new Y.Map()` values in yjs.
type (
	// MapPrelim creates a Y.Map with the given entries.
	MapPrelim map[string]any
	// ArrayPrelim creates a Y.Array with the given elements.
	ArrayPrelim []any
	// TextPrelim creates a Y.Text with the given unformatted content.
	TextPrelim string
	// XMLFragmentPrelim creates a Y.XmlFragment with the given children.
	XMLFragmentPrelim []any
	// XMLTextPrelim creates a Y.XmlText with the given unformatted content.
	XMLTextPrelim string
)

// XMLElementPrelim creates a Y.XmlElement.
type XMLElementPrelim struct {
	Name     string
	Attrs    map[string]any
	Children []any
}

func prelimBranch(v any) (*branch, func(*transaction, *branch) error, bool) {
	switch x := v.(type) {
	case MapPrelim:
		return &branch{typeRef: typeRefMap}, func(tr *transaction, b *branch) error {
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := tr.mapSet(b, k, x[k]); err != nil {
					return err
				}
			}
			return nil
		}, true
	case ArrayPrelim:
		return &branch{typeRef: typeRefArray}, func(tr *transaction, b *branch) error {
			return tr.listInsertAfter(b, nil, x)
		}, true
	case TextPrelim:
		return &branch{typeRef: typeRefText}, func(tr *transaction, b *branch) error {
			if x == "" {
				return nil
			}
			return tr.insertTextContent(b, 0, newContentString(string(x)), map[string]any{})
		}, true
	case XMLTextPrelim:
		return &branch{typeRef: typeRefXMLText}, func(tr *transaction, b *branch) error {
			if x == "" {
				return nil
			}
			return tr.insertTextContent(b, 0, newContentString(string(x)), map[string]any{})
		}, true
	case XMLFragmentPrelim:
		return &branch{typeRef: typeRefXMLFragment}, func(tr *transaction, b *branch) error {
			return tr.listInsertAfter(b, nil, x)
		}, true
	case XMLElementPrelim:
		return &branch{typeRef: typeRefXMLElement, nodeName: x.Name}, func(tr *transaction, b *branch) error {
			for _, k := range sortedKeys(x.Attrs) {
				if err := tr.mapSet(b, k, x.Attrs[k]); err != nil {
					return err
				}
			}
			return tr.listInsertAfter(b, nil, x.Children)
		}, true
	}
	return nil, nil, false
}
