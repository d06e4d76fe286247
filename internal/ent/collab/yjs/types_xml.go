package yjs

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The XML types are what ProseMirror (y-prosemirror) and other tree editors
// store: a fragment of elements and text nodes. Elements have a node name,
// attributes (a map) and children (a list); text nodes are rich text.

// XMLFragment is a Y.XmlFragment: a list of XML nodes.
type XMLFragment struct{ b *branch }

// XMLElement is a Y.XmlElement.
type XMLElement struct{ b *branch }

// XMLText is a Y.XmlText: rich text inside an XML tree.
type XMLText struct{ b *branch }

// XMLHook is a Y.XmlHook: a map rendered by a named custom hook.
type XMLHook struct{ b *branch }

// GetXMLFragment returns the root Y.XmlFragment named name.
func (d *Doc) GetXMLFragment(name string) *XMLFragment { return &XMLFragment{d.root(name)} }

// Len returns the number of children.
func (f *XMLFragment) Len() int { return max(f.b.length, 0) }

// Children returns the child nodes (*XMLElement, *XMLText, *XMLHook).
func (f *XMLFragment) Children() []any { return listValues(f.b) }

// String serializes the fragment like yjs's toString (and toJSON).
func (f *XMLFragment) String() string { return xmlChildrenString(f.b) }

// Insert inserts children (XMLElementPrelim, XMLTextPrelim) at index.
func (f *XMLFragment) Insert(tx *Tx, index int, children ...any) error {
	return xmlInsert(tx, f.b, index, children)
}

// Delete removes length children from index.
func (f *XMLFragment) Delete(tx *Tx, index, length int) error {
	return xmlDelete(tx, f.b, index, length)
}

// Delete removes length children from index.
func (e *XMLElement) Delete(tx *Tx, index, length int) error {
	return xmlDelete(tx, e.b, index, length)
}

func xmlDelete(tx *Tx, b *branch, index, length int) error {
	if err := tx.check(b); err != nil {
		return err
	}
	if index < 0 || length < 0 || index+length > max(b.length, 0) {
		return fmt.Errorf("yjs: xml delete %d+%d: %w", index, length, ErrOutOfRange)
	}
	tx.tr.listDelete(b, index, length)
	return nil
}

// NodeName returns the element name as stored (ProseMirror node type).
func (e *XMLElement) NodeName() string { return e.b.nodeName }

// Attributes returns the element's attributes.
func (e *XMLElement) Attributes() map[string]any { return mapEntries(e.b) }

// Children returns the child nodes.
func (e *XMLElement) Children() []any { return listValues(e.b) }

// Len returns the number of children.
func (e *XMLElement) Len() int { return max(e.b.length, 0) }

// String serializes the element like yjs's toString: lower-cased name,
// attributes sorted by name, children inside.
func (e *XMLElement) String() string {
	var sb strings.Builder
	name := strings.ToLower(e.b.nodeName)
	sb.WriteString("<" + name)
	attrs := mapEntries(e.b)
	for _, k := range sortedKeys(attrs) {
		sb.WriteString(" " + k + `="` + jsString(attrs[k]) + `"`)
	}
	sb.WriteString(">")
	sb.WriteString(xmlChildrenString(e.b))
	sb.WriteString("</" + name + ">")
	return sb.String()
}

// Insert inserts children at index.
func (e *XMLElement) Insert(tx *Tx, index int, children ...any) error {
	return xmlInsert(tx, e.b, index, children)
}

// SetAttribute sets an attribute.
func (e *XMLElement) SetAttribute(tx *Tx, name string, value any) error {
	if err := tx.check(e.b); err != nil {
		return err
	}
	if err := validateValue(value); err != nil {
		return fmt.Errorf("yjs: xml attribute %q: %w", name, err)
	}
	return tx.tr.mapSet(e.b, name, value)
}

// Delta returns the rich-text content.
func (t *XMLText) Delta() []Delta { return textDelta(t.b) }

// Attributes returns the attributes of the text node itself.
func (t *XMLText) Attributes() map[string]any { return mapEntries(t.b) }

