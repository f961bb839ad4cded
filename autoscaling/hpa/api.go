package hpa

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// Settings are kube-controller-manager's HPA flags (controlplane.Flags holds them under their
// real names; cmd/kube-controller-manager/app/options/hpacontroller.go).
type Settings struct {
	// DownscaleStabilization is --horizontal-pod-autoscaler-downscale-stabilization (5m).
	DownscaleStabilization time.Duration
	// Tolerance is --horizontal-pod-autoscaler-tolerance (0.1).
	Tolerance float64
	// CPUInitializationPeriod is --horizontal-pod-autoscaler-cpu-initialization-period (5m).
	CPUInitializationPeriod time.Duration
	// InitialReadinessDelay is --horizontal-pod-autoscaler-initial-readiness-delay (30s).
	InitialReadinessDelay time.Duration
}

// PodMetric is one pod's usage as the resource metrics API reports it
// (metrics.PodMetric, pkg/controller/podautoscaler/metrics/interfaces.go): Value is a
// milli-value (millicores; milli-bytes for memory).
type PodMetric struct {
	Timestamp time.Time
	Window    time.Duration
	Value     int64
}

// PodMetrics are the pods' metrics by pod name (metrics.PodMetricsInfo).
type PodMetrics map[string]PodMetric

// MetricsSource returns the metrics of the pods of the HPA's namespace that its selector
// matches, for one resource (and one container, for a ContainerResource metric; "" sums
// the pod's containers), as resourceMetricsClient.GetResourceMetric does: a pod without
// usage data is absent from the map, and an error comes back when there is none at all
// ("no metrics returned from resource metrics API").
type MetricsSource func(resource corev1.ResourceName, container string) (PodMetrics, error)

// Input is what one reconcile of one HPA reads, after the target's scale was read
// (reconcileAutoscaler, horizontal.go:824, from step 4 on).
type Input struct {
	// Now is the virtual time of the reconcile.
	Now time.Time
	// HPA is the stored HPA (defaulted by the apiserver); it is not modified.
	HPA *autoscalingv2.HorizontalPodAutoscaler
	// CurrentReplicas is the target's scale.spec.replicas.
	CurrentReplicas int32
	// Pods are the pods of the HPA's namespace that the scale's status.selector matches (the
	// pod lister's answer), in any order.
	Pods []*corev1.Pod
	// Metrics answers the metric queries.
	Metrics MetricsSource
}

// Condition is one status condition the reconcile sets (type, status, reason, message), in
// the order reconcileAutoscaler sets them; the caller stamps lastTransitionTime.
type Condition struct {
	Type    autoscalingv2.HorizontalPodAutoscalerConditionType
	Status  corev1.ConditionStatus
	Reason  string
	Message string
}

// Event is one event the reconcile records on the HPA, in order (eventRecorder.Event calls
// in horizontal.go): Type is Normal or Warning.
type Event struct {
	Type, Reason, Message string
}

// Output is what one reconcile decided.
type Output struct {
	// Proposal is the metrics' proposal before normalization (the max over the valid
	// metrics, computeReplicasForMetrics), or -1 when it was not computed (all metrics
	// failed, or a pre-check of step 6 decided: zero, above max, below min).
	Proposal int32
	// DesiredReplicas is the normalized count; when Rescale is false it is CurrentReplicas.
	DesiredReplicas int32
	// Rescale: the target's scale must be set to DesiredReplicas. The caller writes it, then
	// calls Controller.Rescaled on success (storeScaleEvent), or Controller.RescaleFailed.
	Rescale bool
	// Reason is the rescale reason, as in the SuccessfulRescale event ("cpu resource
	// utilization (percentage of request) above target", "All metrics below target",
	// "Current number of replicas above Spec.MaxReplicas", …).
	Reason string
	// MetricsFailed: no proposal could be made (invalid metrics): status.desiredReplicas
	// keeps its old value (setCurrentReplicasAndMetricsInStatus).
	MetricsFailed bool
	// CurrentMetrics is status.currentMetrics as the reconcile computed it.
	CurrentMetrics []autoscalingv2.MetricStatus
	// Conditions are the conditions set, in order; a later one of the same type replaces an
	// earlier one (setCondition keeps one per type).
	Conditions []Condition
	// Events are the events recorded, in order; the caller adds SuccessfulRescale or
	// FailedRescale after writing the scale (Controller.Rescaled and RescaleFailed return
	// them).
	Events []Event
	// Pending: a change of replicas is held back that time alone will release (a
	// stabilization window or a rate limit): the proposal, bounded by min and max, differs
	// from DesiredReplicas. The controller keeps the simulation running while it is set.
	Pending bool
}
