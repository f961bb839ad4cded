package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
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
	clock *clock.Virtual
	// pods are the records in creation order; index finds a pod's record by UID.
	pods   []analysis.PodRecord
	index  map[types.UID]int32
	events []Event
	last   string
	// history is the change log the time series is built from; nodes holds what it last
	// logged of each node, to leave out the writes that change nothing it counts.
	history analysis.History
	nodes   map[string]nodeState
	// traceErrors are the trace events that could not be carried out, in trace order.
	traceErrors []analysis.TraceErrorRecord
	// warnings are the simulated controllers' warnings (Warn), in the order raised.
	warnings []analysis.WarningRecord
	// syncFailures are the objects whose last controller sync failed (see Synced).
	syncFailures map[objectKey]analysis.WarningRecord
	// refusedEvictions are the evictions a disruption budget refused, in order.
	refusedEvictions []analysis.RefusedEvictionRecord
	// drains are the drains of nodes, in the order they started; each drain updates its own.
	drains []*analysis.DrainRecord
	// autoscaler is the node autoscaler's record (nil without one).
	autoscaler *analysis.AutoscalerRecord
	// hpas returns the HPA controller's records (nil without the controller); usage the load
	// model's record.
	hpas  func() []*analysis.HPARecord
	usage func() *analysis.UsageRecord
	// sizes follows workload sizes and node Ready status and taints over time.
	sizes sizeLog
	// claims follows the PersistentVolumeClaims, for the report's volumes section.
	claims claimLog
	// gpu follows the cluster's GPUs, for the report's gpu section.
	gpu gpuLog
}

// nodeState is what the change log last said about a node.
type nodeState struct {
	ready       bool
	allocatable corev1.ResourceList
}

var _ SchedulerHooks = (*Recorder)(nil)

func newRecorder(c *clock.Virtual) *Recorder {
	return &Recorder{clock: c, index: map[types.UID]int32{}, nodes: map[string]nodeState{}}
}

func (r *Recorder) elapsed() *time.Duration {
	d := r.clock.Now().Sub(Epoch)
	return &d
}

func (r *Recorder) observe(ev WatchEvent) {
	m, _ := meta.Accessor(ev.Object)
	r.last = fmt.Sprintf("last write: %s %s %s", ev.Type, ev.Kind.Name(), key(m.GetNamespace(), m.GetName()))
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		r.observePod(ev.Type, o, ev.Restored)
		r.gpu.observePod(ev.Type, o, r.clock.Now().Sub(Epoch))
	case *corev1.Node:
		r.observeNode(ev.Type, o)
		r.sizes.observeNodeState(r, ev, o)
		r.gpu.observeNode(ev.Type, o, r.clock.Now().Sub(Epoch))
	case *resourcev1.ResourceSlice:
		r.gpu.observeSlice(ev.Type, o, r.clock.Now().Sub(Epoch))
	case *resourcev1.ResourceClaim:
		r.gpu.observeClaim(ev.Type, o, r.clock.Now().Sub(Epoch))
	case *resourcev1.ResourceClaimTemplate:
		r.gpu.observeTemplate(ev.Type, o)
	case *resourcev1.DeviceClass:
		r.gpu.observeClass(ev.Type, o)
	case *corev1.PersistentVolumeClaim:
		r.claims.observeClaim(ev.Type, o, ev.Restored, r.clock.Now().Sub(Epoch))
	case *corev1.PersistentVolume:
		r.claims.observeVolume(ev.Type, o)
	case *storagev1.StorageClass:
		r.claims.observeClass(ev.Type, o)
	default:
		r.sizes.observeWorkload(r, ev)
	}
}

// relaid holds the copy a relayout made of a pod (API.OnRelaid) in its record, so that the old
// object can go.
func (r *Recorder) relaid(_ *Kind, old, cur runtime.Object) {
	if p, ok := cur.(*corev1.Pod); ok {
		if i, ok := r.index[p.UID]; ok && runtime.Object(r.pods[i].Pod) == old {
			r.pods[i].Pod = p
		}
	}
}

