package app

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/sim"
)

// gateFlags are --feature-gates, the scheduler's feature gates as kube-scheduler's flag takes
// them, and --disable-admission-plugins, the simulated apiserver's plugins to turn off as
// kube-apiserver's flag names them (sim.Config.FeatureGates, DisableAdmissionPlugins).
type gateFlags struct {
	gates    featureGatesValue
	disabled []string
}

func (f *gateFlags) register(fl *pflag.FlagSet) {
	fl.Var(&f.gates, "feature-gates", "the scheduler's feature gates as NAME=true|false pairs, comma-separated, as kube-scheduler's --feature-gates;\n"+
		"repeatable. Set over kube-scheduler's defaults and the two gates kwoksim turns off to stay reproducible\n"+
		"(OpportunisticBatching, SchedulerAsyncPreemption), for the whole process: the simulated apiserver and\n"+
		"controllers see them too. Turning either of those two on makes the run not reproducible (a warning and a\n"+
		"note in the report say so); SchedulerAsyncAPICalls=true is refused")
	fl.StringSliceVar(&f.disabled, "disable-admission-plugins", nil, "admission plugins of the simulated apiserver to turn off, comma-separated, named as kube-apiserver's\n"+
		"--disable-admission-plugins names them; repeatable. kwoksim runs:\n  "+strings.Join(sim.AdmissionPlugins, ", ")+".\n"+
		"With Priority off, a pod may give spec.priority without a PriorityClass")
}

// gatesOf reads the forwarded --feature-gates and --disable-admission-plugins of a plan.
func gatesOf(fl *pflag.FlagSet) *gateFlags {
	f := &gateFlags{}
	if v, ok := fl.Lookup("feature-gates").Value.(*featureGatesValue); ok {
		f.gates = *v
	}
	f.disabled, _ = fl.GetStringSlice("disable-admission-plugins")
	return f
}

// check refuses what the simulator would refuse, before any input is read: a gate the
// feature gate does not know or has locked, one kwoksim cannot run with, an admission plugin
// it does not run.
func (f *gateFlags) check() error {
	if err := sim.CheckFeatureGates(f.gates.m); err != nil {
		var fe *sim.FeatureGateError
		if errors.As(err, &fe) {
			err = fe.Err // "feature gates: " would only repeat the flag's name
		}
		return usageError{fmt.Errorf("--feature-gates: %w", err)}
	}
	if err := sim.CheckAdmissionPlugins(f.disabled); err != nil {
		return usageError{fmt.Errorf("--disable-admission-plugins: %w", err)}
	}
	return nil
}

// nondeterminismNote says why the run is not reproducible when the gates turn on one of those
// kwoksim turns off to stay deterministic (sim.NondeterministicGates); empty otherwise. It is
// the run's warning and a note of its report, which is otherwise trusted to come out the same
// from the same inputs and seed.
func (f *gateFlags) nondeterminismNote() string {
	why := gateHazards(f.gates.m)
	if why == "" {
		return ""
	}
	return fmt.Sprintf("this run is not reproducible (--feature-gates): %s; the same inputs and seed may give another report", why)
}

// gateHazards says what each gate of sim.NondeterministicGates(gates) makes a run depend on,
// "OpportunisticBatching makes decisions on the wall clock: …; …"; empty when none does.
func gateHazards(gates map[string]bool) string {
	names := sim.NondeterministicGates(gates)
	why := make([]string, len(names))
	for i, n := range names {
		why[i] = n + " " + sim.NondeterminismReason(n)
	}
	return strings.Join(why, "; ")
}

// featureGatesValue is --feature-gates: NAME=BOOL pairs, comma-separated, parsed as they are
// given (a malformed one fails naming the flag), merged over the earlier ones when repeated,
// as component-base's flag does.
type featureGatesValue struct{ m map[string]bool }

var _ pflag.Value = (*featureGatesValue)(nil)

func (v *featureGatesValue) Set(s string) error {
	gates, err := sim.ParseFeatureGates(s)
	if err != nil {
		return err
	}
	if v.m == nil {
		v.m = map[string]bool{}
	}
	for name, on := range gates {
		v.m[name] = on
	}
	return nil
}

func (v *featureGatesValue) Type() string { return "NAME=BOOL,…" }

// String is the gates sorted by name, the form a plan forwards to its runs; empty when none
// were given, so that help prints no default.
func (v *featureGatesValue) String() string {
	names := make([]string, 0, len(v.m))
	for name := range v.m {
		names = append(names, name)
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, name := range names {
		pairs[i] = name + "=" + strconv.FormatBool(v.m[name])
	}
	return strings.Join(pairs, ",")
}
