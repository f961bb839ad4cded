package analysis

import "time"

// HPARecord is what the HorizontalPodAutoscaler controller did with one HPA (issue 22): the
// observation the report's horizontalPodAutoscalers section is built from. The controller
// (workloads/hpa) keeps it up to date as the run goes.
type HPARecord struct {
	Namespace, Name string
	// TargetKind and TargetName are spec.scaleTargetRef's.
	TargetKind, TargetName string
	// MinReplicas and MaxReplicas are the spec's (minReplicas defaulted to 1), as last seen.
	MinReplicas, MaxReplicas int32
	// Metrics describe spec.metrics, one line each: "cpu utilization 50% of requests",
	// "memory average value 200Mi", or, for a metric source kwoksim does not model, its type
	// and "(not modelled)".
	Metrics []string
	// Behavior: spec.behavior is set, so the controller follows
	// normalizeDesiredReplicasWithBehaviors; false is the legacy path (normalizeDesiredReplicas).
	Behavior bool
	// CreatedAt is when the HPA was created; DeletedAt when it was deleted, nil if never.
	CreatedAt time.Duration
	DeletedAt *time.Duration
	// Samples are the reconciles whose outcome differs from the previous one's (the first
	// reconcile always), in time order: a step function of the HPA's state.
	Samples []HPASample
	// Reconciles counts every reconcile; FailedReconciles those that computed no proposal
	// (FailedGetScale, FailedComputeMetricsReplicas, an invalid selector, ...).
	Reconciles, FailedReconciles int
	// StartupFailures are the failed reconciles before the first that did not fail: an HPA
	// created with its target finds no pods (or none Ready with metrics) at first, as on a
	// real cluster when both are applied together.
	StartupFailures int
	// Events are the events the controller recorded on the HPA, in the order each first
	// happened; identical events (type, reason, message) are one record with Count and LastAt,
	// as the event correlator aggregates them ("x13 over 6m" in kubectl describe).
	Events []HPAEventRecord
	// Conditions are the HPA's status conditions as they changed: one record per change of a
	// condition's status, reason or message, in order.
	Conditions []HPAConditionRecord
	// NotModelled says, one line each, what of this HPA kwoksim does not act on (a Pods,
	// Object or External metric, scale to zero) and what the real controller would do.
	NotModelled []string
}

// HPASample is the HPA's state after one reconcile.
type HPASample struct {
	At time.Duration
	// CurrentReplicas is the target's scale.spec.replicas the reconcile read; DesiredReplicas
	// the count it set (status.desiredReplicas).
	CurrentReplicas, DesiredReplicas int32
	// Proposal is the metrics' proposal before stabilization and rate limits, -1 when none
	// was computed (see hpa.Output.Proposal).
	Proposal int32
	// ReadyPods are the target's pods that were Ready and not terminating (0 when the
	// reconcile did not read the pods: a pre-check decided, or the target was not found).
	ReadyPods int32
	// Metrics are status.currentMetrics' values, one per spec metric with a status, in spec
	// order.
	Metrics []HPAMetricValue
	// Limited is the ScalingLimited condition's reason when its status is True
	// ("ScaleUpLimit", "TooManyReplicas", ...), "" otherwise; Stabilized is set when the
	// AbleToScale condition said ScaleUpStabilized or ScaleDownStabilized.
	Limited    string
	Stabilized bool
}

// HPAMetricValue is one current metric value.
type HPAMetricValue struct {
	// Name is the resource ("cpu", "memory").
	Name string
	// Utilization is averageUtilization in percent of the requests, nil for an AverageValue
	// target; AverageValue is the average usage per pod in milli-units (millicores,
	// milli-bytes), as status.currentMetrics reports it.
	Utilization  *int32
	AverageValue int64
}

// HPAEventRecord is one event the controller recorded on the HPA, with its repeats.
type HPAEventRecord struct {
	At, LastAt   time.Duration
	Count        int
	Type, Reason string
	Message      string
}

// HPAConditionRecord is one change of one status condition.
type HPAConditionRecord struct {
	At                   time.Duration
	Type, Status, Reason string
	Message              string
}

// UsageRecord is the load model's account of resource usage (issue 22): what pods use, as
// opposed to what they request. workloads/load keeps it; nil when no pod had usage data.
type UsageRecord struct {
	// Cluster is the usage of all pods together after each change, in time order (a step
	// function that starts at 0).
	Cluster []UsageStep
	// Workloads are the workloads whose pods had usage data (a load operation or the usage
	// annotations), in the order they first had some.
	Workloads []WorkloadUsageRecord
}

// UsageStep is a usage total from At on: CPU in millicores, Memory in bytes; Requested is
// what the same pods request (the pods with usage data, while they use it), for the
// utilization by usage beside the utilization by requests.
type UsageStep struct {
	At                            time.Duration
	CPU, Memory                   int64
	RequestedCPU, RequestedMemory int64
}

// WorkloadUsageRecord is one workload's usage over time.
type WorkloadUsageRecord struct {
	Kind, Namespace, Name string
	// Loads are the trace's load operations on it, in time order: the demand set at each
	// time (CPU millicores, memory bytes; -1 where the operation left the resource as it
	// was).
	Loads []LoadStep
	// Steps are its pods' usage after each change, with their Ready count and their
	// requests (UsageStep's Requested), in time order.
	Steps []WorkloadUsageStep
}

// LoadStep is one load operation.
type LoadStep struct {
	At          time.Duration
	CPU, Memory int64
}

// WorkloadUsageStep is a workload's usage from At on.
type WorkloadUsageStep struct {
	UsageStep
	// ReadyPods are the pods sharing the demand (Ready, not terminating).
	ReadyPods int32
}
