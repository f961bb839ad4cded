package sim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"
	"k8s.io/kubernetes/pkg/features"
)

// deterministicGates are scheduler feature gates the simulator turns off because they make
// decisions on the wall clock, which no virtual clock can reach:
//
//   - OpportunisticBatching (beta, on by default in v1.37) reuses a cycle's node ranking for the
//     next pods with the same signature, checking only the hinted node, until the cached state
//     is 500 ms old by time.Now(). Which pods get a full cycle then depends on how fast the
//     machine runs, and placements (and the scheduler's round-robin start index) with it.
//   - SchedulerAsyncPreemption (beta, on by default) evicts preemption victims from a goroutine
//     of its own, racing the simulation's event loop: which victim's deletion lands first, and
//     when the preemptor is retried, would depend on goroutine timing. Off, the real plugin
//     evicts them inside the scheduling cycle, in order, as kube-scheduler did until v1.32.
//
// Config.FeatureGates may turn them on again: the run is then not reproducible, and
// NondeterministicGates says so.
//
// The gates are process-wide; everything the scheduler decides in this process runs with them.
var deterministicGates = map[string]bool{
	string(features.OpportunisticBatching):    false,
	string(features.SchedulerAsyncPreemption): false,
}

// gateHazards say what each of deterministicGates makes a run depend on when turned on
// again, for the warning and the report's note (see NondeterminismReason).
var gateHazards = map[string]string{
	string(features.OpportunisticBatching): "makes decisions on the wall clock: it reuses a scheduling cycle's node ranking " +
		"for the next pods of the same shape until the ranking is 500 ms old by time.Now(), so which pods get a full cycle " +
		"(and where they land) depends on how fast the machine runs",
	string(features.SchedulerAsyncPreemption): "makes decisions on goroutine timing: it evicts preemption victims from a goroutine " +
		"of its own, racing the simulation's event loop, so which deletion lands first and when the preemptor is retried vary from run to run",
}

// NondeterminismReason says what a gate of NondeterministicGates makes a run depend on, a
// clause to follow the gate's name ("makes decisions on the wall clock: …"); it is empty for
// any other gate.
func NondeterminismReason(gate string) string { return gateHazards[gate] }

// unsupportedGates are gates the simulator cannot run turned on, with why.
var unsupportedGates = map[string]string{
	// scheduler.go starts the dispatcher only in Scheduler.Run, which kwoksim never calls (it
	// drives the scheduler one cycle at a time): with the gate on, the first binding would
	// wait for ever for a dispatcher that is not running. Run, its goroutines would make the
	// scheduler's status updates land at times no virtual clock decides.
	string(features.SchedulerAsyncAPICalls): "the scheduler's API dispatcher makes its API calls from goroutines of its own, outside the cycle-by-cycle drive that keeps a simulation on virtual time; kwoksim runs with the gate off (its default in v1.37)",
}

// CheckFeatureGates refuses gates the simulator cannot run with, before anything is built: a
// gate the simulator does not support (unsupportedGates), and what the feature gate itself
// refuses (an unknown gate, one locked to its default, a gate whose dependencies are off). It
// returns a *FeatureGateError naming the gate and why.
func CheckFeatureGates(user map[string]bool) error {
	if err := checkSupported(user); err != nil {
		return err
	}
	gates.Lock()
	defer gates.Unlock()
	return checkSettings(gateSettings(user))
}

// checkSupported refuses the gates of unsupportedGates turned on.
func checkSupported(user map[string]bool) error {
	for _, name := range slices.Sorted(maps.Keys(user)) {
		if why, ok := unsupportedGates[name]; ok && user[name] {
			return &FeatureGateError{Err: fmt.Errorf("%s=true is not supported: %s", name, why)}
		}
	}
	return nil
}

// checkSettings tries the settings on a copy of the process's feature gate. They must never
// reach the real one unchecked: SetFromMap records what it is given before it validates it, so
// one unknown gate would make every later SetFromMap of the process fail, and with it every
// later simulator (a test binary's, perf's next workload).
func checkSettings(set map[string]bool) error {
	if err := utilfeature.DefaultMutableFeatureGate.DeepCopy().SetFromMap(set); err != nil {
		return &FeatureGateError{Err: err}
	}
	return nil
}

// ConfigureScheduler applies the process-wide scheduler settings the simulator runs with by
// default. New applies its Config's; a benchmark that runs another scheduler in the same
// process calls it first, so both run with the same configuration.
func ConfigureScheduler() error { return applyGates(nil) }

// gates is what applyGates last set, so that the next simulator's gates are set from the
// defaults again, not from the last run's.
var gates struct {
	sync.Mutex
	user map[string]bool
}

// applyGates sets the process's feature gates for a simulator: kube-scheduler's defaults, then
// deterministicGates, then the user's (--feature-gates). A gate an earlier simulator of the
// process set and this one does not goes back to its default, as in a fresh kube-scheduler.
// The gates are process-wide: simulators with different gates must not run at once.
func applyGates(user map[string]bool) error {
	if err := checkSupported(user); err != nil {
		return err
	}
	gates.Lock()
	defer gates.Unlock()
	set := gateSettings(user)
	if err := checkSettings(set); err != nil {
		return err
	}
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(set); err != nil {
		return &FeatureGateError{Err: err}
	}
	gates.user = user
	return nil
}

// gateSettings is what applyGates sets for user's gates; the caller holds gates' lock.
func gateSettings(user map[string]bool) map[string]bool {
	known := utilfeature.DefaultMutableFeatureGate.GetAll()
	set := map[string]bool{}
	for name := range gates.user {
		if spec, ok := known[featuregate.Feature(name)]; ok {
			set[name] = spec.Default
		}
	}
	for name, v := range deterministicGates {
		set[name] = v
	}
	for name, v := range user {
		set[name] = v
	}
	return set
}

// FeatureGateError is a --feature-gates setting the feature gate refuses: an unknown gate, or
// one locked to its default.
type FeatureGateError struct{ Err error }

func (e *FeatureGateError) Error() string { return "feature gates: " + e.Err.Error() }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*FeatureGateError) BadInput() {}

func (e *FeatureGateError) Unwrap() error { return e.Err }

// NondeterministicGates lists, sorted, the gates of user that make a run depend on the wall
// clock or on goroutine timing (deterministicGates turned on again), for the warning a command
// prints.
func NondeterministicGates(user map[string]bool) []string {
	var out []string
	for name, v := range user {
		if def, ok := deterministicGates[name]; ok && v != def {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// ParseFeatureGates parses a --feature-gates value, "Name=true,Other=false", as component-base's
// flag does; an empty value is no gates.
func ParseFeatureGates(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("missing bool value for %s", kv)
		}
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "true":
			out[strings.TrimSpace(name)] = true
		case "false":
			out[strings.TrimSpace(name)] = false
		default:
			return nil, fmt.Errorf("invalid value of %s=%s, want true or false", name, val)
		}
	}
	return out, nil
}