// observePod updates a pod's record. A restored pod (API.Restore) existed before the run: it
// has no creation time in it, so it counts in no latency, and whatever it already was (bound,
// Running) it is from the start.
func (r *Recorder) observePod(typ watch.EventType, pod *corev1.Pod, restored bool) {
	i, ok := r.index[pod.UID]
	if !ok {
		i = int32(len(r.pods))
		r.index[pod.UID] = i
		rec := analysis.PodRecord{CreatedAt: r.elapsed()}
		if restored {
			rec = analysis.PodRecord{Restored: true}
		}
		r.pods = append(r.pods, rec)
	}
	rec := &r.pods[i]
	prev := rec.Pod
	rec.Pod = pod
	gone := typ == watch.Deleted
	ready, terminating := podReady(pod), pod.DeletionTimestamp != nil
	if prev == nil || gone || prev.Status.Phase != pod.Status.Phase || (prev.Spec.NodeName == "") != (pod.Spec.NodeName == "") ||
		podReady(prev) != ready || (prev.DeletionTimestamp != nil) != terminating {
		r.history.Pods = append(r.history.Pods, analysis.PodChange{At: r.clock.Now().Sub(Epoch), Pod: i,
			Phase: pod.Status.Phase, Bound: pod.Spec.NodeName != "", Gone: gone, Ready: ready, Terminating: terminating})
	}
	// now is this write's time, allocated once and shared by the fields it sets (they are
	// never written through).
	var now *time.Duration
	at := func() *time.Duration {
		if now == nil {
			now = r.elapsed()
		}
		return now
	}
	if (gone || terminating) && rec.TerminatingAt == nil {
		rec.TerminatingAt = at()
	}
	if (gone || terminating) && rec.EvictedAt == nil {
		// The evicting component sets the condition before the deletion (upstream:
		// addConditionAndDeletePod in pkg/controller/tainteviction, EvictionREST's
		// addConditionAndDeletePod, podgc's markFailedAndDeletePod, the scheduler's
		// preemption), so the deleting or terminating write carries it.
		if c := disruptionTarget(pod); c != nil {
			rec.EvictedAt, rec.EvictionReason = at(), c.Reason
		}
	}
	if gone {
		rec.DeletedAt = at()
		return
	}
	if rec.ScheduledAt == nil && pod.Spec.NodeName != "" {
		rec.ScheduledAt = r.elapsed()
	}
	if rec.RunningAt == nil && pod.Status.Phase == corev1.PodRunning {
		rec.RunningAt = r.elapsed()
	}
}

// observeNode logs a node's creation and deletion, and the writes that change its readiness
// or allocatable; heartbeats, which change neither, are not logged.
func (r *Recorder) observeNode(typ watch.EventType, n *corev1.Node) {
	at := r.clock.Now().Sub(Epoch)
	if typ == watch.Deleted {
		delete(r.nodes, n.Name)
		r.history.Nodes = append(r.history.Nodes, analysis.NodeChange{At: at, Name: n.Name, Gone: true})
		return
	}
	prev, known := r.nodes[n.Name]
	cur := nodeState{ready: nodeReady(n), allocatable: prev.allocatable}
	var alloc corev1.ResourceList
	if !known || !sameResources(prev.allocatable, n.Status.Allocatable) {
		// A copy: the log must not change if a later write reuses the object's map.
		alloc = make(corev1.ResourceList, len(n.Status.Allocatable))
		for k, q := range n.Status.Allocatable {
			alloc[k] = q.DeepCopy()
		}
		cur.allocatable = alloc
	}
	if known && alloc == nil && prev.ready == cur.ready {
		return
	}
	r.nodes[n.Name] = cur
	r.history.Nodes = append(r.history.Nodes, analysis.NodeChange{At: at, Name: n.Name, Ready: cur.ready, Allocatable: alloc})
}

// podReady is the pod's Ready condition being True.
func podReady(p *corev1.Pod) bool {
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// disruptionTarget is the pod's True DisruptionTarget condition, nil without one.
func disruptionTarget(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// sameResources compares quantities by value, so "1" and "1000m" are the same.
func sameResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		o, ok := b[k]
		if !ok || q.Cmp(o) != 0 {
			return false
		}
	}
	return true
}

