package sim

import (
	"fmt"
	"sync"

	utilfeature "k8s.io/apiserver/pkg/util/feature"
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
// The gates are process-wide; everything the scheduler decides in this process runs with them.
var deterministicGates = map[string]bool{
	string(features.OpportunisticBatching):    false,
	string(features.SchedulerAsyncPreemption): false,
}

// ConfigureScheduler applies the process-wide scheduler settings the simulator runs with. New
// calls it; a benchmark that runs another scheduler in the same process calls it first, so
// both run with the same configuration.
func ConfigureScheduler() error { return setGates() }

var setGates = sync.OnceValue(func() error {
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(deterministicGates); err != nil {
		return fmt.Errorf("setting scheduler feature gates: %w", err)
	}
	return nil
})
