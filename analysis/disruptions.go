package analysis

import "time"

// RefusedEvictionRecord is an eviction the eviction API refused (HTTP 429) because a
// PodDisruptionBudget allowed no disruption, as kube-apiserver's EvictionREST refuses it.
type RefusedEvictionRecord struct {
	At        time.Duration
	Namespace string
	Pod       string
	// Budget is the name of the PodDisruptionBudget (in the pod's namespace) that refused.
	Budget  string
	Message string
}

// DrainRecord is one drain of a node (the trace operation `drain`, with kubectl drain's
// semantics). The drain keeps the record it registered up to date (sim.Recorder.Drain); a
// drain still running when the run ends has no End.
type DrainRecord struct {
	Node  string
	Start time.Duration
	End   *time.Duration
	// Outcome is DrainCompleted, DrainTimedOut, DrainFailed or DrainInProgress.
	Outcome string
	// Evicted counts the pods evicted; Refused the evictions refused (each retry counts).
	Evicted, Refused int
	// Skipped are the pods the drain leaves on the node (DaemonSet and mirror pods), as
	// "namespace/name (reason)".
	Skipped []string
	// Message says why a drain failed or timed out.
	Message string
}

// Outcomes of a drain.
const (
	DrainCompleted  = "completed"
	DrainTimedOut   = "timed out"
	DrainFailed     = "failed"
	DrainInProgress = "in progress"
)
