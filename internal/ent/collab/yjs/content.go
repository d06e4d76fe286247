package yjs

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Content reference numbers: the low five bits of an item's info byte.
const (
	refGC             = 0
	refContentDeleted = 1
	refContentJSON    = 2
	refContentBinary  = 3
	refContentString  = 4
	refContentEmbed   = 5
	refContentFormat  = 6
	refContentType    = 7
	refContentAny     = 8
	refContentDoc     = 9
	refSkip           = 10
)

// Type reference numbers written after a ContentType.
const (
	typeRefArray       = 0
	typeRefMap         = 1
	typeRefText        = 2
	typeRefXMLElement  = 3
	typeRefXMLFragment = 4
	typeRefXMLHook     = 5
	typeRefXMLText     = 6
)

// content is what an Item carries. Lengths are in yjs units: one per array
// element, one per UTF-16 code unit of a string, one for a type, an embed or a
// format marker.
type content interface {
	ref() byte
	length() uint64
	// countable is false for content that takes no place in a list index
	// (format markers, deleted content).
	countable() bool
	// splice keeps the first offset units and returns the rest.
	splice(offset uint64) content
	// mergeWith appends right to the receiver when both are mergeable.
	mergeWith(right content) bool
	write(e *encoder, offset uint64) error
}

type contentDeleted struct{ n uint64 }

func (c *contentDeleted) ref() byte       { return refContentDeleted }
func (c *contentDeleted) length() uint64  { return c.n }
func (c *contentDeleted) countable() bool { return false }
func (c *contentDeleted) splice(offset uint64) content {
	right := &contentDeleted{c.n - offset}
	c.n = offset
	return right
}
func (c *contentDeleted) mergeWith(r content) bool {
	rc, ok := r.(*contentDeleted)
	if ok {
		c.n += rc.n
	}
	return ok
}
func (c *contentDeleted) write(e *encoder, offset uint64) error {
	e.writeVarUint(c.n - offset)
	return nil
}

// contentJSON is the legacy array content: each element is a JSON text, or
// the literal "undefined". It is kept as text so re-encoding is lossless.
type contentJSON struct{ vals []string }

func (c *contentJSON) ref() byte       { return refContentJSON }
func (c *contentJSON) length() uint64  { return uint64(len(c.vals)) }
func (c *contentJSON) countable() bool { return true }
func (c *contentJSON) splice(offset uint64) content {
	right := &contentJSON{append([]string(nil), c.vals[offset:]...)}
	c.vals = c.vals[:offset:offset]
	return right
}
func (c *contentJSON) mergeWith(r content) bool {
	rc, ok := r.(*contentJSON)
	if ok {
		c.vals = append(c.vals, rc.vals...)
	}
	return ok
}
func (c *contentJSON) write(e *encoder, offset uint64) error {
	e.writeVarUint(uint64(len(c.vals)) - offset)
	for _, v := range c.vals[offset:] {
		e.writeVarString(v)
	}
	return nil
}

func (c *contentJSON) values() []any {
	out := make([]any, len(c.vals))
	for i, v := range c.vals {
		out[i] = parseJSONValue(v)
	}
	return out
}

type contentBinary struct{ b []byte }

func (c *contentBinary) ref() byte              { return refContentBinary }
func (c *contentBinary) length() uint64         { return 1 }
func (c *contentBinary) countable() bool        { return true }
func (c *contentBinary) splice(uint64) content  { return nil }
func (c *contentBinary) mergeWith(content) bool { return false }
func (c *contentBinary) write(e *encoder, _ uint64) error {
	e.writeVarBytes(c.b)
	return nil
}

// contentString holds text. Yjs measures text in UTF-16 code units, so the
// unit count is cached beside the UTF-8 Go string.
type contentString struct {
	s   string
	n16 uint64
}

func newContentString(s string) *contentString {
	return &contentString{s: s, n16: utf16Len(s)}
}

func (c *contentString) ref() byte       { return refContentString }
func (c *contentString) length() uint64  { return c.n16 }
func (c *contentString) countable() bool { return true }

