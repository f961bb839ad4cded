package autoscaling

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The expanders keep their best options, ties included, in chain order; a surviving tie is
// drawn (expander/factory/chain.go). Expected winners computed by hand from each upstream
// expander's rule.
func TestBestOption(t *testing.T) {
	// a: 2 × 8-CPU nodes for 14 CPU (waste 2/16 cpu + 1 mem = 1.125), $0.80/h, 7 pods.
	// b: 1 × 16-CPU node for 14 CPU (waste 2/16 + 1 = 1.125), $0.70/h, 7 pods.
	// c: 3 × 4-CPU nodes for 6 CPU (waste 6/12 + 1 = 1.5), $0.60/h, 3 pods.
	opts := []ExpansionOption{
		{Group: "a", NodeCount: 2, Pods: 7, PodsCPUMilli: 14000, NodeCPUMilli: 8000, NodeMemory: 1 << 30, PricePerHour: 0.40},
		{Group: "b", NodeCount: 1, Pods: 7, PodsCPUMilli: 14000, NodeCPUMilli: 16000, NodeMemory: 1 << 30, PricePerHour: 0.70},
		{Group: "c", NodeCount: 3, Pods: 3, PodsCPUMilli: 6000, NodeCPUMilli: 4000, NodeMemory: 1 << 30, PricePerHour: 0.20},
	}
	first := func(n int) int { return 0 }
	last := func(n int) int { return n - 1 }
	for _, tc := range []struct {
		name  string
		chain []string
		pick  func(int) int
		want  string
	}{
		{"least-waste ties a and b, the draw picks the first", []string{ExpanderLeastWaste}, first, "a"},
		{"least-waste ties a and b, the draw picks the last", []string{ExpanderLeastWaste}, last, "b"},
		{"least-waste then least-nodes", []string{ExpanderLeastWaste, ExpanderLeastNodes}, first, "b"},
		{"most-pods ties a and b, then price", []string{ExpanderMostPods, ExpanderPrice}, first, "b"},
		{"price: c's 3 × 0.20 is cheapest", []string{ExpanderPrice}, last, "c"},
		{"random draws among all", []string{ExpanderRandom, ExpanderPrice}, last, "c"},
		{"priority without its ConfigMap keeps all, price decides", []string{ExpanderPriority, ExpanderPrice}, first, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BestOption(tc.chain, opts, tc.pick); opts[got].Group != tc.want {
				t.Errorf("got %s, want %s", opts[got].Group, tc.want)
			}
		})
	}
	if BestOption([]string{ExpanderLeastWaste}, nil, first) != -1 {
		t.Error("no option must give -1")
	}
}

func TestParseExpander(t *testing.T) {
	if c, err := ParseExpander("least-waste, price"); err != nil || len(c) != 2 {
		t.Errorf("a chain of two: %v %v", c, err)
	}
	for _, bad := range []string{"grpc", "cheapest", ""} {
		if _, err := ParseExpander(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}

// exponential_backoff.go: 5 m, doubled once over, kept while backed off, 30 m at most,
// reset 3 h after the last failure.
func TestGroupBackoff(t *testing.T) {
	o := DefaultOptions()
	b := NewGroupBackoff(o)
	t0 := time.Unix(0, 0)
	steps := []struct {
		at   time.Duration
		want time.Duration // backoff until, from t0
	}{
		{0, 5 * time.Minute},
		{2 * time.Minute, 7 * time.Minute},                                             // still backed off: same 5 m
		{10 * time.Minute, 20 * time.Minute},                                           // over: doubled to 10 m
		{30 * time.Minute, 50 * time.Minute},                                           // 20 m
		{60 * time.Minute, 90 * time.Minute},                                           // 40 m capped at 30 m
		{100 * time.Minute, 130 * time.Minute},                                         // 30 m
		{100*time.Minute + 4*time.Hour, 100*time.Minute + 4*time.Hour + 5*time.Minute}, // reset
	}
	for _, s := range steps {
		if got := b.Backoff("g", t0.Add(s.at)); !got.Equal(t0.Add(s.want)) {
			t.Errorf("failure at %v: backed off until %v, want %v", s.at, got.Sub(t0), s.want)
		}
	}
	if !b.BackedOff("g", t0.Add(100*time.Minute+4*time.Hour+4*time.Minute)) || b.BackedOff("g", t0.Add(100*time.Minute+4*time.Hour+5*time.Minute)) {
		t.Error("backed off strictly before the until time")
	}
}

// Utilization is max(cpu, mem) of requests over allocatable; a pod past deletion + grace +
// 30 s no longer counts; DaemonSet pods leave both sides with ignoreDaemonSets.
func TestUtilization(t *testing.T) {
	node := &corev1.Node{Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi")}}}
	pod := func(cpu, mem string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}}}
	}
	now := time.Unix(1000, 0)
	a, b := pod("2", "4Gi"), pod("1", "24Gi")
	if u := Utilization(node, []*corev1.Pod{a, b}, now, false); u.CpuUtil != 0.375 || u.MemUtil != 0.875 ||
		u.Utilization != 0.875 || u.ResourceName != corev1.ResourceMemory {
		t.Errorf("got %+v, want cpu 3/8, mem 28/32 the max", u)
	}
	// Terminating since 61 s: deletion + 30 s grace + 30 s is before now.
	b.DeletionTimestamp = &metav1.Time{Time: now.Add(-61 * time.Second)}
	if u := Utilization(node, []*corev1.Pod{a, b}, now, false); u.Utilization != 0.25 {
		t.Errorf("a long-terminating pod must not count: %+v", u)
	}
	b.DeletionTimestamp = &metav1.Time{Time: now.Add(-60 * time.Second)}
	if u := Utilization(node, []*corev1.Pod{a, b}, now, false); u.Utilization != 0.875 {
		t.Errorf("a pod terminating for exactly grace + 30 s still counts: %+v", u)
	}
	yes := true
	ds := pod("4", "0")
	ds.OwnerReferences = []metav1.OwnerReference{{Kind: "DaemonSet", Name: "ds", Controller: &yes}}
	if u := Utilization(node, []*corev1.Pod{a, ds}, now, true); u.CpuUtil != 0.5 {
		t.Errorf("ignoring DaemonSets: cpu 2/(8-4) = 0.5, got %+v", u)
	}
	if u := Utilization(node, []*corev1.Pod{a, ds}, now, false); u.CpuUtil != 0.75 {
		t.Errorf("counting DaemonSets: cpu 6/8, got %+v", u)
	}
}
