package yjs

// branch is the shared state behind every Yjs type (Y.Array, Y.Map, Y.Text
// and the XML types): a linked list of items for sequence content and a map
// from key to the last item written under that key. Which view applies is
// decided by typeRef for nested types and by the accessor for root types,
// since a root's kind is never transmitted.
type branch struct {
	doc *Doc
	// item holds this type in its parent; nil for a root type.
	item *item
	// rootName is the key in the document's root map, for root types.
	rootName string
	typeRef  byte
	// nodeName is the XML element name, or the hook name of a Y.XmlHook.
	nodeName string

	start    *item
	mapItems map[string]*item
	// length counts the visible countable units of the list.
	length int

	hasFormatting bool
}

func newBranch(doc *Doc) *branch {
	return &branch{doc: doc, mapItems: map[string]*item{}}
}

// integrate attaches a type decoded (or created) detached to its document.
func (b *branch) integrate(doc *Doc, it *item) {
	b.doc = doc
	b.item = it
	if b.mapItems == nil {
		b.mapItems = map[string]*item{}
	}
}

// isDeleted reports whether this type's item was deleted.
func (b *branch) isDeleted() bool {
	return b.item != nil && b.item.deleted()
}

// forEachVisible calls f on the visible countable items in order until f
// returns false. The walk is bounded by the number of structs so that a list
// corrupted by a hostile update cannot hang a reader.
func (b *branch) forEachVisible(f func(it *item) bool) {
	limit := 0
	if b.doc != nil {
		limit = b.doc.store.count + 1
	}
	for n := b.start; n != nil && limit > 0; n = n.right {
		limit--
		if n.visibleCountable() {
			if !f(n) {
				return
			}
		}
	}
}

// mapGet returns the current value item of key, or nil if unset or deleted.
func (b *branch) mapGet(key string) *item {
	it := b.mapItems[key]
	if it == nil || it.deleted() {
		return nil
	}
	return it
}

// mapKeys returns the keys with a live value.
func (b *branch) mapKeys() []string {
	keys := make([]string, 0, len(b.mapItems))
	for k, it := range b.mapItems {
		if !it.deleted() {
			keys = append(keys, k)
		}
	}
	return keys
}

// lastValue returns the value an item holds as a map entry: the last element
// of its content, as yjs reads it.
func lastValue(it *item) any {
	vals := contentValues(it.content)
	if len(vals) == 0 {
		return nil
	}
	return vals[len(vals)-1]
}

// contentValues returns the Go values of countable content: JSON and any
// values, []byte, SubDoc, and the Go view of nested types.
func contentValues(c content) []any {
	switch x := c.(type) {
	case *contentAny:
		return x.vals
	case *contentJSON:
		return x.values()
	case *contentBinary:
		return []any{x.b}
	case *contentString:
		out := make([]any, 0, len(x.s))
		for _, r := range x.s {
			out = append(out, string(r))
		}
		return out
	case *contentEmbed:
		return []any{x.value}
	case *contentType:
		return []any{viewOf(x.t)}
	case *contentDoc:
		sd := SubDoc{GUID: x.guid}
		if m, ok := x.opts.(map[string]any); ok && len(m) > 0 {
			sd.Opts = m
		}
		return []any{sd}
	}
	return nil
}

// viewOf wraps a nested branch in the Go type matching its type ref.
func viewOf(b *branch) any {
	switch b.typeRef {
	case typeRefArray:
		return &Array{b}
	case typeRefMap:
		return &Map{b}
	case typeRefText:
		return &Text{b}
	case typeRefXMLElement:
		return &XMLElement{b}
	case typeRefXMLFragment:
		return &XMLFragment{b}
	case typeRefXMLHook:
		return &XMLHook{b}
	case typeRefXMLText:
		return &XMLText{b}
	}
	return nil
}

// toJSONValue converts a stored value into plain JSON-friendly Go data,
// expanding nested types as their yjs toJSON() does.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case *Array:
		return x.ToJSON()
	case *Map:
		return x.ToJSON()
	case *Text:
		return x.String()
	case *XMLElement:
		return x.String()
	case *XMLFragment:
		return x.String()
	case *XMLHook:
		return x.ToJSON()
	case *XMLText:
		return x.String()
	}
	return v
}
