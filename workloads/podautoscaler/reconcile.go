package podautoscaler

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/labels"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/autoscaling/hpa"
	"github.com/kwoksim/kwoksim/sim"
)

// reconciliation is what one reconcile does to an HPA: its new status (on a copy), the
// events it records, and what the record keeps.
type reconciliation struct {
	h         *autoscalingv2.HorizontalPodAutoscaler
	events    []hpa.Event
	current   int32
	proposal  int32
	readyPods int32
	failed    bool
}

func (r *reconciliation) event(typ, reason, message string) {
	r.events = append(r.events, hpa.Event{Type: typ, Reason: reason, Message: message})
}

// reconcile is reconcileAutoscaler (horizontal.go:824) on h, the controller's own copy (API.Get
// returns one), whose status it rewrites. It tells whether the next reconcile belongs in the
// foreground.
func (c *Controller) reconcile(h *autoscalingv2.HorizontalPodAutoscaler) (foreground bool) {
	now := c.clock.Now()
	key := hpa.Key(h)
	r := &reconciliation{h: h, proposal: -1}
	original := h.Status.DeepCopy()
	defer func() {
		c.updateStatusIfNeeded(original, r)
		for _, e := range r.events {
			c.s.Recorder().Event(h, e.Type, e.Reason, e.Message)
		}
		c.records[key].reconciled(now.Sub(sim.Epoch), r)
	}()

	s, err := c.getScale(r.h)
	if err != nil {
		r.event(corev1.EventTypeWarning, "FailedGetScale", err.Error())
		c.setCondition(r.h, hpa.Condition{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionFalse, Reason: "FailedGetScale",
			Message: fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err)})
		r.failed = true
		return false
	}
	c.setCondition(r.h, hpa.Condition{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededGetScale",
		Message: "the HPA controller was able to get the target's current scale"})
	r.current = s.Replicas

	in := hpa.Input{Now: now, HPA: r.h, CurrentReplicas: s.Replicas}
	if needsMetrics(r.h, s.Replicas) {
		sel, pods, bad := c.validateSelector(r.h, s.Selector)
		if bad != nil {
			// computeReplicasForMetrics failed before any metric: the reconcile ends as for
			// invalid metrics (status with the current replicas, FailedComputeMetricsReplicas).
			r.event(corev1.EventTypeWarning, bad.event, bad.message)
			c.setCondition(r.h, hpa.Condition{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: bad.reason, Message: bad.condition})
			setStatus(r.h, s.Replicas, r.h.Status.DesiredReplicas, nil, false, now)
			r.event(corev1.EventTypeWarning, "FailedComputeMetricsReplicas", bad.message)
			r.failed = true
			return false
		}
		in.Pods = pods
		r.readyPods = countReady(in.Pods)
		ns := r.h.Namespace
		in.Metrics = func(res corev1.ResourceName, container string) (hpa.PodMetrics, error) {
			return c.load.Metrics(ns, sel, res, container)
		}
	}

	out := c.calc.Compute(in)
	r.proposal = out.Proposal
	r.events = append(r.events, out.Events...)
	for _, cond := range out.Conditions {
		c.setCondition(r.h, cond)
	}
	if out.MetricsFailed {
		setStatus(r.h, s.Replicas, r.h.Status.DesiredReplicas, out.CurrentMetrics, false, now)
		r.failed = true
		return false
	}
	desired := s.Replicas
	if out.Rescale {
		if err := c.setReplicas(r.h, s, out.DesiredReplicas); err != nil {
			ev, cond := hpa.RescaleFailed(out.DesiredReplicas, out.Reason, err)
			r.events = append(r.events, ev)
			c.setCondition(r.h, cond)
			setStatus(r.h, s.Replicas, r.h.Status.DesiredReplicas, out.CurrentMetrics, false, now)
			r.failed = true
			return false // a write that keeps failing must not keep the run going
		}
		ev, cond := c.calc.Rescaled(key, r.h.Spec.Behavior, s.Replicas, out.DesiredReplicas, out.Reason, now)
		c.setCondition(r.h, cond)
		r.events = append(r.events, ev)
		c.setCondition(r.h, hpa.ScaledToZeroCondition(r.h, s.Replicas, out.DesiredReplicas))
		desired = out.DesiredReplicas
	}
	setStatus(r.h, s.Replicas, desired, out.CurrentMetrics, out.Rescale, now)
	return out.Rescale || out.Pending
}

// needsMetrics is the pre-check of reconcileAutoscaler (horizontal.go:914–933): a target above
// max or below min is decided without the metrics, and so without the selector; so is one at
// zero, unless the HPA scaled it there itself (shouldComputeMetricsForZeroReplicas, with
// HPAScaleToZero on), which needs Object or External metrics kwoksim does not serve.
func needsMetrics(h *autoscalingv2.HorizontalPodAutoscaler, current int32) bool {
	min := int32(1)
	if h.Spec.MinReplicas != nil {
		min = *h.Spec.MinReplicas
	}
	if current == 0 {
		scaledToZero := false
		for _, c := range h.Status.Conditions {
			if c.Type == autoscalingv2.ScaledToZero {
				scaledToZero = c.Status == corev1.ConditionTrue
			}
		}
		objectOrExternal := false
		for _, m := range h.Spec.Metrics {
			objectOrExternal = objectOrExternal || m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType
		}
		return scaledToZero && (min != 0 || objectOrExternal)
	}
	return current <= h.Spec.MaxReplicas && current >= min
}

// selectorError is what validateSelector found wrong: the event's reason and message, the
// ScalingActive condition's reason and message.
type selectorError struct{ event, message, reason, condition string }

// validateSelector is validateAndParseSelector (horizontal.go:434): the parsed selector and
// the pods it selects (the pod lister's answer), or what is wrong with it.
func (c *Controller) validateSelector(h *autoscalingv2.HorizontalPodAutoscaler, selector string) (labels.Selector, []*corev1.Pod, *selectorError) {
	if selector == "" {
		return nil, nil, &selectorError{"SelectorRequired", "selector is required", "InvalidSelector", "the HPA target's scale is missing a selector"}
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		msg := fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		return nil, nil, &selectorError{"InvalidSelector", msg, "InvalidSelector", msg}
	}
	c.selectors.put(h.Namespace, h.Name, sel)
	pods := c.podsMatching(h.Namespace, sel)
	if hpas := c.selectors.matching(h.Namespace, pods); len(hpas) > 1 {
		msg := fmt.Sprintf("pods by selector %v are controlled by more than one HPA (e.g. %v)", selector, hpas)
		return nil, nil, &selectorError{"AmbiguousSelector", msg, "AmbiguousSelector", msg}
	}
	return sel, pods, nil
}

// countReady counts the pods that are Ready and not terminating.
func countReady(pods []*corev1.Pod) int32 {
	var n int32
	for _, p := range pods {
		if p.DeletionTimestamp == nil && podutil.IsPodReady(p) {
			n++
		}
	}
	return n
}

// updateStatusIfNeeded writes the status when it changed (horizontal.go updateStatusIfNeeded);
// a failed write is the FailedUpdateStatus event.
func (c *Controller) updateStatusIfNeeded(original *autoscalingv2.HorizontalPodAutoscalerStatus, r *reconciliation) {
	if equality.Semantic.DeepEqual(original, &r.h.Status) {
		return
	}
	if _, err := c.api.UpdateStatus(r.h); err != nil {
		r.event(corev1.EventTypeWarning, "FailedUpdateStatus", err.Error())
	}
}
