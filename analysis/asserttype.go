package analysis

import (
	"fmt"
	"reflect"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
)

// arithmetic are the operators whose result is never a bool.
var arithmetic = map[string]string{
	operators.Add: "+", operators.Subtract: "-", operators.Multiply: "*", operators.Divide: "/",
	operators.Modulo: "%", operators.Negate: "-",
}

// notBool tells, for an expression the checker types as dyn, what it gives when that is
// known not to be a bool without a report: a report field's Go type (types, by expression
// id, from fieldRefsOf), the result of an arithmetic operator, either branch of a ternary.
// The report variables are declared dyn, so `summary.pods.unschedulable` type-checks; it
// would otherwise be found only after the run, as a failed assertion (exit 1), where a
// mistyped expression is bad input (exit 2) found before it.
func notBool(e celast.Expr, types map[int64]reflect.Type) (string, bool) {
	if t, ok := types[e.ID()]; ok {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Bool, reflect.Interface:
			return "", false
		case reflect.Slice, reflect.Array:
			return "a list", true
		}
		return article(kindName(t)), true
	}
	if e.Kind() != celast.CallKind {
		return "", false
	}
	c := e.AsCall()
	if op, ok := arithmetic[c.FunctionName()]; ok {
		return fmt.Sprintf("the result of %s", op), true
	}
	if c.FunctionName() == operators.Conditional && len(c.Args()) == 3 {
		for _, branch := range c.Args()[1:] {
			if what, ok := notBool(branch, types); ok {
				return what, true
			}
		}
	}
	return "", false
}

// article puts "a" or "an" before a type name.
func article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}
