package stages

import (
	"errors"
	"fmt"
	"reflect"
	"text/template"
	"text/template/parse"
)

// The output cap bounds what a template prints, not what it does: `{{range 1000000000000}}{{end}}`
// or two nested ranges over `until 100000` print nothing and run for hours, and a define
// that invokes itself twice is exponential long before text/template's depth limit. So
// every range and every template invocation is charged to a budget: compileTemplate
// rewrites the parse tree so that each range's value, and each invocation's data, passes
// through a budget function first.

const (
	// maxLoopSteps bounds the range iterations and template invocations of one render.
	maxLoopSteps = 1_000_000
	rangeFunc    = "kwoksimRangeBudget"
	callFunc     = "kwoksimCallBudget"
)

// ErrLoopLimit reports a template that ran past its loop budget.
var ErrLoopLimit = errors.New("template loop limit exceeded")

// loopBudget counts one render's steps.
type loopBudget struct{ left int }

func (b *loopBudget) charge(n int) error {
	if n > b.left {
		b.left = 0
		return fmt.Errorf("%w: more than %d range iterations and template invocations", ErrLoopLimit, maxLoopSteps)
	}
	b.left -= n
	return nil
}

// budgetFuncs are the budget functions charging b: range passes the value it is about to
// range over (charged its length), an invocation its data (charged 1).
func budgetFuncs(b func() *loopBudget) template.FuncMap {
	return template.FuncMap{
		rangeFunc: func(v any) (any, error) {
			n, err := rangeLength(v)
			if err != nil {
				return nil, err
			}
			return v, b().charge(n)
		},
		callFunc: func(v ...any) (any, error) {
			var dot any
			if len(v) > 0 {
				dot = v[len(v)-1]
			}
			return dot, b().charge(1)
		},
	}
}

// rangeLength is how many iterations ranging over v takes.
func rangeLength(v any) (int, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Invalid:
		return 0, nil
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(min(max(rv.Int(), 0), maxLoopSteps+1)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int(min(rv.Uint(), maxLoopSteps+1)), nil
	case reflect.Func, reflect.Chan:
		return 0, fmt.Errorf("range over a %s is not supported", rv.Kind())
	}
	return 0, nil // text/template reports the type error itself
}

// unboundedBudget serves a clone not given a budget of its own (every clone that executes
// is given one: see tmpl.bound and renderCache.sentinelClone): each range and invocation is
// still capped, though not their product.
func unboundedBudget() *loopBudget { return &loopBudget{left: maxLoopSteps} }

// chargeLoops rewrites every tree of t so that ranges and invocations call the budget
// functions. The trees are shared by all clones of t, so it runs once, at compile time.
func chargeLoops(t *template.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			chargeList(tt.Tree.Root)
		}
	}
}

func chargeList(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			appendCommand(n.Pipe, rangeFunc)
			chargeList(n.List)
			chargeList(n.ElseList)
		case *parse.IfNode:
			chargeList(n.List)
			chargeList(n.ElseList)
		case *parse.WithNode:
			chargeList(n.List)
			chargeList(n.ElseList)
		case *parse.TemplateNode:
			if n.Pipe == nil {
				n.Pipe = &parse.PipeNode{NodeType: parse.NodePipe, Pos: n.Pos, Line: n.Line}
			}
			appendCommand(n.Pipe, callFunc)
		}
	}
}

// appendCommand makes p's value pass through the function name: `p | name`.
func appendCommand(p *parse.PipeNode, name string) {
	p.Cmds = append(p.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: p.Pos,
		Args: []parse.Node{&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: p.Pos, Ident: name}}})
}
