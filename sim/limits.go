package sim

import (
	"fmt"
)

// Limits keep a run that its inputs make grow without bound (a trace that never deletes, a
// controller scaled to millions) from exhausting memory: past a limit the run fails with a
// message naming the limit and the flag that raises it, instead of the process being killed.

// DefaultMaxObjects bounds the objects the simulated apiserver stores at once. Generous: a
// stored pod with its informer and scheduler copies costs a few KiB, so a million objects is
// several GiB, more than the largest public traces need.
const DefaultMaxObjects = 1_000_000

// The command-line flags that raise the limits, named in the errors.
const (
	MaxObjectsFlag          = "--max-objects"
	MaxEventsPerInstantFlag = "--max-events-per-instant"
)

// validateLimits defaults and checks the limits of c.
func (c *Config) validateLimits() error {
	if c.MaxObjects == 0 {
		c.MaxObjects = DefaultMaxObjects
	}
	if c.MaxObjects < 0 {
		return fmt.Errorf("the object limit must be positive, got %d", c.MaxObjects)
	}
	if c.MaxEventsPerInstant < 0 {
		return fmt.Errorf("the limit of events per virtual instant must be positive, got %d", c.MaxEventsPerInstant)
	}
	return nil
}

// objectLimit counts the objects stored and refuses the create that would pass max.
type objectLimit struct {
	max    int // 0: no limit (an API built without a Config, in tests)
	stored int
	// abort stops the run: a create refused here would otherwise surface only as a
	// controller's or the trace's failed write, and the run would go on without the object.
	abort func(error)
}

// admit is called before an object is created.
func (l *objectLimit) admit(k *Kind, namespace, name string) error {
	if l.max <= 0 || l.stored < l.max {
		return nil
	}
	if namespace != "" {
		name = namespace + "/" + name
	}
	err := &Failure{Msg: fmt.Sprintf("object limit reached: creating %s %s would store more than %d objects "+
		"(the limit of the simulated apiserver; raise it with %s)", k.Name(), name, l.max, MaxObjectsFlag)}
	if l.abort != nil {
		l.abort(err)
	}
	return err
}
