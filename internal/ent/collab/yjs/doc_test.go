package yjs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

// Updates produced by yjs 13.6 with clientID 42, one per content type.
var yjsUpdates = map[string]string{
	"string":  "AQEqAAQBAXQKaMOpbGxv8J+YgAA=",
	"format":  "AQMqAAYBAXQEYm9sZAR0cnVlhCoAAmFihioCBGJvbGQEbnVsbAA=",
	"embed":   "AQEqAAUBAXQReyJpbWFnZSI6IngucG5nIn0A",
	"binary":  "AQEqACMBAW0BYgMBAgMA",
	"any":     "AQEqAAgBAWEHfQF3A3R3b3YBBXRocmVlfQN1AX0Efnh8QCAAAAA=",
	"deleted": "AQMqAAgBAWEBfQGBKgABiCoBAX0DASoBAQE=",
	"types":   "AQkqACcBAW0FYXJyYXkAJwEBbQNtYXABJwEBbQR0ZXh0AgQAKgIBeCcBAW0CZWwDAXAnAQFtBGZyYWcEJwEBbQRob29rBQFoJwEBbQJ4dAYEACoHAXkA",
	"subdoc":  "AQEqACkBAW0DZG9jBXN1Yi0xdgAA",
	"gcmap":   "AQIqACEBAW0BbgEAAQEqAQAC",
	"xml":     "AQcqAAcBAXgDCXBhcmFncmFwaAcAKgAGBAAqAQNCb26EKgQEam91ckYqAgZzdHJvbmcCe33GKgQqBQZzdHJvbmcEbnVsbCgAKgAFYWxpZ24BdwRsZWZ0AA==",
}

