package analysis

import "time"

// AutoscalerRecord is what the node autoscaler of a run did (issue 21): the observation the
// report's autoscaling section is built from. The autoscaler (workloads/nodeautoscaler)
// fills it as the run goes; nil when the run had no autoscaler.
type AutoscalerRecord struct {
	// Autoscaler is the behaviour modelled: "cluster-autoscaler" or "karpenter".
	Autoscaler string
	// Pools are the NodePools, in input order.
	Pools []PoolRecord
	// Nodes are the nodes of the pools, in the order they were launched (those present at
	// t=0 first, by name).
	Nodes []*AutoscaledNodeRecord
	// Events are the autoscaler's decisions and their failures, in the order they happened.
	Events []ScaleEventRecord
	// NoScaleUp are the pods that were unschedulable and that no pool could take, by
	// namespace and name, each with the last reason given (CA's NotTriggerScaleUp message,
	// Karpenter's "incompatible with nodepool" one). A pod that later found room stays listed
	// with Resolved set.
	NoScaleUp []NoScaleUpRecord
	// Unremovable are the pool nodes that were underutilized but could not be removed at the
	// end of the run, by node name, with CA's reason (NoPlaceToMovePods, NodeGroupMinSizeReached,
	// BlockedByPod: NotEnoughPdb, …) or Karpenter's.
	Unremovable []UnremovableRecord
	// NotModelled says, one line each, which upstream behaviours of this autoscaler kwoksim
	// leaves out and what the real one would have done.
	NotModelled []string
}

// PoolRecord is one NodePool as the autoscaler saw it.
type PoolRecord struct {
	Name     string
	Min, Max int32
	Shapes   []ShapeRecord
}

// ShapeRecord is one instance shape of a pool.
type ShapeRecord struct {
	Name         string
	PricePerHour float64
	// CPU and Memory are the shape's allocatable, in cores and bytes.
	CPU    float64
	Memory float64
}

// AutoscaledNodeRecord is one node of a pool, from its launch to its deletion.
type AutoscaledNodeRecord struct {
	Name, Pool, Shape string
	PricePerHour      float64
	// LaunchedAt is when it was asked for (the scale-up decision; 0 for a node present at
	// t=0): billing starts then, as a cloud bills an instance from its launch.
	LaunchedAt time.Duration
	// RegisteredAt is when its Node object was created; ReadyAt when it was first Ready; nil
	// while it has not been.
	RegisteredAt, ReadyAt *time.Duration
	// DrainStartedAt is when the autoscaler chose to remove it (tainted it); DeletedAt when
	// its Node object (and instance) went away: billing ends then. nil while it has not.
	DrainStartedAt, DeletedAt *time.Duration
	// Initial marks a node present at t=0 (listed in the inputs with the pool's label, or
	// brought up to the pool's min at t=0).
	Initial bool
	// FailedToRegister marks a launch that did not register within max-node-provision-time
	// (CA) or the registration timeout (Karpenter) and was given up.
	FailedToRegister bool
	// RemovalReason is why it was removed ("empty", "underutilized", "replaced", …); "" while
	// it was not.
	RemovalReason string
}

// Scale event types.
const (
	ScaleUp          = "ScaleUp"
	ScaleDown        = "ScaleDown"
	ScaleUpTimedOut  = "ScaleUpTimedOut"
	ScaleDownFailed  = "ScaleDownFailed"
	ScaleUpFailed    = "ScaleUpFailed"
	Consolidation    = "Consolidation"
	NodeRegistered   = "NodeRegistered"
	ScaleUpSkipped   = "ScaleUpSkipped"
	ScaleDownSkipped = "ScaleDownSkipped"
)

// ScaleEventRecord is one decision of the autoscaler.
type ScaleEventRecord struct {
	At time.Duration
	// Type is one of the constants above.
	Type string
	// Pool and Shape name the node group acted on ("" when none, as for a skipped scale-up).
	Pool, Shape string
	// Nodes are the nodes launched or removed, by name; Count their number (for a scale-up,
	// the nodes asked for).
	Nodes []string
	Count int
	// Pods is how many pending pods the decision was for (a scale-up), or how many pods had
	// to move (a scale-down).
	Pods int
	// Reason is the upstream event's reason ("ScaledUpGroup", "ScaleDownEmpty",
	// "DisruptionTerminating", …) and Message its text, with kwoksim's detail (the expander's
	// choice, utilization).
	Reason, Message string
}

// NoScaleUpRecord is a pod no pool could take.
type NoScaleUpRecord struct {
	Namespace, Name string
	// At is the last time the autoscaler gave the reason.
	At     time.Duration
	Reason string
	// Resolved is when the pod was bound after all (another node freed room), nil if never.
	Resolved *time.Duration
}

// UnremovableRecord is a node the autoscaler would remove but could not.
type UnremovableRecord struct {
	Node, Pool string
	At         time.Duration
	// Reason is CA's UnremovableReason name or Karpenter's; Detail the blocking pod or the
	// numbers.
	Reason, Detail string
}
