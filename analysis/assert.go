package analysis

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// AssertCostLimit bounds one assertion's cost in CEL's abstract units (counted, not timed, so
// the bound is the same on every machine). Expressions come from users: a nested
// comprehension over every pod pair of a large report is refused instead of running for
// hours. The cost is CEL's static estimate with the sizes of the report at hand (see
// reportSizes), checked before the expression runs; cel-go's own runtime tracker is not used
// because it slows comprehensions quadratically (a pass over 40,000 pods took 1.6 s with it,
// 36 ms without). A pass over 100,000 pods is estimated at a few million units.
const AssertCostLimit = 100_000_000

// Assertion is a compiled CEL expression over a report's JSON form: every top-level field
// of the report is a variable (summary, pods, latency, …).
type Assertion struct {
	// Expr is the expression as the user wrote it.
	Expr string
	ast  *cel.Ast
	// traced records every sub-expression's value, to show a failure; prg does not, so a
	// passing assertion costs no more than its evaluation.
	prg, traced cel.Program
	refs        []fieldRef
	// types are the Go types of the report paths in the expression, by expression id, for
	// the cost estimate.
	types map[int64]reflect.Type
	// alls are its all() macros over report lists, to show the element that fails one.
	alls []allMacro
}

// AssertionError is an expression that does not compile, is not a bool, or names a report
// field that does not exist.
type AssertionError struct {
	Expr string
	Msg  string
}

func (e *AssertionError) Error() string { return fmt.Sprintf("assertion %q: %s", e.Expr, e.Msg) }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*AssertionError) BadInput() {}

// AssertionResult is one assertion evaluated on one report.
type AssertionResult struct {
	Expr   string
	Passed bool
	// Err is why the expression gave no bool: an evaluation error (a missing map key, the
	// cost limit) or a result of another type. It counts as a failure.
	Err error
	// Values are the report fields the expression refers to, in the order it names them,
	// with the values it saw.
	Values []FieldValue
}

// FieldValue is one field reference of an assertion and the value it had. Note says why it
// is shown when it is not a reference written in the expression (the element that made an
// all() false).
type FieldValue struct {
	Path  string
	Value string
	Note  string
}

// assertEnv declares each top-level report field as a dyn variable: its value is typed at
// run time from the report (a count is an int, a latency a double), and CEL's heterogeneous
// numeric equality and ordering let `summary.pods.unschedulable == 0` and
// `latency.startup.p99 < 30` both hold without casts.
var assertEnv = sync.OnceValues(func() (*cel.Env, error) {
	// Macro call tracking lets a predicate be written back as text (see allMacrosOf).
	opts := []cel.EnvOption{cel.CrossTypeNumericComparisons(true), cel.EnableMacroCallTracking()}
	for _, f := range jsonFields(reportType) {
		opts = append(opts, cel.Variable(f.name, cel.DynType))
	}
	return cel.NewEnv(opts...)
})

// CompileAssertions compiles every expression, so that a bad one is found before anything
// is simulated. The error joins one *AssertionError per bad expression.
func CompileAssertions(exprs []string) ([]*Assertion, error) {
	var (
		out  []*Assertion
		errs []error
	)
	for _, e := range exprs {
		a, err := CompileAssertion(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, a)
	}
	return out, errors.Join(errs...)
}

// CompileAssertion compiles one expression; its static type must be bool (or dyn, checked
// when it runs, unless a report field's type or an operator shows it is no bool: notBool),
// and every report field it names through a chain of selections must exist.
func CompileAssertion(expr string) (*Assertion, error) {
	env, err := assertEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, &AssertionError{Expr: expr, Msg: iss.Err().Error()}
	}
	if out := ast.OutputType(); !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
		return nil, &AssertionError{Expr: expr, Msg: fmt.Sprintf("the expression has type %s, want bool", out)}
	}
	refs, types, err := fieldRefsOf(ast.NativeRep())
	if err != nil {
		return nil, &AssertionError{Expr: expr, Msg: err.Error()}
	}
	if what, ok := notBool(ast.NativeRep().Expr(), types); ok {
		return nil, &AssertionError{Expr: expr, Msg: fmt.Sprintf("the expression gives %s, want bool", what)}
	}
	prg, err := env.Program(ast)
	if err != nil {
		return nil, &AssertionError{Expr: expr, Msg: err.Error()}
	}
	traced, err := env.Program(ast, cel.EvalOptions(cel.OptTrackState))
	if err != nil {
		return nil, &AssertionError{Expr: expr, Msg: err.Error()}
	}
	return &Assertion{Expr: expr, ast: ast, prg: prg, traced: traced, refs: refs, types: types, alls: allMacrosOf(env, ast.NativeRep())}, nil
}

