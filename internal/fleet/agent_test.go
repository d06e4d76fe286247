package fleet

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

const prolog = `<?xml version="1.0" encoding="UTF-8" ?><REQUEST><DEVICEID>pc-01-2026</DEVICEID><QUERY>PROLOG</QUERY><TOKEN>12345678</TOKEN></REQUEST>`

// machine describes a test inventory.
type machine struct {
	tag, name, serial, uuid, os string
	macs                        []string
	software                    [][3]string
}

func (m machine) xml() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" ?>` + "\n<REQUEST><CONTENT>")
	fmt.Fprintf(&b, "<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>%s</KEYVALUE></ACCOUNTINFO>", m.tag)
	fmt.Fprintf(&b, "<BIOS><SSN>%s</SSN><SMANUFACTURER>Dell Inc.</SMANUFACTURER><SMODEL>OptiPlex 7010</SMODEL></BIOS>", m.serial)
	fmt.Fprintf(&b, "<HARDWARE><NAME>%s</NAME><UUID>%s</UUID><OSNAME>%s</OSNAME></HARDWARE>", m.name, m.uuid, m.os)
	fmt.Fprintf(&b, "<OPERATINGSYSTEM><FULL_NAME>%s</FULL_NAME><VERSION>22H2</VERSION><TIMEZONE><NAME>CET</NAME></TIMEZONE></OPERATINGSYSTEM>", m.os)
	b.WriteString("<NETWORKS><DESCRIPTION>lo</DESCRIPTION><MACADDR>00:00:00:00:00:00</MACADDR></NETWORKS>")
	for _, mac := range m.macs {
		fmt.Fprintf(&b, "<NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>%s</MACADDR><VIRTUALDEV>0</VIRTUALDEV></NETWORKS>", mac)
	}
	for _, s := range m.software {
		fmt.Fprintf(&b, "<SOFTWARES><NAME>%s</NAME><VERSION>%s</VERSION><PUBLISHER>%s</PUBLISHER></SOFTWARES>", s[0], s[1], s[2])
	}
	b.WriteString("</CONTENT><DEVICEID>" + m.name + "-2026-09-01</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>\n")
	return b.String()
}

