package stages

import (
	"github.com/google/cel-go/cel"
	"sigs.k8s.io/kwok/pkg/apis/internalversion"
)

// exprFrom is a compiled weightFrom/durationFrom/jitterDurationFrom. As in
// KWOK, CEL wins when both CEL and jq are given; with neither, the written
// value is used.
type exprFrom struct {
	field string
	cel   *celProgram
	jq    *jqQuery
}

var (
	// weightCELTypes are the CEL results KWOK converts to a weight (cel.AsInt64).
	weightCELTypes = []*cel.Type{cel.IntType, cel.UintType, cel.DoubleType, cel.BoolType, cel.DurationType}
	// durationCELTypes are the CEL results KWOK converts to a duration (cel.AsDuration).
	durationCELTypes = []*cel.Type{cel.StringType, cel.DurationType, cel.IntType, cel.UintType, cel.DoubleType}
)

func (s *Stage) compileFrom(field string, src *internalversion.ExpressionFrom, celTypes []*cel.Type) (*exprFrom, error) {
	f := &exprFrom{field: field}
	var err error
	if src.CEL != nil {
		if f.cel, err = compileCEL(src.CEL.Expression, celTypes...); err != nil {
			return nil, s.errorf(field+".cel.expression", err)
		}
	}
	if src.JQ != nil {
		if f.jq, err = compileJQ(src.JQ.Expression); err != nil {
			return nil, s.errorf(field+".jq.expression", err)
		}
	}
	return f, nil
}
