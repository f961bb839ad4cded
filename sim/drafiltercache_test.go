package sim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/utils/ptr"
)

// modelCards is cards with another model and a name of its own, for a node whose slice is
// replaced.
func modelCards(nodeName, sliceName, model string, n int) *resourcev1.ResourceSlice {
	s := cards(nodeName, n)
	s.Name = sliceName
	for i := range s.Spec.Devices {
		s.Spec.Devices[i].Attributes["model"] = resourcev1.DeviceAttribute{StringValue: ptr.To(model)}
	}
	return s
}

// cacheWorkload runs device pods of several shapes through a cluster whose devices and
// allocations change between rounds: pods end (their claims are released), a node
// publishes its slice late, another's slice is replaced by one with more cards of another
// model, a DeviceClass changes its selector, a pool that every node reaches appears. It returns each pod's node or unschedulable message and each claim's devices, and the
// cache's hits and misses.
func cacheWorkload(t *testing.T, noCache bool) (string, int, int) {
	t.Helper()
	s := newSim(t, Config{Seed: 7, NoDRAFilterCache: noCache})
	for i := range 6 {
		mustCreate(t, s, node(fmt.Sprintf("n%d", i)))
	}
	h100 := gpuClass()
	h100.Name = "h100"
	h100.Spec.Selectors[0].CEL.Expression += ` && device.attributes["` + gpuDriver + `"].model == "H100"`
	createAll(t, s, gpuClass(), h100, cards("n0", 2), cards("n1", 2), modelCards("n2", "n2-gpu", "H100", 4),
		cards("n3", 4))
	// n4 never has devices; n5 publishes its slice in the second round.
	shapes := []struct {
		class string
		count int64
		milli string
	}{{"gpu", 1, "600"}, {"gpu", 1, "300"}, {"gpu", 2, ""}, {"h100", 1, "500"}, {"gpu", 1, "1000"}}
	var names []string
	create := func(round, n int) {
		for i := range n {
			name := fmt.Sprintf("r%d-%d", round, i)
			sh := shapes[(i*7+round)%len(shapes)]
			claim := gpuClaim(name, sh.count, sh.milli)
			claim.Spec.Devices.Requests[0].Exactly.DeviceClassName = sh.class
			createAll(t, s, claim, claimingPod(name, name))
			names = append(names, name)
		}
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
	}
	create(0, 24)
	for i, name := range names {
		if i%3 != 0 {
			continue
		}
		// The pod ends and its claim is released, as the resource claim controller
		// (not part of a bare simulator) would.
		if err := s.API().Delete(kinds["Pod"], "default", name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		obj, err := s.API().Get(kinds["ResourceClaim"], "default", name)
		if err != nil {
			t.Fatal(err)
		}
		claim := obj.(*resourcev1.ResourceClaim).DeepCopy()
		claim.Status = resourcev1.ResourceClaimStatus{}
		if _, err := s.API().UpdateStatus(claim); err != nil {
			t.Fatal(err)
		}
	}
	createAll(t, s, cards("n5", 2))
	if err := s.API().Delete(kinds["ResourceSlice"], "", "n3-gpu", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createAll(t, s, modelCards("n3", "n3-gpu-v2", "H100", 6))
	create(1, 24)
	// Before the third round the H100 class takes A100s too, and a pool of two cards that
	// every node reaches (network-attached, spec.allNodes) appears.
	obj, err := s.API().Get(kinds["DeviceClass"], "", "h100")
	if err != nil {
		t.Fatal(err)
	}
	h100 = obj.(*resourcev1.DeviceClass).DeepCopy()
	h100.Spec.Selectors[0].CEL.Expression = `device.driver == "` + gpuDriver + `"`
	if _, err := s.API().Update(h100); err != nil {
		t.Fatal(err)
	}
	fabric := cards("fabric", 2)
	fabric.Spec.NodeName, fabric.Spec.AllNodes = nil, ptr.To(true)
	createAll(t, s, fabric)
	create(2, 12)

	var out strings.Builder
	for _, name := range names {
		obj, err := s.API().Get(kinds["Pod"], "default", name)
		if err != nil {
			fmt.Fprintf(&out, "%s: gone\n", name)
			continue
		}
		p := obj.(*corev1.Pod)
		fmt.Fprintf(&out, "%s: node %q %q", name, p.Spec.NodeName, unschedulableMessage(p))
		cobj, err := s.API().Get(kinds["ResourceClaim"], "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if a := cobj.(*resourcev1.ResourceClaim).Status.Allocation; a != nil {
			for _, r := range a.Devices.Results {
				q := r.ConsumedCapacity["gpuMilli"]
				fmt.Fprintf(&out, " %s/%s %s", r.Pool, r.Device, q.String())
			}
		}
		out.WriteString("\n")
	}
	// The scheduler's last outcome for each pod that failed a cycle: the plugins that
	// rejected it and on how many nodes.
	for _, rec := range s.Recorder().Pods() {
		if rec.Outcome != nil {
			fmt.Fprintf(&out, "%s outcome %s\n", rec.Pod.Name, outcomeJSON(t, rec.Outcome))
		}
	}
	hits, misses := 0, 0
	for _, c := range s.driver.draCaches {
		hits += c.hits
		misses += c.misses
	}
	return out.String(), hits, misses
}

// The cache answers as the plugin would: every pod lands on the same node with the same
// devices, and every unschedulable one says the same (message, rejecting plugin and its node
// count, under the plugin's name), with the cache and without it, while
// pods end, slices are published late and replaced. The cache did answer (hits), and had to
// ask the plugin again after each change (misses past the first round's).
func TestDRAFilterCacheGivesThePluginsAnswers(t *testing.T) {
	cached, hits, misses := cacheWorkload(t, false)
	plain, plainHits, _ := cacheWorkload(t, true)
	if cached != plain {
		t.Errorf("with the cache:\n%s\nwithout:\n%s", cached, plain)
	}
	if hits == 0 || misses == 0 || plainHits != 0 {
		t.Errorf("cache hits %d, misses %d (without the cache: %d hits); want both above 0", hits, misses, plainHits)
	}
	// The second round has pods on devices the first round's ended pods released (the
	// cache's answers for n0 and n2 were "cannot allocate" then), on the slice published
	// late and on the cards of the one that replaced another.
	// The pool every node reaches is taken (by a pod of the second round, which the slice's
	// creation sent back to the scheduler, as the plugin's queueing hints do).
	for _, want := range []string{`r1-\d+: node "n[02]"`, `node "n5"`, `n3/gpu-5`, `cannot allocate all claims`,
		`node "n\d" "" fabric/`,
		`"Plugins":\["DynamicResources"\].*"PluginNodes":\[\{"plugin":"DynamicResources","nodes":6\}\]`} {
		if !regexp.MustCompile(want).MatchString(cached) {
			t.Errorf("the workload never has %s:\n%s", want, cached)
		}
	}
	t.Logf("hits %d, misses %d\n%s", hits, misses, cached)
}

// A node's change is seen: a pool offered to the nodes labelled gpu=yes (a slice with a node
// selector) cannot serve n0 until n0 is labelled, and then does, with the cache as without.
func TestDRAFilterCacheSeesNodeChanges(t *testing.T) {
	for _, noCache := range []bool{false, true} {
		s := newSim(t, Config{Seed: 1, NoDRAFilterCache: noCache})
		mustCreate(t, s, node("n0"))
		rack := cards("rack", 1)
		rack.Spec.NodeName = nil
		rack.Spec.NodeSelector = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "gpu", Operator: corev1.NodeSelectorOpIn, Values: []string{"yes"}}}}}}
		createAll(t, s, gpuClass(), rack, gpuClaim("a", 1, "500"), claimingPod("a", "a"))
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		if p := getPod(t, s, "a"); p.Spec.NodeName != "" || !strings.Contains(unschedulableMessage(p), "cannot allocate all claims") {
			t.Fatalf("cache %v: before the label, pod a on %q (%q), want it unschedulable", !noCache, p.Spec.NodeName, unschedulableMessage(p))
		}
		obj, err := s.API().Get(kinds["Node"], "", "n0")
		if err != nil {
			t.Fatal(err)
		}
		n := obj.(*corev1.Node).DeepCopy()
		n.Labels["gpu"] = "yes"
		if _, err := s.API().Update(n); err != nil {
			t.Fatal(err)
		}
		createAll(t, s, gpuClaim("b", 1, "500"), claimingPod("b", "b"))
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b"} {
			if p := getPod(t, s, name); p.Spec.NodeName != "n0" {
				t.Errorf("cache %v: after the label, pod %s on %q (%q), want n0", !noCache, name, p.Spec.NodeName, unschedulableMessage(p))
			}
		}
	}
}

// A profile gets the cache in DynamicResources' place at Filter, just before it in MultiPoint;
// one that names the plugin elsewhere keeps it alone.
func TestUseDRAFilterCache(t *testing.T) {
	cfg, err := DefaultSchedulerConfig()
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Profiles[0].DeepCopy()
	if !useDRAFilterCache(p) {
		t.Fatal("the default profile did not get the cache")
	}
	var order []string
	for _, pl := range p.Plugins.MultiPoint.Enabled {
		order = append(order, pl.Name)
	}
	joined := strings.Join(order, ",")
	if !strings.Contains(joined, draFilterCacheName+",DynamicResources") {
		t.Errorf("MultiPoint: %s", joined)
	}
	if len(p.Plugins.Filter.Disabled) != 1 || p.Plugins.Filter.Disabled[0].Name != "DynamicResources" {
		t.Errorf("Filter disabled: %v", p.Plugins.Filter.Disabled)
	}
	named := cfg.Profiles[0].DeepCopy()
	named.Plugins.Reserve.Disabled = append(named.Plugins.Reserve.Disabled, schedulerapi.Plugin{Name: "DynamicResources"})
	if useDRAFilterCache(named) {
		t.Error("a profile that disables DynamicResources at Reserve got the cache")
	}
}
