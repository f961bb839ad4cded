package perf

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

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

// The upstream configurations of the misc, affinity, topology_spreading and
// default_preemption areas, copied unchanged, run at their smallest workloads (upstream's
// integration-test label): every workload runs, or is not run for a reason kwoksim states;
// every measured pod is scheduled; and what each test case's templates ask of a placement
// holds in the final cluster.
func TestUpstreamConfigsAtTheirSmallest(t *testing.T) {
	// Why a workload may not run; anything else not run fails the test.
	allowedNotRun := []string{"SchedulerAsyncAPICalls=true is not supported", "op createPodGroups:"}
	ran := map[string]*Result{}
	for _, area := range []string{"misc", "affinity", "topology_spreading", "default_preemption"} {
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
			ran[r.TestCase] = r
		}
	}
	for _, tc := range []string{"SchedulingBasic", "SchedulingPodAntiAffinity", "SchedulingPodAffinity", "SchedulingNodeAffinity",
		"TopologySpreading", "Unschedulable", "SchedulingWithMixedChurn", "SchedulingWhileGated", "PreemptionBasic"} {
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
