package stages

import (
	"encoding/json"
	"strconv"
)

// decodeJSON decodes data as json.Unmarshal into an any does. A small
// decoder handles the common subset (ASCII strings without escapes, which is
// what rendered patches hold) in one pass; anything else goes to
// encoding/json, so the result is always encoding/json's.
func decodeJSON(data []byte) (any, error) {
	d := jsonDecoder{data: data}
	if v, ok := d.value(); ok {
		d.space()
		if d.pos == len(d.data) {
			return v, nil
		}
	}
	var v any
	err := json.Unmarshal(data, &v)
	return v, err
}

type jsonDecoder struct {
	data  []byte
	pos   int
	depth int
}

// jsonMaxDepth stays below encoding/json's nesting limit (10000), so a
// document the fast path accepts is one encoding/json accepts.
const jsonMaxDepth = 1000

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, bool) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, ok := d.string()
		return s, ok
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return false
	}
	d.pos += len(lit)
	return true
}

func (d *jsonDecoder) object() (any, bool) {
	if d.depth++; d.depth > jsonMaxDepth {
		return nil, false
	}
	d.pos++ // {
	m, ok := d.members()
	d.depth--
	return m, ok
}

func (d *jsonDecoder) members() (any, bool) {
	m := map[string]any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, true
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		if done, ok := d.separator('}'); !ok || done {
			return m, ok
		}
	}
}

func (d *jsonDecoder) array() (any, bool) {
	if d.depth++; d.depth > jsonMaxDepth {
		return nil, false
	}
	d.pos++ // [
	s, ok := d.elements()
	d.depth--
	return s, ok
}

func (d *jsonDecoder) elements() (any, bool) {
	s := []any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return s, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		s = append(s, v)
		if done, ok := d.separator(']'); !ok || done {
			return s, ok
		}
	}
}

// separator consumes what follows a member or element: a comma (more follow) or the closing
// bracket (done); anything else is not the subset this decoder reads.
func (d *jsonDecoder) separator(closing byte) (done, ok bool) {
	d.space()
	if d.pos >= len(d.data) {
		return false, false
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		return false, true
	case closing:
		d.pos++
		return true, true
	}
	return false, false
}

// string accepts printable ASCII without escapes only.
func (d *jsonDecoder) string() (string, bool) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return string(d.data[start:i]), true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", false
		}
	}
	return "", false
}

// number scans the JSON number grammar and converts as encoding/json does.
func (d *jsonDecoder) number() (any, bool) {
	start := d.pos
	i := d.pos
	n := len(d.data)
	if i < n && d.data[i] == '-' {
		i++
	}
	switch {
	case i < n && d.data[i] == '0':
		i++
	case i < n && d.data[i] >= '1' && d.data[i] <= '9':
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < n && d.data[i] == '.' {
		i++
		if i >= n || d.data[i] < '0' || d.data[i] > '9' {
			return nil, false
		}
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	if i < n && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < n && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= n || d.data[i] < '0' || d.data[i] > '9' {
			return nil, false
		}
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	f, err := strconv.ParseFloat(string(d.data[start:i]), 64)
	if err != nil {
		return nil, false // out of range: encoding/json's error
	}
	d.pos = i
	return f, true
}