func yjsUpdate(t testing.TB, name string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(yjsUpdates[name])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func docFrom(t testing.TB, updates ...[]byte) *Doc {
	t.Helper()
	d := NewDoc(WithClientID(7))
	for _, u := range updates {
		if err := d.ApplyUpdate(u); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// reencodes checks that the state of d, applied to a fresh document and
// re-encoded, is stable.
func reencodes(t *testing.T, d *Doc) {
	t.Helper()
	s1, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := docFrom(t, s1).EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s1, s2) {
		t.Errorf("state not stable across re-encoding:\n%x\n%x", s1, s2)
	}
}

func TestContentTypes(t *testing.T) {
	t.Run("ContentString", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "string"))
		if got := d.GetText("t").String(); got != "héllo😀" {
			t.Errorf("text %q", got)
		}
		if got := d.GetText("t").Len(); got != 7 {
			t.Errorf("UTF-16 length %d, want 7", got)
		}
		// yjs encodes the same text byte for byte.
		if s, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(s, yjsUpdate(t, "string")) {
			t.Errorf("state %x differs from yjs", s)
		}
	})
	t.Run("ContentFormat", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "format"))
		want := []Delta{{Insert: "ab", Attributes: map[string]any{"bold": true}}}
		if got := d.GetText("t").Delta(); !reflect.DeepEqual(got, want) {
			t.Errorf("delta %#v", got)
		}
		reencodes(t, d)
	})
	t.Run("ContentEmbed", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "embed"))
		want := []Delta{{Insert: map[string]any{"image": "x.png"}}}
		if got := d.GetText("t").Delta(); !reflect.DeepEqual(got, want) {
			t.Errorf("delta %#v", got)
		}
		reencodes(t, d)
	})
	t.Run("ContentBinary", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "binary"))
		if v, ok := d.GetMap("m").Get("b"); !ok || !bytes.Equal(v.([]byte), []byte{1, 2, 3}) {
			t.Errorf("binary %v", v)
		}
		reencodes(t, d)
	})
	t.Run("ContentAny", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "any"))
		want := []any{int64(1), "two", map[string]any{"three": int64(3)}, []any{int64(4)}, nil, true, 2.5}
		if got := d.GetArray("a").ToJSON(); !reflect.DeepEqual(got, want) {
			t.Errorf("array %#v", got)
		}
		if v, ok := d.GetArray("a").Get(2); !ok || !reflect.DeepEqual(v, want[2]) {
			t.Errorf("Get(2) = %v", v)
		}
		if s, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(s, yjsUpdate(t, "any")) {
			t.Errorf("state %x differs from yjs", s)
		}
	})
	t.Run("ContentDeleted", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "deleted"))
		if got := d.GetArray("a").ToJSON(); !reflect.DeepEqual(got, []any{int64(1), int64(3)}) {
			t.Errorf("array %#v", got)
		}
		reencodes(t, d)
	})
	t.Run("ContentType", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "types"))
		m := d.GetMap("m")
		for key, want := range map[string]any{
			"array": &Array{}, "map": &Map{}, "text": &Text{}, "el": &XMLElement{},
			"frag": &XMLFragment{}, "hook": &XMLHook{}, "xt": &XMLText{},
		} {
			v, ok := m.Get(key)
			if !ok || reflect.TypeOf(v) != reflect.TypeOf(want) {
				t.Errorf("%s: %T", key, v)
			}
		}
		if v, _ := m.Get("el"); v.(*XMLElement).NodeName() != "p" {
			t.Error("element name lost")
		}
		if v, _ := m.Get("hook"); v.(*XMLHook).Name() != "h" {
			t.Error("hook name lost")
		}
		if got := m.ToJSON(); got["text"] != "x" || got["xt"] != "y" || got["el"] != "<p></p>" {
			t.Errorf("toJSON %#v", got)
		}
		if s, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(s, yjsUpdate(t, "types")) {
			t.Errorf("state %x differs from yjs", s)
		}
	})
	t.Run("ContentDoc", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "subdoc"))
		if v, _ := d.GetMap("m").Get("doc"); v.(SubDoc).GUID != "sub-1" {
			t.Errorf("subdoc %#v", v)
		}
		if s, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(s, yjsUpdate(t, "subdoc")) {
			t.Errorf("state %x differs from yjs", s)
		}
	})
	t.Run("ContentJSON", func(t *testing.T) {
		// Legacy content, no longer produced by yjs: one struct of client 9
		// in root array "a" holding [1, "x", undefined].
		var e encoder
		e.writeVarUint(1)
		e.writeVarUint(1)
		e.writeVarUint(9)
		e.writeVarUint(0)
		e.writeByte(refContentJSON)
		e.writeVarUint(1)
		e.writeVarString("a")
		e.writeVarUint(3)
		e.writeVarString("1")
		e.writeVarString(`"x"`)
		e.writeVarString("undefined")
		e.writeVarUint(0)
		d := docFrom(t, e.bytes())
		want := []any{1.0, "x", Undefined{}}
		if got := d.GetArray("a").ToJSON(); !reflect.DeepEqual(got, want) {
			t.Errorf("array %#v", got)
		}
		if s, _ := d.EncodeStateAsUpdate(nil); !bytes.Equal(s, e.bytes()) {
			t.Errorf("legacy content not preserved: %x", s)
		}
	})
	t.Run("XML", func(t *testing.T) {
		d := docFrom(t, yjsUpdate(t, "xml"))
		f := d.GetXMLFragment("x")
		if got := f.String(); got != `<paragraph align="left"><strong>Bon</strong>jour</paragraph>` {
			t.Errorf("toString %s", got)
		}
		p := f.Children()[0].(*XMLElement)
		if p.NodeName() != "paragraph" || p.Attributes()["align"] != "left" {
			t.Errorf("element %s %v", p.NodeName(), p.Attributes())
		}
		txt := p.Children()[0].(*XMLText)
		want := []Delta{{Insert: "Bon", Attributes: map[string]any{"strong": map[string]any{}}}, {Insert: "jour"}}
		if got := txt.Delta(); !reflect.DeepEqual(got, want) {
			t.Errorf("delta %#v", got)
		}
	})
}

