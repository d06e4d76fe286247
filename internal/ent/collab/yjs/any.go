package yjs

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
)

// Values stored in ContentAny (Y.Map values, Y.Array elements, sub-document
// options) use lib0's "any" encoding. In Go they are represented as:
//
//	nil                 JavaScript null
//	Undefined{}         JavaScript undefined
//	bool, string
//	int64               integers that lib0 encodes as var ints (|n| <= 2^31)
//	float64             every other number (lib0 picks float32 or float64 on the wire)
//	BigInt              a JavaScript bigint (signed 64 bits on the wire)
//	[]byte              a Uint8Array
//	[]any               an array
//	map[string]any      an object
//
// Encoding accepts the other Go integer and float types too, and encodes maps
// with sorted keys so that output is deterministic.

// Undefined stands for JavaScript's undefined, which yjs can store and
// transmit but JSON cannot express.
type Undefined struct{}

// MarshalJSON renders undefined as null, as JSON.stringify does inside arrays.
func (Undefined) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// BigInt is a JavaScript bigint value as lib0 transmits it (64-bit signed).
type BigInt int64

const (
	anyUndefined  = 127
	anyNull       = 126
	anyInteger    = 125
	anyFloat32    = 124
	anyFloat64    = 123
	anyBigInt     = 122
	anyFalse      = 121
	anyTrue       = 120
	anyString     = 119
	anyObject     = 118
	anyArray      = 117
	anyUint8Array = 116
)

func (d *decoder) readAny() (any, error) { return d.readAnyDepth(0) }

func (d *decoder) readAnyDepth(depth int) (any, error) {
	if depth > maxAnyDepth {
		return nil, fmt.Errorf("%w: value nested deeper than %d levels", ErrMalformed, maxAnyDepth)
	}
	tag, err := d.readByte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case anyUndefined:
		return Undefined{}, nil
	case anyNull:
		return nil, nil
	case anyInteger:
		return d.readVarInt()
	case anyFloat32:
		f, err := d.readFloat32()
		return float64(f), err
	case anyFloat64:
		return d.readFloat64()
	case anyBigInt:
		n, err := d.readInt64()
		return BigInt(n), err
	case anyFalse:
		return false, nil
	case anyTrue:
		return true, nil
	case anyString:
		return d.readVarString()
	case anyObject:
		// Each entry needs at least a key length byte and a value tag.
		n, err := d.readLen(2)
		if err != nil {
			return nil, err
		}
		obj := make(map[string]any, min(n, 16))
		for range n {
			k, err := d.readVarString()
			if err != nil {
				return nil, err
			}
			v, err := d.readAnyDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		return obj, nil
	case anyArray:
		n, err := d.readLen(1)
		if err != nil {
			return nil, err
		}
		arr := make([]any, 0, min(n, 16))
		for range n {
			v, err := d.readAnyDepth(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		return arr, nil
	case anyUint8Array:
		return d.readVarBytes()
	default:
		// lib0 indexes a lookup table with 127-tag and would throw on anything
		// outside it; so do we.
		return nil, fmt.Errorf("%w: unknown any tag %d", ErrMalformed, tag)
	}
}

// writeAny encodes v the way lib0's writeAny encodes the JavaScript value a Go
// value stands for. Unsupported Go types are an error rather than a silent
// null so that server-side edits cannot lose data.
func (e *encoder) writeAny(v any) error {
	switch x := v.(type) {
	case nil:
		e.writeByte(anyNull)
	case Undefined:
		e.writeByte(anyUndefined)
	case bool:
		if x {
			e.writeByte(anyTrue)
		} else {
			e.writeByte(anyFalse)
		}
	case string:
		e.writeByte(anyString)
		e.writeVarString(x)
	case BigInt:
		e.writeByte(anyBigInt)
		e.writeInt64(int64(x))
	case int:
		e.writeNumber(float64(x), int64(x), true)
	case int8:
		e.writeNumber(float64(x), int64(x), true)
	case int16:
		e.writeNumber(float64(x), int64(x), true)
	case int32:
		e.writeNumber(float64(x), int64(x), true)
	case int64:
		e.writeNumber(float64(x), x, true)
	case uint:
		e.writeNumber(float64(x), int64(x), x <= math.MaxInt64)
	case uint8:
		e.writeNumber(float64(x), int64(x), true)
	case uint16:
		e.writeNumber(float64(x), int64(x), true)
	case uint32:
		e.writeNumber(float64(x), int64(x), true)
	case uint64:
		e.writeNumber(float64(x), int64(x), x <= math.MaxInt64)
	case float32:
		e.writeNumber(float64(x), 0, false)
	case float64:
		e.writeNumber(x, 0, false)
	case []byte:
		e.writeByte(anyUint8Array)
		e.writeVarBytes(x)
	case []any:
		e.writeByte(anyArray)
		e.writeVarUint(uint64(len(x)))
		for _, el := range x {
			if err := e.writeAny(el); err != nil {
				return err
			}
		}
	case map[string]any:
		e.writeByte(anyObject)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.writeVarUint(uint64(len(keys)))
		for _, k := range keys {
			e.writeVarString(k)
			if err := e.writeAny(x[k]); err != nil {
				return err
			}
		}
	default:
		return e.writeReflectAny(v)
	}
	return nil
}

// writeReflectAny handles typed slices and maps ([]string, map[string]int...)
// so callers of the edit API need not convert them by hand.
func (e *encoder) writeReflectAny(v any) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		arr := make([]any, rv.Len())
		for i := range arr {
			arr[i] = rv.Index(i).Interface()
		}
		return e.writeAny(arr)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("yjs: cannot encode map with %s keys", rv.Type().Key())
		}
		obj := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			obj[iter.Key().String()] = iter.Value().Interface()
		}
		return e.writeAny(obj)
	case reflect.Pointer:
		if rv.IsNil() {
			e.writeByte(anyNull)
			return nil
		}
		return e.writeAny(rv.Elem().Interface())
	}
	if bi, ok := v.(*big.Int); ok && bi.IsInt64() {
		return e.writeAny(BigInt(bi.Int64()))
	}
	return fmt.Errorf("yjs: cannot encode value of type %T", v)
}

// writeNumber picks the same wire type lib0 would pick for the JavaScript
// number f: a var int for integers within 31 bits, float32 when that is
// lossless, float64 otherwise.
func (e *encoder) writeNumber(f float64, i int64, isInt bool) {
	if !isInt && f == math.Trunc(f) && math.Abs(f) <= math.MaxInt32 {
		isInt, i = true, int64(f)
	}
	if isInt && i >= -math.MaxInt32 && i <= math.MaxInt32 {
		e.writeByte(anyInteger)
		e.writeVarInt(i)
		return
	}
	if float64(float32(f)) == f {
		e.writeByte(anyFloat32)
		e.writeFloat32(float32(f))
		return
	}
	e.writeByte(anyFloat64)
	e.writeFloat64(f)
}
