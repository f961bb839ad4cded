package stages

import (
	"slices"

	"github.com/itchyny/gojq"
)

// jqPathWorkLimit bounds the values a path query visits before it hands over
// to gojq. Far below what exhausts gojq's step budget or result limit, so a
// path query answers exactly as gojq would, budgets included.
const jqPathWorkLimit = 1000

// jqPath is a jq query made only of object indexes, iterations and
// `select(<path> == "string")`, the shape of almost every KWOK selector key
// and *From expression. It is evaluated by walking the maps directly, which
// is what gojq would do at a hundredth of the cost.
type jqPath struct {
	ops []jqOp
}

type jqOp struct {
	kind  jqOpKind
	key   string   // opField
	path  []string // opSelectEq: object indexes applied to the candidate
	equal string   // opSelectEq: the string the path must equal
}

type jqOpKind uint8

const (
	opField jqOpKind = iota + 1
	opIter
	opSelectEq
)

// compileJQPath recognises a path query in q; nil when q is anything else.
func compileJQPath(q *gojq.Query) *jqPath {
	p := &jqPath{}
	if !p.addQuery(q) {
		return nil
	}
	return p
}

func (p *jqPath) addQuery(q *gojq.Query) bool {
	if q == nil || q.Meta != nil || len(q.Imports) != 0 || len(q.FuncDefs) != 0 || len(q.Patterns) != 0 {
		return false
	}
	switch {
	case q.Op == gojq.OpPipe:
		return q.Term == nil && p.addQuery(q.Left) && p.addQuery(q.Right)
	case q.Op == 0 && q.Left == nil && q.Right == nil && q.Term != nil:
		return p.addTerm(q.Term)
	}
	return false
}

func (p *jqPath) addTerm(t *gojq.Term) bool {
	switch t.Type {
	case gojq.TermTypeIdentity:
	case gojq.TermTypeIndex:
		key, ok := indexKey(t.Index)
		if !ok {
			return false
		}
		p.ops = append(p.ops, jqOp{kind: opField, key: key})
	case gojq.TermTypeFunc:
		if len(t.SuffixList) != 0 {
			return false
		}
		op, ok := selectEq(t.Func)
		if !ok {
			return false
		}
		p.ops = append(p.ops, op)
		return true
	default:
		return false
	}
	for _, s := range t.SuffixList {
		switch {
		case s.Index != nil && !s.Iter && !s.Optional:
			key, ok := indexKey(s.Index)
			if !ok {
				return false
			}
			p.ops = append(p.ops, jqOp{kind: opField, key: key})
		case s.Iter && s.Index == nil && !s.Optional:
			p.ops = append(p.ops, jqOp{kind: opIter})
		default:
			return false
		}
	}
	return true
}

// indexKey accepts .name, ."name" and .["name"] (no interpolation, slices
// or numbers).
func indexKey(ix *gojq.Index) (string, bool) {
	if ix == nil || ix.IsSlice || ix.End != nil {
		return "", false
	}
	switch {
	case ix.Name != "":
		return ix.Name, ix.Str == nil && ix.Start == nil
	case ix.Str != nil:
		return ix.Str.Str, len(ix.Str.Queries) == 0 && ix.Start == nil
	case ix.Start != nil:
		return stringLiteral(ix.Start)
	}
	return "", false
}

func stringLiteral(q *gojq.Query) (string, bool) {
	if q == nil || q.Term == nil || q.Left != nil || q.Right != nil || q.Op != 0 ||
		q.Meta != nil || len(q.Imports) != 0 || len(q.FuncDefs) != 0 || len(q.Patterns) != 0 {
		return "", false
	}
	t := q.Term
	if t.Type != gojq.TermTypeString || t.Str == nil || len(t.Str.Queries) != 0 || len(t.SuffixList) != 0 {
		return "", false
	}
	return t.Str.Str, true
}

// selectEq accepts select(<object indexes> == "string") in either order.
func selectEq(f *gojq.Func) (jqOp, bool) {
	if f.Name != "select" || len(f.Args) != 1 {
		return jqOp{}, false
	}
	c := f.Args[0]
	if c.Op != gojq.OpEq || c.Term != nil || c.Left == nil || c.Right == nil ||
		c.Meta != nil || len(c.Imports) != 0 || len(c.FuncDefs) != 0 || len(c.Patterns) != 0 {
		return jqOp{}, false
	}
	for _, side := range [][2]*gojq.Query{{c.Left, c.Right}, {c.Right, c.Left}} {
		lit, ok := stringLiteral(side[1])
		if !ok {
			continue
		}
		sub := &jqPath{}
		if !sub.addQuery(side[0]) {
			continue
		}
		path := make([]string, 0, len(sub.ops))
		for _, op := range sub.ops {
			if op.kind != opField {
				return jqOp{}, false
			}
			path = append(path, op.key)
		}
		return jqOp{kind: opSelectEq, path: path, equal: lit}, true
	}
	return jqOp{}, false
}

// run evaluates the path with run's contract (nil for a jq runtime error,
// nulls dropped). ok is false when the input holds something the walk does
// not model or the walk grows past jqPathWorkLimit: then gojq must answer.
func (p *jqPath) run(v any) (out []any, ok bool) {
	w := jqWalk{out: []any{}}
	if !w.eval(p.ops, v) {
		return nil, false
	}
	if w.err {
		return nil, true
	}
	return w.out, true
}

type jqWalk struct {
	out  []any
	work int
	err  bool // a jq runtime error: the whole result is "no result"
}

// eval applies ops to v, appending results; false means "not modelled".
func (w *jqWalk) eval(ops []jqOp, v any) bool {
	for i, op := range ops {
		if w.err {
			return true
		}
		if w.work++; w.work > jqPathWorkLimit {
			return false
		}
		switch op.kind {
		case opField:
			next, ok := w.field(v, op.key)
			if !ok {
				return false
			}
			v = next
		case opSelectEq:
			got := v
			for _, key := range op.path {
				next, ok := w.field(got, key)
				if !ok {
					return false
				}
				got = next
			}
			if w.err {
				return true
			}
			if !isJQValue(got) {
				return false
			}
			if s, isStr := got.(string); !isStr || s != op.equal {
				return true // select yields nothing
			}
		case opIter:
			switch t := v.(type) {
			case []any:
				for _, e := range t {
					if !w.eval(ops[i+1:], e) {
						return false
					}
				}
			case map[string]any:
				keys := make([]string, 0, len(t))
				for k := range t {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					if !w.eval(ops[i+1:], t[k]) {
						return false
					}
				}
			default:
				if !isJQValue(v) {
					return false
				}
				w.err = true // cannot iterate over a scalar or null
			}
			return true
		}
	}
	if w.err {
		return true
	}
	if !isJQValue(v) {
		return false
	}
	if v != nil {
		w.out = append(w.out, v)
	}
	return true
}

// field is gojq's object index: null stays null, a map yields the key's value
// (null when missing), anything else is a runtime error.
func (w *jqWalk) field(v any, key string) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		return t[key], true
	case string, bool, float64, int, []any:
		w.err = true
		return nil, true
	}
	return nil, false
}

// isJQValue reports whether v is a value gojq takes as it is. Objects from
// Object only hold these; anything else goes to gojq.
func isJQValue(v any) bool {
	switch v.(type) {
	case nil, string, bool, float64, int, []any, map[string]any:
		return true
	}
	return false
}
