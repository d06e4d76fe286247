package yjs

import (
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"testing"
)

// Expected bytes below were produced by lib0 (the yjs encoding library).

func TestVarUintRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 127, 128, 300, 1 << 31, 1<<32 + 5, maxSafeInteger} {
		var e encoder
		e.writeVarUint(n)
		got, err := newDecoder(e.bytes()).readVarUint()
		if err != nil || got != n {
			t.Errorf("varuint %d: got %d, %v", n, got, err)
		}
	}
	var e encoder
	e.writeVarUint(300)
	if hex.EncodeToString(e.bytes()) != "ac02" {
		t.Errorf("varuint 300 = %x", e.bytes())
	}
}

func TestVarIntLib0Bytes(t *testing.T) {
	for _, tc := range []struct {
		n   int64
		hex string
	}{{-1, "41"}, {64, "8001"}, {-65, "c101"}, {math.MaxInt32, "bfffffff0f"}, {0, "00"}, {-5, "45"}} {
		var e encoder
		e.writeVarInt(tc.n)
		if got := hex.EncodeToString(e.bytes()); got != tc.hex {
			t.Errorf("varint %d = %s, want %s", tc.n, got, tc.hex)
		}
		back, err := newDecoder(e.bytes()).readVarInt()
		if err != nil || back != tc.n {
			t.Errorf("varint %d decodes to %d, %v", tc.n, back, err)
		}
	}
}

func TestAnyLib0Bytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		hex  string
		back any
	}{
		{"string", "a", "770161", "a"},
		{"float32", 1.5, "7c3fc00000", 1.5},
		{"float64", 0.1, "7b3fb999999999999a", 0.1},
		{"true", true, "78", true},
		{"null", nil, "7e", nil},
		{"object", map[string]any{"a": 1}, "760101617d01", map[string]any{"a": int64(1)}},
		{"array", []any{1, "x"}, "75027d01770178", []any{int64(1), "x"}},
		{"2^40 as float32", int64(1 << 40), "7c53800000", float64(1 << 40)},
		{"negative", -5, "7d45", int64(-5)},
		{"bigint", BigInt(5), "7a0000000000000005", BigInt(5)},
		{"uint8array", []byte{1, 2}, "74020102", []byte{1, 2}},
		{"undefined", Undefined{}, "7f", Undefined{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e encoder
			if err := e.writeAny(tc.v); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(e.bytes()); got != tc.hex {
				t.Errorf("encoded %s, want %s", got, tc.hex)
			}
			back, err := newDecoder(e.bytes()).readAny()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tc.back) {
				t.Errorf("decoded %#v, want %#v", back, tc.back)
			}
		})
	}
}

func TestAnyRejectsUnsupportedGoValues(t *testing.T) {
	var e encoder
	if err := e.writeAny(make(chan int)); err == nil {
		t.Error("a channel encoded without error")
	}
	if err := e.writeAny(map[int]any{1: 2}); err == nil {
		t.Error("a map with int keys encoded without error")
	}
	if err := e.writeAny([]string{"typed", "slice"}); err != nil {
		t.Errorf("typed slice: %v", err)
	}
}

func TestDecoderIsSafeOnHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		read func(d *decoder) error
	}{
		{"truncated varuint", []byte{0x80, 0x80}, func(d *decoder) error { _, err := d.readVarUint(); return err }},
		{"varuint beyond 2^53", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, func(d *decoder) error { _, err := d.readVarUint(); return err }},
		{"endless varuint", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, func(d *decoder) error { _, err := d.readVarUint(); return err }},
		{"truncated varint", []byte{0xc1}, func(d *decoder) error { _, err := d.readVarInt(); return err }},
		{"string longer than message", []byte{0x7f, 'a'}, func(d *decoder) error { _, err := d.readVarString(); return err }},
		{"bytes longer than message", []byte{0x05, 1, 2}, func(d *decoder) error { _, err := d.readVarBytes(); return err }},
		{"huge array count", []byte{anyArray, 0xff, 0xff, 0xff, 0xff, 0x0f}, func(d *decoder) error { _, err := d.readAny(); return err }},
		{"huge object count", []byte{anyObject, 0xff, 0xff, 0xff, 0x7f}, func(d *decoder) error { _, err := d.readAny(); return err }},
		{"unknown any tag", []byte{0x10}, func(d *decoder) error { _, err := d.readAny(); return err }},
		{"truncated float64", []byte{anyFloat64, 1, 2}, func(d *decoder) error { _, err := d.readAny(); return err }},
		{"deep nesting", nestedArrays(maxAnyDepth + 10), func(d *decoder) error { _, err := d.readAny(); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.read(newDecoder(tc.data)); err == nil {
				t.Error("hostile input decoded without error")
			}
		})
	}
}

func nestedArrays(depth int) []byte {
	b := make([]byte, 0, depth*2+1)
	for range depth {
		b = append(b, anyArray, 1)
	}
	return append(b, anyNull)
}

func TestInvalidUTF8BecomesReplacementCharacters(t *testing.T) {
	s, err := newDecoder([]byte{3, 'a', 0xff, 'b'}).readVarString()
	if err != nil {
		t.Fatal(err)
	}
	if s != "a\uFFFDb" {
		t.Errorf("got %q", s)
	}
}

func TestStateVectorRoundTrip(t *testing.T) {
	sv := StateVector{1: 10, 42: 3, 1 << 40: 7}
	back, err := DecodeStateVector(EncodeStateVector(sv))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sv) {
		t.Errorf("got %v", back)
	}
	// An empty buffer is not a state vector (yjs throws too); callers that
	// mean "nothing" pass a nil StateVector instead.
	if _, err := DecodeStateVector(nil); err == nil {
		t.Error("empty state vector decoded without error")
	}
	if _, err := DecodeStateVector([]byte{5, 1}); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnexpectedEOF) {
		t.Errorf("truncated state vector: %v", err)
	}
}

func TestUTF16Split(t *testing.T) {
	for _, tc := range []struct {
		s           string
		offset      uint64
		left, right string
	}{
		{"héllo", 2, "hé", "llo"},
		{"a😀b", 1, "a", "😀b"},
		{"a😀b", 3, "a😀", "b"},
		// Inside a surrogate pair: both halves become U+FFFD, as in yjs.
		{"a😀b", 2, "a\uFFFD", "\uFFFDb"},
	} {
		c := newContentString(tc.s)
		total := c.length()
		r := c.splice(tc.offset).(*contentString)
		if c.s != tc.left || r.s != tc.right {
			t.Errorf("split %q at %d: %q|%q, want %q|%q", tc.s, tc.offset, c.s, r.s, tc.left, tc.right)
		}
		if c.length()+r.length() != total || c.length() != tc.offset {
			t.Errorf("split %q at %d: lengths %d+%d, total %d", tc.s, tc.offset, c.length(), r.length(), total)
		}
	}
}
