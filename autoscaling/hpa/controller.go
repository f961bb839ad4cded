package hpa

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
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
func (c *Controller) Compute(in Input) Output {
	panic("hpa: Compute not implemented yet")
}

// Rescaled records a successful scale update from prev to desired at now (storeScaleEvent)
// and returns the SuccessfulRescale event and the AbleToScale SucceededRescale condition.
func (c *Controller) Rescaled(hpaKey string, behavior *HPABehavior, prev, desired int32, reason string, now time.Time) (Event, Condition) {
	panic("hpa: Rescaled not implemented yet")
}

// RescaleFailed returns the FailedRescale event and AbleToScale FailedUpdateScale condition
// for a scale update that failed with err.
func RescaleFailed(desired int32, reason string, err error) (Event, Condition) {
	panic("hpa: RescaleFailed not implemented yet")
}

// Forget drops an HPA's history (reconcileKey on NotFound).
func (c *Controller) Forget(hpaKey string) { delete(c.history, hpaKey) }

// HPABehavior is spec.behavior, nil for the legacy path.
type HPABehavior = autoscalingv2.HorizontalPodAutoscalerBehavior
