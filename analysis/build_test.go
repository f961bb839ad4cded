package analysis

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dur(d time.Duration) *time.Duration { return &d }

func podOn(name, node string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c"}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

func TestBuild(t *testing.T) {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("10")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	o := Observation{
		Seed:    9,
		Elapsed: 90 * time.Second,
		// z-done holds only a pod that has terminated: it exists but is not used.
		Nodes: []*corev1.Node{node, {ObjectMeta: metav1.ObjectMeta{Name: "a-not-ready"}}, {ObjectMeta: metav1.ObjectMeta{Name: "z-done"}}},
		Pods: []PodRecord{
			{Pod: podOn("b-running", "n1", corev1.PodRunning, "500m"), CreatedAt: dur(0), ScheduledAt: dur(time.Second), RunningAt: dur(2 * time.Second), Attempts: 1},
			{Pod: podOn("a-running", "n1", corev1.PodRunning, "250m"), CreatedAt: dur(0), ScheduledAt: dur(0), RunningAt: dur(0), Attempts: 2, Reason: "was unschedulable once"},
			{Pod: podOn("c-done", "n1", corev1.PodSucceeded, "1"), CreatedAt: dur(0), ScheduledAt: dur(0), Attempts: 1},
			{Pod: podOn("d-waiting", "", corev1.PodPending, "8"), CreatedAt: dur(3 * time.Second), Attempts: 4, Reason: "0/1 nodes are available"},
			{Pod: podOn("e-new", "", corev1.PodPending, ""), CreatedAt: dur(80 * time.Second)},
			{Pod: podOn("f-done", "z-done", corev1.PodSucceeded, "1"), CreatedAt: dur(0), ScheduledAt: dur(0), Attempts: 1},
		},
	}
	r := Build(o)
	if r.APIVersion != APIVersion || r.Kind != ReportKind || r.Seed != 9 || r.SimulatedSeconds != 90 {
		t.Errorf("header = %+v", r)
	}
	want := PodSummary{Total: 6, Scheduled: 4, Unschedulable: 1, Pending: 2, Running: 2, Succeeded: 2}
	if r.Summary.Pods != want {
		t.Errorf("summary.pods = %+v, want %+v", r.Summary.Pods, want)
	}
	// Used: n1 only; a-not-ready holds nothing and z-done only a terminated pod.
	if r.Summary.Nodes != (NodeSummary{Total: 3, Ready: 1, Used: 1}) {
		t.Errorf("summary.nodes = %+v", r.Summary.Nodes)
	}
	var names []string
	for _, p := range r.Pods {
		names = append(names, p.Name)
	}
	if got := names[0] + "," + names[1] + "," + names[4]; got != "a-running,b-running,e-new" {
		t.Errorf("pods not sorted by name: %v", names)
	}
	// A bound pod's old failure is not its reason; an unbound one's is.
	if r.Pods[0].UnschedulableReason != "" || r.Pods[3].UnschedulableReason != "0/1 nodes are available" {
		t.Errorf("reasons = %q, %q", r.Pods[0].UnschedulableReason, r.Pods[3].UnschedulableReason)
	}
	if r.Pods[4].ScheduledAt != nil || *r.Pods[1].RunningAt != 2 {
		t.Errorf("times: e-new scheduledAt %v, b-running runningAt %v", r.Pods[4].ScheduledAt, *r.Pods[1].RunningAt)
	}
	// Nodes sorted by name; requests of terminated pods are not counted.
	if r.Nodes[0].Name != "a-not-ready" || r.Nodes[1].Name != "n1" {
		t.Fatalf("nodes = %+v", r.Nodes)
	}
	n1 := r.Nodes[1]
	if !n1.Ready || n1.Pods != 2 || n1.Requested["cpu"] != "750m" || n1.Requested["pods"] != "2" || n1.Allocatable["cpu"] != "4" {
		t.Errorf("n1 = %+v", n1)
	}
	if len(n1.Taints) != 1 || n1.Taints[0] != "k=v:NoSchedule" {
		t.Errorf("taints = %v", n1.Taints)
	}
}
