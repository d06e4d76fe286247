package yjs

import (
	"fmt"
	"sort"
)

// Map is a Y.Map: keys to values, the last concurrent write winning the same
// way on every peer.
type Map struct{ b *branch }

// GetMap returns the root Y.Map named name.
func (d *Doc) GetMap(name string) *Map { return &Map{d.root(name)} }

// Get returns the value under key: a JSON-like value (see the Undefined
// type for the representation), []byte, SubDoc, or a nested type view
// (*Map, *Array, *Text, *XMLElement, ...).
func (m *Map) Get(key string) (any, bool) {
	it := m.b.mapGet(key)
	if it == nil {
		return nil, false
	}
	return lastValue(it), true
}

// Keys returns the keys in sorted order.
func (m *Map) Keys() []string {
	keys := m.b.mapKeys()
	sort.Strings(keys)
	return keys
}

// Len returns the number of keys.
func (m *Map) Len() int { return len(m.b.mapKeys()) }

// Entries returns every key with its value (nested types as views).
func (m *Map) Entries() map[string]any { return mapEntries(m.b) }

// ToJSON returns the content as plain data, nested types converted like
// yjs's toJSON (texts and XML as strings).
func (m *Map) ToJSON() map[string]any {
	out := map[string]any{}
	for k, v := range mapEntries(m.b) {
		out[k] = toJSONValue(v)
	}
	return out
}

func mapEntries(b *branch) map[string]any {
	out := map[string]any{}
	for k, it := range b.mapItems {
		if !it.deleted() {
			out[k] = lastValue(it)
		}
	}
	return out
}

// Set writes value under key. Values are JSON-like Go data, []byte, or a
// prelim value (MapPrelim, ArrayPrelim, TextPrelim, XMLElementPrelim...) that
// creates a nested shared type.
func (m *Map) Set(tx *Tx, key string, value any) error {
	if err := tx.check(m.b); err != nil {
		return err
	}
	if err := validateValue(value); err != nil {
		return fmt.Errorf("yjs: map set %q: %w", key, err)
	}
	return tx.tr.mapSet(m.b, key, value)
}

// Delete removes key (no-op when absent).
func (m *Map) Delete(tx *Tx, key string) error {
	if err := tx.check(m.b); err != nil {
		return err
	}
	if it := m.b.mapItems[key]; it != nil {
		tx.tr.deleteItem(it)
	}
	return nil
}

func (tr *transaction) mapSet(b *branch, key string, value any) error {
	left := b.mapItems[key]
	c, fill, err := contentForValue(value)
	if err != nil {
		return err
	}
	it, err := tr.newLocalItem(left, nil, b, &key, c)
	if err != nil {
		return err
	}
	if fill != nil {
		return fill(tr, it.content.(*contentType).t)
	}
	return nil
}

// contentForValue returns the content a single map value is stored as, and
// for prelim types the function that fills the new type once integrated.
func contentForValue(v any) (content, func(*transaction, *branch) error, error) {
	switch x := v.(type) {
	case []byte:
		return &contentBinary{append([]byte(nil), x...)}, nil, nil
	case SubDoc:
		opts := any(map[string]any{})
		if x.Opts != nil {
			opts = x.Opts
		}
		return &contentDoc{guid: x.GUID, opts: opts}, nil, nil
	}
	if b, fill, ok := prelimBranch(v); ok {
		return &contentType{b}, fill, nil
	}
	return &contentAny{vals: []any{v}}, nil, nil
}

// validateValue checks that v can be encoded before anything is changed.
func validateValue(v any) error {
	switch x := v.(type) {
	case MapPrelim:
		for _, e := range x {
			if err := validateValue(e); err != nil {
				return err
			}
		}
		return nil
	case ArrayPrelim:
		for _, e := range x {
			if err := validateValue(e); err != nil {
				return err
			}
		}
		return nil
	case XMLFragmentPrelim:
		for _, e := range x {
			if err := validateValue(e); err != nil {
				return err
			}
		}
		return nil
	case XMLElementPrelim:
		for _, e := range x.Attrs {
			if err := validateValue(e); err != nil {
				return err
			}
		}
		for _, e := range x.Children {
			if err := validateValue(e); err != nil {
				return err
			}
		}
		return nil
	case TextPrelim, XMLTextPrelim, []byte, SubDoc:
		return nil
	}
	var e encoder
	return e.writeAny(v)
}
