package stages

import (
	"fmt"
	"reflect"
	"text/template"
)

// A template can grow a value without printing it: `{{$x = print $x $x}}` in a range of 40
// doubles a string to a terabyte, and `concat $l $l` does the same to a list, long before the
// output cap or the loop budget sees anything. So every template function that returns a
// string, list or map (sprig's and the builtins print, printf and println) has its result
// checked: a string past the render cap, or a list or map past maxSequence, is an error.

// sizeCheckedBuiltins are text/template's builtins that build strings; a function of the
// same name in the FuncMap takes their place.
var sizeCheckedBuiltins = template.FuncMap{
	"print":   fmt.Sprint,
	"printf":  fmt.Sprintf,
	"println": fmt.Sprintln,
}

var errorType = reflect.TypeFor[error]()

// checkSizes wraps every function of m whose result can grow.
func checkSizes(m template.FuncMap) {
	for name, fn := range sizeCheckedBuiltins {
		if _, ok := m[name]; !ok {
			m[name] = fn
		}
	}
	for name, fn := range m {
		m[name] = sizeChecked(name, fn)
	}
}

// sizeChecked returns fn, or fn with its result checked when the result can grow: the same
// parameters, returning (result, error).
func sizeChecked(name string, fn any) any {
	// The common signatures get typed wrappers: a reflect.MakeFunc call costs about a
	// microsecond, and Quote runs a dozen times in every render of KWOK's pod stages.
	str := func(s string) (string, error) {
		if len(s) > maxRenderBytes {
			return "", fmt.Errorf("%s: a string of %d bytes: %w", name, len(s), ErrRenderTooLarge)
		}
		return s, nil
	}
	switch fn := fn.(type) {
	case func(any) string:
		return func(a any) (string, error) { return str(fn(a)) }
	case func(string) string:
		return func(a string) (string, error) { return str(fn(a)) }
	case func(...any) string:
		return func(a ...any) (string, error) { return str(fn(a...)) }
	case func(string, ...any) string:
		return func(f string, a ...any) (string, error) { return str(fn(f, a...)) }
	case func(any, ...int) (string, error):
		return func(a any, n ...int) (string, error) {
			s, err := fn(a, n...)
			if err != nil {
				return s, err
			}
			return str(s)
		}
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumOut() == 0 || t.NumOut() > 2 || !canGrow(t.Out(0)) {
		return fn
	}
	hasErr := t.NumOut() == 2
	if hasErr && t.Out(1) != errorType {
		return fn
	}
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	ft := reflect.FuncOf(in, []reflect.Type{t.Out(0), errorType}, t.IsVariadic())
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		var res []reflect.Value
		if t.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		errv := reflect.Zero(errorType)
		if hasErr {
			errv = res[1]
			if !errv.IsNil() {
				return []reflect.Value{res[0], errv}
			}
		}
		if err := checkSize(name, res[0]); err != nil {
			errv = reflect.New(errorType).Elem()
			errv.Set(reflect.ValueOf(err))
		}
		return []reflect.Value{res[0], errv}
	}).Interface()
}

func canGrow(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}

func checkSize(name string, v reflect.Value) error {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if v.Len() > maxRenderBytes {
			return fmt.Errorf("%s: a string of %d bytes: %w", name, v.Len(), ErrRenderTooLarge)
		}
	case reflect.Slice:
		limit := maxSequence
		if v.Type().Elem().Kind() == reflect.Uint8 {
			limit = maxRenderBytes
		}
		if v.Len() > limit {
			return fmt.Errorf("%s: a list of %d items, more than %d: %w", name, v.Len(), limit, ErrRenderTooLarge)
		}
	case reflect.Map:
		if v.Len() > maxSequence {
			return fmt.Errorf("%s: a map of %d keys, more than %d: %w", name, v.Len(), maxSequence, ErrRenderTooLarge)
		}
	}
	return nil
}
