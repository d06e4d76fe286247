package fleet

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/htmlindex"
)

// parseXMLReference is the former parser on encoding/xml, kept as the
// reference the fast scanner is compared with (TestScannerMatchesReference).
// It reads an OCS/FusionInventory request with a token decoder: the
// CONTENT sections are repeated sibling elements (one SOFTWARES per
// package), each a flat list of fields, so one map of the current section's
// fields is all the state needed. Unknown sections are skipped.
func parseXMLReference(body []byte) (xmlMessage, error) {
	var msg xmlMessage
	// A declared legacy charset (ISO-8859-1 from old agents) is decoded by
	// the charset reader; otherwise the text must be UTF-8, and bytes that
	// are not are read as Windows-1252 rather than refused.
	if label := declaredEncoding(body); label == "" || utf8Label(label) {
		body = toUTF8(body)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if utf8Label(label) {
			return r, nil
		}
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unknown charset %q", label)
		}
		return enc.NewDecoder().Reader(r), nil
	}
	var (
		path      []string
		text      strings.Builder
		section   map[string]string
		inSection bool
		swCount   int
		sawRoot   bool
		closed    bool
	)
	for {
		// RawToken skips namespace resolution (agents use none), which
		// Token spends most of its time on; tag nesting is checked here.
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return msg, fmt.Errorf("parse XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			text.Reset()
			if len(path) == 1 {
				sawRoot = true
			}
			if len(path) == 3 && path[1] == "CONTENT" {
				// One map reused for every section: a payload has
				// hundreds of them and addXMLSection keeps only strings.
				if section == nil {
					section = map[string]string{}
				}
				clear(section)
				inSection = true
			}
		case xml.CharData:
			if text.Len() < maxFieldBytes*4 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(path) == 0 || path[len(path)-1] != t.Name.Local {
				return msg, fmt.Errorf("parse XML: unexpected </%s>", t.Name.Local)
			}
			switch {
			case len(path) == 2 && path[1] == "QUERY":
				msg.Query = strings.ToUpper(clean(text.String()))
			case len(path) == 2 && path[1] == "DEVICEID":
				msg.DeviceID = clean(text.String())
			case len(path) == 4 && path[1] == "CONTENT" && inSection:
				if _, dup := section[path[3]]; !dup {
					section[path[3]] = clean(text.String())
				}
			case len(path) == 3 && path[1] == "CONTENT":
				if path[2] == "SOFTWARES" {
					swCount++
					if swCount > maxSoftware {
						return msg, fmt.Errorf("more than %d software entries", maxSoftware)
					}
				}
				msg.Inventory.addXMLSection(path[2], section)
				inSection = false
			case len(path) == 1:
				closed = true
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if !sawRoot || !closed {
		return msg, errTruncated
	}
	msg.Inventory.DeviceID = msg.DeviceID
	msg.Inventory.finish()
	return msg, nil
}

// BenchmarkParseXMLReference is the former encoding/xml parser on the same
// payload as BenchmarkParseXML, for comparison.
func BenchmarkParseXMLReference(b *testing.B) {
	body := benchPayload("P1", 0)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if msg, err := parseXMLReference(body); err != nil || len(msg.Inventory.Software) != 750 {
			b.Fatal(err)
		}
	}
}
