package podautoscaler

import (
	"fmt"
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
)

// record keeps one HPA's analysis.HPARecord up to date.
type record struct {
	rec *analysis.HPARecord
	// events indexes rec.Events by type, reason and message.
	events map[[3]string]int
	// conditions are the conditions as last recorded, by type.
	conditions map[string]analysis.HPAConditionRecord
	// succeeded: a reconcile did not fail yet (see analysis.HPARecord.StartupFailures).
	succeeded bool
}

func newRecord(h *autoscalingv2.HorizontalPodAutoscaler, at time.Duration) *record {
	r := &record{rec: &analysis.HPARecord{Namespace: h.Namespace, Name: h.Name, CreatedAt: at},
		events: map[[3]string]int{}, conditions: map[string]analysis.HPAConditionRecord{}}
	r.spec(h)
	return r
}

// spec copies what the report shows of the HPA's spec (again at each reconcile: it may
// change).
func (r *record) spec(h *autoscalingv2.HorizontalPodAutoscaler) {
	rec := r.rec
	rec.TargetKind, rec.TargetName = h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name
	rec.MinReplicas = 1
	if h.Spec.MinReplicas != nil {
		rec.MinReplicas = *h.Spec.MinReplicas
	}
	rec.MaxReplicas = h.Spec.MaxReplicas
	rec.Behavior = h.Spec.Behavior != nil
	rec.Metrics, rec.NotModelled = nil, nil
	for _, m := range h.Spec.Metrics {
		d, note := describeMetric(m)
		rec.Metrics = append(rec.Metrics, d)
		if note != "" {
			rec.NotModelled = append(rec.NotModelled, note)
		}
	}
}

// describeMetric is one line for a metric spec, and what kwoksim does not model of it.
func describeMetric(m autoscalingv2.MetricSpec) (string, string) {
	target := func(name corev1.ResourceName, t autoscalingv2.MetricTarget) string {
		if t.Type == autoscalingv2.UtilizationMetricType && t.AverageUtilization != nil {
			return fmt.Sprintf("%s utilization %d%% of requests", name, *t.AverageUtilization)
		}
		if t.AverageValue != nil {
			return fmt.Sprintf("%s average value %s", name, t.AverageValue.String())
		}
		return fmt.Sprintf("%s %s", name, t.Type)
	}
	switch m.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if m.Resource != nil {
			return target(m.Resource.Name, m.Resource.Target), ""
		}
	case autoscalingv2.ContainerResourceMetricSourceType:
		if m.ContainerResource != nil {
			return fmt.Sprintf("container %s: %s", m.ContainerResource.Container,
				target(m.ContainerResource.Name, m.ContainerResource.Target)), ""
		}
	}
	name := ""
	switch {
	case m.Pods != nil:
		name = m.Pods.Metric.Name
	case m.Object != nil:
		name = m.Object.Metric.Name
	case m.External != nil:
		name = m.External.Metric.Name
	}
	return fmt.Sprintf("%s metric %s (not modelled)", m.Type, name),
		fmt.Sprintf("%s metric %q: kwoksim serves no custom or external metrics API, so it fails every reconcile as on a cluster "+
			"without a metrics adapter; a real cluster with one would scale on it", m.Type, name)
}

// reconciled records one reconcile's outcome.
func (r *record) reconciled(at time.Duration, rc *reconciliation) {
	rec := r.rec
	r.spec(rc.h)
	rec.Reconciles++
	if rc.failed {
		rec.FailedReconciles++
		if !r.succeeded {
			rec.StartupFailures++
		}
	} else {
		r.succeeded = true
	}
	for _, e := range rc.events {
		k := [3]string{e.Type, e.Reason, e.Message}
		if i, ok := r.events[k]; ok {
			rec.Events[i].Count++
			rec.Events[i].LastAt = at
			continue
		}
		r.events[k] = len(rec.Events)
		rec.Events = append(rec.Events, analysis.HPAEventRecord{At: at, LastAt: at, Count: 1, Type: e.Type, Reason: e.Reason, Message: e.Message})
	}
	s := analysis.HPASample{At: at, CurrentReplicas: rc.current, DesiredReplicas: rc.h.Status.DesiredReplicas, Proposal: rc.proposal,
		ReadyPods: rc.readyPods}
	for _, m := range rc.h.Status.CurrentMetrics {
		var v analysis.HPAMetricValue
		switch {
		case m.Resource != nil:
			v = metricValue(string(m.Resource.Name), m.Resource.Current)
		case m.ContainerResource != nil:
			v = metricValue(string(m.ContainerResource.Name), m.ContainerResource.Current)
		default:
			continue
		}
		s.Metrics = append(s.Metrics, v)
	}
	for _, cond := range rc.h.Status.Conditions {
		switch {
		case cond.Type == autoscalingv2.ScalingLimited && cond.Status == corev1.ConditionTrue:
			s.Limited = cond.Reason
		case cond.Type == autoscalingv2.AbleToScale && (cond.Reason == "ScaleUpStabilized" || cond.Reason == "ScaleDownStabilized"):
			s.Stabilized = true
		}
		c := analysis.HPAConditionRecord{At: at, Type: string(cond.Type), Status: string(cond.Status), Reason: cond.Reason, Message: cond.Message}
		if last, ok := r.conditions[c.Type]; !ok || last.Status != c.Status || last.Reason != c.Reason || last.Message != c.Message {
			r.conditions[c.Type] = c
			rec.Conditions = append(rec.Conditions, c)
		}
	}
	if n := len(rec.Samples); n == 0 || !sameSample(rec.Samples[n-1], s) {
		rec.Samples = append(rec.Samples, s)
	}
}

func metricValue(name string, cur autoscalingv2.MetricValueStatus) analysis.HPAMetricValue {
	v := analysis.HPAMetricValue{Name: name, Utilization: cur.AverageUtilization}
	if cur.AverageValue != nil {
		v.AverageValue = cur.AverageValue.MilliValue()
	}
	return v
}

// sameSample compares everything but the time.
func sameSample(a, b analysis.HPASample) bool {
	b.At = a.At
	return a.CurrentReplicas == b.CurrentReplicas && a.DesiredReplicas == b.DesiredReplicas && a.Proposal == b.Proposal &&
		a.ReadyPods == b.ReadyPods && a.Limited == b.Limited && a.Stabilized == b.Stabilized &&
		slices.EqualFunc(a.Metrics, b.Metrics, func(x, y analysis.HPAMetricValue) bool {
			return x.Name == y.Name && x.AverageValue == y.AverageValue &&
				(x.Utilization == nil) == (y.Utilization == nil) && (x.Utilization == nil || *x.Utilization == *y.Utilization)
		})
}

func (r *record) deleted(at time.Duration) { r.rec.DeletedAt = &at }
