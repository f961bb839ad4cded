package analysis

import (
	"fmt"
	"maps"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/parser"
)

// allMacro is an all() over a report list in an assertion (`pods.all(p, p.node != "")`),
// ready to find the first element that makes it false: that element is what a failure
// message needs, more than the whole list.
type allMacro struct {
	rangePath string
	iterVar   string
	rng, pred cel.Program
}

// allMacrosOf finds the all() macros whose range is a report path and whose predicate reads
// nothing but the report and its own variable. Others (nested in another comprehension's
// variables) are skipped: they only lose the extra line in a failure message.
func allMacrosOf(env *cel.Env, a *celast.AST) []allMacro {
	var out []allMacro
	var visit func(e celast.Expr)
	visit = func(e celast.Expr) {
		switch e.Kind() {
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			if m, ok := newAllMacro(env, a.SourceInfo(), c); ok {
				out = append(out, m)
			}
			for _, sub := range []celast.Expr{c.IterRange(), c.AccuInit(), c.LoopCondition(), c.LoopStep(), c.Result()} {
				visit(sub)
			}
		case celast.CallKind:
			c := e.AsCall()
			if c.IsMemberFunction() {
				visit(c.Target())
			}
			for _, arg := range c.Args() {
				visit(arg)
			}
		case celast.SelectKind:
			visit(e.AsSelect().Operand())
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				visit(el)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				visit(en.AsMapEntry().Key())
				visit(en.AsMapEntry().Value())
			}
		}
	}
	visit(a.Expr())
	return out
}

// newAllMacro recognises the expansion of all(): accumulator initialised to true, each step
// `accu && predicate`, result the accumulator.
func newAllMacro(env *cel.Env, info *celast.SourceInfo, c celast.ComprehensionExpr) (allMacro, bool) {
	init, step := c.AccuInit(), c.LoopStep()
	if c.HasIterVar2() || init.Kind() != celast.LiteralKind || init.AsLiteral() != types.True ||
		step.Kind() != celast.CallKind || step.AsCall().FunctionName() != operators.LogicalAnd || len(step.AsCall().Args()) != 2 ||
		step.AsCall().Args()[0].Kind() != celast.IdentKind || step.AsCall().Args()[0].AsIdent() != c.AccuVar() {
		return allMacro{}, false
	}
	root, segs, ok := pathOf(c.IterRange())
	if !ok {
		return allMacro{}, false
	}
	if _, isVar := reportFieldType(root); !isVar {
		return allMacro{}, false
	}
	rangePath := pathString(root, segs)
	predText, err := parser.Unparse(step.AsCall().Args()[1], info)
	if err != nil {
		return allMacro{}, false
	}
	inner, err := env.Extend(cel.Variable(c.IterVar(), cel.DynType))
	if err != nil {
		return allMacro{}, false // the variable shadows a report field
	}
	rng, err := compileProgram(env, rangePath)
	if err != nil {
		return allMacro{}, false
	}
	pred, err := compileProgram(inner, predText)
	if err != nil {
		return allMacro{}, false
	}
	return allMacro{rangePath: rangePath, iterVar: c.IterVar(), rng: rng, pred: pred}, true
}

func compileProgram(env *cel.Env, src string) (cel.Program, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	return env.Program(ast)
}

// firstFalse is the first element of the range for which the predicate is not true, if any.
func (m allMacro) firstFalse(vars map[string]any) (FieldValue, bool) {
	rv, _, err := m.rng.Eval(vars)
	if err != nil {
		return FieldValue{}, false
	}
	list, ok := rv.Value().([]any)
	if !ok {
		return FieldValue{}, false
	}
	act := maps.Clone(vars)
	for i, el := range list {
		act[m.iterVar] = el
		if v, _, err := m.pred.Eval(act); err != nil || v != types.True {
			return FieldValue{
				Path:  fmt.Sprintf("%s[%d]", m.rangePath, i),
				Value: formatComposite(el),
				Note:  fmt.Sprintf("first of %s for which all() is false", m.rangePath),
			}, true
		}
	}
	return FieldValue{}, false
}
