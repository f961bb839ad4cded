package stages

import (
	"errors"
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
)

// celCostLimit bounds one evaluation in CEL's abstract cost units, which are
// counted, not timed, so the limit holds the same everywhere.
const celCostLimit = 1_000_000

// celEnv declares `self`, the object as a JSON map. KWOK hands CEL typed
// Pods/Nodes from its pod and node controllers and maps from its generic
// controller; kwoksim always hands maps, so a missing field is an error
// ("no such key") where typed KWOK would read a zero value: use has().
// KWOK's extension functions (Now, Rand, SinceSecond, UnixSecond, Quantity)
// are not provided: three of them read the wall clock or global randomness.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(cel.Variable("self", cel.MapType(cel.StringType, cel.DynType)))
})

// celProgram is a compiled, cost-limited CEL expression.
type celProgram struct {
	src string
	prg cel.Program
}

// compileCEL compiles src and checks that its static type is one of want
// (dyn is always accepted: its type is known only at run time).
func compileCEL(src string, want ...*cel.Type) (*celProgram, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	out := ast.OutputType()
	ok := out.IsExactType(cel.DynType)
	for _, w := range want {
		ok = ok || out.IsExactType(w)
	}
	if !ok {
		return nil, fmt.Errorf("expression has type %s, want one of %v", out, want)
	}
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit))
	if err != nil {
		return nil, err
	}
	return &celProgram{src: src, prg: prg}, nil
}

func (p *celProgram) eval(obj map[string]any) (ref.Val, error) {
	val, _, err := p.prg.Eval(map[string]any{"self": obj})
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			return nil, fmt.Errorf("%w (limit %d): %s", ErrCELCostLimit, celCostLimit, p.src)
		}
		return nil, err
	}
	return val, nil
}