// CheckAssertions evaluates every assertion on the report, in order.
func CheckAssertions(r *Report, as []*Assertion) ([]AssertionResult, error) {
	vars, err := reportValues(r)
	if err != nil {
		return nil, err
	}
	sizes := reportSizes(vars)
	out := make([]AssertionResult, 0, len(as))
	for _, a := range as {
		out = append(out, a.eval(vars, sizes))
	}
	return out, nil
}

// Failed is the results that did not pass.
func Failed(results []AssertionResult) []AssertionResult {
	var out []AssertionResult
	for _, r := range results {
		if !r.Passed {
			out = append(out, r)
		}
	}
	return out
}

func (a *Assertion) eval(vars map[string]any, sizes sizeBounds) AssertionResult {
	res := AssertionResult{Expr: a.Expr}
	env, err := assertEnv()
	if err != nil {
		res.Err = err
		return res
	}
	est, err := env.EstimateCost(a.ast, costEstimator{sizes: sizes, types: a.types})
	if err != nil {
		res.Err = err
		return res
	}
	if est.Max > AssertCostLimit {
		res.Err = fmt.Errorf("not evaluated: on this report its cost could reach %d units, over the limit of %d; "+
			"avoid nesting comprehensions over large lists", est.Max, AssertCostLimit)
		return res
	}
	val, _, err := a.prg.Eval(vars)
	switch {
	case err != nil:
		res.Err = err
	case val == types.True:
		res.Passed = true
		return res
	case val == types.False:
	default:
		res.Err = fmt.Errorf("the expression gave %s, not a bool", formatValue(val))
	}
	var state interpreter.EvalState
	if _, det, _ := a.traced.Eval(vars); det != nil {
		state = det.State()
	}
	for _, f := range a.refs {
		v := "(not evaluated)"
		if state != nil {
			if got, ok := state.Value(f.id); ok {
				v = formatValue(got)
			}
		}
		res.Values = append(res.Values, FieldValue{Path: f.path, Value: v})
	}
	for _, m := range a.alls {
		if v, ok := m.firstFalse(vars); ok {
			// The element says more than the whole list it replaces.
			res.Values = slices.DeleteFunc(res.Values, func(f FieldValue) bool { return f.Path == m.rangePath })
			res.Values = append(res.Values, v)
		}
	}
	return res
}

// WriteAssertionFailures lists each failed assertion with the values it saw.
func WriteAssertionFailures(w io.Writer, failed []AssertionResult) error {
	var b strings.Builder
	for _, r := range failed {
		fmt.Fprintf(&b, "assertion failed: %s\n", r.Expr)
		if r.Err != nil {
			fmt.Fprintf(&b, "  error: %v\n", r.Err)
		}
		for _, v := range r.Values {
			if v.Note != "" {
				fmt.Fprintf(&b, "  %s: %s = %s\n", v.Note, v.Path, v.Value)
				continue
			}
			fmt.Fprintf(&b, "  %s = %s\n", v.Path, v.Value)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatValue shows a value the way it reads in an expression; lists and maps as JSON, cut
// short when long.
func formatValue(v ref.Val) string {
	switch x := v.(type) {
	case *types.Err:
		return "error: " + x.Error()
	case types.Null:
		return "null"
	case types.String:
		return fmt.Sprintf("%q", string(x))
	case types.Double:
		s := fmt.Sprint(float64(x))
		if !strings.ContainsAny(s, ".eEIN") {
			s += ".0" // a double, even when whole
		}
		return s
	case types.Int, types.Uint, types.Bool:
		return fmt.Sprint(x.Value())
	}
	return formatComposite(v.Value())
}
