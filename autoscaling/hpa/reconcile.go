package hpa

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// reconcile is one Compute call: what it reads, the HPA's history, and what it sets.
type reconcile struct {
	c   *Controller
	in  Input
	h   *history
	out Output
	// behavior is the effective behavior the normalization read (nil on the legacy path).
	behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
}

// setCondition records one setCondition call (horizontal.go:1610); the caller applies them in
// order, keeping one per type (Collapse).
func (r *reconcile) setCondition(t autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, message string) {
	r.out.Conditions = append(r.out.Conditions, Condition{Type: t, Status: status, Reason: reason, Message: message})
}

func (r *reconcile) event(eventType, reason, message string) {
	r.out.Events = append(r.out.Events, Event{Type: eventType, Reason: reason, Message: message})
}

// unableToCompute follows getUnableComputeReplicaCountCondition (horizontal.go:1194): it
// records the Warning event at once and returns the condition, which is set only if this
// metric's failure is the one computeReplicasForMetrics reports.
func (r *reconcile) unableToCompute(reason string, err error) Condition {
	r.event(corev1.EventTypeWarning, reason, err.Error())
	return Condition{
		Type:    autoscalingv2.ScalingActive,
		Status:  corev1.ConditionFalse,
		Reason:  reason,
		Message: fmt.Sprintf("the HPA was unable to compute the replica count: %v", err),
	}
}

// Collapse applies conditions in order as setConditionInList does (horizontal.go:1631): one
// per type, at the place the type was first set, with the last status, reason and message.
func Collapse(conds []Condition) []Condition {
	var out []Condition
	for _, c := range conds {
		replaced := false
		for i := range out {
			if out[i].Type == c.Type {
				out[i], replaced = c, true
				break
			}
		}
		if !replaced {
			out = append(out, c)
		}
	}
	return out
}

// run follows reconcileAutoscaler (horizontal.go:824) from the successful scale read on.
func (r *reconcile) run() {
	hpa := r.in.HPA
	current := r.in.CurrentReplicas
	r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	r.h.recordInitialRecommendation(current, r.in.Now)

	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}
	r.out.Proposal = -1
	r.out.DesiredReplicas = current

	// HPAScaleToZero is beta and on in v1.37: a target at zero is left alone unless the HPA
	// scaled it there itself (ScaledToZero=True) and can still compute a count.
	hasObjectOrExternal := hasObjectOrExternalMetrics(hpa)
	scaledToZero := scaledToZeroCondition(hpa)
	canScaleFromZero := scaledToZero && hasObjectOrExternal

	desired := int32(0)
	reason := ""
	switch {
	case current == 0:
		if !((minReplicas != 0 && scaledToZero) || canScaleFromZero) {
			r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
			return
		}
	case current > hpa.Spec.MaxReplicas:
		r.rescale(hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas")
		return
	case current < minReplicas:
		r.rescale(minReplicas, "Current number of replicas below Spec.MinReplicas")
		return
	}

	proposal, metricName, statuses, err := r.computeReplicasForMetrics(current)
	r.out.CurrentMetrics = statuses
	if err != nil && proposal == -1 {
		r.out.MetricsFailed = true
		r.event(corev1.EventTypeWarning, "FailedComputeMetricsReplicas", err.Error())
		return
	}
	r.out.Proposal = proposal

	rescaleMetric := ""
	if proposal > desired {
		desired = proposal
		rescaleMetric = metricName
	}
	if desired > current {
		reason = fmt.Sprintf("%s above target", rescaleMetric)
	}
	if desired < current {
		reason = "All metrics below target"
	}
	if hpa.Spec.Behavior == nil {
		desired = r.normalizeLegacy(current, desired, minReplicas)
	} else {
		desired = r.normalizeWithBehaviors(current, desired, minReplicas)
	}
	if current == 0 && minReplicas != 0 && scaledToZero && desired < minReplicas {
		desired = minReplicas
		if reason == "" {
			reason = "Current number of replicas below Spec.MinReplicas"
		}
	}
	r.out.Pending = r.pending(min(max(proposal, minReplicas), hpa.Spec.MaxReplicas), desired)
	if desired != current {
		r.rescale(desired, reason)
	}
}

// pending: the bounded proposal differs from the normalized count, and time can release the
// difference: a window or a rate limit, not a direction whose selectPolicy is Disabled
// (then the count never moves that way, and waiting would never end).
func (r *reconcile) pending(bounded, desired int32) bool {
	if bounded == desired {
		return false
	}
	if r.behavior == nil {
		return true
	}
	rules := r.behavior.ScaleDown
	if bounded > desired {
		rules = r.behavior.ScaleUp
	}
	return *rules.SelectPolicy != autoscalingv2.DisabledPolicySelect
}

// rescale: the target's scale is to be set to desired (the pre-checks, or a normalized
// count that differs from current).
func (r *reconcile) rescale(desired int32, reason string) {
	r.out.DesiredReplicas = desired
	r.out.Rescale = true
	r.out.Reason = reason
}

func hasObjectOrExternalMetrics(hpa *autoscalingv2.HorizontalPodAutoscaler) bool {
	for _, m := range hpa.Spec.Metrics {
		if m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType {
			return true
		}
	}
	return false
}

// scaledToZeroCondition follows getScaledToZeroConditionStatus (horizontal.go).
func scaledToZeroCondition(hpa *autoscalingv2.HorizontalPodAutoscaler) bool {
	for _, c := range hpa.Status.Conditions {
		if c.Type == autoscalingv2.ScaledToZero {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
