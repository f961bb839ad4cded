package autoscaling

import "time"

// The autoscaler behaviours a run can model (kwoksim run --autoscaler).
const (
	None              = "none"
	ClusterAutoscaler = "cluster-autoscaler"
	Karpenter         = "karpenter"
)

// Options are the settings of the node autoscaler of a run: which one, and its flags, each
// field named after the real flag (cluster-autoscaler 1.36.1, config/flags/flags.go and
// config/const.go; Karpenter core v1.15.0, pkg/operator/options/options.go). See
// docs/autoscaling.md for where each default comes from.
type Options struct {
	// Autoscaler is None, ClusterAutoscaler or Karpenter. With NodePools in the inputs and
	// no choice, the run uses ClusterAutoscaler (the common one) and says so in the report.
	Autoscaler string

	// cluster-autoscaler

	// ScanInterval is --scan-interval: the loop's period.
	ScanInterval time.Duration
	// Expander is --expander: random, most-pods, least-waste, least-nodes, price or priority,
	// or a comma-separated chain of them.
	Expander string
	// MaxNodesTotal is --max-nodes-total (0: no limit).
	MaxNodesTotal int
	// NewPodScaleUpDelay is --new-pod-scale-up-delay.
	NewPodScaleUpDelay time.Duration
	// MaxNodeProvisionTime is --max-node-provision-time.
	MaxNodeProvisionTime time.Duration
	// InitialNodeGroupBackoffDuration, MaxNodeGroupBackoffDuration and
	// NodeGroupBackoffResetTimeout are the --*-node-group-backoff-* flags.
	InitialNodeGroupBackoffDuration time.Duration
	MaxNodeGroupBackoffDuration     time.Duration
	NodeGroupBackoffResetTimeout    time.Duration
	// ScaleDownEnabled is --scale-down-enabled.
	ScaleDownEnabled bool
	// ScaleDownUtilizationThreshold is --scale-down-utilization-threshold.
	ScaleDownUtilizationThreshold float64
	// ScaleDownUnneededTime is --scale-down-unneeded-time; ScaleDownUnreadyTime
	// --scale-down-unready-time.
	ScaleDownUnneededTime time.Duration
	ScaleDownUnreadyTime  time.Duration
	// ScaleDownDelayAfterAdd, ScaleDownDelayAfterDelete and ScaleDownDelayAfterFailure are
	// the --scale-down-delay-after-* flags.
	ScaleDownDelayAfterAdd     time.Duration
	ScaleDownDelayAfterDelete  time.Duration
	ScaleDownDelayAfterFailure time.Duration
	// MaxScaleDownParallelism is --max-scale-down-parallelism; MaxDrainParallelism
	// --max-drain-parallelism.
	MaxScaleDownParallelism int
	MaxDrainParallelism     int
	// MaxGracefulTerminationSec is --max-graceful-termination-sec; MaxPodEvictionTime
	// --max-pod-eviction-time.
	MaxGracefulTerminationSec int
	MaxPodEvictionTime        time.Duration
	// NodeDeleteDelayAfterTaint is --node-delete-delay-after-taint.
	NodeDeleteDelayAfterTaint time.Duration
	// SkipNodesWithSystemPods, SkipNodesWithLocalStorage and
	// SkipNodesWithCustomControllerPods are the --skip-nodes-with-* flags.
	SkipNodesWithSystemPods           bool
	SkipNodesWithLocalStorage         bool
	SkipNodesWithCustomControllerPods bool
	// ExpendablePodsPriorityCutoff is --expendable-pods-priority-cutoff.
	ExpendablePodsPriorityCutoff int32
	// IgnoreDaemonSetsUtilization is --ignore-daemonsets-utilization.
	IgnoreDaemonSetsUtilization bool

	// Karpenter

	// BatchIdleDuration is --batch-idle-duration (BATCH_IDLE_DURATION); BatchMaxDuration
	// --batch-max-duration (BATCH_MAX_DURATION).
	BatchIdleDuration time.Duration
	BatchMaxDuration  time.Duration
	// IgnoreDRARequests is --ignore-dra-requests (IGNORE_DRA_REQUESTS): pods' device claims
	// are left out of Karpenter's simulations. Only its default, true, is modelled.
	IgnoreDRARequests bool
}

// Upstream constants that are not flags.
const (
	// UnschedulablePodTimeBuffer: cluster-autoscaler skips a scale-up while every
	// unschedulable pod is younger than this (core/static_autoscaler.go, allPodsAreNew).
	UnschedulablePodTimeBuffer = 2 * time.Second
	// EvictionRetryTime and PodEvictionHeadroom: cluster-autoscaler's eviction retry period
	// and the wait beyond a pod's grace period (core/scaledown/actuation/drain.go).
	EvictionRetryTime   = 10 * time.Second
	PodEvictionHeadroom = 30 * time.Second
	// KarpenterDisruptionPollingPeriod is the disruption controller's period
	// (pkg/controllers/disruption/controller.go, pollingPeriod); KarpenterValidationDelay the
	// wait before a disruption command is re-checked and run (validation.go).
	KarpenterDisruptionPollingPeriod = 10 * time.Second
	KarpenterValidationDelay         = 15 * time.Second
	// KarpenterRegistrationTimeout is how long a NodeClaim may take to register
	// (pkg/controllers/nodeclaim/lifecycle/liveness.go).
	KarpenterRegistrationTimeout = 15 * time.Minute
)

// DefaultOptions are the real defaults, with Autoscaler unset.
func DefaultOptions() Options {
	return Options{
		ScanInterval:                      10 * time.Second,
		Expander:                          "least-waste",
		NewPodScaleUpDelay:                0,
		MaxNodeProvisionTime:              15 * time.Minute,
		InitialNodeGroupBackoffDuration:   5 * time.Minute,
		MaxNodeGroupBackoffDuration:       30 * time.Minute,
		NodeGroupBackoffResetTimeout:      3 * time.Hour,
		ScaleDownEnabled:                  true,
		ScaleDownUtilizationThreshold:     0.5,
		ScaleDownUnneededTime:             10 * time.Minute,
		ScaleDownUnreadyTime:              20 * time.Minute,
		ScaleDownDelayAfterAdd:            10 * time.Minute,
		ScaleDownDelayAfterDelete:         0,
		ScaleDownDelayAfterFailure:        3 * time.Minute,
		MaxScaleDownParallelism:           10,
		MaxDrainParallelism:               1,
		MaxGracefulTerminationSec:         600,
		MaxPodEvictionTime:                2 * time.Minute,
		NodeDeleteDelayAfterTaint:         5 * time.Second,
		SkipNodesWithSystemPods:           true,
		SkipNodesWithLocalStorage:         true,
		SkipNodesWithCustomControllerPods: true,
		ExpendablePodsPriorityCutoff:      -10,
		BatchIdleDuration:                 time.Second,
		IgnoreDRARequests:                 true,
		BatchMaxDuration:                  10 * time.Second,
	}
}