func TestGarbageCollection(t *testing.T) {
	// A nested map with content, then deleted: yjs sends the map item as
	// ContentDeleted and the content as a GC struct.
	d := docFrom(t, yjsUpdate(t, "gcmap"))
	if d.GetMap("m").Len() != 0 {
		t.Error("deleted key still visible")
	}
	structs := d.store.clients[42]
	if len(structs) != 2 || structs[1].kind != kindGC {
		t.Fatalf("structs %+v", structs)
	}

	// Deleting locally collects the content too.
	d2 := NewDoc(WithClientID(5))
	if _, err := d2.Transact(func(tx *Tx) error {
		return d2.GetMap("m").Set(tx, "n", MapPrelim{"x": "long content", "y": ArrayPrelim{1, 2, 3}})
	}); err != nil {
		t.Fatal(err)
	}
	u, err := d2.Transact(func(tx *Tx) error { return d2.GetMap("m").Delete(tx, "n") })
	if err != nil || u == nil {
		t.Fatalf("delete: %v", err)
	}
	for _, st := range d2.store.clients[5] {
		if st.kind == kindItem {
			if _, ok := st.content.(*contentDeleted); !ok {
				t.Errorf("struct %d:%d keeps content %T", st.id.Client, st.id.Clock, st.content)
			}
		}
	}
	// The nested map's item is ContentDeleted; its children became GC and
	// merged into one struct.
	if n := len(d2.store.clients[5]); n != 2 {
		t.Errorf("%d structs after collection, want 2", n)
	}

	// Without GC the content stays.
	d3 := NewDoc(WithClientID(6), WithGC(false))
	_, _ = d3.Transact(func(tx *Tx) error { return d3.GetArray("a").Push(tx, "keep") })
	_, _ = d3.Transact(func(tx *Tx) error { return d3.GetArray("a").Delete(tx, 0, 1) })
	if _, ok := d3.store.clients[6][0].content.(*contentAny); !ok {
		t.Error("content collected although GC is off")
	}
}

func TestBadUpdates(t *testing.T) {
	good := yjsUpdate(t, "any")
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated varint", []byte{0x81}},
		{"truncated update", good[:len(good)-5]},
		{"struct count larger than message", []byte{1, 0xff, 0xff, 0x03, 42, 0}},
		{"client count larger than message", []byte{0xff, 0xff, 0xff, 0x0f}},
		{"string length larger than message", []byte{1, 1, 42, 0, 4, 1, 0x7f, 'a'}},
		{"unknown content ref", []byte{1, 1, 42, 0, 0x0b, 1, 1, 'a', 0}},
		{"unknown type ref", []byte{1, 1, 42, 0, 7, 1, 1, 'a', 9, 0}},
		{"zero-length GC", []byte{1, 1, 42, 0, 0, 0, 0}},
		{"empty string item", []byte{1, 1, 42, 0, 4, 1, 1, 't', 0, 0}},
		{"origin in own future", []byte{1, 1, 42, 0, 0x84, 42, 5, 1, 'x', 0}},
		{"invalid JSON format", []byte{1, 1, 42, 0, 6, 1, 1, 't', 1, 'b', 2, '{', '{', 0}},
		{"clock overflow", []byte{1, 2, 42, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}},
		{"trailing garbage in delete set", []byte{0, 1, 42, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := docFrom(t, good)
			before, _ := d.EncodeStateAsUpdate(nil)
			err := d.ApplyUpdate(tc.data)
			if err == nil {
				t.Fatal("bad update accepted")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnexpectedEOF) && !errors.Is(err, ErrIntegerOverflow) {
				t.Errorf("error %v does not wrap a decoding error", err)
			}
			after, _ := d.EncodeStateAsUpdate(nil)
			if !bytes.Equal(before, after) {
				t.Error("failed update changed the document")
			}
		})
	}
}

func TestPendingStructs(t *testing.T) {
	// Client 1 types "ab", client 2 answers after it; client 2's update
	// arrives first and must wait.
	a := NewDoc(WithClientID(1))
	u1, _ := a.Transact(func(tx *Tx) error { return a.GetText("t").Insert(tx, 0, "ab", nil) })
	b := docFrom(t, u1)
	b.clientID = 2
	u2, _ := b.Transact(func(tx *Tx) error { return b.GetText("t").Insert(tx, 1, "X", nil) })
	u3, _ := a.Transact(func(tx *Tx) error { return a.GetText("t").Delete(tx, 0, 1) })

	d := NewDoc(WithClientID(3))
	if err := d.ApplyUpdate(u2); err != nil {
		t.Fatal(err)
	}
	if d.GetText("t").String() != "" || !d.HasPending() {
		t.Fatalf("content depending on a missing update was applied: %q", d.GetText("t").String())
	}
	if got := d.PendingMissing(); got[1] != 0 {
		t.Errorf("missing %v, want client 1 from clock 0", got)
	}
	if len(d.StateVector()) != 0 {
		t.Errorf("state vector %v counts pending content", d.StateVector())
	}
	// A deletion of content not received yet is kept pending too.
	if err := d.ApplyUpdate(u3); err != nil {
		t.Fatal(err)
	}
	// The pending content travels with the state.
	state, _ := d.EncodeStateAsUpdate(nil)
	if err := d.ApplyUpdate(u1); err != nil {
		t.Fatal(err)
	}
	if got := d.GetText("t").String(); got != "Xb" {
		t.Errorf("after the missing update: %q, want %q", got, "Xb")
	}
	if d.HasPending() {
		t.Error("still pending")
	}
	d2 := docFrom(t, state, u1)
	if got := d2.GetText("t").String(); got != "Xb" {
		t.Errorf("from state with pending: %q", got)
	}
}

