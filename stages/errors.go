package stages

import (
	"errors"
	"fmt"
)

var (
	// ErrJQStepLimit reports a jq expression that ran past its step budget.
	ErrJQStepLimit = errors.New("jq step limit exceeded")
	// ErrJQResultLimit reports a jq expression that yielded too many results.
	ErrJQResultLimit = errors.New("jq result limit exceeded")
	// ErrCELCostLimit reports a CEL expression that ran past its cost limit.
	ErrCELCostLimit = errors.New("CEL cost limit exceeded")
	// ErrRenderTooLarge reports a template whose output exceeds the render cap.
	ErrRenderTooLarge = errors.New("rendered template too large")
)

// Error locates a failure in a stage: which file, which stage, which field.
// Stages are user input, so every load and evaluation error says where to look.
type Error struct {
	Source string // file (or "" when the stage came from elsewhere)
	Stage  string // metadata.name
	Field  string // e.g. spec.selector.matchExpressions[1].jq.key
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("stage %q", e.Stage)
	if e.Source != "" {
		msg = e.Source + ": " + msg
	}
	if e.Field != "" {
		msg += ": " + e.Field
	}
	return msg + ": " + e.Err.Error()
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*Error) BadInput() {}

func (e *Error) Unwrap() error { return e.Err }

// errorf builds an Error for stage s at field.
func (s *Stage) errorf(field string, err error) error {
	return &Error{Source: s.source, Stage: s.Name, Field: field, Err: err}
}