// Len returns the length in UTF-16 code units.
func (t *XMLText) Len() int { return max(t.b.length, 0) }

// Text returns a Text view, to read or edit the content as rich text.
func (t *XMLText) Text() *Text { return &Text{t.b} }

// String serializes the text like yjs's toString: each formatting attribute
// becomes an enclosing tag.
func (t *XMLText) String() string {
	var sb strings.Builder
	for _, op := range textDelta(t.b) {
		type node struct {
			name  string
			attrs [][2]string
		}
		var nodes []node
		for name, v := range op.Attributes {
			n := node{name: name, attrs: jsForIn(v)}
			sort.Slice(n.attrs, func(i, j int) bool { return n.attrs[i][0] < n.attrs[j][0] })
			nodes = append(nodes, n)
		}
		sort.Slice(nodes, func(i, j int) bool { return nodes[i].name < nodes[j].name })
		for _, n := range nodes {
			sb.WriteString("<" + n.name)
			for _, a := range n.attrs {
				sb.WriteString(" " + a[0] + `="` + a[1] + `"`)
			}
			sb.WriteString(">")
		}
		sb.WriteString(jsString(op.Insert))
		for i := len(nodes) - 1; i >= 0; i-- {
			sb.WriteString("</" + nodes[i].name + ">")
		}
	}
	return sb.String()
}

// Name returns the hook name.
func (h *XMLHook) Name() string { return h.b.nodeName }

// Entries returns the hook's map content.
func (h *XMLHook) Entries() map[string]any { return mapEntries(h.b) }

// ToJSON returns the hook's map content as plain data.
func (h *XMLHook) ToJSON() map[string]any { return (&Map{h.b}).ToJSON() }

func xmlChildrenString(b *branch) string {
	var sb strings.Builder
	for _, v := range listValues(b) {
		sb.WriteString(jsString(v))
	}
	return sb.String()
}

func xmlInsert(tx *Tx, b *branch, index int, children []any) error {
	if err := tx.check(b); err != nil {
		return err
	}
	if index < 0 || index > b.length {
		return fmt.Errorf("yjs: xml insert at %d: %w", index, ErrOutOfRange)
	}
	for _, c := range children {
		switch c.(type) {
		case XMLElementPrelim, XMLTextPrelim:
		default:
			return fmt.Errorf("yjs: xml insert: %T is not an XML node prelim", c)
		}
		if err := validateValue(c); err != nil {
			return err
		}
	}
	return tx.tr.listInsert(b, index, children)
}

// jsString renders a value the way JavaScript's String() would, which is
// what yjs's XML serialization uses for attribute values and inserts.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case BigInt:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return jsNumber(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				if _, u := e.(Undefined); !u {
					parts[i] = jsString(e)
				}
			}
		}
		return strings.Join(parts, ",")
	case map[string]any, SubDoc:
		return "[object Object]"
	case []byte:
		parts := make([]string, len(x))
		for i, b := range x {
			parts[i] = strconv.Itoa(int(b))
		}
		return strings.Join(parts, ",")
	case fmt.Stringer:
		return x.String()
	case *Map, *Array, *XMLHook:
		return "[object Object]"
	}
	return fmt.Sprint(v)
}

// jsNumber formats like Number.prototype.toString for the common cases.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+06 / e-07; JavaScript writes e+6 / e-7.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[:1]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// jsForIn lists what JavaScript's for...in yields over v with the values
// String() gives them: object keys, array and string indices, nothing for
// other primitives. yjs builds XmlText tags from it.
func jsForIn(v any) [][2]string {
	var out [][2]string
	switch x := v.(type) {
	case map[string]any:
		for k, av := range x {
			out = append(out, [2]string{k, jsString(av)})
		}
	case []any:
		for i, av := range x {
			out = append(out, [2]string{strconv.Itoa(i), jsString(av)})
		}
	case string:
		for i, u := range utf16.Encode([]rune(x)) {
			out = append(out, [2]string{strconv.Itoa(i), string(utf16.Decode([]uint16{u}))})
		}
	}
	return out
}
