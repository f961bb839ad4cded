package stages

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// selector is a compiled StageSelector. All parts are ANDed and evaluated in
// KWOK's order: labels, annotations, every jq requirement, then every CEL
// expression (regardless of how jq and CEL entries interleave in the list).
type selector struct {
	labels      map[string]string // nil: not given
	annotations map[string]string // nil: not given
	jq          []*jqRequirement
	cel         []*celCondition
}

type jqRequirement struct {
	field  string
	query  *jqQuery
	op     internalversion.SelectorOperator
	values []string
}

type celCondition struct {
	field string
	prg   *celProgram
}

func (s *Stage) compileSelector(in *internalversion.StageSelector) (*selector, error) {
	sel := &selector{labels: in.MatchLabels, annotations: in.MatchAnnotations}
	for i, e := range in.MatchExpressions {
		field := fmt.Sprintf("spec.selector.matchExpressions[%d]", i)
		switch {
		case e.JQ != nil:
			r, err := compileRequirement(e.JQ)
			if err != nil {
				return nil, s.errorf(field, err)
			}
			r.field = field
			sel.jq = append(sel.jq, r)
		case e.CEL != nil:
			prg, err := compileCEL(e.CEL.Expression, cel.BoolType)
			if err != nil {
				return nil, s.errorf(field+".cel.expression", err)
			}
			sel.cel = append(sel.cel, &celCondition{field: field, prg: prg})
		default:
			return nil, s.errorf(field, errors.New("needs jq (or key/operator/values) or cel"))
		}
	}
	return sel, nil
}

// compileRequirement validates operator and values as KWOK's
// expression.NewRequirement does.
func compileRequirement(in *internalversion.SelectorJQ) (*jqRequirement, error) {
	q, err := compileJQ(in.Key)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", in.Key, err)
	}
	switch in.Operator {
	case internalversion.SelectorOpIn, internalversion.SelectorOpNotIn:
		if len(in.Values) == 0 {
			return nil, fmt.Errorf("operator %s needs values", in.Operator)
		}
	case internalversion.SelectorOpExists, internalversion.SelectorOpDoesNotExist:
		if len(in.Values) != 0 {
			return nil, fmt.Errorf("operator %s takes no values", in.Operator)
		}
	default:
		return nil, fmt.Errorf("operator %q is not supported (In, NotIn, Exists, DoesNotExist)", in.Operator)
	}
	return &jqRequirement{query: q, op: in.Operator, values: in.Values}, nil
}

// Match returns the stages whose resourceRef kind equals kind and whose
// selector matches obj, in the order given. The apiGroup is not compared
// (objects from typed clients carry no apiVersion); KWOK runs one controller
// per {apiGroup, kind}, so pass only the stages of the object's group when
// kinds could collide. obj is the object as
// encoding/json decodes it (numbers float64), which is what KWOK's jq sees;
// see Object. A stage without a selector never matches. An evaluation error
// (a CEL runtime error, an exhausted budget) fails the whole match, as in KWOK.
func Match(stages []*Stage, kind string, obj map[string]any) ([]*Stage, error) {
	var out []*Stage
	var memo jqMemo
	for _, s := range stages {
		if s.Kind != kind || s.selector == nil {
			continue
		}
		ok, err := s.matches(obj, &memo)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func (s *Stage) matches(obj map[string]any, memo *jqMemo) (bool, error) {
	sel := s.selector
	meta, _ := obj["metadata"].(map[string]any)
	if sel.labels != nil && !setMatches(sel.labels, meta["labels"]) {
		return false, nil
	}
	if sel.annotations != nil && !setMatches(sel.annotations, meta["annotations"]) {
		return false, nil
	}
	for _, r := range sel.jq {
		ok, err := r.matchesResults(memo.run(r.query, obj))
		if err != nil {
			return false, s.errorf(r.field, err)
		}
		if !ok {
			return false, nil
		}
	}
	for _, c := range sel.cel {
		val, err := c.prg.eval(obj)
		if err != nil {
			return false, s.errorf(c.field, err)
		}
		b, isBool := val.(types.Bool)
		if !isBool {
			return false, s.errorf(c.field, fmt.Errorf("expression returned %s, want bool", val.Type()))
		}
		if !b {
			return false, nil
		}
	}
	return true, nil
}

// setMatches is labels.SelectorFromSet(want).Matches: every key present with
// an equal value (an empty set matches everything).
func setMatches(want map[string]string, have any) bool {
	m, _ := have.(map[string]any)
	for k, v := range want {
		got, ok := m[k].(string)
		if !ok || got != v {
			return false
		}
	}
	return true
}

// matches applies KWOK's operator semantics. A jq runtime error is "no
// result": In and Exists fail, NotIn and DoesNotExist hold.
func (r *jqRequirement) matches(obj map[string]any) (bool, error) {
	return r.matchesResults(r.query.run(obj))
}

// matchesResults applies the operator to the query's results.
func (r *jqRequirement) matchesResults(results []any, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	switch r.op {
	case internalversion.SelectorOpIn:
		return anyValueIn(results, r.values), nil
	case internalversion.SelectorOpNotIn:
		return !anyValueIn(results, r.values), nil
	case internalversion.SelectorOpExists:
		return len(results) != 0, nil
	case internalversion.SelectorOpDoesNotExist:
		return len(results) == 0, nil
	}
	return false, nil
}

// anyValueIn reports whether some result, as a string, is among values. Like
// KWOK, only strings, booleans and jq integers compare; a number read from
// the object is a float64 and never equals any value (`.spec.replicas In
// ["3"]` does not match, `.spec.containers | length In ["1"]` does).
func anyValueIn(results []any, values []string) bool {
	for _, r := range results {
		var s string
		switch t := r.(type) {
		case string:
			s = t
		case bool:
			s = strconv.FormatBool(t)
		case int:
			s = strconv.Itoa(t)
		default:
			continue
		}
		if slices.Contains(values, s) {
			return true
		}
	}
	return false
}
