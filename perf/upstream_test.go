package perf

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/sim"
)

const upstream = "../testdata/schedulerperf/"

// runArea runs an upstream area's configuration with opts, failing the test on an error.
func runArea(t *testing.T, area string, opts Options) []*Result {
	t.Helper()
	cfg, err := Load(upstream + area + "/performance-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts.KeepFinal = true
	rs, err := Run(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// podsOf lists the pods of a namespace at the end of a workload.
func podsOf(t *testing.T, r *Result, ns string) []*corev1.Pod {
	t.Helper()
	objs, err := r.Final.List(mustKind(t, "Pod"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*corev1.Pod
	for _, o := range objs {
		if p := o.(*corev1.Pod); p.Namespace == ns {
			out = append(out, p)
		}
	}
	return out
}

func nodesOf(t *testing.T, r *Result) map[string]*corev1.Node {
	t.Helper()
	objs, err := r.Final.List(mustKind(t, "Node"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*corev1.Node{}
	for _, o := range objs {
		n := o.(*corev1.Node)
		out[n.Name] = n
	}
	return out
}

func mustKind(t *testing.T, name string) *sim.Kind {
	k, err := sim.KindNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The upstream configurations of the misc, affinity, topology_spreading, default_preemption
// and dra areas, copied unchanged, run at their smallest workloads (upstream's
// integration-test label): every workload runs, or is not run for a reason kwoksim states;
// every measured pod is scheduled; and what each test case's templates ask of a placement
// holds in the final cluster.
func TestUpstreamConfigsAtTheirSmallest(t *testing.T) {
	// Why a workload may not run; anything else not run fails the test.
	allowedNotRun := []string{"SchedulerAsyncAPICalls=true is not supported", "op createPodGroups:"}
	ran := map[string]*Result{}
	for _, area := range []string{"misc", "affinity", "topology_spreading", "default_preemption", "dra"} {
		for _, r := range runArea(t, area, Options{Seed: 1, Labels: "integration-test"}) {
			name := r.TestCase + "/" + r.Workload
			if r.NotRun != "" {
				ok := false
				for _, a := range allowedNotRun {
					ok = ok || strings.Contains(r.NotRun, a)
				}
				if !ok {
					t.Errorf("%s not run: %s", name, r.NotRun)
				}
				continue
			}
			if r.Error != "" {
				t.Errorf("%s failed: %s", name, r.Error)
				continue
			}
			if len(r.Ops) == 0 {
				t.Errorf("%s measured no op", name)
			}
			for _, op := range r.Ops {
				if op.Pods == 0 || op.Scheduled != op.Pods {
					t.Errorf("%s op %d: %d of %d measured pods scheduled", name, op.Index, op.Scheduled, op.Pods)
				}
			}
			ran[r.TestCase], ran[name] = r, r
		}
	}
	for _, tc := range []string{"SchedulingBasic", "SchedulingPodAntiAffinity", "SchedulingPodAffinity", "SchedulingNodeAffinity",
		"TopologySpreading", "Unschedulable", "SchedulingWithMixedChurn", "SchedulingWhileGated", "PreemptionBasic",
		"SchedulingWithResourceClaimTemplate/fast", "SchedulingWithResourceClaimTemplate/selector_fast",
		"SchedulingWithResourceClaimTemplate/match_fast", "SchedulingWithResourceClaim/fast"} {
		if ran[tc] == nil {
			t.Errorf("%s did not run at its smallest workload", tc)
		}
	}
	if t.Failed() {
		return
	}

	t.Run("anti-affinity: one green pod per node", func(t *testing.T) {
		r := ran["SchedulingPodAntiAffinity"]
		seen := map[string]string{}
		for _, ns := range []string{"sched-0", "sched-1"} {
			for _, p := range podsOf(t, r, ns) {
				if p.Spec.NodeName == "" {
					t.Errorf("%s/%s not scheduled", ns, p.Name)
				} else if other, dup := seen[p.Spec.NodeName]; dup {
					t.Errorf("%s/%s and %s share node %s", ns, p.Name, other, p.Spec.NodeName)
				}
				seen[p.Spec.NodeName] = ns + "/" + p.Name
			}
		}
		if len(seen) != 5 {
			t.Errorf("%d nodes hold a green pod, want all 5", len(seen))
		}
	})
	t.Run("pod affinity: measured pods in a zone with a blue pod", func(t *testing.T) {
		r := ran["SchedulingPodAffinity"]
		nodes := nodesOf(t, r)
		zones := map[string]bool{}
		for _, ns := range []string{"sched-0", "sched-1"} {
			for _, p := range podsOf(t, r, ns) {
				if p.Labels["color"] == "blue" && p.Spec.NodeName != "" {
					zones[nodes[p.Spec.NodeName].Labels["topology.kubernetes.io/zone"]] = true
				}
			}
		}
		for _, p := range podsOf(t, r, "sched-1") {
			if z := nodes[p.Spec.NodeName].Labels["topology.kubernetes.io/zone"]; !zones[z] || z == "" {
				t.Errorf("sched-1/%s on %s in zone %q, which has no blue pod", p.Name, p.Spec.NodeName, z)
			}
		}
	})
	t.Run("node affinity: zone1 or zone2", func(t *testing.T) {
		r := ran["SchedulingNodeAffinity"]
		nodes := nodesOf(t, r)
		for _, ns := range []string{"namespace-1", "namespace-2"} {
			pods := podsOf(t, r, ns)
			if len(pods) == 0 {
				t.Errorf("no pods in %s", ns)
			}
			for _, p := range pods {
				if z := nodes[p.Spec.NodeName].Labels["topology.kubernetes.io/zone"]; z != "zone1" && z != "zone2" {
					t.Errorf("%s/%s on %q in zone %q", ns, p.Name, p.Spec.NodeName, z)
				}
			}
		}
	})
	t.Run("topology spreading: blue pods within maxSkew 5 over the three zones", func(t *testing.T) {
		r := ran["TopologySpreading"]
		nodes := nodesOf(t, r)
		count := map[string]int{}
		for _, n := range nodes {
			count[n.Labels["topology.kubernetes.io/zone"]] += 0
		}
		for _, p := range podsOf(t, r, "namespace-2") {
			count[nodes[p.Spec.NodeName].Labels["topology.kubernetes.io/zone"]]++
		}
		lo, hi := 1<<30, 0
		for _, c := range count {
			lo, hi = min(lo, c), max(hi, c)
		}
		if len(count) != 3 || hi-lo > 5 {
			t.Errorf("blue pods by zone %v: want 3 zones within a skew of 5", count)
		}
	})
	t.Run("gated pods stay gated", func(t *testing.T) {
		r := ran["SchedulingWhileGated"]
		gated := podsOf(t, r, "namespace-1")
		if len(gated) != 10 {
			t.Fatalf("%d gated pods, want 10", len(gated))
		}
		for _, p := range gated {
			if p.Spec.NodeName != "" || len(p.Spec.SchedulingGates) == 0 {
				t.Errorf("gated pod %s: node %q, gates %v", p.Name, p.Spec.NodeName, p.Spec.SchedulingGates)
			}
		}
		// Deleted at 50 a second while the measured pods are scheduled, in no virtual time
		// here: none happened before the workload ended, and the result says so.
		if left := podsOf(t, r, "namespace-3"); len(left) != 10 || r.PendingDeletions != 10 {
			t.Errorf("%d pods of namespace-3 left, %d deletions pending; want 10 and 10", len(left), r.PendingDeletions)
		}
	})
	t.Run("preemption: the preemptors run, victims went, no node over its CPU", func(t *testing.T) {
		r := ran["PreemptionBasic"]
		low := podsOf(t, r, "namespace-1")
		high := podsOf(t, r, "namespace-2")
		if len(high) != 5 || len(low) >= 20 {
			t.Errorf("%d preemptors, %d of 20 low-priority pods left: want 5 and some preempted", len(high), len(low))
		}
		used := map[string]int64{}
		for _, p := range append(low, high...) {
			if p.Spec.NodeName != "" {
				used[p.Spec.NodeName] += p.Spec.Containers[0].Resources.Requests.Cpu().MilliValue()
			}
		}
		four := resource.MustParse("4")
		for n, u := range used {
			if u > four.MilliValue() {
				t.Errorf("node %s has %dm CPU requested, more than its 4", n, u)
			}
		}
	})
	t.Run("claim templates: each pod's own claim, allocated on its node", func(t *testing.T) {
		for _, w := range []string{"fast", "selector_fast", "match_fast"} {
			r := ran["SchedulingWithResourceClaimTemplate/"+w]
			claims := checkPodClaims(t, r, "test")
			want := map[string]int{"fast": 10, "selector_fast": 10, "match_fast": 2}[w]
			if len(claims) != want {
				t.Errorf("%s: %d claims in use, want one for each of the %d pods", w, len(claims), want)
			}
			for _, c := range claims {
				if len(c.Status.ReservedFor) != 1 || len(c.OwnerReferences) != 1 || c.OwnerReferences[0].UID != c.Status.ReservedFor[0].UID {
					t.Errorf("%s: claim %s owned by %v, reserved for %v: want the one pod it was made for", w, c.Name, c.OwnerReferences, c.Status.ReservedFor)
				}
			}
		}
	})
	t.Run("matchAttribute: a pod's five devices share their PCI root", func(t *testing.T) {
		r := ran["SchedulingWithResourceClaimTemplate/match_fast"]
		roots := deviceAttribute(t, r, "resource.kubernetes.io/pciRoot")
		for _, c := range checkPodClaims(t, r, "test") {
			seen := map[string]bool{}
			for _, d := range c.Status.Allocation.Devices.Results {
				seen[roots[d.Pool+"/"+d.Device]] = true
			}
			if n := len(c.Status.Allocation.Devices.Results); n != 5 || len(seen) != 1 {
				t.Errorf("claim %s: %d devices with PCI roots %v, want 5 with one", c.Name, n, seen)
			}
		}
	})
	t.Run("shared claims: five pods a claim, on its node", func(t *testing.T) {
		claims := checkPodClaims(t, ran["SchedulingWithResourceClaim/fast"], "test")
		if len(claims) != 2 {
			t.Errorf("%d claims in use, want 2", len(claims))
		}
		for _, c := range claims {
			if len(c.Status.ReservedFor) != 5 {
				t.Errorf("claim %s reserved for %d pods, want 5", c.Name, len(c.Status.ReservedFor))
			}
		}
	})
}

// checkPodClaims checks that every pod of ns is scheduled, with each of its claims (named in
// the pod, or generated from a template and named in its status) allocated, reserved for it
// and on its node, and no device given to two claims; it returns the claims by name.
func checkPodClaims(t *testing.T, r *Result, ns string) map[string]*resourcev1.ResourceClaim {
	t.Helper()
	claims := map[string]*resourcev1.ResourceClaim{}
	for _, o := range listOf(t, r, "ResourceClaim") {
		if c := o.(*resourcev1.ResourceClaim); c.Namespace == ns {
			claims[c.Name] = c
		}
	}
	used := map[string]*resourcev1.ResourceClaim{}
	pods := podsOf(t, r, ns)
	if len(pods) == 0 {
		t.Errorf("no pods in %s", ns)
	}
	for _, p := range pods {
		if p.Spec.NodeName == "" {
			t.Errorf("pod %s not scheduled", p.Name)
			continue
		}
		for _, pc := range p.Spec.ResourceClaims {
			name := ""
			if pc.ResourceClaimName != nil {
				name = *pc.ResourceClaimName
			}
			for _, st := range p.Status.ResourceClaimStatuses {
				if st.Name == pc.Name && st.ResourceClaimName != nil {
					name = *st.ResourceClaimName
				}
			}
			c := claims[name]
			switch {
			case c == nil:
				t.Errorf("pod %s: claim %q (for %s) not found", p.Name, name, pc.Name)
				continue
			case c.Status.Allocation == nil:
				t.Errorf("pod %s: claim %s not allocated", p.Name, name)
				continue
			case allocatedNode(c) != p.Spec.NodeName:
				t.Errorf("pod %s on %s, its claim %s allocated on %q", p.Name, p.Spec.NodeName, name, allocatedNode(c))
			}
			reserved := false
			for _, ref := range c.Status.ReservedFor {
				reserved = reserved || ref.UID == p.UID
			}
			if !reserved {
				t.Errorf("claim %s not reserved for pod %s: %v", name, p.Name, c.Status.ReservedFor)
			}
			used[name] = c
		}
	}
	devices := map[string]string{}
	for _, c := range listOf(t, r, "ResourceClaim") {
		c := c.(*resourcev1.ResourceClaim)
		if c.Status.Allocation == nil {
			continue
		}
		for _, d := range c.Status.Allocation.Devices.Results {
			id := d.Driver + "/" + d.Pool + "/" + d.Device
			if other, dup := devices[id]; dup {
				t.Errorf("device %s allocated to %s and %s/%s", id, other, c.Namespace, c.Name)
			}
			devices[id] = c.Namespace + "/" + c.Name
		}
	}
	return used
}

// allocatedNode is the node an allocation of node-local devices is for: the structured
// allocator selects it by metadata.name.
func allocatedNode(c *resourcev1.ResourceClaim) string {
	ns := c.Status.Allocation.NodeSelector
	if ns == nil || len(ns.NodeSelectorTerms) != 1 || len(ns.NodeSelectorTerms[0].MatchFields) != 1 ||
		ns.NodeSelectorTerms[0].MatchFields[0].Key != "metadata.name" || len(ns.NodeSelectorTerms[0].MatchFields[0].Values) != 1 {
		return ""
	}
	return ns.NodeSelectorTerms[0].MatchFields[0].Values[0]
}

// deviceAttribute is a string attribute of every device of the ResourceSlices, by pool/device.
func deviceAttribute(t *testing.T, r *Result, attr resourcev1.QualifiedName) map[string]string {
	out := map[string]string{}
	for _, o := range listOf(t, r, "ResourceSlice") {
		s := o.(*resourcev1.ResourceSlice)
		for _, d := range s.Spec.Devices {
			if v := d.Attributes[attr].StringValue; v != nil {
				out[s.Spec.Pool.Name+"/"+d.Name] = *v
			}
		}
	}
	return out
}

func listOf(t *testing.T, r *Result, kind string) []k8sruntime.Object {
	t.Helper()
	objs, err := r.Final.List(mustKind(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// kwoksim's own DRA configuration: createResourceClaims creates the claims, allocResourceClaims
// allocates them on the devices of the nodes without pods, and the scheduler gives the
// measured pods what is left. With exactly enough left, every pod is scheduled; with one pod
// more, that pod stays unschedulable (the preallocated devices are taken); with more claims
// than devices, allocResourceClaims fails.
func TestDRAClaimOps(t *testing.T) {
	cfg, err := Load("../testdata/perf/dra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Run(context.Background(), cfg, Options{Seed: 1, KeepFinal: true})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Result{}
	for _, r := range rs {
		byName[r.Workload] = r
	}
	full := byName["full"]
	if full.Error != "" || len(full.Ops) != 1 || full.Ops[0].Pods != 2 || full.Ops[0].Scheduled != 2 {
		t.Fatalf("full: error %q, ops %+v: want 2 of 2 scheduled", full.Error, full.Ops)
	}
	checkPodClaims(t, full, "test")
	perNode := map[string]int{}
	var initClaims int
	for _, o := range listOf(t, full, "ResourceClaim") {
		c := o.(*resourcev1.ResourceClaim)
		if c.Namespace != "init" {
			continue
		}
		initClaims++
		if !strings.HasPrefix(c.Name, "init-claim-") || c.Status.Allocation == nil || len(c.Status.ReservedFor) != 0 {
			t.Errorf("claim %s: allocation %v, reserved for %v: want allocated, for no pod", c.Name, c.Status.Allocation, c.Status.ReservedFor)
			continue
		}
		perNode[allocatedNode(c)]++
	}
	// Nodes are drawn at random for each claim, so both DRA nodes get some; together all 18.
	if initClaims != 18 || len(perNode) != 2 || perNode["scheduler-perf-dra-0"]+perNode["scheduler-perf-dra-1"] != 18 {
		t.Errorf("%d preallocated claims, by node %v: want 18 over scheduler-perf-dra-0 and -1", initClaims, perNode)
	}

	over := byName["overfull"]
	if !strings.Contains(over.Error, "2 of 3 pods scheduled") || !strings.Contains(over.Error, "cannot allocate all claims") {
		t.Errorf("overfull: error %q, want the third pod unschedulable for want of devices", over.Error)
	}
	if many := byName["tooManyClaims"]; !strings.Contains(many.Error, "could not allocate claim 20 out of 21") {
		t.Errorf("tooManyClaims: error %q, want the 21st claim not allocated", many.Error)
	}
}

// With the scheduler's bindings paced on virtual time, churn ticks and rate-limited deletions
// happen while the measured pods are scheduled: SchedulingWithMixedChurn creates and deletes
// its Node, Pod and Service, Unschedulable creates its 9-CPU pods, which stay unschedulable
// while every measured pod is scheduled, and SchedulingWhileGated deletes its pods.
func TestChurnDuringMeasuredPods(t *testing.T) {
	opts := Options{Seed: 1, Labels: "integration-test", SchedulerQPS: 20, SchedulerBurst: 1,
		TestCases: "SchedulingWithMixedChurn|Unschedulable|SchedulingWhileGated", Workloads: "10Nodes|5Nodes/1Init/10Pods|1Node_10GatedPods"}
	for _, area := range []string{"misc", "default_preemption"} {
		for _, r := range runArea(t, area, opts) {
			if r.Error != "" || r.NotRun != "" {
				t.Fatalf("%s/%s: %s%s", r.TestCase, r.Workload, r.Error, r.NotRun)
			}
			if len(r.Ops) != 1 || r.Ops[0].Scheduled != r.Ops[0].Pods {
				t.Errorf("%s: measured %+v", r.TestCase, r.Ops)
			}
			switch r.TestCase {
			case "SchedulingWithMixedChurn":
				// 100 pods at 20 a second: five seconds, four ticks of a recreate churn of one.
				if len(r.Churn) != 1 || fmt.Sprint(r.Churn[0].Kinds) != "[Node Pod Service]" || r.Churn[0].Ticks < 4 ||
					r.Churn[0].Created < 6 || r.Churn[0].Deleted < 6 || r.Churn[0].Refused != 0 {
					t.Errorf("churn %+v: want Node, Pod and Service created and deleted at least twice each", r.Churn)
				}
			case "SchedulingWhileGated":
				if left := podsOf(t, r, "namespace-3"); len(left) != 0 || r.PendingDeletions != 0 {
					t.Errorf("%d pods of namespace-3 left, %d deletions pending; want all deleted", len(left), r.PendingDeletions)
				}
			case "Unschedulable":
				large := podsOf(t, r, "namespace-2")
				if len(large) < 2 {
					t.Errorf("%d churned pods, want several (notes %v)", len(large), r.Notes)
				}
				for _, p := range large {
					if p.Spec.NodeName != "" || *p.Spec.Priority != 10 {
						t.Errorf("churned pod %s: node %q, priority %d; want unschedulable, priority 10 (Priority admission off)", p.Name, p.Spec.NodeName, *p.Spec.Priority)
					}
				}
			}
		}
	}
}

// Placements are reproducible from the seed, with GOMAXPROCS 1 and 2, and another seed gives
// other node names.
func TestPerfIsReproducible(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	place := func(seed uint64, procs int) string {
		runtime.GOMAXPROCS(procs)
		var b strings.Builder
		for _, r := range runArea(t, "affinity", Options{Seed: seed, Labels: "integration-test", TestCases: "SchedulingPodAffinity|SchedulingPreferredPodAntiAffinity"}) {
			objs, err := r.Final.List(mustKind(t, "Pod"))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				p := o.(*corev1.Pod)
				fmt.Fprintf(&b, "%s/%s=%s\n", p.Namespace, p.Name, p.Spec.NodeName)
			}
		}
		return b.String()
	}
	a, b := place(1, 1), place(1, 2)
	if a != b || a == "" {
		t.Errorf("two runs with seed 1 differ:\n%s\n---\n%s", a, b)
	}
	if c := place(2, 2); c == a {
		t.Errorf("seed 2 gave the same names and placements as seed 1")
	}
}

// A steady state replaces each scheduled pod for its duration of virtual time: at 100
// bindings a second (burst 1) over 2 s, the first binding at once and one every 10 ms after,
// 201 pods are scheduled, and 5 are there at the end.
func TestSteadyState(t *testing.T) {
	cfg, err := Load("../testdata/perf/threshold.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Run(context.Background(), cfg, Options{Seed: 1, TestCases: "SteadyState", SchedulerQPS: 100, SchedulerBurst: 1, KeepFinal: true})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Error != "" || len(r.Ops) != 1 || r.Ops[0].Scheduled != 201 || r.Ops[0].VirtualSeconds != 2 {
		t.Fatalf("error %q, ops %+v: want 201 scheduled in 2 s", r.Error, r.Ops)
	}
	if pods := podsOf(t, r, "namespace-1"); len(pods) != 5 {
		t.Errorf("%d pods at the end, want 5", len(pods))
	}
}
