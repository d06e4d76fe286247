package yjs

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are real yjs updates (see testdata/fuzz for more, generated from
// the differential sessions by TestWriteFuzzCorpus).
var fuzzSeeds = []string{
	// text insert "def" at root "text"
	"AQHsg8a5BwAEAQR0ZXh0A2RlZgA=",
	// array with nested map
	"AQKXnfRXAAcBBWFycmF5ASgAl530VwAEaW5pdAF4AA==",
	// map entry with a float
	"AQHsg8a5BwkoAQNtYXABYwF7QDJHu8WsAAAA",
	// embeds and formatting
	"AQTsg8a5BwMHAQVhcnJheQIEAOyDxrkHAwEKiOyDxrkHAwF7QnAAAAABgABF7IPGuQcEEHsiaW1hZ2UiOiJpbWcxIn0B7IPGuQcBAgE=",
}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0})
	f.Add([]byte{})
}

func FuzzDecodeUpdate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := decodeUpdate(data)
		if err != nil {
			return
		}
		// What decodes must re-encode and decode again to the same structs.
		w, err := MergeUpdates(data, []byte{0, 0})
		if err != nil {
			t.Fatalf("merge of a valid update failed: %v", err)
		}
		if _, err := decodeUpdate(w); err != nil {
			t.Fatalf("merged update does not decode: %v", err)
		}
		if _, err := DiffUpdate(data, []byte{1, 5, 3}); err != nil {
			t.Fatalf("diff of a valid update failed: %v", err)
		}
		if _, err := EncodeStateVectorFromUpdate(data); err != nil {
			t.Fatal(err)
		}
		_ = u
	})
}

func FuzzApplyUpdate(f *testing.F) {
	addSeeds(f)
	base, _ := base64.StdEncoding.DecodeString(fuzzSeeds[3])
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := NewDoc(WithClientID(1))
		if err := doc.ApplyUpdate(base); err != nil {
			t.Fatal(err)
		}
		before, err := doc.EncodeStateAsUpdate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := doc.ApplyUpdate(data); err != nil {
			after, err2 := doc.EncodeStateAsUpdate(nil)
			if err2 != nil {
				t.Fatal(err2)
			}
			if !bytes.Equal(before, after) {
				t.Fatalf("failed update changed the document: %v", err)
			}
			return
		}
		// The document must stay readable and re-encodable.
		readEverything(doc)
		state, err := doc.EncodeStateAsUpdate(nil)
		if err != nil {
			t.Fatalf("encode after apply: %v", err)
		}
		other := NewDoc(WithClientID(2))
		if err := other.ApplyUpdate(state); err != nil {
			t.Fatalf("own state does not apply: %v", err)
		}
		// Local edits keep working on whatever the update built.
		_, _ = doc.Transact(func(tx *Tx) error {
			_ = doc.GetText("text").Insert(tx, 0, "x", nil)
			_ = doc.GetMap("map").Set(tx, "k", 1)
			return doc.GetArray("array").Push(tx, "v")
		})
	})
}

// readEverything reads every root as every kind of type.
func readEverything(d *Doc) {
	for _, name := range d.RootNames() {
		_ = d.GetText(name).Delta()
		_ = d.GetText(name).String()
		_ = d.GetMap(name).ToJSON()
		_ = d.GetArray(name).ToJSON()
		_ = d.GetXMLFragment(name).String()
		_ = dumpValue(d.GetXMLFragment(name))
		_ = dumpValue(d.GetMap(name))
		_ = dumpValue(d.GetArray(name))
	}
}

// TestWriteFuzzCorpus stores real yjs updates from the differential sessions
// as fuzz seeds. It only runs on demand: YJS_WRITE_FUZZ_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("YJS_WRITE_FUZZ_CORPUS") == "" {
		t.Skip("set YJS_WRITE_FUZZ_CORPUS=1 to regenerate testdata/fuzz from yjs sessions")
	}
	node := startNode(t)
	for seed := 1; seed <= 12; seed++ {
		var s nodeSession
		node.call(t, map[string]any{"op": "session", "seed": seed}, &s)
		samples := map[string][]byte{
			"merged": unb64(t, s.Merged),
			"diff":   unb64(t, s.Diff),
			"update": unb64(t, s.Updates[len(s.Updates)/2]),
		}
		for kind, b := range samples {
			for _, target := range []string{"FuzzApplyUpdate", "FuzzDecodeUpdate"} {
				dir := filepath.Join("testdata", "fuzz", target)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
				name := filepath.Join(dir, fmt.Sprintf("yjs-%s-%d", kind, seed))
				if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