func TestMissingParentIsNotGuessed(t *testing.T) {
	// An item whose parent is an item of client 77 the document never had:
	// it must stay pending, not land in a root.
	var e encoder
	e.writeVarUint(1)
	e.writeVarUint(1)
	e.writeVarUint(9)
	e.writeVarUint(0)
	e.writeByte(refContentString)
	e.writeVarUint(0) // parent by id
	e.writeVarUint(77)
	e.writeVarUint(3)
	e.writeVarString("ghost")
	e.writeVarUint(0)
	d := NewDoc()
	if err := d.ApplyUpdate(e.bytes()); err != nil {
		t.Fatal(err)
	}
	if !d.HasPending() || len(d.StateVector()) != 0 || len(d.RootNames()) != 0 {
		t.Errorf("ghost content integrated: sv %v roots %v", d.StateVector(), d.RootNames())
	}
}

func TestParentThatIsNotATypeBecomesGC(t *testing.T) {
	// Client 9 inserts a string into the root text, then client 10 claims
	// that string item as its parent: yjs would crash; we keep the clocks as
	// GC and the document readable.
	var e encoder
	e.writeVarUint(2)
	e.writeVarUint(1)
	e.writeVarUint(10)
	e.writeVarUint(0)
	e.writeByte(refContentString)
	e.writeVarUint(0)
	e.writeVarUint(9)
	e.writeVarUint(0)
	e.writeVarString("child")
	e.writeVarUint(1)
	e.writeVarUint(9)
	e.writeVarUint(0)
	e.writeByte(refContentString)
	e.writeVarUint(1)
	e.writeVarString("t")
	e.writeVarString("text")
	e.writeVarUint(0)
	d := docFrom(t, e.bytes())
	if got := d.GetText("t").String(); got != "text" {
		t.Errorf("text %q", got)
	}
	if d.store.state(10) != 5 || d.store.clients[10][0].kind != kindGC {
		t.Error("orphan item not turned into GC")
	}
}

