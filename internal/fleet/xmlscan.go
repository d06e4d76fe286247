package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// The OCS dialect is a small, flat XML: no namespaces, no attributes the
// server reads, sections of plain text fields. encoding/xml spent most of
// an inventory's time (a 200 KB payload is ~15,000 tokens, each allocated);
// this scanner walks the bytes in place, allocating only the strings the
// server keeps, and still refuses what is not well-formed: unclosed or
// mismatched tags, unknown entities, a document cut short.

// xmlScanner yields the tokens of a document held in memory.
type xmlScanner struct {
	b []byte
	i int
	// pendingEnd is the end of a self-closing element, yielded next.
	pendingEnd []byte
}

type xmlTok int

const (
	tokEOF xmlTok = iota
	tokStart
	tokEnd
	tokText // raw text, entities not yet decoded
	tokCDATA
)

var errXMLSyntax = errors.New("XML syntax error")

func syntaxErr(at int, what string) error {
	return fmt.Errorf("%w at byte %d: %s", errXMLSyntax, at, what)
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_', c == ':', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipTo moves past the next occurrence of end, or fails as truncated.
func (s *xmlScanner) skipTo(end string) error {
	j := bytes.Index(s.b[s.i:], []byte(end))
	if j < 0 {
		return errTruncated
	}
	s.i += j + len(end)
	return nil
}

// next returns the next token; for tokStart and tokEnd val is the name, for
// tokText and tokCDATA the text.
func (s *xmlScanner) next() (xmlTok, []byte, error) {
	if s.pendingEnd != nil {
		n := s.pendingEnd
		s.pendingEnd = nil
		return tokEnd, n, nil
	}
	b := s.b
scan:
	for {
		if s.i >= len(b) {
			return tokEOF, nil, nil
		}
		if b[s.i] != '<' {
			j := bytes.IndexByte(b[s.i:], '<')
			if j < 0 {
				j = len(b) - s.i
			}
			text := b[s.i : s.i+j]
			s.i += j
			return tokText, text, nil
		}
		rest := b[s.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := s.skipTo("?>"); err != nil {
				return 0, nil, err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := s.skipTo("-->"); err != nil {
				return 0, nil, err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			start := s.i + len("<![CDATA[")
			j := bytes.Index(b[start:], []byte("]]>"))
			if j < 0 {
				return 0, nil, errTruncated
			}
			s.i = start + j + 3
			return tokCDATA, b[start : start+j], nil
		case bytes.HasPrefix(rest, []byte("<!")):
			// A DOCTYPE, with an internal subset in brackets at most.
			depth := 0
			for k := s.i + 2; k < len(b); k++ {
				switch b[k] {
				case '[':
					depth++
				case ']':
					depth--
				case '>':
					if depth <= 0 {
						s.i = k + 1
						continue scan
					}
				}
			}
			return 0, nil, errTruncated
		case len(rest) > 1 && rest[1] == '/':
			k := s.i + 2
			start := k
			for k < len(b) && isNameByte(b[k], k == start) {
				k++
			}
			if k == start {
				if k >= len(b) {
					return 0, nil, errTruncated
				}
				return 0, nil, syntaxErr(s.i, "invalid end tag")
			}
			name := b[start:k]
			for k < len(b) && isSpace(b[k]) {
				k++
			}
			if k >= len(b) {
				return 0, nil, errTruncated
			}
			if b[k] != '>' {
				return 0, nil, syntaxErr(k, "invalid end tag")
			}
			s.i = k + 1
			return tokEnd, name, nil
		default:
			k := s.i + 1
			start := k
			for k < len(b) && isNameByte(b[k], k == start) {
				k++
			}
			if k == start {
				if k >= len(b) {
					return 0, nil, errTruncated
				}
				return 0, nil, syntaxErr(s.i, "invalid start tag")
			}
			name := b[start:k]
			// Attributes are skipped, quoted values included (they may
			// hold '>').
			for {
				for k < len(b) && isSpace(b[k]) {
					k++
				}
				if k >= len(b) {
					return 0, nil, errTruncated
				}
				switch c := b[k]; {
				case c == '>':
					s.i = k + 1
					return tokStart, name, nil
				case c == '/':
					if k+1 >= len(b) {
						return 0, nil, errTruncated
					}
					if b[k+1] != '>' {
						return 0, nil, syntaxErr(k, "invalid empty element")
					}
					s.i = k + 2
					s.pendingEnd = name
					return tokStart, name, nil
				case isNameByte(c, true):
					for k < len(b) && isNameByte(b[k], false) {
						k++
					}
					for k < len(b) && isSpace(b[k]) {
						k++
					}
					if k >= len(b) {
						return 0, nil, errTruncated
					}
					if b[k] != '=' {
						return 0, nil, syntaxErr(k, "attribute without value")
					}
					k++
					for k < len(b) && isSpace(b[k]) {
						k++
					}
					if k >= len(b) {
						return 0, nil, errTruncated
					}
					q := b[k]
					if q != '"' && q != '\'' {
						return 0, nil, syntaxErr(k, "unquoted attribute value")
					}
					j := bytes.IndexByte(b[k+1:], q)
					if j < 0 {
						return 0, nil, errTruncated
					}
					k += j + 2
				default:
					return 0, nil, syntaxErr(k, "invalid character in tag")
				}
			}
		}
	}
}

// appendUnescaped appends text with its entity and character references
// decoded; an unknown or malformed reference is an error, as in any XML
// parser.
func appendUnescaped(dst, text []byte) ([]byte, error) {
	for {
		j := bytes.IndexByte(text, '&')
		if j < 0 {
			return append(dst, text...), nil
		}
		dst = append(dst, text[:j]...)
		text = text[j:]
		end := bytes.IndexByte(text, ';')
		if end < 0 || end > 12 {
			return dst, errors.New("invalid entity reference")
		}
		ref := text[1:end]
		switch string(ref) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "apos":
			dst = append(dst, '\'')
		case "quot":
			dst = append(dst, '"')
		default:
			if len(ref) < 2 || ref[0] != '#' {
				return dst, fmt.Errorf("unknown entity &%s;", ref)
			}
			var n uint64
			var err error
			if ref[1] == 'x' || ref[1] == 'X' {
				n, err = strconv.ParseUint(string(ref[2:]), 16, 32)
			} else {
				n, err = strconv.ParseUint(string(ref[1:]), 10, 32)
			}
			if err != nil || n == 0 || n > utf8.MaxRune || !utf8.ValidRune(rune(n)) {
				return dst, fmt.Errorf("invalid character reference &%s;", ref)
			}
			dst = utf8.AppendRune(dst, rune(n))
		}
		text = text[end+1:]
	}
}

// wantedField returns, for a field of a section the server reads, the
// field's name as a constant (so that storing it allocates nothing); other
// fields are skipped without decoding their text.
func wantedField(section, field []byte) (string, bool) {
	var names []string
	switch string(section) {
	case "HARDWARE":
		names = []string{"NAME", "UUID", "OSNAME", "OSVERSION", "CHASSIS_TYPE"}
	case "BIOS":
		names = []string{"SSN", "MSN", "SMANUFACTURER", "MMANUFACTURER", "SMODEL", "MMODEL"}
	case "OPERATINGSYSTEM":
		names = []string{"FULL_NAME", "NAME", "VERSION"}
	case "NETWORKS":
		names = []string{"MACADDR", "VIRTUALDEV"}
	case "SOFTWARES":
		names = []string{"NAME", "VERSION", "PUBLISHER"}
	case "ACCOUNTINFO":
		names = []string{"KEYNAME", "KEYVALUE"}
	}
	for _, n := range names {
		if string(field) == n {
			return n, true
		}
	}
	return "", false
}

// parseXML reads an OCS/FusionInventory request: the CONTENT sections are
// repeated sibling elements (one SOFTWARES per package), each a flat list
// of fields, so the fields of the current section are all the state
// needed. Sections and fields the server does not keep are only checked
// for well-formedness.
func parseXML(body []byte) (xmlMessage, error) {
	var msg xmlMessage
	// A declared legacy charset (ISO-8859-1 from old agents) is decoded
	// first; otherwise the text must be UTF-8, and bytes that are not are
	// read as Windows-1252 rather than refused.
	if label := declaredEncoding(body); label != "" && !utf8Label(label) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return msg, fmt.Errorf("parse XML: unknown charset %q", label)
		}
		if body, err = enc.NewDecoder().Bytes(body); err != nil {
			return msg, fmt.Errorf("parse XML: decode %s: %w", label, err)
		}
	} else {
		body = toUTF8(body)
	}
	sc := xmlScanner{b: body}
	var (
		// path holds the names of the open elements, as slices of body.
		path      = make([][]byte, 0, 8)
		text      []byte
		field     string // the wanted field being read, "" when none
		keepText  bool
		section   = map[string]string{}
		inSection bool
		swCount   int
		sawRoot   bool
		closed    bool
	)
	for {
		tok, val, err := sc.next()
		if err != nil {
			if errors.Is(err, errTruncated) {
				return msg, errTruncated
			}
			return msg, fmt.Errorf("parse XML: %w", err)
		}
		switch tok {
		case tokEOF:
			if !sawRoot || !closed || len(path) != 0 {
				return msg, errTruncated
			}
			msg.Inventory.DeviceID = msg.DeviceID
			msg.Inventory.finish()
			return msg, nil
		case tokStart:
			if closed {
				return msg, fmt.Errorf("parse XML: %w", syntaxErr(sc.i, "content after the root element"))
			}
			path = append(path, val)
			text, keepText, field = text[:0], false, ""
			switch depth := len(path); {
			case depth == 1:
				sawRoot = true
			case depth == 2:
				keepText = string(val) == "QUERY" || string(val) == "DEVICEID"
			case depth == 3 && string(path[1]) == "CONTENT":
				clear(section)
				inSection = true
			case depth == 4 && inSection:
				field, keepText = wantedField(path[2], val)
			}
		case tokText, tokCDATA:
			if !keepText || len(text) >= maxFieldBytes*4 {
				if tok == tokText && bytes.IndexByte(val, '&') >= 0 {
					// Skipped text must still be well-formed.
					if _, err := appendUnescaped(nil, val); err != nil {
						return msg, fmt.Errorf("parse XML: %w", err)
					}
				}
				continue
			}
			if tok == tokCDATA {
				text = append(text, val...)
			} else if text, err = appendUnescaped(text, val); err != nil {
				return msg, fmt.Errorf("parse XML: %w", err)
			}
		case tokEnd:
			if len(path) == 0 || !bytes.Equal(path[len(path)-1], val) {
				return msg, fmt.Errorf("parse XML: %w", syntaxErr(sc.i, "unexpected </"+string(val)+">"))
			}
			switch depth := len(path); {
			case depth == 2 && string(val) == "QUERY":
				msg.Query = upperASCII(clean(string(text)))
			case depth == 2 && string(val) == "DEVICEID":
				msg.DeviceID = clean(string(text))
			case depth == 4 && inSection && field != "":
				if _, dup := section[field]; !dup {
					section[field] = clean(string(text))
				}
			case depth == 3 && string(path[1]) == "CONTENT":
				if string(val) == "SOFTWARES" {
					swCount++
					if swCount > maxSoftware {
						return msg, fmt.Errorf("more than %d software entries", maxSoftware)
					}
				}
				msg.Inventory.addXMLSection(string(val), section)
				inSection = false
			case depth == 1:
				closed = true
			}
			path = path[:len(path)-1]
			text, keepText, field = text[:0], false, ""
		}
	}
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return string(bytes.ToUpper([]byte(s)))
		}
	}
	return s
}
