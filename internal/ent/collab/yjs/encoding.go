package yjs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// This file implements the subset of lib0's binary encoding that the Yjs v1
// update format uses. The decoder is written for hostile input: every read is
// bounds-checked and every length read from the wire is compared with the
// bytes actually left before anything is allocated, so a short message can
// never make us allocate more than a small multiple of its own size.

// maxSafeInteger mirrors JavaScript's Number.MAX_SAFE_INTEGER: lib0 refuses
// larger var uints, and keeping every clock below it means that sums of two
// clocks or lengths can never overflow a uint64.
const maxSafeInteger = 1<<53 - 1

// maxAnyDepth bounds the nesting of arrays and objects in an any-encoded value
// so that a crafted message cannot exhaust the stack through recursion.
const maxAnyDepth = 256

var (
	// ErrUnexpectedEOF is returned when a message ends in the middle of a value.
	ErrUnexpectedEOF = errors.New("yjs: unexpected end of message")
	// ErrIntegerOverflow is returned for var ints beyond 2^53-1, which yjs
	// itself cannot represent.
	ErrIntegerOverflow = errors.New("yjs: integer out of range")
	// ErrMalformed is the parent of every structural decoding error.
	ErrMalformed = errors.New("yjs: malformed message")
)

// encoder accumulates lib0-encoded bytes.
type encoder struct {
	buf []byte
}

func (e *encoder) bytes() []byte { return e.buf }

func (e *encoder) writeByte(b byte) { e.buf = append(e.buf, b) }

func (e *encoder) writeVarUint(n uint64) {
	for n > 0x7f {
		e.buf = append(e.buf, byte(n&0x7f)|0x80)
		n >>= 7
	}
	e.buf = append(e.buf, byte(n))
}

// writeVarInt writes lib0's signed var int: the first byte carries a
// continuation bit, a sign bit and six bits of magnitude; the following bytes
// carry seven bits each. It is sign-magnitude, not zig-zag.
func (e *encoder) writeVarInt(n int64) {
	neg := n < 0
	var mag uint64
	if neg {
		mag = uint64(-n)
	} else {
		mag = uint64(n)
	}
	first := byte(mag & 0x3f)
	if neg {
		first |= 0x40
	}
	if mag > 0x3f {
		first |= 0x80
	}
	e.buf = append(e.buf, first)
	mag >>= 6
	for mag > 0 {
		b := byte(mag & 0x7f)
		if mag > 0x7f {
			b |= 0x80
		}
		e.buf = append(e.buf, b)
		mag >>= 7
	}
}

func (e *encoder) writeVarString(s string) {
	e.writeVarUint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) writeVarBytes(b []byte) {
	e.writeVarUint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

func (e *encoder) writeFloat32(f float32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, math.Float32bits(f))
}

func (e *encoder) writeFloat64(f float64) {
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
}

func (e *encoder) writeInt64(n int64) {
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(n))
}

// decoder reads lib0-encoded bytes. It never panics: errors are sticky in the
// sense that callers propagate the first one and stop.
type decoder struct {
	buf []byte
	pos int
}

func newDecoder(b []byte) *decoder { return &decoder{buf: b} }

func (d *decoder) remaining() int { return len(d.buf) - d.pos }

func (d *decoder) hasContent() bool { return d.pos < len(d.buf) }

func (d *decoder) readByte() (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, ErrUnexpectedEOF
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

func (d *decoder) readVarUint() (uint64, error) {
	var n uint64
	var shift uint
	for {
		if d.pos >= len(d.buf) {
			return 0, ErrUnexpectedEOF
		}
		b := d.buf[d.pos]
		d.pos++
		if shift >= 56 {
			return 0, ErrIntegerOverflow
		}
		n |= uint64(b&0x7f) << shift
		if n > maxSafeInteger {
			return 0, ErrIntegerOverflow
		}
		if b < 0x80 {
			return n, nil
		}
		shift += 7
	}
}

// readLen reads a var uint that counts things still to be read, each at least
// minSize bytes long; a count the rest of the message cannot hold is refused
// before the caller allocates anything for it.
func (d *decoder) readLen(minSize int) (int, error) {
	n, err := d.readVarUint()
	if err != nil {
		return 0, err
	}
	if minSize > 0 && n > uint64(d.remaining()/minSize) {
		return 0, fmt.Errorf("%w: count %d exceeds the %d bytes left", ErrMalformed, n, d.remaining())
	}
	return int(n), nil
}

func (d *decoder) readVarInt() (int64, error) {
	b, err := d.readByte()
	if err != nil {
		return 0, err
	}
	mag := uint64(b & 0x3f)
	neg := b&0x40 != 0
	shift := uint(6)
	for b&0x80 != 0 {
		if b, err = d.readByte(); err != nil {
			return 0, err
		}
		if shift >= 55 {
			return 0, ErrIntegerOverflow
		}
		mag |= uint64(b&0x7f) << shift
		if mag > maxSafeInteger {
			return 0, ErrIntegerOverflow
		}
		shift += 7
	}
	if neg {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

func (d *decoder) readBytesN(n int) ([]byte, error) {
	if n < 0 || n > d.remaining() {
		return nil, ErrUnexpectedEOF
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// readVarBytes returns a copy, so decoded values never alias the caller's
// buffer (which a network layer is free to reuse).
func (d *decoder) readVarBytes() ([]byte, error) {
	n, err := d.readLen(1)
	if err != nil {
		return nil, err
	}
	b, err := d.readBytesN(n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// readVarString decodes UTF-8 like the browser's TextDecoder would: invalid
// sequences become U+FFFD instead of failing, because that is what a yjs peer
// does with the same bytes.
func (d *decoder) readVarString() (string, error) {
	n, err := d.readLen(1)
	if err != nil {
		return "", err
	}
	b, err := d.readBytesN(n)
	if err != nil {
		return "", err
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	return toValidUTF8(b), nil
}

func toValidUTF8(b []byte) string {
	out := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		out = append(out, r) // RuneError for every invalid byte
		b = b[size:]
	}
	return string(out)
}

func (d *decoder) readFloat32() (float32, error) {
	b, err := d.readBytesN(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.BigEndian.Uint32(b)), nil
}

func (d *decoder) readFloat64() (float64, error) {
	b, err := d.readBytesN(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

func (d *decoder) readInt64() (int64, error) {
	b, err := d.readBytesN(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}
