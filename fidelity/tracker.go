package fidelity

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Tracker turns a stream of watch events into a Run: the bookkeeping of what an Observation
// records, kept apart from any client so that the recorder (which feeds it the real cluster's
// watch events as they are received) and, later, kwoksim (its own writes) can share it.
//
// It is not safe for concurrent use: the caller serializes the events, and the order in
// which it feeds them is the order recorded. Times are seconds since t=0; they are rounded
// to the millisecond, the precision a wall-clock recording can claim.
type Tracker struct {
	pods      map[types.UID]*trackedPod
	podOrder  []types.UID
	workloads map[string]*Workload
	wlOrder   []string
	nodes     map[string]*Node
	nodeOrder []string
	hpas      map[string]*trackedHPA
	hpaOrder  []string
}

type trackedPod struct {
	Pod
	gone bool
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{
		pods:      map[types.UID]*trackedPod{},
		workloads: map[string]*Workload{},
		nodes:     map[string]*Node{},
		hpas:      map[string]*trackedHPA{},
	}
}

// Millis rounds seconds to the millisecond.
func Millis(sec float64) float64 { return math.Round(sec*1000) / 1000 }

func at(sec float64) *float64 { v := Millis(sec); return &v }

// ownerOf is the controller ownerReference as "Kind/name", "" for none.
func ownerOf(m metav1.Object) string {
	if ref := metav1.GetControllerOf(m); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return ""
}