// splice cuts at a UTF-16 offset. Cutting inside a surrogate pair replaces
// both halves with U+FFFD, exactly like yjs (yjs issue #248), so that lengths
// and resulting documents stay identical on every peer.
func (c *contentString) splice(offset uint64) content {
	left, right, broken := splitUTF16(c.s, offset)
	if broken {
		left += "\uFFFD"
		right = "\uFFFD" + right
	}
	r := &contentString{s: right, n16: c.n16 - offset}
	c.s, c.n16 = left, offset
	return r
}
func (c *contentString) mergeWith(r content) bool {
	rc, ok := r.(*contentString)
	if ok {
		c.s += rc.s
		c.n16 += rc.n16
	}
	return ok
}
func (c *contentString) write(e *encoder, offset uint64) error {
	if offset == 0 {
		e.writeVarString(c.s)
		return nil
	}
	_, right, broken := splitUTF16(c.s, offset)
	if broken {
		// A lone low surrogate cannot be expressed in UTF-8; TextEncoder
		// writes U+FFFD for it and so do we.
		right = "\uFFFD" + right
	}
	e.writeVarString(right)
	return nil
}

// utf16Len counts UTF-16 code units of a valid UTF-8 string.
func utf16Len(s string) uint64 {
	n := uint64(0)
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// splitUTF16 splits s before UTF-16 unit offset. broken reports that the cut
// fell inside a surrogate pair; that rune then belongs to neither side.
func splitUTF16(s string, offset uint64) (left, right string, broken bool) {
	units := uint64(0)
	for i := 0; i < len(s); {
		if units == offset {
			return s[:i], s[i:], false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		w := uint64(1)
		if r >= 0x10000 {
			w = 2
		}
		if units+w > offset {
			return s[:i], s[i+size:], true
		}
		units += w
		i += size
	}
	return s, "", false
}

// contentEmbed is a rich-text embed (an image, a formula...) carried as JSON.
type contentEmbed struct {
	raw   string
	value any
}

func (c *contentEmbed) ref() byte              { return refContentEmbed }
func (c *contentEmbed) length() uint64         { return 1 }
func (c *contentEmbed) countable() bool        { return true }
func (c *contentEmbed) splice(uint64) content  { return nil }
func (c *contentEmbed) mergeWith(content) bool { return false }
func (c *contentEmbed) write(e *encoder, _ uint64) error {
	e.writeVarString(c.raw)
	return nil
}

// contentFormat is a formatting marker in a Y.Text: from here on, key has
// value (null ends the attribute). It is not countable.
type contentFormat struct {
	key   string
	raw   string
	value any
}

func (c *contentFormat) ref() byte              { return refContentFormat }
func (c *contentFormat) length() uint64         { return 1 }
func (c *contentFormat) countable() bool        { return false }
func (c *contentFormat) splice(uint64) content  { return nil }
func (c *contentFormat) mergeWith(content) bool { return false }
func (c *contentFormat) write(e *encoder, _ uint64) error {
	e.writeVarString(c.key)
	e.writeVarString(c.raw)
	return nil
}

// contentType embeds a shared type (nested map, array, text, XML node).
type contentType struct{ t *branch }

func (c *contentType) ref() byte              { return refContentType }
func (c *contentType) length() uint64         { return 1 }
func (c *contentType) countable() bool        { return true }
func (c *contentType) splice(uint64) content  { return nil }
func (c *contentType) mergeWith(content) bool { return false }
func (c *contentType) write(e *encoder, _ uint64) error {
	e.writeVarUint(uint64(c.t.typeRef))
	if c.t.typeRef == typeRefXMLElement || c.t.typeRef == typeRefXMLHook {
		e.writeVarString(c.t.nodeName)
	}
	return nil
}

// contentAny holds lib0 any values. raw keeps the bytes each decoded value
// arrived as, so that re-encoding reproduces them exactly (JavaScript keeps
// object keys in insertion order, which a Go map cannot); it is nil for
// content created locally.
type contentAny struct {
	vals []any
	raw  [][]byte
}

func (c *contentAny) ref() byte       { return refContentAny }
func (c *contentAny) length() uint64  { return uint64(len(c.vals)) }
func (c *contentAny) countable() bool { return true }
func (c *contentAny) splice(offset uint64) content {
	right := &contentAny{vals: append([]any(nil), c.vals[offset:]...)}
	c.vals = c.vals[:offset:offset]
	if c.raw != nil {
		right.raw = append([][]byte(nil), c.raw[offset:]...)
		c.raw = c.raw[:offset:offset]
	}
	return right
}
func (c *contentAny) mergeWith(r content) bool {
	rc, ok := r.(*contentAny)
	if !ok {
		return false
	}
	if c.raw != nil && rc.raw != nil {
		c.raw = append(c.raw, rc.raw...)
	} else {
		c.raw = nil
	}
	c.vals = append(c.vals, rc.vals...)
	return true
}
func (c *contentAny) write(e *encoder, offset uint64) error {
	e.writeVarUint(uint64(len(c.vals)) - offset)
	if c.raw != nil {
		for _, r := range c.raw[offset:] {
			e.buf = append(e.buf, r...)
		}
		return nil
	}
	for _, v := range c.vals[offset:] {
		if err := e.writeAny(v); err != nil {
			return err
		}
	}
	return nil
}

// contentDoc is a sub-document reference. The server keeps it opaque: the
// guid and options are preserved, the sub-document's own content lives in
// its own update stream.
type contentDoc struct {
	guid string
	opts any
}

func (c *contentDoc) ref() byte              { return refContentDoc }
func (c *contentDoc) length() uint64         { return 1 }
func (c *contentDoc) countable() bool        { return true }
func (c *contentDoc) splice(uint64) content  { return nil }
func (c *contentDoc) mergeWith(content) bool { return false }
func (c *contentDoc) write(e *encoder, _ uint64) error {
	e.writeVarString(c.guid)
	return e.writeAny(c.opts)
}

// SubDoc is the Go view of a sub-document embedded in a map or an array.
type SubDoc struct {
	GUID string         `json:"guid"`
	Opts map[string]any `json:"opts,omitempty"`
}

// readContent decodes the content part of an item whose info byte is info.
// Nested shared types are created detached; they get their document when the
// item is integrated.
func readContent(d *decoder, info byte) (content, error) {
	switch info & 0x1f {
	case refContentDeleted:
		n, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		return &contentDeleted{n}, nil
	case refContentJSON:
		n, err := d.readLen(1)
		if err != nil {
			return nil, err
		}
		vals := make([]string, 0, min(n, 64))
		for range n {
			s, err := d.readVarString()
			if err != nil {
				return nil, err
			}
			if s != "undefined" && !json.Valid([]byte(s)) {
				return nil, fmt.Errorf("%w: invalid JSON in ContentJSON", ErrMalformed)
			}
			vals = append(vals, s)
		}
		return &contentJSON{vals}, nil
	case refContentBinary:
		b, err := d.readVarBytes()
		if err != nil {
			return nil, err
		}
		return &contentBinary{b}, nil
	case refContentString:
		s, err := d.readVarString()
		if err != nil {
			return nil, err
		}
		return newContentString(s), nil
	case refContentEmbed:
		raw, v, err := readJSONString(d)
		if err != nil {
			return nil, err
		}
		return &contentEmbed{raw: raw, value: v}, nil
	case refContentFormat:
		key, err := d.readVarString()
		if err != nil {
			return nil, err
		}
		raw, v, err := readJSONString(d)
		if err != nil {
			return nil, err
		}
		return &contentFormat{key: key, raw: raw, value: v}, nil
	case refContentType:
		ref, err := d.readVarUint()
		if err != nil {
			return nil, err
		}
		b := &branch{typeRef: byte(ref)}
		switch ref {
		case typeRefXMLElement, typeRefXMLHook:
			if b.nodeName, err = d.readVarString(); err != nil {
				return nil, err
			}
		case typeRefArray, typeRefMap, typeRefText, typeRefXMLFragment, typeRefXMLText:
		default:
			return nil, fmt.Errorf("%w: unknown type ref %d", ErrMalformed, ref)
		}
		return &contentType{b}, nil
	case refContentAny:
		n, err := d.readLen(1)
		if err != nil {
			return nil, err
		}
		vals := make([]any, 0, min(n, 64))
		raw := make([][]byte, 0, min(n, 64))
		for range n {
			start := d.pos
			v, err := d.readAny()
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			raw = append(raw, append([]byte(nil), d.buf[start:d.pos]...))
		}
		return &contentAny{vals: vals, raw: raw}, nil
	case refContentDoc:
		guid, err := d.readVarString()
		if err != nil {
			return nil, err
		}
		opts, err := d.readAny()
		if err != nil {
			return nil, err
		}
		return &contentDoc{guid: guid, opts: opts}, nil
	default:
		return nil, fmt.Errorf("%w: unknown content ref %d", ErrMalformed, info&0x1f)
	}
}

func readJSONString(d *decoder) (string, any, error) {
	raw, err := d.readVarString()
	if err != nil {
		return "", nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", nil, fmt.Errorf("%w: invalid JSON value: %v", ErrMalformed, err)
	}
	return raw, v, nil
}

func parseJSONValue(raw string) any {
	if raw == "undefined" {
		return Undefined{}
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil
	}
	return v
}

// jsonString renders a Go value as JSON for ContentFormat and ContentEmbed,
// which yjs transmits with JSON.stringify.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("yjs: value is not JSON-encodable: %w", err)
	}
	return string(b), nil
}
