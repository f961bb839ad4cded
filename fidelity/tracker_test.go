package fidelity

import (
	"encoding/json"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

func ptr[T any](v T) *T { return &v }

func pod(name, rv string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: "default", Name: name, UID: types.UID("uid-" + name), ResourceVersion: rv,
		OwnerReferences: []metav1.OwnerReference{
			{Kind: "Node", Name: "not-the-controller"},
			{Kind: "ReplicaSet", Name: "web-abc", Controller: ptr(true)},
		},
	}}
}

// A pod's lifecycle: every time is the first event showing the state, rounded to the
// millisecond; the owner is the controller reference, not the first one.
func TestTrackerPodLifecycle(t *testing.T) {
	tr := NewTracker()
	p := pod("web-1", "10")
	tr.Pod(watch.Added, p, 0.1)

	p = p.DeepCopy()
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Message: "0/1 nodes are available: first."}}
	tr.Pod(watch.Modified, p, 0.2)
	p.Status.Conditions[0].Message = "0/2 nodes are available: last."
	tr.Pod(watch.Modified, p, 0.3)

	p = p.DeepCopy()
	p.Spec.NodeName = "node-1"
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	p.Status.Phase = corev1.PodPending
	tr.Pod(watch.Modified, p, 1.23449)

	p = p.DeepCopy()
	p.Status.Phase = corev1.PodRunning
	tr.Pod(watch.Modified, p, 2.0)
	tr.Pod(watch.Modified, p, 2.5) // a later write does not move Running

	p = p.DeepCopy()
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByTaintManager"})
	p.DeletionTimestamp = &metav1.Time{}
	tr.Pod(watch.Modified, p, 300.0004)
	tr.Pod(watch.Deleted, p, 330)
	tr.Pod(watch.Modified, p, 331) // late: the pod is gone

	got := tr.Run(400).Pods
	want := []Pod{{
		Namespace: "default", Name: "web-1", Owner: "ReplicaSet/web-abc", Node: "node-1",
		Created: ptr(0.1), Scheduled: ptr(1.234), Running: ptr(2.0), DeletionRequested: ptr(300.0), Gone: ptr(330.0),
		Phase: "", EvictionReason: "DeletionByTaintManager", Unschedulable: "0/2 nodes are available: last.",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

// A pod deleted outright (no deletionTimestamp ever seen) has its deletion requested when it
// is gone; a pod still there at the end keeps its phase and nil times.
func TestTrackerPodDeletedOutrightAndPending(t *testing.T) {
	tr := NewTracker()
	a := pod("a", "1")
	a.Status.Phase = corev1.PodPending
	tr.Pod(watch.Added, a, 1)
	tr.Pod(watch.Deleted, a, 4)
	b := pod("b", "2")
	b.Status.Phase = corev1.PodPending
	tr.Pod(watch.Added, b, 2)

	got := tr.Run(10).Pods
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("want pods a, b in first-seen order, got %s", dump(got))
	}
	if got[0].DeletionRequested == nil || *got[0].DeletionRequested != 4 || got[0].Gone == nil || *got[0].Gone != 4 || got[0].Phase != "" {
		t.Errorf("a: %s", dump(got[0]))
	}
	if got[1].Scheduled != nil || got[1].Running != nil || got[1].Gone != nil || got[1].Phase != "Pending" {
		t.Errorf("b: %s", dump(got[1]))
	}
}

// A pod recreated with the same name (a new UID) is a second pod.
func TestTrackerPodSameNameNewUID(t *testing.T) {
	tr := NewTracker()
	a := pod("db-0", "1")
	tr.Pod(watch.Added, a, 1)
	tr.Pod(watch.Deleted, a, 2)
	b := pod("db-0", "5")
	b.UID = "uid-db-0-second"
	tr.Pod(watch.Added, b, 3)
	if got := tr.Run(5).Pods; len(got) != 2 || *got[1].Created != 3 || got[1].Gone != nil {
		t.Errorf("got %s", dump(got))
	}
}

// A workload's sizes: one entry per change of (replicas, current, ready), with the
// resourceVersion as Seq; a write that changes none of them (an observedGeneration bump)
// adds nothing. Each kind reads its own fields.
func TestTrackerWorkloadSizes(t *testing.T) {
	tr := NewTracker()
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-abc", UID: "rs1", ResourceVersion: "100",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3))}}
	step := func(rv string, replicas, current, ready int32, sec float64) {
		rs = rs.DeepCopy()
		rs.ResourceVersion = rv
		rs.Spec.Replicas = ptr(replicas)
		rs.Status.Replicas, rs.Status.ReadyReplicas = current, ready
		if err := tr.Workload(watch.Modified, rs, sec); err != nil {
			t.Fatal(err)
		}
	}
	step("100", 3, 0, 0, 0)
	step("104", 3, 3, 0, 0.01)
	step("105", 3, 3, 0, 0.02) // nothing changed
	step("109", 3, 3, 3, 0.5)
	step("120", 8, 3, 3, 0.5)

	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "agent", UID: "ds1", ResourceVersion: "7"},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 6, CurrentNumberScheduled: 5, NumberReady: 4}}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "batch", UID: "j1", ResourceVersion: "8"},
		Spec: batchv1.JobSpec{Parallelism: ptr(int32(4))}, Status: batchv1.JobStatus{Active: 4, Ready: ptr(int32(2))}}
	if err := tr.Workload(watch.Added, ds, 1); err != nil {
		t.Fatal(err)
	}
	if err := tr.Workload(watch.Added, job, 2); err != nil {
		t.Fatal(err)
	}
	if err := tr.Workload(watch.Added, &appsv1.ControllerRevision{}, 2); err == nil {
		t.Error("a ControllerRevision is not a workload: want an error")
	}

	got := tr.Run(10).Workloads
	want := []Workload{
		{Kind: "ReplicaSet", Namespace: "default", Name: "web-abc", Owner: "Deployment/web", Sizes: []Size{
			{At: 0, Seq: 100, Replicas: 3}, {At: 0.01, Seq: 104, Replicas: 3, Current: 3},
			{At: 0.5, Seq: 109, Replicas: 3, Current: 3, Ready: 3}, {At: 0.5, Seq: 120, Replicas: 8, Current: 3, Ready: 3}}},
		{Kind: "DaemonSet", Namespace: "default", Name: "agent", Sizes: []Size{{At: 1, Seq: 7, Replicas: 6, Current: 5, Ready: 4}}},
		{Kind: "Job", Namespace: "default", Name: "batch", Sizes: []Size{{At: 2, Seq: 8, Replicas: 4, Current: 4, Ready: 2}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

// A node's changes: Ready and the sorted taints after each write that changes either; a
// heartbeat changes nothing; the deletion is kept.
func TestTrackerNodeChanges(t *testing.T) {
	tr := NewTracker()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "10"}}
	tr.Node(watch.Added, n, 0)
	n = n.DeepCopy()
	n.ResourceVersion = "11"
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	tr.Node(watch.Modified, n, 0)
	n = n.DeepCopy()
	n.ResourceVersion = "12" // a heartbeat
	tr.Node(watch.Modified, n, 5)
	n = n.DeepCopy()
	n.ResourceVersion = "20"
	n.Status.Conditions[0].Status = corev1.ConditionFalse
	n.Spec.Taints = []corev1.Taint{
		{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule},
		{Key: "pool", Value: "gpu", Effect: corev1.TaintEffectNoExecute},
	}
	tr.Node(watch.Modified, n, 21.5)
	tr.Node(watch.Deleted, n, 30)

	got := tr.Run(40).Nodes
	want := []Node{{Name: "node-1", Deleted: ptr(30.0), Changes: []NodeChange{
		{At: 0, Seq: 10, Ready: "", Taints: []string{}},
		{At: 0, Seq: 11, Ready: "True", Taints: []string{}},
		{At: 21.5, Seq: 20, Ready: "False", Taints: []string{"node.kubernetes.io/not-ready:NoSchedule", "node.kubernetes.io/unreachable:NoSchedule", "pool=gpu:NoExecute"}},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

// The Run is a copy: tracking on does not change a Run already taken.
func TestTrackerRunIsACopy(t *testing.T) {
	tr := NewTracker()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", ResourceVersion: "1"}}
	tr.Node(watch.Added, n, 0)
	r := tr.Run(1)
	n = n.DeepCopy()
	n.Spec.Unschedulable = true
	n.Spec.Taints = []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}}
	tr.Node(watch.Modified, n, 2)
	if len(r.Nodes[0].Changes) != 1 {
		t.Errorf("the earlier Run changed: %s", dump(r.Nodes))
	}
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// An HPA's status is its last watch event's; its events are per Event object, the count and
// last time moving only when the count does; Events about other kinds are ignored; the
// target's replicas come from the tracked workload.
func TestTrackerHPA(t *testing.T) {
	tr := NewTracker()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-web", ResourceVersion: "1"}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(2))}}
	if err := tr.Workload(watch.Added, d, 0); err != nil {
		t.Fatal(err)
	}
	ev := func(uid, reason string, count int32) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid)}, Type: "Warning", Reason: reason, Message: "msg " + reason, Count: count,
			InvolvedObject: corev1.ObjectReference{Kind: "HorizontalPodAutoscaler", Namespace: "default", Name: "web"}}
	}
	// The event may come before the HPA's own watch event.
	tr.Event(watch.Added, ev("e1", "FailedGetResourceMetric", 1), 0.0123)
	h := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}}}
	tr.HPA(watch.Added, h, 0.01)
	tr.Event(watch.Added, ev("e2", "FailedComputeMetricsReplicas", 1), 0.013)
	tr.Event(watch.Modified, ev("e1", "FailedGetResourceMetric", 2), 15.02)
	tr.Event(watch.Modified, ev("e1", "FailedGetResourceMetric", 2), 16) // no new count
	tr.Event(watch.Added, &corev1.Event{ObjectMeta: metav1.ObjectMeta{UID: "e3"}, Reason: "Scheduled", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}}, 1)
	h = h.DeepCopy()
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 0, Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
		{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "SucceededGetScale"},
		{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetResourceMetric", Message: "m"},
	}}
	tr.HPA(watch.Modified, h, 0.02)

	r := tr.Run(50)
	want := []HPA{{
		Namespace: "default", Name: "web", Target: "Deployment/web",
		Events: []HPAEvent{
			{Type: "Warning", Reason: "FailedGetResourceMetric", Message: "msg FailedGetResourceMetric", Count: 2, First: 0.012, Last: 15.02},
			{Type: "Warning", Reason: "FailedComputeMetricsReplicas", Message: "msg FailedComputeMetricsReplicas", Count: 1, First: 0.013, Last: 0.013},
		},
		Conditions: []HPACondition{
			{Type: "AbleToScale", Status: "True", Reason: "SucceededGetScale"},
			{Type: "ScalingActive", Status: "False", Reason: "FailedGetResourceMetric", Message: "m"},
		},
		CurrentReplicas: 2, DesiredReplicas: 0, TargetReplicas: []int32{2},
	}}
	if !reflect.DeepEqual(r.HPAs, want) {
		t.Errorf("HPAs:\n%+v\nwant\n%+v", r.HPAs, want)
	}
}
