package collab

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	good := []struct {
		name string
		msg  []byte
		want message
	}{
		{"step1", encodeSync(syncStep1, []byte{0}), message{kind: msgSync, sub: syncStep1, payload: []byte{0}}},
		{"update", encodeSync(syncUpdate, []byte{0, 0}), message{kind: msgSync, sub: syncUpdate, payload: []byte{0, 0}}},
		{"awareness", encodeAwarenessMessage([]byte{0}), message{kind: msgAwareness, payload: []byte{0}}},
		{"auth", encodePermissionDenied("non"), message{kind: msgAuth, sub: authPermissionDenied, payload: []byte("non")}},
		{"query", []byte{msgQueryAwareness}, message{kind: msgQueryAwareness}},
	}
	for _, tc := range good {
		got, err := decodeMessage(tc.msg)
		if err != nil || got.kind != tc.want.kind || got.sub != tc.want.sub || !bytes.Equal(got.payload, tc.want.payload) {
			t.Errorf("%s: got %+v, %v", tc.name, got, err)
		}
	}
	bad := [][]byte{nil, {0x80}, {0, 0}, {0, 0, 5, 1}, {4}, {0, 3, 0}, {1, 0x80}, {3, 0}, {2, 0, 2, 'a'},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}}
	for _, b := range bad {
		if _, err := decodeMessage(b); !errors.Is(err, errMalformed) {
			t.Errorf("%v: err = %v", b, err)
		}
	}
}

func TestVarUintLimits(t *testing.T) {
	w := &writer{}
	w.varUint(maxSafeInteger)
	r := &reader{buf: w.buf}
	if n, err := r.varUint(); err != nil || n != maxSafeInteger {
		t.Errorf("max safe integer: %d %v", n, err)
	}
	w = &writer{}
	w.varUint(maxSafeInteger + 1)
	if _, err := (&reader{buf: w.buf}).varUint(); err == nil {
		t.Error("2^53 accepted")
	}
}

func TestAwarenessRoundTrip(t *testing.T) {
	in := []awarenessEntry{{ClientID: 1, Clock: 2, State: `{"a":1}`}, {ClientID: 300, Clock: 0, State: "null"}}
	out, err := decodeAwareness(encodeAwareness(in))
	if err != nil || len(out) != 2 || out[0] != in[0] || out[1] != in[1] || !out[1].removed() {
		t.Errorf("round trip: %+v %v", out, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeSync(syncStep2, []byte{0, 0}))
	f.Add(encodeAwarenessMessage(encodeAwareness([]awarenessEntry{{ClientID: 1, Clock: 1, State: "{}"}})))
	f.Add([]byte{0x80, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		if m.kind == msgAwareness {
			if entries, err := decodeAwareness(m.payload); err == nil {
				if _, err := decodeAwareness(encodeAwareness(entries)); err != nil {
					t.Fatalf("re-encoded awareness does not decode: %v", err)
				}
			}
		}
	})
}
