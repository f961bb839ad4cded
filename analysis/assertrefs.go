package analysis

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
)

// fieldRef is a chain of selections from a report variable (`latency.startup.p99`,
// `utilization["cpu"].max`) in an assertion: the expression whose value a failure shows.
type fieldRef struct {
	id   int64
	path string
}

// segment is one step of a path: a field (or string key), or a list index.
type segment struct {
	field   string
	index   int64
	isIndex bool
}

// refWalker collects an assertion's field references and checks every path it can type
// against the report's Go types, so that a misspelt field fails before the run instead of as
// a "no such key" after it. Paths through values whose type is not known statically (the
// result of a map() macro, a dynamic index) are not checked.
type refWalker struct {
	info  *celast.SourceInfo
	refs  []fieldRef
	types map[int64]reflect.Type
	seen  map[string]bool
	err   error
}

// fieldRefsOf returns the report field references of a checked expression, in source order,
// and the Go type of every path whose type is known, by expression id.
func fieldRefsOf(a *celast.AST) ([]fieldRef, map[int64]reflect.Type, error) {
	w := &refWalker{info: a.SourceInfo(), seen: map[string]bool{}, types: map[int64]reflect.Type{}}
	w.walk(a.Expr(), map[string]reflect.Type{})
	return w.refs, w.types, w.err
}

// walk visits e; bound holds the comprehension variables in scope with their element types
// (nil when unknown). A bound name shadows a report variable.
func (w *refWalker) walk(e celast.Expr, bound map[string]reflect.Type) {
	if w.err != nil {
		return
	}
	if root, segs, ok := pathOf(e); ok {
		_, isBound := bound[root]
		rootType, isVar := bound[root], false
		if !isBound {
			rootType, isVar = reportFieldType(root)
		}
		if !isBound && !isVar {
			return // not a variable the checker accepted; nothing to record
		}
		if t := w.typeOf(e, root, rootType, segs); t != nil {
			w.types[e.ID()] = t
		}
		if !isBound && w.err == nil {
			p := pathString(root, segs)
			if !w.seen[p] {
				w.seen[p] = true
				w.refs = append(w.refs, fieldRef{id: e.ID(), path: p})
			}
		}
		return
	}
	switch e.Kind() {
	case celast.SelectKind:
		s := e.AsSelect()
		w.walk(s.Operand(), bound)
		if s.IsTestOnly() { // has(x.f): f must be a field x can have
			if root, segs, ok := pathOf(s.Operand()); ok {
				t, known := bound[root]
				if !known {
					t, known = reportFieldType(root)
				}
				if known {
					w.typeOf(e, root, t, append(segs, segment{field: s.FieldName()}))
				}
			}
		}
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			w.walk(c.Target(), bound)
		}
		for _, arg := range c.Args() {
			w.walk(arg, bound)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		w.walk(c.IterRange(), bound)
		w.walk(c.AccuInit(), bound)
		inner := maps.Clone(bound)
		elem, key := w.rangeTypes(c.IterRange(), bound)
		if c.HasIterVar2() {
			inner[c.IterVar()], inner[c.IterVar2()] = key, elem
		} else if key != nil && key.Kind() == reflect.String {
			inner[c.IterVar()] = key // a map's macros range over its keys
		} else {
			inner[c.IterVar()] = elem
		}
		inner[c.AccuVar()] = nil
		w.walk(c.LoopCondition(), inner)
		w.walk(c.LoopStep(), inner)
		w.walk(c.Result(), inner)
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			w.walk(el, bound)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			w.walk(en.AsMapEntry().Key(), bound)
			w.walk(en.AsMapEntry().Value(), bound)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			w.walk(f.AsStructField().Value(), bound)
		}
	}
}

// rangeTypes is what a comprehension over r binds: the element type, and the key type (int
// for a list, string for a map); nil when r's type is not known.
func (w *refWalker) rangeTypes(r celast.Expr, bound map[string]reflect.Type) (elem, key reflect.Type) {
	root, segs, ok := pathOf(r)
	if !ok {
		return nil, nil
	}
	t, known := bound[root]
	if !known {
		if t, known = reportFieldType(root); !known {
			return nil, nil
		}
	}
	t = w.typeOf(r, root, t, segs)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return nil, nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return t.Elem(), reflect.TypeFor[int64]()
	case reflect.Map:
		return t.Elem(), t.Key()
	}
	return nil, nil
}

