package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/clock"
)

// Event is a Kubernetes event recorded during the run (by the scheduler or a stage).
type Event struct {
	At        time.Duration
	Kind      string
	Namespace string
	Name      string
	Type      string
	Reason    string
	Message   string
}

// Recorder observes the run: each pod's timeline, the scheduler's attempts and messages, and
// events. It is fed synchronously, so what it holds is in the run's deterministic order.
type Recorder struct {
	clock  *clock.Virtual
	pods   map[types.UID]*analysis.PodRecord
	order  []types.UID
	events []Event
	last   string
}

var _ SchedulerHooks = (*Recorder)(nil)

func newRecorder(c *clock.Virtual) *Recorder {
	return &Recorder{clock: c, pods: map[types.UID]*analysis.PodRecord{}}
}

func (r *Recorder) elapsed() *time.Duration {
	d := r.clock.Now().Sub(Epoch)
	return &d
}

func (r *Recorder) observe(ev WatchEvent) {
	m, _ := meta.Accessor(ev.Object)
	r.last = fmt.Sprintf("last write: %s %s %s", ev.Type, ev.Kind.Name(), key(m.GetNamespace(), m.GetName()))
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	rec := r.pods[pod.UID]
	if rec == nil {
		rec = &analysis.PodRecord{CreatedAt: r.elapsed()}
		r.pods[pod.UID] = rec
		r.order = append(r.order, pod.UID)
	}
	rec.Pod = pod
	if ev.Type == watch.Deleted {
		rec.DeletedAt = r.elapsed()
		return
	}
	if rec.ScheduledAt == nil && pod.Spec.NodeName != "" {
		rec.ScheduledAt = r.elapsed()
	}
	if rec.RunningAt == nil && pod.Status.Phase == corev1.PodRunning {
		rec.RunningAt = r.elapsed()
	}
}

// Attempted implements SchedulerHooks.
func (r *Recorder) Attempted(pod *corev1.Pod) {
	if rec := r.pods[pod.UID]; rec != nil {
		rec.Attempts++
	}
}

// Failed implements SchedulerHooks.
func (r *Recorder) Failed(pod *corev1.Pod, message string, _ bool) {
	if rec := r.pods[pod.UID]; rec != nil {
		rec.Reason = message
	}
}

// Event implements SchedulerHooks.
func (r *Recorder) Event(regarding runtime.Object, eventType, reason, note string) {
	ev := Event{At: r.clock.Now().Sub(Epoch), Type: eventType, Reason: reason, Message: note}
	if m, err := meta.Accessor(regarding); err == nil {
		ev.Namespace, ev.Name = m.GetNamespace(), m.GetName()
	}
	if regarding != nil {
		if k, err := KindOf(regarding); err == nil {
			ev.Kind = k.Name()
		}
	}
	r.events = append(r.events, ev)
}

// Events returns the events recorded so far, in order.
func (r *Recorder) Events() []Event { return r.events }

// Pods returns the observed pods in creation order.
func (r *Recorder) Pods() []analysis.PodRecord {
	out := make([]analysis.PodRecord, 0, len(r.order))
	for _, uid := range r.order {
		out = append(out, *r.pods[uid])
	}
	return out
}

func (r *Recorder) lastActivity() string { return r.last }

func key(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

func (r *Recorder) record(ev Event) { r.events = append(r.events, ev) }

// Warn records a warning event about an object, from a simulated controller.
func (r *Recorder) Warn(kind, namespace, name, reason, message string) {
	r.events = append(r.events, Event{At: r.clock.Now().Sub(Epoch), Kind: kind, Namespace: namespace,
		Name: name, Type: corev1.EventTypeWarning, Reason: reason, Message: message})
}
