package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// reportType is the Go type whose JSON form assertions see.
var reportType = reflect.TypeFor[Report]()

// jsonField is one field of a struct as encoding/json names it.
type jsonField struct {
	name string
	typ  reflect.Type
	// always marks a field the JSON leaves out when empty but assertions always see
	// (tag report:"always"): a list as [], a count as 0, so that `size(evictions) == 0` and
	// `summary.evictions == 0` hold on a run without evictions instead of failing.
	always bool
	// null marks a pointer field written without omitempty: JSON has it as null when nil.
	null bool
}

// jsonFields lists the fields encoding/json writes for struct type t, in declaration order.
// The report types use plain tags (no embedding, no "-"), which is all this handles.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		null := f.Type.Kind() == reflect.Pointer && !strings.Contains(","+opts+",", ",omitempty,")
		out = append(out, jsonField{name: name, typ: f.Type, always: f.Tag.Get("report") == "always", null: null})
	}
	return out
}

// reportValues is the report's JSON form as CEL sees it: objects as maps, arrays as lists,
// and every number typed by the Go field it came from, so a count is always an int and a
// duration or ratio always a double whatever its value (JSON writes 30.0 as 30). Lists and
// maps the report leaves null (nothing observed) are empty instead, so that size() and the
// macros work on them.
func reportValues(r *Report) (map[string]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	out, _ := typedValue(m, reportType).(map[string]any)
	return out, nil
}

// typedValue converts one decoded JSON value (json.Number for numbers) by the Go type t it
// was encoded from.
func typedValue(v any, t reflect.Type) any {
	if v == nil {
		if t.Kind() == reflect.Pointer {
			return nil // a nil pointer is JSON null: "never", for the report's times
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			return []any{}
		case reflect.Map:
			return map[string]any{}
		}
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			for _, f := range jsonFields(t) {
				if fv, ok := x[f.name]; ok {
					x[f.name] = typedValue(fv, f.typ)
				} else if f.always {
					x[f.name] = zeroValue(f.typ)
				}
			}
		case reflect.Map:
			for k, fv := range x {
				x[k] = typedValue(fv, t.Elem())
			}
		default:
			for k, fv := range x {
				x[k] = typedValue(fv, reflect.TypeFor[any]())
			}
		}
		return x
	case []any:
		elem := reflect.TypeFor[any]()
		if k := t.Kind(); k == reflect.Slice || k == reflect.Array {
			elem = t.Elem()
		}
		for i := range x {
			x[i] = typedValue(x[i], elem)
		}
		return x
	case json.Number:
		return typedNumber(x, t.Kind())
	}
	return v
}

// typedNumber is a JSON number as an int64 for Go integer fields (unsigned ones too, while
// they fit: JSON has one kind of integer, and CEL's int is what literals are) and a float64
// for floating-point ones; a number of unknown type is an int64 when it is written as one.
func typedNumber(n json.Number, kind reflect.Kind) any {
	switch kind {
	case reflect.Float32, reflect.Float64:
		f, _ := n.Float64()
		return f
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, _ := n.Int64()
		return i
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, _ := strconv.ParseUint(n.String(), 10, 64)
		if u <= math.MaxInt64 {
			return int64(u)
		}
		return u
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// zeroValue is what assertions see of an always field the JSON left out: an empty list or
// map, a zero number, an empty string, false; a section (a struct, or a pointer to one) as
// an object of those, so that `volumes.claims.pending == 0` holds on a run without claims.
// Inside it, a pointer the JSON writes as null when nil (no omitempty: `arrivals.end`) is
// null, as in a section that is there with it unset.
func zeroValue(t reflect.Type) any {
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct {
			return zeroValue(t.Elem())
		}
		return nil
	case reflect.Struct:
		m := map[string]any{}
		for _, f := range jsonFields(t) {
			if f.null {
				m[f.name] = nil
				continue
			}
			m[f.name] = zeroValue(f.typ)
		}
		return m
	case reflect.Slice, reflect.Array:
		return []any{}
	case reflect.Map:
		return map[string]any{}
	case reflect.String:
		return ""
	case reflect.Bool:
		return false
	case reflect.Float32, reflect.Float64:
		return float64(0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(0)
	}
	return nil
}
