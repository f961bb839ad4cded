package workloads_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// gpuPool is a pool of 32-CPU nodes with two shared cards of 1000 gpuMilli each, from 0 nodes.
func gpuPool(t testing.TB) *autoscaling.NodePool {
	t.Helper()
	p, err := autoscaling.Decode([]byte(`apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: gpu}
spec:
  min: 0
  max: 10
  template:
    metadata:
      annotations:
        kwoksim.io/devices: '[{count: 2, capacity: {gpuMilli: 1000}, shared: true}]'
  shapes:
  - {name: g2, capacity: {cpu: "32", memory: 128Gi}, pricePerHour: 3}
  provisioning: {delay: {min: 60s, max: 60s}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sharedCardPods are n pods, each with its own claim on milli of a card, and the DeviceClass.
func sharedCardPods(n int, milli string) []runtime.Object {
	objs := []runtime.Object{&resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{
			Expression: `device.driver == "gpu.kwoksim.io"`}}}}}}
	for i := range n {
		name := fmt.Sprintf("gpu-%d", i)
		objs = append(objs, &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: shareClaimSpec(milli)},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{
				ResourceClaims: []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: &name}},
				Containers: []corev1.Container{{Name: "main", Image: "app", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					Claims:   []corev1.ResourceClaim{{Name: "gpu"}}}}}}})
	}
	return objs
}

// claimingDeployment is a Deployment of pods requesting cpu that each claim a device through
// the ResourceClaimTemplate named template.
func claimingDeployment(name string, replicas int32, cpu, template string) *appsv1.Deployment {
	d := cpuDeployment(name, replicas, cpu)
	d.Spec.Template.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr.To(template)}}
	d.Spec.Template.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
	return d
}

// runningPods counts the pods Running.
func runningPods(t *testing.T, s *sim.Simulator) int {
	n := 0
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}

// shareClaimSpec claims milli gpuMilli of one card of class gpu.
func shareClaimSpec(milli string) resourcev1.ResourceClaimSpec {
	return resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{
		Name: "gpu", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: "gpu",
			Capacity: &resourcev1.CapacityRequirements{Requests: map[resourcev1.QualifiedName]resource.Quantity{
				"gpuMilli": resource.MustParse(milli)}}}}}}}
}

// cluster-autoscaler simulates a template node with the devices of its pool's template: four
// pods each claiming 600 of a card's 1000 gpuMilli take one card each (no two fit one card),
// so a node of two cards takes two of them and the scale-up is of two nodes, in one step (no
// second scale-up once the nodes register, their slices published or not). The nodes then
// hold both cards each: their utilization is their devices' (100%), not their CPU's (under
// 1%), so neither is a scale-down candidate.
func TestClusterAutoscalerSimulatesDevices(t *testing.T) {
	r := newCARun(t, 1, 30*time.Minute, gpuPool(t), nil)
	workloadstest.Create(t, r.s, sharedCardPods(4, "600")...)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	ups := r.events("ScaleUp")
	if len(ups) != 1 || len(ups[0].Nodes) != 2 {
		t.Fatalf("scale-ups %+v, want one of 2 nodes", ups)
	}
	if len(r.boundAt) != 4 {
		t.Errorf("pods bound: %v, want all 4", r.boundAt)
	}
	if ns := r.rt.Record().NoScaleUp; len(ns) != 0 {
		t.Errorf("pods no pool could take: %+v, want none", ns)
	}
	if downs := r.events("ScaleDown"); len(downs) != 0 {
		t.Errorf("scale-downs %+v, want none: every card is busy", downs)
	}
	if u := r.rt.Record().Unremovable; len(u) != 0 {
		t.Errorf("unremovable %+v, want none: a node whose cards are all busy is needed, not a candidate", u)
	}
}

// A node with a free card takes a GPU pod from another node: three replicas of a 0.6-card pod
// need two nodes (2 + 1); at 20m the Deployment drops to two, the ReplicaSet deleting from the
// node with more of its pods, so each node holds one pod on one of its two cards: a device
// utilization of 1/2, at the threshold (0.5, not above), so both are candidates. Removing
// either moves its pod onto the other's free card (its claim released and allocated again
// there), so one node goes, with its devices' utilization in the message, and the evicted
// pod's replacement runs on the node left.
func TestClusterAutoscalerMovesDevicePods(t *testing.T) {
	r := newCARun(t, 1, 50*time.Minute, gpuPool(t), nil)
	d := claimingDeployment("gpu", 3, "100m", "gpu-600")
	objs := sharedCardPods(0, "")
	objs = append(objs, &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Name: "gpu-600", Namespace: "default"},
		Spec: resourcev1.ResourceClaimTemplateSpec{Spec: shareClaimSpec("600")}}, d)
	workloadstest.Create(t, r.s, objs...)
	workloadstest.PatchAt(t, r.s, 20*time.Minute, "Deployment", "default", "gpu", `{"spec":{"replicas":2}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	if ups := r.events("ScaleUp"); len(ups) != 1 || len(ups[0].Nodes) != 2 {
		t.Fatalf("scale-ups %+v, want one of 2 nodes", ups)
	}
	downs := r.events("ScaleDown")
	if len(downs) != 1 || downs[0].Reason != "ScaleDown" ||
		!strings.Contains(downs[0].Message, "utilization: {0 0 0 0.5 gpu.kwoksim.io/") {
		t.Fatalf("scale-downs %+v, want one node removed with its pod moved, at its devices' utilization (0.5)", downs)
	}
	if r.nodes != 1 {
		t.Errorf("%d nodes at the end, want 1", r.nodes)
	}
	if running := runningPods(t, r.s); running != 2 {
		t.Errorf("%d pods running at the end, want 2 (one per card of the node left)", running)
	}
}

// The device simulation is as reproducible as the rest: the scale-down of
// TestClusterAutoscalerMovesDevicePods, larger (six replicas dropped to three, the random
// expander), gives the same record, placements and device allocations at GOMAXPROCS 1 and 2.
func TestClusterAutoscalerDevicesReproducible(t *testing.T) {
	run := func(procs int) []byte {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(procs))
		r := newCARun(t, 8, 50*time.Minute, gpuPool(t), func(o *autoscaling.Options) { o.Expander = "random" })
		d := claimingDeployment("gpu", 6, "100m", "gpu-600")
		objs := append(sharedCardPods(0, ""), &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Name: "gpu-600", Namespace: "default"},
			Spec: resourcev1.ResourceClaimTemplateSpec{Spec: shareClaimSpec("600")}}, d)
		workloadstest.Create(t, r.s, objs...)
		workloadstest.PatchAt(t, r.s, 20*time.Minute+5*time.Second, "Deployment", "default", "gpu", `{"spec":{"replicas":3}}`)
		if err := r.s.Run(); err != nil {
			t.Fatal(err)
		}
		if len(r.events("ScaleDown")) == 0 {
			t.Errorf("no scale-down at GOMAXPROCS %d: the run does not exercise the device moves", procs)
		}
		b, err := json.Marshal(r.rt.Record())
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, workloadstest.Placement(t, r.s)...)
		for _, c := range workloadstest.List[*resourcev1.ResourceClaim](t, r.s, "ResourceClaim") {
			if c.Status.Allocation != nil {
				res := c.Status.Allocation.Devices.Results[0]
				b = fmt.Appendf(b, "\n%s %s/%s", c.Name, res.Pool, res.Device)
			}
		}
		return b
	}
	a, b := run(1), run(2)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs with the same seed differ: %s", workloadstest.FirstDifference(a, b))
	}
}