// typeOf walks segs from a value of type t (nil: unknown) and returns the type reached, or
// records an error when a step cannot exist in any report.
func (w *refWalker) typeOf(e celast.Expr, root string, t reflect.Type, segs []segment) reflect.Type {
	for i, s := range segs {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() == reflect.Interface {
			return nil
		}
		at := pathString(root, segs[:i])
		switch {
		case t.Kind() == reflect.Struct && !s.isIndex:
			var next reflect.Type
			for _, f := range jsonFields(t) {
				if f.name == s.field {
					next = f.typ
				}
			}
			if next == nil {
				w.fail(e, fmt.Sprintf("%s has no field %q; its fields are %s", at, s.field, strings.Join(declaredNames(t), ", ")))
				return nil
			}
			t = next
		case t.Kind() == reflect.Map && !s.isIndex:
			t = t.Elem()
		case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && s.isIndex:
			t = t.Elem()
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
			w.fail(e, fmt.Sprintf("%s is a list; select %q from its elements with a macro (%s.all(x, x.%s …)) or an index", at, s.field, at, s.field))
			return nil
		default:
			w.fail(e, fmt.Sprintf("%s is a %s, it has no %s", at, kindName(t), describeSegment(s)))
			return nil
		}
	}
	return t
}

func (w *refWalker) fail(e celast.Expr, msg string) {
	if w.err != nil {
		return
	}
	if r, ok := w.info.GetOffsetRange(e.ID()); ok {
		msg = fmt.Sprintf("column %d: %s", r.Start+1, msg)
	}
	w.err = fmt.Errorf("%s", msg)
}

// reportFieldType is the Go type of a top-level report field.
func reportFieldType(name string) (reflect.Type, bool) {
	for _, f := range jsonFields(reportType) {
		if f.name == name {
			return f.typ, true
		}
	}
	return nil, false
}

// declaredNames is t's JSON field names in declaration order, for messages.
func declaredNames(t reflect.Type) []string {
	var names []string
	for _, f := range jsonFields(t) {
		names = append(names, f.name)
	}
	return names
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.Map, reflect.Struct:
		return "map"
	}
	return "int"
}

func describeSegment(s segment) string {
	if s.isIndex {
		return fmt.Sprintf("index [%d]", s.index)
	}
	return fmt.Sprintf("field %q", s.field)
}

// pathOf recognises a chain of selections and constant indexes from an identifier.
func pathOf(e celast.Expr) (root string, segs []segment, ok bool) {
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent(), nil, true
	case celast.SelectKind:
		s := e.AsSelect()
		if s.IsTestOnly() {
			return "", nil, false
		}
		root, segs, ok = pathOf(s.Operand())
		return root, append(segs, segment{field: s.FieldName()}), ok
	case celast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 || c.Args()[1].Kind() != celast.LiteralKind {
			return "", nil, false
		}
		var s segment
		switch k := c.Args()[1].AsLiteral().(type) {
		case types.String:
			s = segment{field: string(k)}
		case types.Int:
			s = segment{index: int64(k), isIndex: true}
		default:
			return "", nil, false
		}
		root, segs, ok = pathOf(c.Args()[0])
		return root, append(segs, s), ok
	}
	return "", nil, false
}

// pathString writes a path as it would be written in an expression.
func pathString(root string, segs []segment) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segs {
		switch {
		case s.isIndex:
			fmt.Fprintf(&b, "[%d]", s.index)
		case isIdentifier(s.field):
			b.WriteString("." + s.field)
		default:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(s.field))
		}
	}
	return b.String()
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// maxValueLength cuts the display of a list or map: a failure message shows a value, not
// the report.
const maxValueLength = 200

// formatComposite shows a list or map of the report as JSON, cut short when long.
func formatComposite(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) <= maxValueLength {
		return string(b)
	}
	size := ""
	switch x := v.(type) {
	case []any:
		size = fmt.Sprintf(" (a list of %d)", len(x))
	case map[string]any:
		size = fmt.Sprintf(" (a map of %d)", len(x))
	}
	return fmt.Sprintf("%s…%s", b[:maxValueLength], size)
}