func TestLocalEdits(t *testing.T) {
	d := NewDoc(WithClientID(100))
	u, err := d.Transact(func(tx *Tx) error {
		txt := d.GetText("pad")
		if err := txt.Insert(tx, 0, "Bonjour le monde", nil); err != nil {
			return err
		}
		if err := txt.Format(tx, 0, 7, map[string]any{"bold": true}); err != nil {
			return err
		}
		if err := txt.Delete(tx, 7, 3); err != nil {
			return err
		}
		m := d.GetMap("meta")
		if err := m.Set(tx, "title", "Séance"); err != nil {
			return err
		}
		if err := m.Set(tx, "tags", ArrayPrelim{"a", "b"}); err != nil {
			return err
		}
		return d.GetArray("list").Push(tx, 1, "deux", map[string]any{"trois": 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Delta{{Insert: "Bonjour", Attributes: map[string]any{"bold": true}}, {Insert: " monde"}}
	if got := d.GetText("pad").Delta(); !reflect.DeepEqual(got, want) {
		t.Errorf("delta %#v", got)
	}
	// The update rebuilds the same document elsewhere.
	other := docFrom(t, u)
	if !reflect.DeepEqual(dumpDocJSON(other), dumpDocJSON(d)) || other.GetText("pad").String() != "Bonjour monde" {
		t.Errorf("update does not rebuild the document: %q", other.GetText("pad").String())
	}
	if got := other.GetMap("meta").ToJSON(); !reflect.DeepEqual(got, map[string]any{"title": "Séance", "tags": []any{"a", "b"}}) {
		t.Errorf("meta %#v", got)
	}
	// Out of range edits change nothing.
	u2, err := d.Transact(func(tx *Tx) error { return d.GetText("pad").Delete(tx, 5, 100) })
	if !errors.Is(err, ErrOutOfRange) || u2 != nil {
		t.Errorf("out of range delete: %v, update %x", err, u2)
	}
	// A type of another document is refused.
	if _, err := d.Transact(func(tx *Tx) error { return other.GetArray("list").Push(tx, 1) }); !errors.Is(err, ErrWrongDoc) {
		t.Errorf("edit of another document: %v", err)
	}
}

func TestRemoteUseOfOurClientIDChangesIt(t *testing.T) {
	a := NewDoc(WithClientID(1))
	u, _ := a.Transact(func(tx *Tx) error { return a.GetArray("x").Push(tx, 1) })
	b := NewDoc(WithClientID(1))
	if err := b.ApplyUpdate(u); err != nil {
		t.Fatal(err)
	}
	if b.ClientID() == 1 {
		t.Error("client id kept although a peer writes under it")
	}
}

func TestMergeAndDiff(t *testing.T) {
	a := NewDoc(WithClientID(1))
	var updates [][]byte
	for i := range 5 {
		u, err := a.Transact(func(tx *Tx) error { return a.GetArray("a").Push(tx, i) })
		if err != nil {
			t.Fatal(err)
		}
		updates = append(updates, u)
	}
	merged, err := MergeUpdates(updates...)
	if err != nil {
		t.Fatal(err)
	}
	if got := docFrom(t, merged).GetArray("a").ToJSON(); len(got) != 5 {
		t.Errorf("merged: %v", got)
	}
	// Non-contiguous updates merge with a skip, and the result applies.
	gap, err := MergeUpdates(updates[0], updates[3])
	if err != nil {
		t.Fatal(err)
	}
	d := docFrom(t, gap)
	if d.GetArray("a").Len() != 1 || !d.HasPending() {
		t.Errorf("gap merge: len %d pending %v", d.GetArray("a").Len(), d.HasPending())
	}
	sv := EncodeStateVector(StateVector{1: 2})
	diff, err := DiffUpdate(merged, sv)
	if err != nil {
		t.Fatal(err)
	}
	base := docFrom(t, updates[0], updates[1])
	if err := base.ApplyUpdate(diff); err != nil {
		t.Fatal(err)
	}
	if got := base.GetArray("a").ToJSON(); !reflect.DeepEqual(got, []any{int64(0), int64(1), int64(2), int64(3), int64(4)}) {
		t.Errorf("after diff: %v", got)
	}
	svFromUpdate, err := EncodeStateVectorFromUpdate(merged)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(svFromUpdate, a.EncodeStateVector()) {
		t.Errorf("state vector from update %x, doc %x", svFromUpdate, a.EncodeStateVector())
	}
	if _, err := MergeUpdates(merged, []byte{1}); err == nil {
		t.Error("merge accepted a malformed update")
	}
}

// TestHostileCountsDoNotAllocate checks that counts read from the wire do not
// size allocations: each message claims billions of elements in a few bytes.
func TestHostileCountsDoNotAllocate(t *testing.T) {
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f}
	msgs := [][]byte{
		append([]byte{}, huge...),                                                      // clients
		append(append([]byte{1}, huge...), 42, 0),                                      // structs of one client
		append(append([]byte{1, 1, 42, 0, refContentAny, 1, 1, 'a'}, huge...), 0),      // any values
		append(append([]byte{1, 1, 42, 0, refContentJSON, 1, 1, 'a'}, huge...), 0),     // JSON values
		append(append([]byte{0}, huge...), 0),                                          // delete set clients
		append(append([]byte{0, 1, 42}, huge...), 0),                                   // delete ranges
		append(append([]byte{1, 1, 42, 0, refContentString, 1, 1, 'a'}, huge...), 'x'), // string length
	}
	for i, m := range msgs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := NewDoc().ApplyUpdate(m); err == nil {
			t.Errorf("message %d accepted", i)
		}
		runtime.ReadMemStats(&after)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<10 {
			t.Errorf("message %d of %d bytes allocated %d bytes", i, len(m), grown)
		}
	}
}