// Attempted implements SchedulerHooks.
func (r *Recorder) Attempted(pod *corev1.Pod) {
	if i, ok := r.index[pod.UID]; ok {
		r.pods[i].Attempts++
	}
}

// Failed implements SchedulerHooks.
func (r *Recorder) Failed(pod *corev1.Pod, message string, outcome analysis.SchedulingOutcome) {
	if i, ok := r.index[pod.UID]; ok {
		r.pods[i].Reason, r.pods[i].Outcome = message, &outcome
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
	r.record(ev)
}

// Events returns the events recorded so far, in order.
func (r *Recorder) Events() []Event { return r.events }

// Pods returns the observed pods in creation order.
func (r *Recorder) Pods() []analysis.PodRecord {
	return append([]analysis.PodRecord(nil), r.pods...)
}

// Pod returns the record of the pod with this UID so far, and whether there is one. The record
// is a copy; its Pod is the stored object, not to be changed.
func (r *Recorder) Pod(uid types.UID) (analysis.PodRecord, bool) {
	i, ok := r.index[uid]
	if !ok {
		return analysis.PodRecord{}, false
	}
	return r.pods[i], true
}

// History returns the change log so far; its pod indices are those of Pods.
func (r *Recorder) History() analysis.History {
	return analysis.History{
		Pods:  append([]analysis.PodChange(nil), r.history.Pods...),
		Nodes: append([]analysis.NodeChange(nil), r.history.Nodes...),
	}
}

func (r *Recorder) lastActivity() string { return r.last }

func key(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// record appends an event; every event goes through it, so that a claim's last Warning event
// is kept for the report whichever component recorded it.
func (r *Recorder) record(ev Event) {
	r.events = append(r.events, ev)
	if ev.Kind == "PersistentVolumeClaim" && ev.Type == corev1.EventTypeWarning {
		r.claims.warn(ev)
	}
}

// Warn records a warning event about an object, from a simulated controller.
// They reach the report (analysis.Report.Warnings) as well as Events.
func (r *Recorder) Warn(kind, namespace, name, reason, message string) {
	at := r.clock.Now().Sub(Epoch)
	r.record(Event{At: at, Kind: kind, Namespace: namespace,
		Name: name, Type: corev1.EventTypeWarning, Reason: reason, Message: message})
	r.warnings = append(r.warnings, analysis.WarningRecord{At: at, Kind: kind, Namespace: namespace, Name: name,
		Reason: reason, Message: message})
}

// TraceError records a trace event that could not be carried out.
func (r *Recorder) TraceError(rec analysis.TraceErrorRecord) {
	r.traceErrors = append(r.traceErrors, rec)
}

// EvictionRefused records an eviction a PodDisruptionBudget refused.
func (r *Recorder) EvictionRefused(rec analysis.RefusedEvictionRecord) {
	r.refusedEvictions = append(r.refusedEvictions, rec)
}

// Drain registers a drain's record; the drain keeps it up to date as it goes, and the
// observation copies it as it is then.
func (r *Recorder) Drain(rec *analysis.DrainRecord) { r.drains = append(r.drains, rec) }

// Autoscaler registers the record the node autoscaler keeps up to date; Observe returns it.
func (r *Recorder) Autoscaler(rec *analysis.AutoscalerRecord) { r.autoscaler = rec }

// HPAs registers the HPA controller's records; Observe returns what records returns then.
func (r *Recorder) HPAs(records func() []*analysis.HPARecord) { r.hpas = records }

// Usage registers the load model's record; Observe returns what record returns then.
func (r *Recorder) Usage(record func() *analysis.UsageRecord) { r.usage = record }

func (r *Recorder) drainRecords() []analysis.DrainRecord {
	out := make([]analysis.DrainRecord, len(r.drains))
	for i, d := range r.drains {
		out[i] = *d
		out[i].Skipped = append([]string(nil), d.Skipped...)
	}
	return out
}
