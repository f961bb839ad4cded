package app

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/workloads/trace"
)

// arrivalFlags are run's replay modes of packing studies (trace.ArrivalOptions).
type arrivalFlags struct {
	only               bool
	untilUnschedulable int
}

func (f *arrivalFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.only, "arrivals-only", false, "replay the traces' arrivals only: their Pod delete events are counted, not performed (other kinds' deletions,\n"+
		"evict and drain, and what the simulation itself deletes go on). The report's arrivals section and notes say how many were skipped")
	fl.IntVar(&f.untilUnschedulable, "until-unschedulable", 0, "end the run at the virtual instant N pods the traces created in a row are unschedulable at their first\n"+
		"scheduling attempt (1: the first such pod); 0: off. With --until, whichever comes first. The report's arrivals section says which pod and when")
}

// check refuses the flags without a trace, where they would silently do nothing.
func (f *arrivalFlags) check(traced bool) error {
	if f.untilUnschedulable < 0 {
		return usageError{fmt.Errorf("--until-unschedulable must not be negative, got %d (0 turns it off)", f.untilUnschedulable)}
	}
	if traced {
		return nil
	}
	if f.only {
		return usageError{errors.New("--arrivals-only needs --trace: it leaves out a trace's Pod deletions")}
	}
	if f.untilUnschedulable > 0 {
		return usageError{errors.New("--until-unschedulable needs --trace: it counts the pods a trace creates")}
	}
	return nil
}

// options are the run's arrival modes, nil when neither flag was given: the trace is then
// replayed as recorded and the report has no arrivals section, as before these flags.
func (f *arrivalFlags) options() *trace.ArrivalOptions {
	if !f.only && f.untilUnschedulable == 0 {
		return nil
	}
	return &trace.ArrivalOptions{Only: f.only, UntilUnschedulable: f.untilUnschedulable}
}
