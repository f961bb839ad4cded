package stages

import (
	"context"
	"errors"
	"time"

	"github.com/itchyny/gojq"
)

const (
	// jqStepLimit bounds one evaluation. gojq polls its context once per VM
	// instruction, so counting those polls is a budget that, unlike a timeout,
	// gives the same answer on every machine.
	jqStepLimit = 1_000_000
	// jqResultLimit bounds how many results one evaluation may yield
	// (KWOK collects them all; `range(1e9)` would otherwise exhaust memory).
	jqResultLimit = 10_000
)

// errJQEnv refuses jq's $ENV and env, as sprig's env is refused in templates.
var errJQEnv = errors.New("jq's $ENV (and env) is not available: a simulation does not read the environment of the machine it runs on (KWOK would see an empty object)")

// jqQuery is a compiled jq expression.
type jqQuery struct {
	src  string
	code *gojq.Code
	path *jqPath // nil: not a plain path; gojq evaluates it
}

func compileJQ(src string) (*jqQuery, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, err
	}
	// gojq asks for the environment only when it compiles a reference to $ENV or env;
	// without a loader both are silently {} (as in KWOK). A simulation must not depend on
	// the machine it runs on, so a reference is refused here rather than read as empty.
	readsEnv := false
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { readsEnv = true; return nil }))
	if err != nil {
		return nil, err
	}
	if readsEnv {
		return nil, errJQEnv
	}
	return &jqQuery{src: src, code: code, path: compileJQPath(q)}, nil
}

// run evaluates q on v with KWOK's semantics: null results are dropped, and a
// runtime error anywhere in the stream means "no result" (nil, nil) rather
// than an error. Only exhausting kwoksim's own budgets is an error.
func (q *jqQuery) run(v any) ([]any, error) {
	if q.path != nil {
		if out, ok := q.path.run(v); ok {
			return out, nil
		}
	}
	return q.runGojq(v)
}

// runGojq is run by gojq alone: the reference the path walk must agree with.
func (q *jqQuery) runGojq(v any) ([]any, error) {
	budget := &jqBudget{left: jqStepLimit}
	iter := q.code.RunWithContext(budget, v)
	out := []any{}
	for {
		r, ok := iter.Next()
		if !ok {
			return out, nil
		}
		if err, isErr := r.(error); isErr {
			if errors.Is(err, ErrJQStepLimit) {
				return nil, err
			}
			return nil, nil
		}
		if r == nil {
			continue
		}
		if len(out) == jqResultLimit {
			return nil, ErrJQResultLimit
		}
		out = append(out, r)
	}
}

// jqBudget is a context.Context whose Done channel closes after a fixed number
// of polls. It never reads the clock.
type jqBudget struct {
	left int
}

var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (b *jqBudget) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns nil (never ready) while budget remains, so gojq's non-blocking
// select falls through; once spent it returns a closed channel.
func (b *jqBudget) Done() <-chan struct{} {
	if b.left <= 0 {
		return closedDone
	}
	b.left--
	return nil
}

func (b *jqBudget) Err() error {
	if b.left <= 0 {
		return ErrJQStepLimit
	}
	return nil
}

func (b *jqBudget) Value(any) any { return nil }

var _ context.Context = (*jqBudget)(nil)
