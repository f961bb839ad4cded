package sim

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// zoneNode is a node alone in its zone, with 4 GiB of memory per CPU.
func zoneNode(name, zone string, cpus int64) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname: name, corev1.LabelTopologyZone: zone,
		}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourcePods:   resource.MustParse("110"),
			corev1.ResourceCPU:    *resource.NewQuantity(cpus, resource.DecimalSI),
			corev1.ResourceMemory: *resource.NewQuantity(cpus<<32, resource.BinarySI),
		}},
	}
	return n
}

// zonesOfBarePods schedules six bare pods labelled app=web, with or without a Service
// selecting them, and returns how many landed in each zone.
func zonesOfBarePods(t *testing.T, withService bool) map[string]int {
	t.Helper()
	s := newSim(t, Config{Seed: 1})
	for _, n := range []*corev1.Node{zoneNode("a", "zone-a", 64), zoneNode("b", "zone-b", 4), zoneNode("c", "zone-c", 4)} {
		if _, err := s.API().Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if withService {
		createService(t, s, service("web", ""))
	}
	for i := range 6 {
		p := pod(fmt.Sprintf("web-%d", i))
		p.Labels = map[string]string{"app": "web"}
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("1Gi"),
		}
		if _, err := s.API().Create(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	zones := map[string]int{}
	for i := range 6 {
		p := getPod(t, s, fmt.Sprintf("web-%d", i))
		if p.Spec.NodeName == "" {
			t.Fatalf("pod %s not scheduled", p.Name)
		}
		zones["zone-"+p.Spec.NodeName]++
	}
	return zones
}

// A Service's selector feeds the scheduler's default topology spreading
// (podtopologyspread buildDefaultConstraints, helper.DefaultSelector reads Services), so bare
// pods it selects are spread across zones; without it a bare pod has no default constraints
// and they pile onto the largest node.
//
// The fixture: node a (zone-a) has 64 CPU / 256 GiB, b and c 4 CPU / 16 GiB, and every pod
// asks for 250m / 1 GiB, the nodes' ratio, so NodeResourcesBalancedAllocation gives 100
// everywhere and the other default scores (TaintToleration, NodeAffinity, ImageLocality,
// InterPodAffinity) are equal: NodeResourcesFit (LeastAllocated, weight 1) and
// PodTopologySpread (weight 2) decide. LeastAllocated, with the incoming pod counted, is
// ⌊100·(1 − (m+1)/256)⌋ on a with m pods (99, 99, 98, 98, 98, …) and ⌊100·(1 − (k+1)/16)⌋ on b
// or c with k pods (93, 87, 81, …).
//
// Without the Service, a wins every cycle (at least 97 against 93 up to the sixth pod): 6 / 0 / 0.
//
// With it, the system defaults apply (zone maxSkew 5, hostname maxSkew 3, ScheduleAnyway).
// With one node per zone and 3 nodes, both weights are ln(3+2), so a node whose zone holds c
// matching pods scores round(2·ln5·c + 4 + 2) = 6, 9, 12 for c = 0, 1, 2, normalized to
// 100·(max+min−s)/max and weighted 2. Cycle by cycle (a / b / c totals of Fit + 2·spread):
// pod 1: 299 / 293 / 293 → a; pod 2: 231 / 293 / 293 → b (b and c tie, and are symmetric);
// pod 3: 231 / 219 / 293 → c; pod 4: 299 / 287 / 287 → a; pod 5: 248 / 287 / 287 → b;
// pod 6: 248 / 231 / 287 → c. So 2 / 2 / 2.
func TestServiceSpreadsBarePodsAcrossZones(t *testing.T) {
	without := zonesOfBarePods(t, false)
	if without["zone-a"] != 6 {
		t.Errorf("without a Service: %v, want all 6 pods in zone-a", without)
	}
	with := zonesOfBarePods(t, true)
	if with["zone-a"] != 2 || with["zone-b"] != 2 || with["zone-c"] != 2 {
		t.Errorf("with a Service: %v, want 2 per zone", with)
	}
}
