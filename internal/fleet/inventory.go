package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Inventory is what the server keeps of an agent's report, whichever
// dialect (OCS XML or GLPI JSON) carried it.
type Inventory struct {
	DeviceID     string
	Tag          string
	Name         string
	Serial       string
	UUID         string
	Manufacturer string
	Model        string
	Chassis      string
	OSName       string
	OSVersion    string
	MACs         []string
	Software     []Software
}

// Limits that keep one request's memory bounded whatever the agent sends.
const (
	maxSoftware   = 20000
	maxMACs       = 256
	maxFieldBytes = 1024
)

// ErrTruncated is a payload that ends before its document does.
var errTruncated = errors.New("truncated document")

// toUTF8 returns body as UTF-8. Old agents on Windows send ANSI text,
// sometimes under a UTF-8 declaration: a body that is not valid UTF-8 is
// read as Windows-1252 (a superset of ISO-8859-1 for printable text), which
// is what those machines use in France.
func toUTF8(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(body)
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return out
}

// clean trims a field and bounds its length on a rune boundary.
func clean(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxFieldBytes {
		return s
	}
	cut := maxFieldBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// junkSerials are placeholders firmware puts where a serial should be;
// matching on them would merge unrelated machines.
var junkSerials = map[string]bool{
	"": true, "0": true, "NONE": true, "N/A": true, "NA": true, "DEFAULT STRING": true,
	"TO BE FILLED BY O.E.M.": true, "SYSTEM SERIAL NUMBER": true, "0123456789": true,
	"123456789": true, "NOT SPECIFIED": true, "CHASSIS SERIAL NUMBER": true, "SERIAL": true,
}

func usableSerial(s string) string {
	s = clean(s)
	if junkSerials[strings.ToUpper(s)] {
		return ""
	}
	return s
}

func usableUUID(s string) string {
	s = strings.ToLower(clean(s))
	if strings.Trim(s, "0-") == "" || strings.Trim(s, "f-") == "" {
		return ""
	}
	return s
}

// normalizeMAC returns aa:bb:cc:dd:ee:ff, or "" for what cannot identify a
// machine (loopback zeros, broadcast, malformed).
func normalizeMAC(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "-", ":")))
	if len(s) != 17 || s == "00:00:00:00:00:00" || s == "ff:ff:ff:ff:ff:ff" {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%3 == 2 {
			if c != ':' {
				return ""
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	return s
}

// finish dedupes and bounds the collected lists, so that the same payload
// always gives the same stored rows.
func (inv *Inventory) finish() {
	seenMAC := map[string]bool{}
	macs := inv.MACs[:0]
	for _, m := range inv.MACs {
		if m = normalizeMAC(m); m != "" && !seenMAC[m] && len(macs) < maxMACs {
			seenMAC[m] = true
			macs = append(macs, m)
		}
	}
	inv.MACs = macs
	seen := map[Software]bool{}
	sw := inv.Software[:0]
	for _, s := range inv.Software {
		s = Software{Name: clean(s.Name), Version: clean(s.Version), Publisher: clean(s.Publisher)}
		if s.Name == "" || seen[s] {
			continue
		}
		seen[s] = true
		sw = append(sw, s)
	}
	inv.Software = sw
	inv.Serial = usableSerial(inv.Serial)
	inv.UUID = usableUUID(inv.UUID)
	inv.Tag = clean(inv.Tag)
}

// xmlMessage is an OCS request: its QUERY (PROLOG, INVENTORY...) and, for
// an inventory, its content.
type xmlMessage struct {
	Query     string
	DeviceID  string
	Inventory Inventory
}

func utf8Label(label string) bool {
	l := strings.ToLower(strings.TrimSpace(label))
	return l == "utf-8" || l == "utf8" || l == "us-ascii" || l == "ascii"
}

// declaredEncoding returns the encoding named by the XML declaration, if any.
func declaredEncoding(body []byte) string {
	head := body[:min(len(body), 256)]
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"), []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(head[:end])
	i := strings.Index(decl, "encoding=")
	if i < 0 || i+len("encoding=")+1 >= len(decl) {
		return ""
	}
	rest := decl[i+len("encoding="):]
	q := rest[0]
	if q != '"' && q != '\'' {
		return ""
	}
	label, _, ok := strings.Cut(rest[1:], string(q))
	if !ok {
		return ""
	}
	return label
}

func (inv *Inventory) addXMLSection(name string, f map[string]string) {
	first := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	switch name {
	case "HARDWARE":
		first(&inv.Name, f["NAME"])
		first(&inv.UUID, f["UUID"])
		first(&inv.OSName, f["OSNAME"])
		first(&inv.OSVersion, f["OSVERSION"])
		first(&inv.Chassis, f["CHASSIS_TYPE"])
	case "BIOS":
		// Several BIOS sections are not expected; the first usable serial
		// wins so that a payload always resolves the same way.
		first(&inv.Serial, usableSerial(f["SSN"]))
		first(&inv.Serial, usableSerial(f["MSN"]))
		first(&inv.Manufacturer, f["SMANUFACTURER"])
		first(&inv.Manufacturer, f["MMANUFACTURER"])
		first(&inv.Model, f["SMODEL"])
		first(&inv.Model, f["MMODEL"])
	case "OPERATINGSYSTEM":
		// FULL_NAME and VERSION are more precise than HARDWARE's fields.
		if v := f["FULL_NAME"]; v != "" {
			inv.OSName = v
		} else if v := f["NAME"]; v != "" {
			inv.OSName = v
		}
		if v := f["VERSION"]; v != "" {
			inv.OSVersion = v
		}
	case "NETWORKS":
		if f["VIRTUALDEV"] != "1" {
			inv.MACs = append(inv.MACs, f["MACADDR"])
		}
	case "SOFTWARES":
		inv.Software = append(inv.Software, Software{Name: f["NAME"], Version: f["VERSION"], Publisher: f["PUBLISHER"]})
	case "ACCOUNTINFO":
		if strings.EqualFold(f["KEYNAME"], "TAG") {
			first(&inv.Tag, f["KEYVALUE"])
		}
	}
}

// jsonMessage is a GLPI Agent request, after the public inventory_format
// schema (only the parts the fleet keeps).
type jsonMessage struct {
	Action   string `json:"action"`
	DeviceID string `json:"deviceid"`
	Tag      string `json:"tag"`
	Content  *struct {
		Hardware *struct {
			Name        string `json:"name"`
			UUID        string `json:"uuid"`
			ChassisType string `json:"chassis_type"`
		} `json:"hardware"`
		BIOS *struct {
			SSN           string `json:"ssn"`
			MSN           string `json:"msn"`
			SManufacturer string `json:"smanufacturer"`
			MManufacturer string `json:"mmanufacturer"`
			SModel        string `json:"smodel"`
			MModel        string `json:"mmodel"`
		} `json:"bios"`
		OperatingSystem *struct {
			FullName string `json:"full_name"`
			Name     string `json:"name"`
			Version  string `json:"version"`
		} `json:"operatingsystem"`
		Networks []struct {
			MAC        string `json:"mac"`
			VirtualDev any    `json:"virtualdev"`
		} `json:"networks"`
		Softwares []struct {
			Name      string `json:"name"`
			Version   string `json:"version"`
			Publisher string `json:"publisher"`
		} `json:"softwares"`
		AccountInfo []struct {
			KeyName  string `json:"keyname"`
			KeyValue string `json:"keyvalue"`
		} `json:"accountinfo"`
	} `json:"content"`
}

// parseJSON reads a GLPI Agent message. The body is already bounded by the
// decompression cap, so decoding it whole is safe.
func parseJSON(body []byte) (jsonMessage, Inventory, error) {
	var m jsonMessage
	if err := json.Unmarshal(toUTF8(body), &m); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
			return m, Inventory{}, fmt.Errorf("parse JSON: %w", err)
		}
		return m, Inventory{}, fmt.Errorf("parse JSON: %w", err)
	}
	inv := Inventory{DeviceID: clean(m.DeviceID), Tag: m.Tag}
	c := m.Content
	if c == nil {
		return m, inv, nil
	}
	if h := c.Hardware; h != nil {
		inv.Name, inv.UUID, inv.Chassis = clean(h.Name), h.UUID, h.ChassisType
	}
	if b := c.BIOS; b != nil {
		inv.Serial = usableSerial(b.SSN)
		if inv.Serial == "" {
			inv.Serial = usableSerial(b.MSN)
		}
		inv.Manufacturer = clean(firstNonEmpty(b.SManufacturer, b.MManufacturer))
		inv.Model = clean(firstNonEmpty(b.SModel, b.MModel))
	}
	if o := c.OperatingSystem; o != nil {
		inv.OSName, inv.OSVersion = clean(firstNonEmpty(o.FullName, o.Name)), clean(o.Version)
	}
	for _, n := range c.Networks {
		if v := fmt.Sprint(n.VirtualDev); v == "1" || v == "true" {
			continue
		}
		inv.MACs = append(inv.MACs, n.MAC)
	}
	if len(c.Softwares) > maxSoftware {
		return m, inv, fmt.Errorf("more than %d software entries", maxSoftware)
	}
	for _, s := range c.Softwares {
		inv.Software = append(inv.Software, Software{Name: s.Name, Version: s.Version, Publisher: s.Publisher})
	}
	if inv.Tag == "" {
		for _, a := range c.AccountInfo {
			if strings.EqualFold(a.KeyName, "TAG") {
				inv.Tag = a.KeyValue
				break
			}
		}
	}
	inv.finish()
	return m, inv, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
