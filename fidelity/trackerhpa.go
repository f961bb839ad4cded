package fidelity

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// trackedHPA is an HPA's record while it is tracked: its last status, and its events by the
// Event object's UID (one object per distinct event: the event recorder's correlator bumps
// the count of an existing one when the same event comes again).
type trackedHPA struct {
	HPA
	events map[types.UID]int // index in HPA.Events
}

// hpa is the record of the HPA ns/name, created when first met (its Event may come before
// the HPA's own watch event).
func (t *Tracker) hpa(ns, name string) *trackedHPA {
	key := ns + "/" + name
	h, ok := t.hpas[key]
	if !ok {
		h = &trackedHPA{HPA: HPA{Namespace: ns, Name: name, Events: []HPAEvent{}, Conditions: []HPACondition{}}, events: map[types.UID]int{}}
		t.hpas[key] = h
		t.hpaOrder = append(t.hpaOrder, key)
	}
	return h
}

// HPA records an HPA's watch event received at sec: its target and its status as of that
// event (the last one recorded is the state at the end). A deletion keeps the last status.
func (t *Tracker) HPA(ev watch.EventType, o *autoscalingv2.HorizontalPodAutoscaler, sec float64) {
	h := t.hpa(o.Namespace, o.Name)
	if ev == watch.Deleted {
		return
	}
	h.Target = o.Spec.ScaleTargetRef.Kind + "/" + o.Spec.ScaleTargetRef.Name
	h.CurrentReplicas, h.DesiredReplicas = o.Status.CurrentReplicas, o.Status.DesiredReplicas
	h.Conditions = make([]HPACondition, 0, len(o.Status.Conditions))
	for _, c := range o.Status.Conditions {
		h.Conditions = append(h.Conditions, HPACondition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
	}
}

// Event records an Event's watch event received at sec when it is about an HPA: a new event
// when the object is new, else its count and the time it last changed. Other Events are
// ignored.
func (t *Tracker) Event(ev watch.EventType, e *corev1.Event, sec float64) {
	if e.InvolvedObject.Kind != "HorizontalPodAutoscaler" || ev == watch.Deleted {
		return
	}
	h := t.hpa(e.InvolvedObject.Namespace, e.InvolvedObject.Name)
	count := eventCount(e)
	i, ok := h.events[e.UID]
	if !ok {
		h.events[e.UID] = len(h.Events)
		h.Events = append(h.Events, HPAEvent{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: count, First: Millis(sec), Last: Millis(sec)})
		return
	}
	if x := &h.Events[i]; count != x.Count {
		x.Count, x.Last = count, Millis(sec)
	}
}

// eventCount is how many times an Event was recorded: core/v1's count (the legacy recorder,
// client-go tools/record, which the controller manager's HPA controller uses), else the
// events.k8s.io series' count, else 1.
func eventCount(e *corev1.Event) int {
	switch {
	case e.Count > 0:
		return int(e.Count)
	case e.Series != nil && e.Series.Count > 0:
		return int(e.Series.Count)
	}
	return 1
}

// hpaRun is the tracked HPAs in the order first met, with their targets' replicas from ws.
func (t *Tracker) hpaRun(ws []Workload) []HPA {
	var out []HPA
	for _, k := range t.hpaOrder {
		h := t.hpas[k].HPA
		h.Events = append([]HPAEvent{}, h.Events...)
		h.Conditions = append([]HPACondition{}, h.Conditions...)
		h.TargetReplicas = targetReplicas(ws, h.Namespace, h.Target)
		out = append(out, h)
	}
	return out
}
