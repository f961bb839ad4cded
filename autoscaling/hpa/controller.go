package hpa

import (
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// Controller holds the HPA controller's settings and its in-memory history per HPA
// (HorizontalController's recommendations, scaleUpEvents and scaleDownEvents maps, keyed by
// namespace/name).
type Controller struct {
	settings Settings
	history  map[string]*history
}

// history is one HPA's in-memory state (horizontal.go:79–88).
type history struct {
	recommendations []timestampedRecommendation
	scaleUpEvents   []timestampedScaleEvent
	scaleDownEvents []timestampedScaleEvent
}

type timestampedRecommendation struct {
	recommendation int32
	timestamp      time.Time
}

type timestampedScaleEvent struct {
	replicaChange int32
	timestamp     time.Time
	outdated      bool
}

// New returns a controller with no history.
func New(s Settings) *Controller {
	return &Controller{settings: s, history: map[string]*history{}}
}

// Compute runs one reconcile of in.HPA from step 4 of reconcileAutoscaler on
// (recordInitialRecommendation, the pre-checks, computeReplicasForMetrics, the rescale
// reason, normalizeDesiredReplicas or normalizeDesiredReplicasWithBehaviors), updating the
// HPA's history as upstream does.
//
// Output.Conditions starts with AbleToScale=True SucceededGetScale (step 3: the scale was read)
// and lists every setCondition call in order; Collapse keeps one per type.
func (c *Controller) Compute(in Input) Output {
	r := &reconcile{c: c, in: in, h: c.historyFor(Key(in.HPA))}
	r.run()
	return r.out
}

// Key is the HPA's key in the controller's history, namespace/name
// (cache.MetaNamespaceKeyFunc).
func Key(hpa *autoscalingv2.HorizontalPodAutoscaler) string {
	if hpa.Namespace == "" {
		return hpa.Name
	}
	return hpa.Namespace + "/" + hpa.Name
}

func (c *Controller) historyFor(key string) *history {
	h, ok := c.history[key]
	if !ok {
		h = &history{}
		c.history[key] = h
	}
	return h
}

// Rescaled records a successful scale update from prev to desired at now (storeScaleEvent)
// and returns the SuccessfulRescale event and the AbleToScale SucceededRescale condition.
//
// The events are kept with the behavior's rules as the apiserver defaults them (a rule it
// would have filled is filled here the same way; effectiveBehavior).
func (c *Controller) Rescaled(hpaKey string, behavior *HPABehavior, prev, desired int32, reason string, now time.Time) (Event, Condition) {
	if behavior != nil {
		behavior = effectiveBehavior(behavior, c.settings.DownscaleStabilization)
	}
	c.historyFor(hpaKey).storeScaleEvent(behavior, prev, desired, now)
	return Event{Type: corev1.EventTypeNormal, Reason: "SuccessfulRescale", Message: fmt.Sprintf("New size: %d; reason: %s", desired, reason)},
		Condition{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededRescale", Message: fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired)}
}

// RescaleFailed returns the FailedRescale event and AbleToScale FailedUpdateScale condition
// for a scale update that failed with err.
func RescaleFailed(desired int32, reason string, err error) (Event, Condition) {
	return Event{Type: corev1.EventTypeWarning, Reason: "FailedRescale", Message: fmt.Sprintf("New size: %d; reason: %s; error: %v", desired, reason, err.Error())},
		Condition{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionFalse, Reason: "FailedUpdateScale", Message: fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err)}
}

// ScaledToZeroCondition is the ScaledToZero condition reconcileAutoscaler sets after every
// successful rescale (HPAScaleToZero is beta and on in v1.37, horizontal.go:1037): True only
// when the HPA took a target with Object or External metrics and minReplicas 0 to zero.
func ScaledToZeroCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, prev, desired int32) Condition {
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}
	if prev > 0 && desired == 0 && minReplicas == 0 && hasObjectOrExternalMetrics(hpa) {
		return Condition{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionTrue, Reason: "ScaledToZero", Message: "the HPA controller scaled the workload to zero"}
	}
	return Condition{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionFalse, Reason: "NotScaledToZero", Message: "the HPA controller did not scale the workload to zero"}
}

// Forget drops an HPA's history (reconcileKey on NotFound).
func (c *Controller) Forget(hpaKey string) { delete(c.history, hpaKey) }

// HPABehavior is spec.behavior, nil for the legacy path.
type HPABehavior = autoscalingv2.HorizontalPodAutoscalerBehavior
