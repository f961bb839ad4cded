package analysis

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// History is the run's change log, in the order things happened (so by virtual time), from
// which the time series is swept. It holds only the writes that move a count or a sum: a pod's
// phase, binding or existence, a node's readiness, allocatable or existence. Node heartbeats
// and other status writes that change none of these are left out, which keeps it small on
// long runs.
type History struct {
	Pods  []PodChange
	Nodes []NodeChange
}

// PodChange is a pod's state after a write that changed its phase, its binding, its
// readiness, its termination or its existence.
type PodChange struct {
	At time.Duration
	// Pod is the pod's index in Observation.Pods. Its requests and node are taken from
	// that record: both are fixed once the pod is bound.
	Pod   int32
	Phase corev1.PodPhase
	Bound bool
	// Ready is the pod's Ready condition being True; Terminating its having a
	// deletionTimestamp. Workload recovery is swept from them (a workload controller counts
	// only active pods, those not terminating, in its ready replicas). Both bools fit in the
	// struct's padding, so they cost no memory.
	Ready, Terminating bool
	// Gone is true when the pod was deleted for good.
	Gone bool
}

// NodeChange is a node's state after a write that created or deleted it, or changed its
// readiness or allocatable.
type NodeChange struct {
	At    time.Duration
	Name  string
	Ready bool
	// Gone is true when the node was deleted.
	Gone bool
	// Allocatable is the node's allocatable when the write set it (always on creation);
	// nil means unchanged.
	Allocatable corev1.ResourceList
}
