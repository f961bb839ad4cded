package sim

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/analysis"
)

const gpuDriver = "gpu.kwoksim.io"

func gpuClass() *resourcev1.DeviceClass {
	return &resourcev1.DeviceClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gpu"},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{
			CEL: &resourcev1.CELDeviceSelector{Expression: `device.driver == "` + gpuDriver + `"`},
		}}},
	}
}

// cards is a node's ResourceSlice with n cards, each shareable (consumable capacity) with
// 1000 gpu-milli.
func cards(nodeName string, n int) *resourcev1.ResourceSlice {
	var devs []resourcev1.Device
	for i := range n {
		devs = append(devs, resourcev1.Device{
			Name:                     "gpu-" + string(rune('0'+i)),
			AllowMultipleAllocations: ptr.To(true),
			Attributes:               map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{"model": {StringValue: ptr.To("A100")}},
			Capacity:                 map[resourcev1.QualifiedName]resourcev1.DeviceCapacity{"gpuMilli": {Value: resource.MustParse("1000")}},
		})
	}
	return &resourcev1.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName + "-gpu"},
		Spec: resourcev1.ResourceSliceSpec{
			Driver: gpuDriver, NodeName: ptr.To(nodeName),
			Pool:    resourcev1.ResourcePool{Name: nodeName, ResourceSliceCount: 1},
			Devices: devs,
		},
	}
}

func gpuClaim(name string, count int64, milli string) *resourcev1.ResourceClaim {
	req := resourcev1.ExactDeviceRequest{DeviceClassName: "gpu", AllocationMode: resourcev1.DeviceAllocationModeExactCount, Count: count}
	if milli != "" {
		req.Capacity = &resourcev1.CapacityRequirements{Requests: map[resourcev1.QualifiedName]resource.Quantity{"gpuMilli": resource.MustParse(milli)}}
	}
	return &resourcev1.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{Name: "gpu", Exactly: &req}}}},
	}
}

func claimingPod(name, claim string) *corev1.Pod {
	p := pod(name)
	p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr.To(claim)}}
	p.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
	return p
}

func gpuReport(t *testing.T, s *Simulator) *analysis.GPUReport {
	t.Helper()
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	r := analysis.Build(o)
	if r.GPU == nil {
		t.Fatal("the report has no gpu section")
	}
	return r.GPU
}

