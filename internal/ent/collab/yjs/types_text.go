package yjs

import (
	"fmt"
	"reflect"
	"strings"
)

// Text is a Y.Text: a string with formatting attributes and embeds, as used by
// rich-text editors (Quill deltas). Positions and lengths are counted in
// UTF-16 code units, as in JavaScript, so that indices match the clients'.
type Text struct{ b *branch }

// Delta is one operation of a rich-text document as Quill and yjs's
// toDelta() express it: Insert is a string, an embed value (JSON), or a
// nested shared type; Attributes are the formatting in force.
type Delta struct {
	Insert     any            `json:"insert"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// GetText returns the root Y.Text named name.
func (d *Doc) GetText(name string) *Text { return &Text{d.root(name)} }

// Len returns the length in UTF-16 code units (embeds count one).
func (t *Text) Len() int { return max(t.b.length, 0) }

// String returns the plain text, without embeds or formatting.
func (t *Text) String() string {
	var sb strings.Builder
	t.b.forEachVisible(func(it *item) bool {
		if c, ok := it.content.(*contentString); ok {
			sb.WriteString(c.s)
		}
		return true
	})
	return sb.String()
}

// Delta returns the content as a list of inserts with their attributes.
// Adjacent strings with the same attributes are joined, so the result is
// canonical even when redundant formatting markers remain in the document.
func (t *Text) Delta() []Delta { return textDelta(t.b) }

// Attributes returns the attributes set on the text type itself
// (Y.Text.setAttribute), not the formatting of its content.
func (t *Text) Attributes() map[string]any { return mapEntries(t.b) }

func textDelta(b *branch) []Delta {
	var ops []Delta
	current := map[string]any{}
	var sb strings.Builder
	var strAttrs map[string]any
	pack := func() {
		if sb.Len() == 0 {
			return
		}
		s := sb.String()
		sb.Reset()
		if n := len(ops); n > 0 {
			if prev, ok := ops[n-1].Insert.(string); ok && attrsEqual(ops[n-1].Attributes, strAttrs) {
				ops[n-1].Insert = prev + s
				return
			}
		}
		ops = append(ops, Delta{Insert: s, Attributes: strAttrs})
	}
	snapshot := func() map[string]any {
		if len(current) == 0 {
			return nil
		}
		m := make(map[string]any, len(current))
		for k, v := range current {
			m[k] = v
		}
		return m
	}
	guard := 0
	if b.doc != nil {
		guard = b.doc.store.count + 1
	}
	for n := b.start; n != nil && guard > 0; n = n.right {
		guard--
		if n.deleted() {
			continue
		}
		switch c := n.content.(type) {
		case *contentString:
			if sb.Len() == 0 {
				strAttrs = snapshot()
			}
			sb.WriteString(c.s)
		case *contentEmbed:
			pack()
			ops = append(ops, Delta{Insert: c.value, Attributes: snapshot()})
		case *contentType:
			pack()
			ops = append(ops, Delta{Insert: viewOf(c.t), Attributes: snapshot()})
		case *contentFormat:
			pack()
			if c.value == nil {
				delete(current, c.key)
			} else {
				current[c.key] = c.value
			}
		}
	}
	pack()
	return ops
}

// attrsEqual compares attribute maps by JSON value.
func attrsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || !jsonValueEqual(va, vb) {
			return false
		}
	}
	return true
}

func jsonValueEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonValueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonValueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return safeEqual(a, b)
}

// equalAttr mirrors yjs's equalAttrs, used when deciding which formatting
// markers a local edit must insert: identical primitives, or objects whose
// own properties are identical primitives (nested objects never compare
// equal in yjs, being distinct references).
func equalAttr(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !primitiveEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !primitiveEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return primitiveEqual(a, b)
}

func primitiveEqual(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return safeEqual(a, b)
}

// safeEqual is == that cannot panic on uncomparable dynamic types.
func safeEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// normalizeAttrValue turns a caller's attribute value into the JSON value a
// peer will decode, so comparisons with stored values behave.
func normalizeAttrValue(v any) (string, any, error) {
	raw, err := jsonString(v)
	if err != nil {
		return "", nil, err
	}
	return raw, parseJSONValue(raw), nil
}

// textPos is a cursor in a text's item list (yjs's ItemTextListPosition).
type textPos struct {
	left, right *item
	index       int
	attrs       map[string]any
}

func (p *textPos) forward() {
	if p.right == nil {
		return
	}
	if c, ok := p.right.content.(*contentFormat); ok {
		if !p.right.deleted() {
			updateAttrs(p.attrs, c)
		}
	} else if !p.right.deleted() {
		p.index += int(p.right.length)
	}
	p.left = p.right
	p.right = p.right.right
}

func updateAttrs(attrs map[string]any, c *contentFormat) {
	if c.value == nil {
		delete(attrs, c.key)
	} else {
		attrs[c.key] = c.value
	}
}

// findTextPosition walks to UTF-16 index, splitting the item it falls in.
func (tr *transaction) findTextPosition(b *branch, index int) *textPos {
	pos := &textPos{right: b.start, attrs: map[string]any{}}
	count := index
	for pos.right != nil && count > 0 {
		r := pos.right
		if c, ok := r.content.(*contentFormat); ok {
			if !r.deleted() {
				updateAttrs(pos.attrs, c)
			}
		} else if !r.deleted() {
			if count < int(r.length) {
				tr.getItemCleanStart(ID{r.id.Client, r.id.Clock + uint64(count)})
			}
			pos.index += int(r.length)
			count -= int(r.length)
		}
		pos.left = r
		pos.right = r.right
	}
	return pos
}

// newLocalItem creates and integrates an item authored by this document.
func (tr *transaction) newLocalItem(left, right *item, parent *branch, parentSub *string, c content) (*item, error) {
	d := tr.doc
	it := &item{
		id:     ID{d.clientID, d.store.state(d.clientID)},
		kind:   kindItem,
		left:   left,
		right:  right,
		parent: parent,
	}
	if left != nil {
		it.hasOrigin, it.origin = true, left.lastID()
	}
	if right != nil {
		it.hasRightOrigin, it.rightOrigin = true, right.id
	}
	if parentSub != nil {
		it.hasParentSub, it.parentSub = true, *parentSub
	}
	it.setContent(c)
	if err := it.integrate(tr, 0); err != nil {
		return nil, err
	}
	return it, nil
}

func (tr *transaction) insertFormat(b *branch, pos *textPos, key string, value any) error {
	raw, v, err := normalizeAttrValue(value)
	if err != nil {
		return err
	}
	it, err := tr.newLocalItem(pos.left, pos.right, b, nil, &contentFormat{key: key, raw: raw, value: v})
	if err != nil {
		return err
	}
	pos.right = it
	pos.forward()
	return nil
}

// minimizeAttributeChanges skips formatting markers that already set what
// attrs asks for, so no redundant marker is inserted.
func minimizeAttributeChanges(pos *textPos, attrs map[string]any) {
	for pos.right != nil {
		r := pos.right
		if r.deleted() {
			pos.forward()
			continue
		}
		c, ok := r.content.(*contentFormat)
		if !ok {
			return
		}
		want, has := attrs[c.key]
		if !has {
			want = nil
		}
		if !equalAttr(want, c.value) {
			return
		}
		pos.forward()
	}
}

// insertAttributes inserts format markers for attrs that differ from the
// attributes in force, and returns the markers that restore them afterwards.
func (tr *transaction) insertAttributes(b *branch, pos *textPos, attrs map[string]any, order []string) (map[string]any, []string, error) {
	negated := map[string]any{}
	var negOrder []string
	for _, key := range order {
		val := attrs[key]
		cur, ok := pos.attrs[key]
		if !ok {
			cur = nil
		}
		if !equalAttr(cur, val) {
			if _, seen := negated[key]; !seen {
				negOrder = append(negOrder, key)
			}
			negated[key] = cur
			if err := tr.insertFormat(b, pos, key, val); err != nil {
				return nil, nil, err
			}
		}
	}
	return negated, negOrder, nil
}

func (tr *transaction) insertNegatedAttributes(b *branch, pos *textPos, negated map[string]any, order []string) error {
	for pos.right != nil {
		r := pos.right
		if r.deleted() {
			pos.forward()
			continue
		}
		c, ok := r.content.(*contentFormat)
		if !ok {
			break
		}
		if nv, has := negated[c.key]; !has || !equalAttr(nv, c.value) {
			break
		}
		delete(negated, c.key)
		pos.forward()
	}
	for _, key := range order {
		val, ok := negated[key]
		if !ok {
			continue
		}
		if err := tr.insertFormat(b, pos, key, val); err != nil {
			return err
		}
	}
	return nil
}

func normalizeAttrs(attrs map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		_, nv, err := normalizeAttrValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// Insert inserts s at UTF-16 index with the given formatting. With nil
// attrs the text takes the formatting in force at index, as in yjs.
func (t *Text) Insert(tx *Tx, index int, s string, attrs map[string]any) error {
	if err := tx.check(t.b); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	if index < 0 || index > t.Len() {
		return fmt.Errorf("yjs: text insert at %d: %w", index, ErrOutOfRange)
	}
	return tx.tr.insertTextContent(t.b, index, newContentString(s), attrs)
}

// InsertEmbed inserts an embed (a JSON object such as {"image": url}).
func (t *Text) InsertEmbed(tx *Tx, index int, embed any, attrs map[string]any) error {
	if err := tx.check(t.b); err != nil {
		return err
	}
	if index < 0 || index > t.Len() {
		return fmt.Errorf("yjs: text embed at %d: %w", index, ErrOutOfRange)
	}
	raw, v, err := normalizeAttrValue(embed)
	if err != nil {
		return err
	}
	if attrs == nil {
		attrs = map[string]any{}
	}
	return tx.tr.insertTextContent(t.b, index, &contentEmbed{raw: raw, value: v}, attrs)
}

func (tr *transaction) insertTextContent(b *branch, index int, c content, attrs map[string]any) error {
	pos := tr.findTextPosition(b, index)
	var err error
	if attrs == nil {
		attrs = make(map[string]any, len(pos.attrs))
		for k, v := range pos.attrs {
			attrs[k] = v
		}
	} else if attrs, err = normalizeAttrs(attrs); err != nil {
		return err
	}
	for k := range pos.attrs {
		if _, ok := attrs[k]; !ok {
			attrs[k] = nil
		}
	}
	order := sortedKeys(attrs)
	minimizeAttributeChanges(pos, attrs)
	negated, negOrder, err := tr.insertAttributes(b, pos, attrs, order)
	if err != nil {
		return err
	}
	it, err := tr.newLocalItem(pos.left, pos.right, b, nil, c)
	if err != nil {
		return err
	}
	pos.right = it
	pos.forward()
	return tr.insertNegatedAttributes(b, pos, negated, negOrder)
}

// Delete removes length UTF-16 units starting at index.
func (t *Text) Delete(tx *Tx, index, length int) error {
	if err := tx.check(t.b); err != nil {
		return err
	}
	if length == 0 {
		return nil
	}
	if index < 0 || length < 0 || index+length > t.Len() {
		return fmt.Errorf("yjs: text delete %d+%d: %w", index, length, ErrOutOfRange)
	}
	tr := tx.tr
	pos := tr.findTextPosition(t.b, index)
	startAttrs := make(map[string]any, len(pos.attrs))
	for k, v := range pos.attrs {
		startAttrs[k] = v
	}
	start := pos.right
	for length > 0 && pos.right != nil {
		r := pos.right
		if !r.deleted() {
			switch r.content.(type) {
			case *contentType, *contentEmbed, *contentString:
				if length < int(r.length) {
					tr.getItemCleanStart(ID{r.id.Client, r.id.Clock + uint64(length)})
				}
				length -= int(r.length)
				tr.deleteItem(r)
			}
		}
		pos.forward()
	}
	if start != nil {
		tr.cleanupFormattingGap(start, pos.right, startAttrs, pos.attrs)
	}
	return nil
}

// cleanupFormattingGap deletes the formatting markers that a deletion left
// without effect (overwritten, or restating what is already in force).
func (tr *transaction) cleanupFormattingGap(start, curr *item, startAttrs, currAttrs map[string]any) {
	end := start
	endFormats := map[string]*contentFormat{}
	for end != nil && (!end.countable() || end.deleted()) {
		if c, ok := end.content.(*contentFormat); ok && !end.deleted() {
			endFormats[c.key] = c
		}
		end = end.right
	}
	reachedCurr := false
	for start != end && start != nil {
		if curr == start {
			reachedCurr = true
		}
		if !start.deleted() {
			if c, ok := start.content.(*contentFormat); ok {
				startVal, has := startAttrs[c.key]
				if !has {
					startVal = nil
				}
				if endFormats[c.key] != c || sameValue(startVal, c.value) {
					tr.deleteItem(start)
					if cv := currAttrs[c.key]; !reachedCurr && sameValue(cv, c.value) && !sameValue(startVal, c.value) {
						if startVal == nil {
							delete(currAttrs, c.key)
						} else {
							currAttrs[c.key] = startVal
						}
					}
				}
				if !reachedCurr && !start.deleted() {
					updateAttrs(currAttrs, c)
				}
			}
		}
		start = start.right
	}
}

// Format applies attrs (nil values remove an attribute) to length units
// starting at index.
func (t *Text) Format(tx *Tx, index, length int, attrs map[string]any) error {
	if err := tx.check(t.b); err != nil {
		return err
	}
	if length == 0 {
		return nil
	}
	if index < 0 || length < 0 || index+length > t.Len() {
		return fmt.Errorf("yjs: text format %d+%d: %w", index, length, ErrOutOfRange)
	}
	attrs, err := normalizeAttrs(attrs)
	if err != nil {
		return err
	}
	tr := tx.tr
	pos := tr.findTextPosition(t.b, index)
	if pos.right == nil {
		return nil
	}
	minimizeAttributeChanges(pos, attrs)
	negated, negOrder, err := tr.insertAttributes(t.b, pos, attrs, sortedKeys(attrs))
	if err != nil {
		return err
	}
	for pos.right != nil && (length > 0 || (len(negated) > 0 && (pos.right.deleted() || pos.right.isFormat()))) {
		r := pos.right
		if !r.deleted() {
			if c, ok := r.content.(*contentFormat); ok {
				if want, has := attrs[c.key]; has {
					if equalAttr(want, c.value) {
						delete(negated, c.key)
					} else {
						if length == 0 {
							break
						}
						if _, seen := negated[c.key]; !seen {
							negOrder = append(negOrder, c.key)
						}
						negated[c.key] = c.value
					}
					tr.deleteItem(r)
				} else {
					pos.attrs[c.key] = c.value
				}
			} else {
				if length < int(r.length) {
					tr.getItemCleanStart(ID{r.id.Client, r.id.Clock + uint64(length)})
				}
				length -= int(r.length)
			}
		}
		pos.forward()
	}
	return tr.insertNegatedAttributes(t.b, pos, negated, negOrder)
}

// sameValue is JavaScript's === on decoded JSON values: primitives by value,
// objects and arrays by identity.
func sameValue(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
		return ra.Kind() == rb.Kind() && ra.Pointer() == rb.Pointer() && ra.Len() == rb.Len()
	}
	return primitiveEqual(a, b)
}