func post(t testing.TB, h http.Handler, path, contentType string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func unzlib(t testing.TB, b []byte) string {
	t.Helper()
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("reply is not zlib: %v (%q)", err, b)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestProlog(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	want := `<?xml version="1.0" encoding="UTF-8" ?>` + "\n" + `<REPLY><PROLOG_FREQ>24</PROLOG_FREQ><RESPONSE>SEND</RESPONSE></REPLY>` + "\n"
	t.Run("zlib in, zlib out", func(t *testing.T) {
		rec := post(t, h, "/ocsinventory", "application/x-compress-zlib", zlibBytes([]byte(prolog)))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-compress-zlib" {
			t.Fatalf("status %d, type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		if got := unzlib(t, rec.Body.Bytes()); got != want {
			t.Fatalf("reply %q, want %q", got, want)
		}
	})
	t.Run("gzip in, gzip out", func(t *testing.T) {
		rec := post(t, h, "/ocsinventory", "application/x-compress-gzip", gzipBytes([]byte(prolog)))
		gr, err := gzip.NewReader(rec.Body)
		if err != nil || rec.Code != 200 {
			t.Fatalf("status %d, not gzip: %v", rec.Code, err)
		}
		if got, _ := io.ReadAll(gr); string(got) != want {
			t.Fatalf("reply %q", got)
		}
	})
	t.Run("plain in, plain out", func(t *testing.T) {
		rec := post(t, h, "/ocsinventory", "application/xml", []byte(prolog))
		if rec.Code != 200 || rec.Body.String() != want {
			t.Fatalf("status %d, reply %q", rec.Code, rec.Body)
		}
	})
	t.Run("zlib without content type, detected by magic", func(t *testing.T) {
		rec := post(t, h, "/ocsinventory", "", zlibBytes([]byte(prolog)))
		if rec.Code != 200 || unzlib(t, rec.Body.Bytes()) != want {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func TestInventoryCreatesThenMatches(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	m := machine{tag: uaiA, name: "PC-CDI-01", serial: "SN123", uuid: "4C4C4544-0031-3210-8031-B2C04F4B3232", os: "Microsoft Windows 11 Éducation",
		macs: []string{"AA:BB:CC:00:11:22"}, software: [][3]string{{"Firefox", "128.0", "Mozilla"}, {"LibreOffice", "7.6.4", "The Document Foundation"}}}
	rec := post(t, h, "/ocsinventory", "application/x-compress-zlib", zlibBytes([]byte(m.xml())))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	res, err := f.svc.List(f.ctx, f.headA, Filter{UAI: uaiA})
	if err != nil || res.Total != 1 {
		t.Fatalf("list: %v %+v", err, res)
	}
	a := res.Items[0]
	if a.Serial != "SN123" || a.OSName != "Microsoft Windows 11 Éducation" || a.SoftwareCount != 2 || a.Type != TypeWorkstation || a.Source != "agent" {
		t.Fatalf("asset %+v", a)
	}

	// The same machine reinstalled (new device id, new software) in
	// another school is the same asset, moved, with its history.
	m.tag, m.name = uaiB, "PC-CDI-01-NEUF"
	m.software = [][3]string{{"Firefox", "130.0", "Mozilla"}}
	if rec := post(t, h, "/inventory", "application/x-compress-zlib", zlibBytes([]byte(m.xml()))); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if n := f.count(`SELECT COUNT(*) FROM assets`); n != 1 {
		t.Fatalf("%d assets, want 1", n)
	}
	d, err := f.svc.Asset(f.ctx, f.admin, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.UAI != uaiB || len(d.Software) != 1 || d.Software[0].Version != "130.0" || len(d.History) != 3 {
		t.Fatalf("detail %+v", d)
	}
	if !strings.Contains(d.History[1].Detail, "PC-CDI-01-NEUF") || !strings.Contains(d.History[2].Detail, "1 ajoutés, 2 retirés") {
		t.Fatalf("history %+v", d.History)
	}
	// Now out of head A's scope: 404, not 403.
	if _, err := f.svc.Asset(f.ctx, f.headA, a.ID); err == nil || !strings.Contains(err.Error(), "not_found") {
		t.Fatalf("out of scope: %v", err)
	}
}

func TestMatchingOrder(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	send := func(m machine) int64 {
		t.Helper()
		if rec := post(t, h, "/ocsinventory", "application/xml", []byte(m.xml())); rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var id int64
		if err := f.db.QueryRowContext(f.ctx, `SELECT id FROM assets WHERE name = ?`, m.name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	bySerial := send(machine{tag: uaiA, name: "A", serial: "S-1", uuid: "11111111-2222-3333-4444-555555555555", macs: []string{"02:00:00:00:00:01"}})
	byUUID := send(machine{tag: uaiA, name: "B", uuid: "66666666-2222-3333-4444-555555555555", macs: []string{"02:00:00:00:00:02"}})
	byMAC := send(machine{tag: uaiA, name: "C", serial: "To be filled by O.E.M.", macs: []string{"02:00:00:00:00:03"}})
	for _, tc := range []struct {
		name string
		m    machine
		want int64
	}{
		{"serial wins over a MAC of another asset", machine{tag: uaiA, name: "A2", serial: "S-1", macs: []string{"02:00:00:00:00:02"}}, bySerial},
		{"uuid when no serial, even though its MAC moved to A", machine{tag: uaiA, name: "B2", uuid: "66666666-2222-3333-4444-555555555555"}, byUUID},
		{"a moved MAC follows its latest machine", machine{tag: uaiA, name: "A3", macs: []string{"02:00:00:00:00:02"}}, bySerial},
		{"uuid when no serial", machine{tag: uaiA, name: "B2", uuid: "66666666-2222-3333-4444-555555555555"}, byUUID},
		{"MAC when BIOS gives placeholders", machine{tag: uaiA, name: "C2", serial: "Default string", uuid: "00000000-0000-0000-0000-000000000000", macs: []string{"02-00-00-00-00-03"}}, byMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := send(tc.m); got != tc.want {
				t.Fatalf("matched asset %d, want %d", got, tc.want)
			}
		})
	}
	if n := f.count(`SELECT COUNT(*) FROM assets`); n != 3 {
		t.Fatalf("%d assets, want 3", n)
	}
}

func TestDuplicateSerialsResolveToOldest(t *testing.T) {
	f := newFx(t)
	for range 2 {
		if _, err := f.svc.Create(f.ctx, f.admin, Asset{UAI: uaiA, Type: TypeLaptop, Serial: "DUP-1"}); err != nil {
			t.Fatal(err)
		}
	}
	// Two BIOS sections with different serials: the first usable one.
	x := strings.Replace(machine{tag: uaiA, name: "X", serial: "DUP-1"}.xml(), "<HARDWARE>", "<BIOS><SSN>OTHER</SSN></BIOS><HARDWARE>", 1)
	for range 2 {
		if rec := post(t, NewAgentHandler(f.svc, AgentOptions{}), "/ocsinventory", "", []byte(x)); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	var name string
	if err := f.db.QueryRowContext(f.ctx, `SELECT name FROM assets ORDER BY id LIMIT 1`).Scan(&name); err != nil || name != "X" {
		t.Fatalf("oldest asset name %q, %v", name, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM assets`); n != 2 {
		t.Fatalf("%d assets, want 2", n)
	}
}

func TestBadInput(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	full := []byte(machine{tag: uaiA, name: "PC", serial: "S", software: [][3]string{{"a", "1", "p"}}}.xml())
	bomb := zlibBytes(bytes.Repeat([]byte(" "), DefaultMaxBody+10))
	for _, tc := range []struct {
		name   string
		ct     string
		body   []byte
		status int
		msg    string
	}{
		{"plain announced as zlib", "application/x-compress-zlib", full, 400, "pas compressé comme l'annonce"},
		{"gzip announced as zlib", "application/x-compress-zlib", gzipBytes(full), 400, "pas compressé comme l'annonce"},
		{"truncated XML", "application/xml", full[:len(full)/2], 400, "tronqué"},
		{"truncated zlib stream", "application/x-compress-zlib", zlibBytes(full)[:40], 400, "tronqué"},
		{"decompression bomb", "application/x-compress-zlib", bomb, 413, "trop volumineux"},
		{"neither XML nor JSON", "application/octet-stream", []byte("hello"), 400, "non reconnu"},
		{"empty", "application/xml", nil, 400, "vide"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(t, h, "/ocsinventory", tc.ct, tc.body)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Fatalf("status %d, body %q; want %d %q", rec.Code, rec.Body, tc.status, tc.msg)
			}
		})
	}
	if n := f.count(`SELECT COUNT(*) FROM assets`) + f.count(`SELECT COUNT(*) FROM asset_software`); n != 0 {
		t.Fatalf("%d rows stored from bad input", n)
	}
}

func TestUnknownTagGoesToQuarantine(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	for _, tag := range []string{"9999999Z", ""} {
		if rec := post(t, h, "/ocsinventory", "", []byte(machine{tag: tag, name: "PC-PERDU", serial: "Q1"}.xml())); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	q, err := f.svc.Quarantine(f.ctx, f.admin)
	if err != nil || len(q) != 2 || q[1].Tag != "9999999Z" || q[1].Serial != "Q1" || !strings.Contains(q[0].Reason, "sans étiquette") {
		t.Fatalf("quarantine %+v, %v", q, err)
	}
	if _, err := f.svc.Quarantine(f.ctx, f.headA); err == nil {
		t.Fatal("a school head sees the quarantine")
	}
	if n := f.count(`SELECT COUNT(*) FROM assets`); n != 0 {
		t.Fatalf("%d assets", n)
	}
}

func TestLegacyEncodings(t *testing.T) {
	latin1 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b
	}
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"ISO-8859-1 declared", latin1(strings.Replace(machine{tag: uaiA, name: "PC-É", serial: "E1", software: [][3]string{{"Lecteur élève", "1", "Éditions Ça"}}}.xml(), "UTF-8", "ISO-8859-1", 1))},
		{"ANSI bytes declared UTF-8", latin1(machine{tag: uaiA, name: "PC-É", serial: "E1", software: [][3]string{{"Lecteur élève", "1", "Éditions Ça"}}}.xml())},
		{"ANSI bytes undeclared", latin1(strings.Replace(machine{tag: uaiA, name: "PC-É", serial: "E1", software: [][3]string{{"Lecteur élève", "1", "Éditions Ça"}}}.xml(), `<?xml version="1.0" encoding="UTF-8" ?>`, "", 1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			if rec := post(t, NewAgentHandler(f.svc, AgentOptions{}), "/ocsinventory", "application/xml", tc.body); rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var name, sw, pub string
			if err := f.db.QueryRowContext(f.ctx, `SELECT a.name, s.name, s.publisher FROM assets a JOIN asset_software s ON s.asset_id = a.id`).Scan(&name, &sw, &pub); err != nil {
				t.Fatal(err)
			}
			if name != "PC-É" || sw != "Lecteur élève" || pub != "Éditions Ça" {
				t.Fatalf("decoded %q %q %q", name, sw, pub)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{BasicUser: "agent", BasicPassword: "s3cret"})
	rec := post(t, h, "/ocsinventory", "application/xml", []byte(prolog))
	if rec.Code != 401 || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Basic realm="`) {
		t.Fatalf("status %d, challenge %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	req := httptest.NewRequest(http.MethodPost, "/ocsinventory", strings.NewReader(prolog))
	req.SetBasicAuth("agent", "wrong")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 401 {
		t.Fatalf("wrong password: %d", w.Code)
	}
	req = httptest.NewRequest(http.MethodPost, "/ocsinventory", strings.NewReader(prolog))
	req.SetBasicAuth("agent", "s3cret")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("right password: %d", w.Code)
	}
}

func TestGLPIAgentJSON(t *testing.T) {
	f := newFx(t)
	h := NewAgentHandler(f.svc, AgentOptions{})
	contact := `{"action":"contact","deviceid":"tab-07-2026","name":"GLPI-Agent_v1.11","installed-tasks":["inventory"],"enabled-tasks":["inventory"],"tag":"` + uaiC + `"}`
	rec := post(t, h, "/inventory", "application/x-compress-zlib", zlibBytes([]byte(contact)), "GLPI-Agent-ID", "3a609a2e-947f-4e6a-9af9-32c024ac3944")
	var reply struct {
		Status     string         `json:"status"`
		Expiration int            `json:"expiration"`
		Tasks      map[string]any `json:"tasks"`
	}
	if rec.Code != 200 || json.Unmarshal([]byte(unzlib(t, rec.Body.Bytes())), &reply) != nil || reply.Status != "ok" || reply.Tasks["inventory"] == nil {
		t.Fatalf("contact: %d %+v", rec.Code, reply)
	}
	inv := `{"action":"inventory","deviceid":"tab-07-2026","itemtype":"Computer","tag":"` + uaiC + `","content":{
		"hardware":{"name":"PORTABLE-07","uuid":"A1B2C3D4-0000-1111-2222-333344445555","chassis_type":"Notebook"},
		"bios":{"ssn":"5CG1234XYZ","smanufacturer":"HP","smodel":"ProBook 450 G8"},
		"operatingsystem":{"full_name":"Microsoft Windows 10 Professionnel","name":"Windows","version":"22H2"},
		"networks":[{"description":"Wi-Fi","mac":"3c:a9:f4:00:00:01","virtualdev":false}],
		"softwares":[{"name":"GeoGebra Classic","version":"6.0.800","publisher":"International GeoGebra Institute"},{"name":"VLC media player","version":"3.0.20","publisher":"VideoLAN"}]}}`
	rec = post(t, h, "/inventory", "application/json", []byte(inv), "GLPI-Agent-ID", "3a609a2e-947f-4e6a-9af9-32c024ac3944")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"ok"`) {
		t.Fatalf("inventory: %d %s", rec.Code, rec.Body)
	}
	res, err := f.svc.List(f.ctx, f.admin, Filter{UAI: uaiC})
	if err != nil || res.Total != 1 || res.Items[0].Type != TypeLaptop || res.Items[0].SoftwareCount != 2 || res.Items[0].Serial != "5CG1234XYZ" {
		t.Fatalf("%+v %v", res, err)
	}
	rec = post(t, h, "/inventory", "application/json", []byte(inv[:len(inv)-20]))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"status":"error"`) {
		t.Fatalf("truncated JSON: %d %s", rec.Code, rec.Body)
	}
}
