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

// Refusal is a transition the component a stage stands for would not make: an
// external-provisioner that cannot find the claim's StorageClass, or one told
// to wait. A template returns it through the Env (VolumeNodeAffinity) or the
// Refuse and Skip functions. The simulator performs none of the transition's
// steps, records Reason and Message as a Warning event on the object when
// Reason is set (Skip sets none: the component would wait without a word), and
// plans the object's stages again on its next change, where a real component
// would also retry on a back-off of its own.
type Refusal struct {
	Reason  string // the event's reason, e.g. ProvisioningFailed; "" for none
	Message string
}

func (r *Refusal) Error() string {
	if r.Reason == "" {
		return "skipped"
	}
	return "refused: " + r.Reason + ": " + r.Message
}