// Per card, a 2-card node takes two pods of 0.6 GPU, one on each card, and the third is
// unschedulable with the DynamicResources plugin's reason: no card has 600 of its 1000
// gpuMilli left. What is left (2 × 400) is stranded for this workload.
func TestDRAPlacesSharedCardsPerCard(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	createAll(t, s, gpuClass(), cards("n1", 2))
	for _, n := range []string{"a", "b", "c"} {
		createAll(t, s, gpuClaim(n, 1, "600"), claimingPod(n, n))
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	devices := map[string]string{}
	for _, n := range []string{"a", "b"} {
		if p := getPod(t, s, n); p.Spec.NodeName != "n1" {
			t.Fatalf("pod %s: node %q, want n1", n, p.Spec.NodeName)
		}
		obj, err := s.API().Get(kinds["ResourceClaim"], "default", n)
		if err != nil {
			t.Fatal(err)
		}
		c := obj.(*resourcev1.ResourceClaim)
		if c.Status.Allocation == nil || len(c.Status.Allocation.Devices.Results) != 1 || len(c.Status.ReservedFor) != 1 || c.Status.ReservedFor[0].Name != n {
			t.Fatalf("claim %s: allocation %v, reserved for %v", n, c.Status.Allocation, c.Status.ReservedFor)
		}
		res := c.Status.Allocation.Devices.Results[0]
		if got := res.ConsumedCapacity["gpuMilli"]; got.Value() != 600 {
			t.Errorf("claim %s consumes %v gpuMilli of %s, want 600", n, got.String(), res.Device)
		}
		devices[res.Device] = n
	}
	if len(devices) != 2 {
		t.Errorf("both pods on one card: %v", devices)
	}
	c := getPod(t, s, "c")
	if c.Spec.NodeName != "" {
		t.Fatalf("pod c bound to %q: 1,200 of one card's 1,000 gpuMilli", c.Spec.NodeName)
	}
	if msg := unschedulableMessage(c); !strings.Contains(msg, "cannot allocate all claims") {
		t.Errorf("pod c: %q, want the DynamicResources plugin's reason", msg)
	}
	g := gpuReport(t, s)
	want := analysis.GPUReport{Model: "dra", Nodes: 1, Cards: 2, CapacityMilli: 2000, AllocatedMilli: 1200, BusyCards: 2,
		StrandedMilli: 800, Shapes: 1, GPUPods: 3}
	got := *g
	got.Allocation, got.Stranded, got.StrandedOfIdle = analysis.OverTimeFigure{}, analysis.OverTimeFigure{}, 0
	if got != want {
		t.Errorf("gpu section: got %+v, want %+v", got, want)
	}
	if g.Allocation.Final != 0.6 || g.Stranded.Final != 0.4 || g.StrandedOfIdle != 1 {
		t.Errorf("allocation %v, stranded %v (of idle %v); want 0.6, 0.4, 1", g.Allocation.Final, g.Stranded.Final, g.StrandedOfIdle)
	}
}

// The pooled model of the same cluster, one extended resource of 2,000 GPU-milli, places all
// three pods: 1,800 of 2,000, which no layout of two real cards allows.
func TestPooledGPUPlacesWhatNoCardLayoutAllows(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	n := node("n1")
	n.Status.Allocatable[GPUMilliResource] = resource.MustParse("2000")
	mustCreate(t, s, n)
	for _, name := range []string{"a", "b", "c"} {
		p := pod(name)
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{GPUMilliResource: resource.MustParse("600")}
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{GPUMilliResource: resource.MustParse("600")}
		mustCreate(t, s, p)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if p := getPod(t, s, name); p.Spec.NodeName != "n1" {
			t.Fatalf("pod %s: node %q, want n1", name, p.Spec.NodeName)
		}
	}
	g := gpuReport(t, s)
	if g.Model != "pooled" || g.CapacityMilli != 2000 || g.AllocatedMilli != 1800 || g.StrandedMilli != 200 || g.Cards != 1 {
		t.Errorf("gpu section: %+v; want pooled, 1,800 of 2,000 allocated, the 200 left stranded", g)
	}
}

// A pod asking for two whole cards needs two cards with all their gpuMilli free: on a node
// where a 0.6-GPU pod holds one card it is unschedulable, on a node with two free cards it
// runs.
func TestDRAWholeCardsNeedFreeCards(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	createAll(t, s, gpuClass(), cards("n1", 2), gpuClaim("small", 1, "600"), claimingPod("small", "small"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	createAll(t, s, gpuClaim("big", 2, "1000"), claimingPod("big", "big"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if p := getPod(t, s, "big"); p.Spec.NodeName != "" {
		t.Fatalf("the 2-card pod was bound to %q with one card partly used", p.Spec.NodeName)
	}
	n2 := node("n2")
	mustCreate(t, s, n2)
	createAll(t, s, cards("n2", 2))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if p := getPod(t, s, "big"); p.Spec.NodeName != "n2" {
		t.Fatalf("the 2-card pod: node %q, want n2 with its two free cards", p.Spec.NodeName)
	}
	g := gpuReport(t, s)
	if g.Cards != 4 || g.BusyCards != 3 || g.IdleCards != 1 || g.AllocatedMilli != 2600 {
		t.Errorf("gpu section: %+v; want 3 of 4 cards busy, 2,600 gpuMilli allocated", g)
	}
}

func unschedulableMessage(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
			return c.Message
		}
	}
	return ""
}

// A pod whose claim selects another model cannot use the node's cards at all: it is
// unschedulable, and for a workload of such pods every free card is stranded (the selector
// is evaluated with the DRA CEL library, once per card type).
func TestDRASelectorStrandsCardsOfAnotherModel(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	claim := gpuClaim("v100", 1, "500")
	claim.Spec.Devices.Requests[0].Exactly.Selectors = []resourcev1.DeviceSelector{{
		CEL: &resourcev1.CELDeviceSelector{Expression: `device.attributes["` + gpuDriver + `"].model == "V100"`},
	}}
	createAll(t, s, gpuClass(), cards("n1", 2), claim, claimingPod("v100", "v100"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if p := getPod(t, s, "v100"); p.Spec.NodeName != "" {
		t.Fatalf("a V100 pod was bound to %q, which has A100 cards", p.Spec.NodeName)
	}
	if g := gpuReport(t, s); g.StrandedMilli != 2000 || g.StrandedOfIdle != 1 {
		t.Errorf("gpu section: %+v; want all 2,000 free gpuMilli stranded", g)
	}
	// The same pod asking for A100 would use them: nothing stranded.
	s = newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	claim.Spec.Devices.Requests[0].Exactly.Selectors[0].CEL.Expression = `device.attributes["` + gpuDriver + `"].model == "A100"`
	createAll(t, s, gpuClass(), cards("n1", 2), claim, claimingPod("v100", "v100"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if g := gpuReport(t, s); g.StrandedMilli != 0 || g.AllocatedMilli != 500 {
		t.Errorf("gpu section: %+v; want 500 allocated, nothing stranded", g)
	}
}

// The DynamicResources plugin stamps an allocation with time.Now(); the stored claim has the
// virtual time instead, so that stored objects do not depend on the wall clock.
func TestDRAAllocationTimeIsVirtual(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	createAll(t, s, gpuClass(), cards("n1", 1), gpuClaim("a", 1, "500"), claimingPod("a", "a"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obj, err := s.API().Get(kinds["ResourceClaim"], "default", "a")
	if err != nil {
		t.Fatal(err)
	}
	alloc := obj.(*resourcev1.ResourceClaim).Status.Allocation
	if alloc == nil || alloc.AllocationTimestamp == nil || !alloc.AllocationTimestamp.Time.Equal(Epoch) {
		t.Fatalf("allocation %+v, want allocationTimestamp %v", alloc, Epoch)
	}
}

// The allocator gives each share of a device a random UUID; the stored claims carry IDs derived
// from the claim instead, the same in every run, and the two shares of one card stay distinct.
func TestDRAShareIDsAreDerived(t *testing.T) {
	shareIDs := func() []string {
		s := newSim(t, Config{Seed: 1})
		mustCreate(t, s, node("n1"))
		createAll(t, s, gpuClass(), cards("n1", 1), gpuClaim("a", 1, "400"), claimingPod("a", "a"),
			gpuClaim("b", 1, "400"), claimingPod("b", "b"))
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, name := range []string{"a", "b"} {
			obj, err := s.API().Get(kinds["ResourceClaim"], "default", name)
			if err != nil {
				t.Fatal(err)
			}
			alloc := obj.(*resourcev1.ResourceClaim).Status.Allocation
			if alloc == nil || len(alloc.Devices.Results) != 1 || alloc.Devices.Results[0].ShareID == nil {
				t.Fatalf("claim %s: allocation %+v, want one result with a share ID", name, alloc)
			}
			ids = append(ids, string(*alloc.Devices.Results[0].ShareID))
		}
		return ids
	}
	first, second := shareIDs(), shareIDs()
	if first[0] == first[1] {
		t.Errorf("both shares of the card have share ID %s", first[0])
	}
	if !slices.Equal(first, second) {
		t.Errorf("share IDs %v in one run, %v in another", first, second)
	}
}

// A device with binding conditions is refused with what a real scheduler would do: wait on the
// wall clock for a driver kwoksim does not have.
func TestDRABindingConditionsAreRefused(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	slice := cards("n1", 1)
	slice.Spec.Devices[0].BindingConditions = []string{"Attached"}
	slice.Spec.Devices[0].BindingFailureConditions = []string{"Failed"}
	_, err := s.API().Create(slice)
	if err == nil || !strings.Contains(err.Error(), "spec.devices[0].bindingConditions") || !strings.Contains(err.Error(), "PreBind") {
		t.Fatalf("a slice with binding conditions: %v", err)
	}
}

// A node's allocatable changed after its creation (a trace patch, a stage) moves what is free
// on it: with no CPU left, no GPU pod can run there, and its free cards are stranded.
func TestGPUFiguresFollowAllocatableChanges(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	withCPU := func(p *corev1.Pod) *corev1.Pod {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		return p
	}
	createAll(t, s, gpuClass(), cards("n1", 2), gpuClaim("a", 1, "500"), withCPU(claimingPod("a", "a")))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if g := gpuReport(t, s); g.StrandedMilli != 0 {
		t.Fatalf("before: %+v, want nothing stranded", g)
	}
	obj, err := s.API().Get(kinds["Node"], "", "n1")
	if err != nil {
		t.Fatal(err)
	}
	n := obj.(*corev1.Node)
	n.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("0")
	if _, err := s.API().UpdateStatus(n); err != nil {
		t.Fatal(err)
	}
	createAll(t, s, gpuClaim("b", 1, "500"), withCPU(claimingPod("b", "b")))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if g := gpuReport(t, s); g.StrandedMilli != 1500 {
		t.Errorf("after n1's CPU went: %+v, want its 1,500 free gpuMilli stranded", g)
	}
}