// A pod whose claim no template's devices can satisfy (more than a card holds) is not scaled
// up for, with the DynamicResources plugin's reason.
func TestClusterAutoscalerNoScaleUpForDevices(t *testing.T) {
	r := newCARun(t, 1, 30*time.Minute, gpuPool(t), nil)
	workloadstest.Create(t, r.s, sharedCardPods(1, "1500")...)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	if ups := r.events("ScaleUp"); len(ups) != 0 {
		t.Errorf("scale-ups %+v, want none", ups)
	}
	ns := r.rt.Record().NoScaleUp
	if len(ns) != 1 || !strings.Contains(ns[0].Reason, "cannot allocate all claims") {
		t.Errorf("pods no pool could take: %+v, want gpu-0 with the DynamicResources plugin's reason", ns)
	}
}

// Karpenter, as with --ignore-dra-requests at its default (true), leaves the claims out of its
// simulation: the four pods fit one node by CPU, so it launches one, which takes the two pods
// its two cards allow; the other two stay pending, and it launches nothing more for them
// (they fit the node it has, by CPU).
func TestKarpenterIgnoresDeviceClaims(t *testing.T) {
	r := startKarpenter(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: 30 * time.Minute},
		[]*autoscaling.NodePool{gpuPool(t)}, sharedCardPods(4, "600")...)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	if ups := r.events("ScaleUp"); len(ups) != 1 || len(ups[0].Nodes) != 1 {
		t.Fatalf("launches %+v, want one of 1 node", ups)
	}
	if len(r.bound) != 2 {
		t.Errorf("pods bound: %v, want 2 (one per card)", r.bound)
	}
}

