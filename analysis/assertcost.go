package analysis

import (
	"reflect"
	"unicode/utf8"

	"github.com/google/cel-go/checker"
)

// sizeBounds are the largest sizes of each kind of value in one report: what CEL's cost
// estimate needs for values whose size the expression does not show.
type sizeBounds struct {
	str, list, obj uint64
}

// max is the bound for a value of unknown kind.
func (s sizeBounds) max() uint64 { return max(s.str, s.list, s.obj) }

// reportSizes walks a report's values for its largest string, list and map.
func reportSizes(v any) sizeBounds {
	var s sizeBounds
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			s.str = max(s.str, uint64(utf8.RuneCountInString(x)))
		case []any:
			s.list = max(s.list, uint64(len(x)))
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			s.obj = max(s.obj, uint64(len(x)))
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return s
}

// costEstimator sizes the report paths of one expression by their Go type: a string is at
// most as long as the report's longest string, a list as long as its longest list. Values
// of unknown type (the dyn results of macros) get the largest bound of any kind.
type costEstimator struct {
	sizes sizeBounds
	types map[int64]reflect.Type
}

var _ checker.CostEstimator = costEstimator{}

func (c costEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	bound := c.sizes.max()
	if t, ok := c.types[n.Expr().ID()]; ok {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.String:
			bound = c.sizes.str
		case reflect.Slice, reflect.Array:
			bound = c.sizes.list
		case reflect.Map, reflect.Struct:
			bound = c.sizes.obj
		}
	}
	return &checker.SizeEstimate{Min: 0, Max: bound}
}

func (costEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil // CEL's own per-function costs
}