// seqOf is the object's resourceVersion as a number (etcd's revision on a real cluster); 0
// when it is not one.
func seqOf(m metav1.Object) int64 {
	v, err := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// Pod records a pod's watch event received at sec. An event for a pod already gone (a late
// duplicate) changes nothing.
func (t *Tracker) Pod(ev watch.EventType, pod *corev1.Pod, sec float64) {
	p, ok := t.pods[pod.UID]
	if !ok {
		p = &trackedPod{Pod: Pod{Namespace: pod.Namespace, Name: pod.Name, Created: at(sec)}}
		t.pods[pod.UID] = p
		t.podOrder = append(t.podOrder, pod.UID)
	}
	if p.gone {
		return
	}
	if o := ownerOf(pod); o != "" {
		p.Owner = o
	}
	if pod.Spec.NodeName != "" && p.Scheduled == nil {
		p.Node = pod.Spec.NodeName
		p.Scheduled = at(sec)
	}
	if pod.Status.Phase == corev1.PodRunning && p.Running == nil {
		p.Running = at(sec)
	}
	if pod.DeletionTimestamp != nil && p.DeletionRequested == nil {
		p.DeletionRequested = at(sec)
	}
	p.Phase = string(pod.Status.Phase)
	for _, c := range pod.Status.Conditions {
		switch {
		case c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue:
			p.EvictionReason = c.Reason
		case c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "":
			p.Unschedulable = c.Message
		}
	}
	if ev == watch.Deleted {
		// Deleted outright (no graceful deletion seen): the request and the removal are one.
		if p.DeletionRequested == nil {
			p.DeletionRequested = at(sec)
		}
		p.Gone = at(sec)
		p.Phase = ""
		p.gone = true
	}
}

// Workload records a workload's watch event received at sec: a Deployment, ReplicaSet,
// StatefulSet, DaemonSet or Job. A Size is appended when (replicas, current, ready) differs
// from the last one recorded. Other kinds are an error.
func (t *Tracker) Workload(ev watch.EventType, obj metav1.Object, sec float64) error {
	var kind string
	var s Size
	switch o := obj.(type) {
	case *appsv1.Deployment:
		kind, s = "Deployment", Size{Replicas: replicasOf(o.Spec.Replicas), Current: o.Status.Replicas, Ready: o.Status.ReadyReplicas}
	case *appsv1.ReplicaSet:
		kind, s = "ReplicaSet", Size{Replicas: replicasOf(o.Spec.Replicas), Current: o.Status.Replicas, Ready: o.Status.ReadyReplicas}
	case *appsv1.StatefulSet:
		kind, s = "StatefulSet", Size{Replicas: replicasOf(o.Spec.Replicas), Current: o.Status.Replicas, Ready: o.Status.ReadyReplicas}
	case *appsv1.DaemonSet:
		kind, s = "DaemonSet", Size{Replicas: o.Status.DesiredNumberScheduled, Current: o.Status.CurrentNumberScheduled, Ready: o.Status.NumberReady}
	case *batchv1.Job:
		// A Job without parallelism runs one pod at a time (batch/v1 defaults it to 1).
		par := int32(1)
		if o.Spec.Parallelism != nil {
			par = *o.Spec.Parallelism
		}
		var ready int32
		if o.Status.Ready != nil {
			ready = *o.Status.Ready
		}
		kind, s = "Job", Size{Replicas: par, Current: o.Status.Active, Ready: ready}
	default:
		return fmt.Errorf("tracker: %T is not a workload kind", obj)
	}
	key := kind + "/" + string(obj.GetUID())
	w, ok := t.workloads[key]
	if !ok {
		w = &Workload{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Sizes: []Size{}}
		t.workloads[key] = w
		t.wlOrder = append(t.wlOrder, key)
	}
	if o := ownerOf(obj); o != "" {
		w.Owner = o
	}
	s.At, s.Seq = Millis(sec), seqOf(obj)
	if n := len(w.Sizes); n > 0 {
		last := w.Sizes[n-1]
		if last.Replicas == s.Replicas && last.Current == s.Current && last.Ready == s.Ready {
			return nil
		}
	}
	w.Sizes = append(w.Sizes, s)
	return nil
}

// replicasOf is spec.replicas, defaulted to 1 as the apps/v1 API defaults it.
func replicasOf(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// Node records a node's watch event received at sec: a NodeChange when its Ready status or
// its sorted taints differ from the last one recorded, and its deletion.
func (t *Tracker) Node(ev watch.EventType, node *corev1.Node, sec float64) {
	n, ok := t.nodes[node.Name]
	if !ok {
		n = &Node{Name: node.Name, Changes: []NodeChange{}}
		t.nodes[node.Name] = n
		t.nodeOrder = append(t.nodeOrder, node.Name)
	}
	if ev == watch.Deleted {
		if n.Deleted == nil {
			n.Deleted = at(sec)
		}
		return
	}
	c := NodeChange{At: Millis(sec), Seq: seqOf(node), Ready: readyOf(node), Taints: TaintStrings(node.Spec.Taints)}
	if k := len(n.Changes); k > 0 {
		last := n.Changes[k-1]
		if last.Ready == c.Ready && equalStrings(last.Taints, c.Taints) {
			return
		}
	}
	n.Changes = append(n.Changes, c)
}

func readyOf(node *corev1.Node) string {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return string(c.Status)
		}
	}
	return ""
}

// TaintStrings are taints as "key=value:Effect" ("key:Effect" without a value), sorted.
func TaintStrings(taints []corev1.Taint) []string {
	out := make([]string, 0, len(taints))
	for _, t := range taints {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		out = append(out, s+":"+string(t.Effect))
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Run is what was tracked, observed for duration seconds: pods, workloads, nodes and HPAs in
// the order they were first seen. The Tracker may go on tracking afterwards.
func (t *Tracker) Run(duration float64) Run {
	r := Run{Duration: Millis(duration), Pods: []Pod{}, Workloads: []Workload{}, Nodes: []Node{}}
	for _, uid := range t.podOrder {
		r.Pods = append(r.Pods, t.pods[uid].Pod)
	}
	for _, k := range t.wlOrder {
		w := *t.workloads[k]
		w.Sizes = append([]Size{}, w.Sizes...)
		r.Workloads = append(r.Workloads, w)
	}
	for _, name := range t.nodeOrder {
		n := *t.nodes[name]
		n.Changes = append([]NodeChange{}, n.Changes...)
		r.Nodes = append(r.Nodes, n)
	}
	r.HPAs = t.hpaRun(r.Workloads)
	return r
}
