package podautoscaler

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/autoscaling/hpa"
)

// setCondition is setConditionInList (horizontal.go:1631): one condition per type, added at
// the end when new; lastTransitionTime moves only when the status flips, on virtual time.
func (c *Controller) setCondition(h *autoscalingv2.HorizontalPodAutoscaler, cond hpa.Condition) {
	list := h.Status.Conditions
	i := -1
	for j := range list {
		if list[j].Type == cond.Type {
			i = j
			break
		}
	}
	if i < 0 {
		list = append(list, autoscalingv2.HorizontalPodAutoscalerCondition{Type: cond.Type})
		i = len(list) - 1
	}
	if list[i].Status != cond.Status {
		list[i].LastTransitionTime = metav1.NewTime(c.clock.Now())
	}
	list[i].Status, list[i].Reason, list[i].Message = cond.Status, cond.Reason, cond.Message
	h.Status.Conditions = list
}

// setStatus is setStatus (horizontal.go:1526): the status made anew from the replicas and
// metrics, keeping the conditions and lastScaleTime, which a rescale sets to now.
func setStatus(h *autoscalingv2.HorizontalPodAutoscaler, current, desired int32, metrics []autoscalingv2.MetricStatus, rescale bool, now time.Time) {
	gen := h.Generation
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas:    current,
		DesiredReplicas:    desired,
		LastScaleTime:      h.Status.LastScaleTime,
		CurrentMetrics:     metrics,
		Conditions:         h.Status.Conditions,
		ObservedGeneration: &gen,
	}
	if rescale {
		t := metav1.NewTime(now)
		h.Status.LastScaleTime = &t
	}
}
