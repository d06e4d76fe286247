package fleet

import (
	"reflect"
	"strings"
	"testing"
)

// The scanner must read every document as the encoding/xml parser it
// replaced did, and refuse what it refused.
func TestScannerMatchesReference(t *testing.T) {
	m := machine{tag: uaiA, name: "PC-É&amp;1", serial: "S&#233;R", os: "Windows 11",
		macs: []string{"02:00:00:00:00:0A", "02-00-00-00-00-0b"}, software: [][3]string{
			{"Firefox &lt;ESR&gt;", "128.0", "Mozilla"}, {"<![CDATA[Notepad++ <x64>]]>", "8.6", "Don &quot;Ho&quot;"},
			{"LibreOffice", "7.6", "TDF"}, {"LibreOffice", "7.6", "TDF"}}}
	base := m.xml()
	docs := map[string]string{
		"machine":         base,
		"bench payload":   string(benchPayload("R1", 1)),
		"comments and pi": strings.Replace(base, "<CONTENT>", "<!-- agent 2.6 --><?pi x?><CONTENT>", 1),
		"attributes":      strings.Replace(base, "<REQUEST>", `<REQUEST version="2.6" note='a > b'>`, 1),
		"self-closing":    strings.Replace(base, "<BIOS>", "<BIOS><MSN/><SKUNUMBER />", 1),
		"doctype":         strings.Replace(base, "<REQUEST>", "<!DOCTYPE REQUEST [<!ELEMENT REQUEST ANY>]><REQUEST>", 1),
		"nested fields":   strings.Replace(base, "<VERSION>22H2</VERSION>", "<VERSION>22H2</VERSION><INSTALL><NAME>x</NAME></INSTALL>", 1),
		"lowercase query": strings.Replace(base, "<QUERY>INVENTORY</QUERY>", "<QUERY> inventory </QUERY>", 1),
		"prolog":          prolog,
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			got, err := parseXML([]byte(doc))
			want, werr := parseXMLReference([]byte(doc))
			if (err == nil) != (werr == nil) {
				t.Fatalf("scanner error %v, reference error %v", err, werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("scanner read\n%+v\nreference read\n%+v", got, want)
			}
		})
	}
	if msg, _ := parseXML([]byte(base)); msg.Inventory.Name != "PC-É&1" || msg.Inventory.Serial != "SéR" || len(msg.Inventory.Software) != 3 ||
		msg.Inventory.Software[1].Name != "Notepad++ <x64>" || len(msg.Inventory.MACs) != 2 || msg.Query != "INVENTORY" {
		t.Fatalf("decoded %+v", msg)
	}
	for name, doc := range map[string]string{
		"mismatched":       strings.Replace(base, "</BIOS>", "</BOIS>", 1),
		"unknown entity":   strings.Replace(base, "Mozilla", "Moz&nbsp;illa", 1),
		"bare ampersand":   strings.Replace(base, "Mozilla", "Moz & illa", 1),
		"bad char ref":     strings.Replace(base, "Mozilla", "Moz&#xZZ;", 1),
		"unquoted attr":    strings.Replace(base, "<REQUEST>", "<REQUEST a=b>", 1),
		"unclosed comment": strings.Replace(base, "<CONTENT>", "<!-- <CONTENT>", 1),
		"empty":            "",
		"text only":        "hello",
	} {
		if _, err := parseXML([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := parseXMLReference([]byte(doc)); err == nil && name != "text only" && name != "empty" {
			t.Logf("%s: the reference parser accepted it", name)
		}
	}
	// Every prefix of a document is refused, as truncated or invalid.
	small := machine{tag: uaiA, name: "PC", serial: "S", software: [][3]string{{"a", "1", "p"}}}.xml()
	for i := range len(strings.TrimRight(small, "\n")) {
		if _, err := parseXML([]byte(small[:i])); err == nil {
			t.Fatalf("prefix of %d bytes accepted: %q", i, small[:i])
		}
	}
}