// partitionedGPU is a node's pool of one GPU published as partitionable devices: the whole
// card (40Gi of the card's memory counter) or either of two halves (20Gi each); the counter
// set and the devices are two slices of the pool, as the API wants them.
func partitionedGPU(node string) []runtime.Object {
	half := map[string]resourcev1.Counter{"memory": {Value: resource.MustParse("20Gi")}}
	device := func(name, kind string, counters map[string]resourcev1.Counter) resourcev1.Device {
		return resourcev1.Device{Name: name,
			Attributes:       map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{"kind": {StringValue: ptr.To(kind)}},
			ConsumesCounters: []resourcev1.DeviceCounterConsumption{{CounterSet: "gpu-0", Counters: counters}}}
	}
	pool := resourcev1.ResourcePool{Name: node, ResourceSliceCount: 2}
	return []runtime.Object{
		&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: node + "-gpu-counters"},
			Spec: resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: ptr.To(node), Pool: pool,
				SharedCounters: []resourcev1.CounterSet{{Name: "gpu-0",
					Counters: map[string]resourcev1.Counter{"memory": {Value: resource.MustParse("40Gi")}}}}}},
		&resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: node + "-gpu-devices"},
			Spec: resourcev1.ResourceSliceSpec{Driver: "gpu.example.com", NodeName: ptr.To(node), Pool: pool,
				Devices: []resourcev1.Device{
					device("whole", "whole", map[string]resourcev1.Counter{"memory": {Value: resource.MustParse("40Gi")}}),
					device("half-0", "half", half), device("half-1", "half", half)}}}}
}

// A node's utilization by partitionable devices is upstream's: the held devices' use of the
// card's counters (half of its memory: 0.5), not the share of devices held (one of three).
// Two pool nodes each with one partitioned GPU, and two replicas each claiming a half, one
// per node: both nodes are at 0.5, the threshold, so one goes, its replica moving onto the
// other node's free half; the scale-down says 0.5.
func TestClusterAutoscalerPartitionableUtilization(t *testing.T) {
	pool := testPool(t, "")
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: 40 * time.Minute})
	for i := range 2 {
		n, err := pool.Node("c8", i)
		if err != nil {
			t.Fatal(err)
		}
		workloadstest.Create(t, s, n)
		workloadstest.Create(t, s, partitionedGPU(n.Name)...)
	}
	rt := startCA(t, s, pool)
	class := &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: "half-gpu"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{
			Expression: `device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].kind == "half"`}}}}}
	tmpl := &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Name: "half", Namespace: "default"},
		Spec: resourcev1.ResourceClaimTemplateSpec{Spec: resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{
			Requests: []resourcev1.DeviceRequest{{Name: "gpu", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: "half-gpu"}}}}}}}
	d := claimingDeployment("infer", 2, "3", "half")
	workloadstest.Create(t, s, class, tmpl, d)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, e := range rt.Record().Events {
		t.Logf("event %v %s %s %v %s", e.At, e.Type, e.Reason, e.Nodes, e.Message)
	}
	downs := eventsOf(rt, "ScaleDown")
	if len(downs) != 1 || !strings.Contains(downs[0].Message, "utilization: {0 0 0 0.5 gpu.example.com/"+downs[0].Nodes[0]+" 0.5}") {
		t.Fatalf("scale-downs %+v, want one, at the partitioned GPU's utilization 0.5", downs)
	}
	if running := runningPods(t, s); running != 2 {
		t.Errorf("%d pods running at the end, want 2 (one per half of the card left)", running)
	}
}
