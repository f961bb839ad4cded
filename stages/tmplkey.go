package stages

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
)

// readPlan is a readNode trie flattened for fast key building: fields in
// sorted order so the key does not depend on map iteration.
type readPlan struct {
	whole, shape, truth bool
	fields              []planField
	elems               *readPlan
}

type planField struct {
	name string
	plan *readPlan
}

func planOf(n *readNode) *readPlan {
	p := &readPlan{whole: n.whole, shape: n.shape, truth: n.truth}
	if n.whole {
		return p
	}
	names := make([]string, 0, len(n.fields))
	for name := range n.fields {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p.fields = append(p.fields, planField{name, planOf(n.fields[name])})
	}
	if n.elems != nil {
		p.elems = planOf(n.elems)
	}
	return p
}

// Value tags of the key encoding. Absent (a missing key: text/template sees
// no value) differs from null.
const (
	tagAbsent = iota + 1
	tagNull
	tagFalse
	tagTrue
	tagString
	tagFloat
	tagInt
	tagInt64
	tagNumber
	tagMap
	tagList
)

// appendKey encodes what plan reads of v. Two objects with equal keys have,
// at every read position, values with equal JSON encodings (so equal
// template data after the JSON round trip) and equal structure. ok is false
// for a value that is not JSON data.
func appendKey(b []byte, v any, present bool, p *readPlan) ([]byte, bool) {
	if !present {
		return append(b, tagAbsent), true
	}
	if p.whole {
		return appendWhole(b, v)
	}
	switch t := v.(type) {
	case map[string]any:
		if p.shape || p.elems != nil {
			// index/len of an object or ranging over it reads keys and values.
			return appendWhole(b, v)
		}
		b = append(b, tagMap)
		if p.truth {
			b = binary.AppendUvarint(b, uint64(len(t)))
		}
		for _, f := range p.fields {
			c, ok := t[f.name]
			var good bool
			if b, good = appendKey(b, c, ok, f.plan); !good {
				return b, false
			}
		}
		return b, true
	case []any:
		b = append(b, tagList)
		b = binary.AppendUvarint(b, uint64(len(t)))
		if p.elems != nil {
			for _, e := range t {
				var good bool
				if b, good = appendKey(b, e, true, p.elems); !good {
					return b, false
				}
			}
		}
		// Fields of a list are a template error whatever the elements.
		return b, true
	}
	return appendScalar(b, v)
}

// appendWhole encodes v entirely, objects by sorted key.
func appendWhole(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case map[string]any:
		b = append(b, tagMap)
		b = binary.AppendUvarint(b, uint64(len(t)))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			var ok bool
			if b, ok = appendWhole(b, t[k]); !ok {
				return b, false
			}
		}
		return b, true
	case []any:
		b = append(b, tagList)
		b = binary.AppendUvarint(b, uint64(len(t)))
		for _, e := range t {
			var ok bool
			if b, ok = appendWhole(b, e); !ok {
				return b, false
			}
		}
		return b, true
	}
	return appendScalar(b, v)
}

func appendScalar(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case nil:
		return append(b, tagNull), true
	case bool:
		if t {
			return append(b, tagTrue), true
		}
		return append(b, tagFalse), true
	case string:
		return appendString(append(b, tagString), t), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return b, false // not JSON: the reference render fails
		}
		return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(t)), true
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(t)), true
	case int64:
		return binary.AppendVarint(append(b, tagInt64), t), true
	case json.Number:
		return appendString(append(b, tagNumber), string(t)), true
	}
	return b, false
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
