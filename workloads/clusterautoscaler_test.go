package workloads_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/nodeautoscaler"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// caRun is a simulation of docs/autoscaling.md §3's test setup under cluster-autoscaler:
// testPool (one c8 shape, 8 CPU, $0.40/h, min 1, max 20, 60–90 s provisioning), with what the
// test observes on its own, apart from the autoscaler's record.
type caRun struct {
	s  *sim.Simulator
	rt *nodeautoscaler.Runtime
	// unschedulableAt is when each pod was first PodScheduled=False/Unschedulable, boundAt
	// when it got a node; nodeGone when each Node object was deleted.
	unschedulableAt, boundAt, createdAt, goneAt map[string]time.Duration
	nodeGone                                    map[string]time.Duration
	// maxNodes is the peak Node count.
	maxNodes, nodes int
}

func newCARun(t *testing.T, seed uint64, until time.Duration, pool *autoscaling.NodePool, opts func(*autoscaling.Options)) *caRun {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: seed, Stages: stages.Default(), Until: until})
	r := &caRun{s: s, unschedulableAt: map[string]time.Duration{}, boundAt: map[string]time.Duration{},
		createdAt: map[string]time.Duration{}, goneAt: map[string]time.Duration{}, nodeGone: map[string]time.Duration{}}
	s.API().Watch(func(ev sim.WatchEvent) {
		switch o := ev.Object.(type) {
		case *corev1.Pod:
			if ev.Type == watch.Added {
				r.createdAt[o.Name] = s.Elapsed()
			}
			if ev.Type == watch.Deleted {
				r.goneAt[o.Name] = s.Elapsed()
			}
			if _, ok := r.boundAt[o.Name]; !ok && o.Spec.NodeName != "" {
				r.boundAt[o.Name] = s.Elapsed()
			}
			for _, c := range o.Status.Conditions {
				if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonUnschedulable {
					if _, ok := r.unschedulableAt[o.Name]; !ok {
						r.unschedulableAt[o.Name] = s.Elapsed()
					}
				}
			}
		case *corev1.Node:
			switch ev.Type {
			case watch.Added:
				r.nodes++
				r.maxNodes = max(r.maxNodes, r.nodes)
			case watch.Deleted:
				r.nodes--
				r.nodeGone[o.Name] = s.Elapsed()
			}
		}
	})
	o := autoscaling.DefaultOptions()
	o.Autoscaler = autoscaling.ClusterAutoscaler
	if opts != nil {
		opts(&o)
	}
	rt, err := nodeautoscaler.Start(s, []*autoscaling.NodePool{pool}, o)
	if err != nil {
		t.Fatal(err)
	}
	r.rt = rt
	return r
}

func (r *caRun) events(typ string) []analysis.ScaleEventRecord { return eventsOf(r.rt, typ) }

// eventsOf are the autoscaler's events of a type, in order.
func eventsOf(rt *nodeautoscaler.Runtime, typ string) []analysis.ScaleEventRecord {
	var out []analysis.ScaleEventRecord
	for _, e := range rt.Record().Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// startCA starts cluster-autoscaler, with its defaults, on the pool.
func startCA(t *testing.T, s *sim.Simulator, pool *autoscaling.NodePool) *nodeautoscaler.Runtime {
	t.Helper()
	o := autoscaling.DefaultOptions()
	o.Autoscaler = autoscaling.ClusterAutoscaler
	rt, err := nodeautoscaler.Start(s, []*autoscaling.NodePool{pool}, o)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func (r *caRun) dump(t *testing.T) {
	t.Helper()
	for _, e := range r.rt.Record().Events {
		t.Logf("event %v %s %s %v %s", e.At, e.Type, e.Reason, e.Nodes, e.Message)
	}
	for _, u := range r.rt.Record().Unremovable {
		t.Logf("unremovable %+v", u)
	}
	for _, n := range r.rt.Record().NoScaleUp {
		t.Logf("noscaleup %+v", n)
	}
}

func stepPods(m map[string]time.Duration) []string {
	var out []string
	for name := range m {
		if strings.HasPrefix(name, "step-") {
			out = append(out, name)
		}
	}
	return out
}

// Timelines 1 and 2 of docs/autoscaling.md §3: a step of 30 two-CPU pods at 1h, dropped at
// 9h (+5 s), next to a baseline of 3 that keeps the first node at 6/8 (never underutilized).
//
// Expected, from cluster-autoscaler's semantics: the iteration the unschedulable pods trigger
// at U sees them younger than 2 s (allPodsAreNew) and waits; the next, at U+10 s, packs the
// 29 pods 4 to an 8-CPU template: ⌈29/4⌉ = 8 nodes, "size set to 9 instead of 1"; no second
// scale-up (the upcoming nodes take the rest); each pod waits at most 10 s + 90 s. After the
// drop, the empty nodes become unneeded at the first iteration L0 after the last step pod is
// gone (E), and are removed at the first iteration strictly after L0+10m: L0+610 s, their
// Node objects deleted 5 s later (node-delete-delay-after-taint). A node whose removal
// simulation failed before the drop (the underutilized one whose pods fit nowhere else:
// NoPlaceToMovePods) is not re-checked before its 5 m recheck timeout ends, so it may go
// later, but within 5 m more.
func TestClusterAutoscalerStepUpAndDown(t *testing.T) {
	const until = 9*time.Hour + 30*time.Minute
	r := newCARun(t, 1, until, testPool(t, ""), nil)
	workloadstest.Create(t, r.s, cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Hour, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	// The drop is off the loop's 10 s grid, so that which iteration first sees the nodes
	// empty does not hang on the order of events at one instant.
	workloadstest.PatchAt(t, r.s, 9*time.Hour+5*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":0}}`)
	var before []analysis.UnremovableRecord
	r.s.Clock().At(sim.Epoch.Add(9*time.Hour-time.Second), func() {
		before = append(before, r.rt.Record().Unremovable...)
	})
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)

	// Scale-up.
	u := time.Duration(math.MaxInt64)
	for _, name := range stepPods(r.unschedulableAt) {
		u = min(u, r.unschedulableAt[name])
	}
	ups := r.events(analysis.ScaleUp)
	if len(ups) != 1 {
		t.Fatalf("want exactly one scale-up, got %d", len(ups))
	}
	up := ups[0]
	if up.At != u+10*time.Second || up.Count != 8 || up.Pool != "pool" || up.Shape != "c8" ||
		up.Message != "Scale-up: group pool/c8 size set to 9 instead of 1 (max: 20)" || up.Reason != "ScaledUpGroup" {
		t.Errorf("scale-up: want 8 nodes at U+10s = %v, \"size set to 9 instead of 1 (max: 20)\", got %+v", u+10*time.Second, up)
	}
	steps := stepPods(r.createdAt)
	if len(steps) != 30 {
		t.Fatalf("want 30 step pods, got %d", len(steps))
	}
	for _, name := range steps {
		b, ok := r.boundAt[name]
		if !ok {
			t.Errorf("%s never bound", name)
			continue
		}
		if w := b - r.createdAt[name]; w > 100*time.Second {
			t.Errorf("%s waited %v, want at most 10 s + 90 s", name, w)
		}
	}
	if r.maxNodes != 9 {
		t.Errorf("peak nodes %d, want 9", r.maxNodes)
	}

	// Scale-down.
	var e time.Duration
	for _, name := range steps {
		g, ok := r.goneAt[name]
		if !ok {
			t.Fatalf("%s not gone after the drop", name)
		}
		e = max(e, g)
	}
	// The loop runs every 10 s from the scale-up on (nothing triggers it after): L0 is the
	// first of those iterations at or after E.
	if (e-up.At)%(10*time.Second) == 0 {
		t.Fatalf("E = %v is on the loop's grid: the test's expectation would be ambiguous", e)
	}
	l0 := up.At + (e-up.At+10*time.Second-1)/(10*time.Second)*(10*time.Second)
	late := map[string]bool{}
	for _, ur := range before {
		if ur.Reason == "NoPlaceToMovePods" {
			late[ur.Node] = true
		}
	}
	// Before the drop, every node but one is full (4 pods, or the first's 3+1), so the one
	// with the 29th pod is underutilized (2/8 <= 0.5) and its pod fits nowhere else.
	if len(late) != 1 || len(before) != 1 {
		t.Errorf("before the drop, want exactly the partly filled node unremovable with NoPlaceToMovePods, got %+v", before)
	}
	downs := r.events(analysis.ScaleDown)
	if len(downs) != 8 {
		t.Fatalf("want 8 scale-downs, got %d", len(downs))
	}
	var hours float64
	hours += until.Hours() // pool-c8-0, billed the whole run
	for _, d := range downs {
		name := d.Nodes[0]
		if d.Reason != "ScaleDownEmpty" || d.Message != fmt.Sprintf("Scale-down: removing empty node %q", name) {
			t.Errorf("want ScaleDownEmpty \"Scale-down: removing empty node %q\", got %+v", name, d)
		}
		switch {
		case late[name]:
			if d.At < l0+610*time.Second || d.At > l0+610*time.Second+unremovableRecheck {
				t.Errorf("%s (recently unremovable) removed at %v, want within [%v, %v]", name, d.At, l0+610*time.Second, l0+610*time.Second+unremovableRecheck)
			}
		case d.At != l0+610*time.Second:
			t.Errorf("%s removed at %v, want L0+610s = %v (E = %v)", name, d.At, l0+610*time.Second, e)
		}
		gone, ok := r.nodeGone[name]
		if !ok || gone != d.At+5*time.Second {
			t.Errorf("%s Node deleted at %v (%v), want 5 s after the decision %v", name, gone, ok, d.At)
		}
		hours += (gone - up.At).Hours()
	}
	if _, ok := r.nodeGone["pool-c8-0"]; ok {
		t.Error("the first node (6/8 used) must stay")
	}
	// Node-hours and cost, by hand from the observed times, against the record.
	var recHours, recCost float64
	for _, n := range r.rt.Record().Nodes {
		end := until
		if n.DeletedAt != nil {
			end = *n.DeletedAt
		}
		recHours += (end - n.LaunchedAt).Hours()
		recCost += (end - n.LaunchedAt).Hours() * n.PricePerHour
	}
	if math.Abs(recHours-hours) > 1e-9 || math.Abs(recCost-0.40*hours) > 1e-9 {
		t.Errorf("node-hours %v cost %v from the record, want %v and %v", recHours, recCost, hours, 0.40*hours)
	}
	t.Logf("node-hours %.4f, cost $%.2f", hours, 0.40*hours)
}

// unremovableRecheck is --unremovable-node-recheck-timeout's default.
const unremovableRecheck = 5 * time.Minute

// caPool is testPool with another min and provisioning delay.
func caPool(t *testing.T, minSize int, delay string) *autoscaling.NodePool {
	t.Helper()
	p, err := autoscaling.Decode([]byte(fmt.Sprintf(`apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: pool}
spec:
  min: %d
  max: %d
  shapes:
  - {name: c8, capacity: {cpu: "8", memory: 32Gi}, pricePerHour: 0.40}
  provisioning: {delay: %s}
`, minSize, max(20, minSize), delay)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Timeline 3: the pool's min keeps a node. With no baseline, the 30 pods at 1m take the
// first node (4) and ⌈26/4⌉ = 7 new ones; after the drop all 8 are empty and removable, and
// the pool's min (1) keeps one: 7 go, the last one examined is NodeGroupMinSizeReached.
// (With docs' baseline pod on the first node, that pod would have nowhere to go once the
// others are chosen, so the reason would be NoPlaceToMovePods before min size is looked at.)
func TestClusterAutoscalerMinSize(t *testing.T) {
	// Until 0: the run goes on while the autoscaler has work pending (nodes waiting out
	// their unneeded time), and ends once nothing is left but background ticks.
	r := newCARun(t, 2, 0, testPool(t, ""), nil)
	workloadstest.Create(t, r.s, cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Minute, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	workloadstest.PatchAt(t, r.s, 30*time.Minute+5*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":0}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	if ups := r.events(analysis.ScaleUp); len(ups) != 1 || ups[0].Count != 7 {
		t.Fatalf("want one scale-up of 7 nodes, got %+v", ups)
	}
	if downs := r.events(analysis.ScaleDown); len(downs) != 7 {
		t.Errorf("want 7 scale-downs (8 nodes, min 1), got %d", len(downs))
	}
	if end := r.s.Elapsed(); end < 40*time.Minute || end > 60*time.Minute {
		t.Errorf("the run should end once the last removable node is gone (about 41 m), ended at %v", end)
	}
	p := r.rt.Pool("pool")
	if p.Size() != 1 {
		t.Fatalf("want the pool at its min 1, got %d nodes", p.Size())
	}
	un := r.rt.Record().Unremovable
	if len(un) != 1 || un[0].Node != p.Members()[0].Name || un[0].Reason != "NodeGroupMinSizeReached" {
		t.Errorf("want the remaining node unremovable with NodeGroupMinSizeReached, got %+v", un)
	}
}

// Timeline 4: a pod no shape can take (nodeSelector disk=ssd) triggers no scale-up; the
// reason is NodeAffinity's, counted over the one node group; the run ends by itself (Until
// 0): the loop goes background when nothing is left to do.
func TestClusterAutoscalerNoScaleUp(t *testing.T) {
	r := newCARun(t, 3, 0, testPool(t, ""), nil)
	d := cpuDeployment("ssd", 1, "1")
	d.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	workloadstest.Create(t, r.s, d)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	if len(r.rt.Record().Events) != 0 {
		t.Errorf("want no scale event, got %+v", r.rt.Record().Events)
	}
	ns := r.rt.Record().NoScaleUp
	if len(ns) != 1 || !strings.HasPrefix(ns[0].Name, "ssd-") ||
		ns[0].Reason != "pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity/selector" {
		t.Errorf("want the ssd pod listed with NodeAffinity's reason, got %+v", ns)
	}
	if r.maxNodes != 1 {
		t.Errorf("want the node count to stay 1, got a peak of %d", r.maxNodes)
	}
	if r.s.Elapsed() > time.Hour {
		t.Errorf("the run should end soon after the pod is found unschedulable, ended at %v", r.s.Elapsed())
	}
}

// Timeline 5: the step drops and comes back within --scale-down-unneeded-time: nothing is
// removed, and the pods come back on the same nodes without a second scale-up.
func TestClusterAutoscalerUnneededTimeNotReached(t *testing.T) {
	r := newCARun(t, 4, 50*time.Minute, testPool(t, ""), nil)
	workloadstest.Create(t, r.s, cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Minute, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	workloadstest.PatchAt(t, r.s, 30*time.Minute+5*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":0}}`)
	workloadstest.PatchAt(t, r.s, 35*time.Minute+5*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	if ups := r.events(analysis.ScaleUp); len(ups) != 1 {
		t.Errorf("want one scale-up, got %d", len(ups))
	}
	if downs := r.events(analysis.ScaleDown); len(downs) != 0 {
		t.Errorf("want no scale-down before the unneeded time, got %+v", downs)
	}
	for _, name := range stepPods(r.createdAt) {
		if r.createdAt[name] < 35*time.Minute {
			continue
		}
		if b, ok := r.boundAt[name]; !ok || b != r.createdAt[name] {
			t.Errorf("%s (second step) should bind at once on the kept nodes: created %v, bound %v (%v)", name, r.createdAt[name], b, ok)
		}
	}
}

// Timeline 5's second part: --scale-down-delay-after-add (10 m) holds a scale-down whose
// unneeded time (here 1 m) is reached earlier: the nodes go at the first iteration not
// before the scale-up + 10 m (isScaleDownInCooldown: lastScaleUpTime + delay after now).
func TestClusterAutoscalerDelayAfterAdd(t *testing.T) {
	r := newCARun(t, 5, 20*time.Minute, testPool(t, ""), func(o *autoscaling.Options) { o.ScaleDownUnneededTime = time.Minute })
	workloadstest.Create(t, r.s, cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Minute, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	workloadstest.PatchAt(t, r.s, 6*time.Minute+15*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":0}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	ups := r.events(analysis.ScaleUp)
	if len(ups) != 1 {
		t.Fatalf("want one scale-up, got %+v", ups)
	}
	downs := r.events(analysis.ScaleDown)
	if len(downs) == 0 {
		t.Fatal("want the empty nodes removed")
	}
	for _, d := range downs {
		// The loop's grid is the scale-up's (10 s steps), so S+10m is an iteration.
		if d.At != ups[0].At+10*time.Minute {
			t.Errorf("%v removed at %v, want at the scale-up + 10 m = %v", d.Nodes, d.At, ups[0].At+10*time.Minute)
		}
	}
}

// Timeline 6: a PDB with maxUnavailable 1 over 4 step pods, one on each of 4 pool nodes
// (all underutilized, 2/8). The planner counts planned moves against the budget
// (NotEnoughPdb for the others), max-drain-parallelism 1 drains one node at a time, and the
// eviction API refuses what the budget does not allow: at no instant are more than 1 of the
// step pods unavailable (not Ready, or terminating) once they were all Ready.
func TestClusterAutoscalerPDB(t *testing.T) {
	pool := testPool(t, "")
	s := workloadstest.Sim(t, sim.Config{Seed: 6, Stages: stages.Default(), Until: 90 * time.Minute})
	for i := range 4 {
		n, err := pool.Node("c8", i)
		if err != nil {
			t.Fatal(err)
		}
		workloadstest.Create(t, s, n)
	}
	rt := startCA(t, s, pool)
	pdb := stepBudget()
	// The pods reach Ready some seconds after they start, so a replacement is unavailable
	// for a while and the budget has something to hold back.
	d := cpuDeployment("step", 4, "2")
	d.Spec.Template.Annotations = map[string]string{"kwoksim.io/ready-after": "20s"}
	workloadstest.Create(t, s, pdb, d)

	unavailable := watchUnavailable(s, "step", 4)
	var unremovable []string
	var poll func()
	poll = func() {
		for _, u := range rt.Record().Unremovable {
			unremovable = append(unremovable, u.Reason+" "+u.Detail)
		}
		s.Clock().Daemon(s.Clock().Now().Add(time.Minute), poll)
	}
	s.Clock().Daemon(sim.Epoch.Add(time.Minute), poll)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, e := range rt.Record().Events {
		t.Logf("event %v %s %s %v %s", e.At, e.Type, e.Reason, e.Nodes, e.Message)
	}
	if !unavailable.allReady || unavailable.worst > 1 {
		t.Errorf("want at most 1 step pod unavailable at any instant, saw %d (all Ready once: %v)", unavailable.worst, unavailable.allReady)
	}
	sawPdb := false
	for _, u := range unremovable {
		if strings.Contains(u, "NotEnoughPdb") {
			sawPdb = true
		}
	}
	if !sawPdb {
		t.Errorf("want a node held back with BlockedByPod NotEnoughPdb, saw %v", unremovable)
	}
	// Drains never overlap (max-drain-parallelism 1): each from its decision to its Node's
	// deletion.
	var drains [][2]time.Duration
	for _, n := range rt.Record().Nodes {
		if n.DrainStartedAt != nil && n.DeletedAt != nil && n.RemovalReason == "underutilized" {
			drains = append(drains, [2]time.Duration{*n.DrainStartedAt, *n.DeletedAt})
		}
	}
	if len(drains) == 0 {
		t.Fatal("want at least one node drained")
	}
	for i := range drains {
		for j := range i {
			a, b := drains[i], drains[j]
			if a[0] < b[1] && b[0] < a[1] {
				t.Errorf("drains overlap: %v and %v", a, b)
			}
		}
	}
}

// A launch that does not register within --max-node-provision-time (here the pool takes
// 20 m, the flag is 15 m) is given up at the first iteration strictly after it (clusterstate
// updateScaleRequests: ExpectedAddTime before now), with ScaleUpTimedOut, and the group is
// backed off 5 m, then 10 m (exponential_backoff.go): scale-ups at S, S+20m10s, S+45m20s.
func TestClusterAutoscalerProvisionTimeout(t *testing.T) {
	r := newCARun(t, 7, 50*time.Minute, caPool(t, 1, "{min: 20m, max: 20m}"), nil)
	workloadstest.Create(t, r.s, cpuDeployment("big", 2, "6"))
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	ups, outs := r.events(analysis.ScaleUp), r.events(analysis.ScaleUpTimedOut)
	if len(ups) != 3 || len(outs) != 2 {
		t.Fatalf("want 3 scale-ups and 2 timeouts, got %d and %d", len(ups), len(outs))
	}
	s0 := ups[0].At
	for i, want := range []time.Duration{s0, s0 + 20*time.Minute + 10*time.Second, s0 + 45*time.Minute + 20*time.Second} {
		if ups[i].At != want {
			t.Errorf("scale-up %d at %v, want %v", i, ups[i].At, want)
		}
	}
	for i, want := range []time.Duration{s0 + 15*time.Minute + 10*time.Second, s0 + 35*time.Minute + 20*time.Second} {
		if outs[i].At != want || outs[i].Message != "Nodes added to group pool/c8 failed to register within 15m10s" {
			t.Errorf("timeout %d: want at %v \"Nodes added to group pool/c8 failed to register within 15m10s\", got %+v", i, want, outs[i])
		}
	}
	for _, n := range r.rt.Record().Nodes {
		if !n.Initial && n.RegisteredAt != nil && n.FailedToRegister {
			t.Errorf("%s both registered and failed to", n.Name)
		}
	}
}

// The same seed gives the same record, whatever GOMAXPROCS.
func TestClusterAutoscalerReproducible(t *testing.T) {
	run := func(procs int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		r := newCARun(t, 8, 50*time.Minute, testPool(t, ""), func(o *autoscaling.Options) { o.Expander = "random" })
		workloadstest.Create(t, r.s, cpuDeployment("base", 1, "2"), cpuDeployment("step", 0, "2"))
		workloadstest.PatchAt(t, r.s, time.Minute, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
		workloadstest.PatchAt(t, r.s, 20*time.Minute+5*time.Second, "Deployment", "default", "step", `{"spec":{"replicas":3}}`)
		if err := r.s.Run(); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r.rt.Record())
		if err != nil {
			t.Fatal(err)
		}
		return append(b, workloadstest.Placement(t, r.s)...)
	}
	a, b := run(1), run(2)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs with the same seed differ: %s", workloadstest.FirstDifference(a, b))
	}
}

// Template nodes carry the DaemonSet pods that would run on them (cluster-autoscaler's
// TemplateNodeInfo): with a 1-CPU DaemonSet, a new 8-CPU node has room for 3 two-CPU pods, not
// 4, so the 30 step pods (none fits the first node: 3×2 + 1 of 8 used) need ⌈30/3⌉ = 10 nodes
// in one scale-up, and none waits for a second one.
func TestClusterAutoscalerDaemonSetOverhead(t *testing.T) {
	r := newCARun(t, 9, 20*time.Minute, testPool(t, ""), nil)
	ds := workloadstest.DaemonSet("agent")
	ds.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	workloadstest.Create(t, r.s, ds, cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Minute, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	r.dump(t)
	ups := r.events(analysis.ScaleUp)
	if len(ups) != 1 || ups[0].Count != 10 {
		t.Fatalf("want one scale-up of 10 nodes, got %+v", ups)
	}
	for _, name := range stepPods(r.createdAt) {
		if b, ok := r.boundAt[name]; !ok || b-r.createdAt[name] > 100*time.Second {
			t.Errorf("%s: created %v, bound %v (%v), want within 100 s", name, r.createdAt[name], b, ok)
		}
	}
}

// A drain the eviction API keeps refusing fails: a pod marked safe-to-evict passes the
// planner's PDB rule (the safe-to-evict rule comes first), but its PDB (minAvailable 1 of 1)
// refuses every eviction. Evictions are retried every 10 s for --max-pod-eviction-time
// (2 m) after --node-delete-delay-after-taint (5 s); the failure comes one retry period
// later (actuation/drain.go sleeps before it finds the time is up): D + 5 s + 2 m. The node
// is untainted and uncordoned, and the next attempt waits for the node to be unneeded for
// 10 m again.
func TestClusterAutoscalerScaleDownFailed(t *testing.T) {
	pool := caPool(t, 0, "{min: 60s, max: 90s}")
	s := workloadstest.Sim(t, sim.Config{Seed: 10, Stages: stages.Default(), Until: 45 * time.Minute})
	n, err := pool.Node("c8", 0)
	if err != nil {
		t.Fatal(err)
	}
	workloadstest.Create(t, s, n)
	rt := startCA(t, s, pool)
	d := cpuDeployment("base", 1, "2")
	d.Spec.Template.Annotations = map[string]string{"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: "base", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "base"}}},
	}
	workloadstest.Create(t, s, d, pdb)
	// A node outside the pool, for the pod to move to, once the pod is on the pool's node.
	s.Clock().At(sim.Epoch.Add(time.Minute), func() {
		if _, err := s.API().Create(workloadstest.CPUNode("spare", 8)); err != nil {
			t.Error(err)
		}
	})
	var tainted []bool
	s.API().Watch(func(ev sim.WatchEvent) {
		if n, ok := ev.Object.(*corev1.Node); ok && n.Name == "pool-c8-0" && ev.Type == watch.Modified {
			tainted = append(tainted, n.Spec.Unschedulable)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var downs, fails []analysis.ScaleEventRecord
	for _, e := range rt.Record().Events {
		t.Logf("event %v %s %s %v %s", e.At, e.Type, e.Reason, e.Nodes, e.Message)
		switch e.Type {
		case analysis.ScaleDown:
			downs = append(downs, e)
		case analysis.ScaleDownFailed:
			fails = append(fails, e)
		}
	}
	if len(downs) == 0 || len(fails) == 0 {
		t.Fatalf("want a drain and its failure, got %d and %d", len(downs), len(fails))
	}
	if fails[0].At != downs[0].At+5*time.Second+2*time.Minute || !strings.HasPrefix(fails[0].Message, "failed to delete pod for ScaleDown") {
		t.Errorf("want the failure at %v, got %+v", downs[0].At+5*time.Second+2*time.Minute, fails[0])
	}
	if len(downs) > 1 && downs[1].At <= fails[0].At+10*time.Minute {
		t.Errorf("the next attempt at %v comes before the node is unneeded 10 m again (after %v)", downs[1].At, fails[0].At+10*time.Minute)
	}
	if rt.Member("pool-c8-0") == nil {
		t.Error("the node must stay")
	}
	var flips []bool // cordon changes, from uncordoned
	for _, c := range tainted {
		if len(flips) == 0 && c || len(flips) > 0 && flips[len(flips)-1] != c {
			flips = append(flips, c)
		}
	}
	if len(flips) < 2 || !flips[0] || flips[1] {
		t.Errorf("want the node cordoned then uncordoned, got %v", flips)
	}
}

// Each shape of a pool is a node group, and the expander picks among them. Four pending
// 3-CPU pods take 2 nodes of either c8 (8 CPU, $0.40/h) or c6 (6 CPU, $0.45/h): least-waste
// (waste.go: unused CPU fraction 4/16 against 0/12, memory unused alike) picks c6, price
// (kwoksim's: 2 × 0.40 against 2 × 0.45) picks c8.
func TestClusterAutoscalerExpanders(t *testing.T) {
	for _, tc := range []struct{ expander, want string }{{"least-waste", "c6"}, {"price", "c8"}} {
		t.Run(tc.expander, func(t *testing.T) {
			pool := testPool(t, `  - {name: c6, capacity: {cpu: "6", memory: 32Gi}, pricePerHour: 0.45}`)
			r := newCARun(t, 11, 10*time.Minute, pool, func(o *autoscaling.Options) { o.Expander = tc.expander })
			workloadstest.Create(t, r.s, cpuDeployment("step", 6, "3"))
			if err := r.s.Run(); err != nil {
				t.Fatal(err)
			}
			r.dump(t)
			ups := r.events(analysis.ScaleUp)
			if len(ups) != 1 || ups[0].Shape != tc.want || ups[0].Count != 2 ||
				!strings.Contains(ups[0].Message, "expander "+tc.expander+" chose it among pool/c8 (2 nodes, 4 pods), pool/c6 (2 nodes, 4 pods)") {
				t.Errorf("want one scale-up of 2 %s nodes, got %+v", tc.want, ups)
			}
		})
	}
}

// A node holding more of a budget's pods than the budget allows at once is removable
// (drainability/rules/pdb/rule.go blocks only when no disruption is left; CanRemovePods marks
// the node risky, not unremovable): its drain evicts one pod, meets the budget's 429 for the
// other, and retries every 10 s until the first pod's replacement is Ready. Here two step pods
// (PDB maxUnavailable 1) sit on pool node pool-c8-0 (4/8: underutilized at exactly the 0.5
// threshold) and a 16-CPU node appears at 1m with room for both.
func TestClusterAutoscalerRiskyPdbNode(t *testing.T) {
	pool := caPool(t, 0, "{min: 60s, max: 60s}")
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), Until: 40 * time.Minute})
	a, err := pool.Node("c8", 0)
	if err != nil {
		t.Fatal(err)
	}
	workloadstest.Create(t, s, a)
	rt := startCA(t, s, pool)
	pdb := stepBudget()
	d := cpuDeployment("step", 2, "2")
	d.Spec.Template.Annotations = map[string]string{"kwoksim.io/ready-after": "20s"}
	workloadstest.Create(t, s, pdb, d)
	s.Clock().At(sim.Epoch.Add(time.Minute), func() {
		if _, err := s.API().Create(workloadstest.KWOKNode("big", "16")); err != nil {
			t.Error(err)
		}
	})
	unavailable := watchUnavailable(s, "step", 2)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var removed bool
	for _, n := range rt.Record().Nodes {
		if n.Name == "pool-c8-0" {
			removed = n.DeletedAt != nil && n.RemovalReason == "underutilized"
		}
	}
	if !removed {
		t.Errorf("pool-c8-0 not drained and deleted; unremovable %+v, events %+v", rt.Record().Unremovable, rt.Record().Events)
	}
	if !unavailable.allReady || unavailable.worst > 1 {
		t.Errorf("want at most 1 step pod unavailable at any instant, saw %d", unavailable.worst)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.RefusedEvictions) == 0 {
		t.Error("want the second eviction refused by the budget (429) and retried; none was refused")
	}
}

// stepBudget is a PodDisruptionBudget of maxUnavailable 1 over the pods labelled app=step.
func stepBudget() *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: "step", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "step"}}},
	}
}

// unavailability follows an app's pods: once all want of them were Ready (allReady), the
// most that were not Ready, or terminating, at any instant since (worst).
type unavailability struct {
	ready    map[string]bool
	allReady bool
	worst    int
}

func watchUnavailable(s *sim.Simulator, app string, want int) *unavailability {
	u := &unavailability{ready: map[string]bool{}}
	s.API().Watch(func(ev sim.WatchEvent) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok || p.Labels["app"] != app {
			return
		}
		u.ready[p.Name] = ev.Type != watch.Deleted && p.DeletionTimestamp == nil && podutil.IsPodReady(p)
		n := 0
		for _, r := range u.ready {
			if r {
				n++
			}
		}
		u.allReady = u.allReady || n == want
		if u.allReady {
			u.worst = max(u.worst, want-n)
		}
	})
	return u
}

// A pod's own anti-affinity does not keep it on the node being removed: cluster-autoscaler
// takes the node's pods off it before placing them elsewhere (findPlaceFor). Two pool nodes
// in one zone, each underutilized with one pod; web, on pool-c8-0 (the first candidate, by
// name), forbids a second web pod in its zone. Taken off first, it fits pool-c8-1, so
// pool-c8-0 goes; left on it while being placed, it would count against itself in the zone
// and pool-c8-0 would be NoPlaceToMovePods, pool-c8-1 going instead.
func TestClusterAutoscalerMovedPodDoesNotCountAgainstItself(t *testing.T) {
	pool := testPool(t, "  template: {metadata: {labels: {topology.kubernetes.io/zone: a}}}")
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: 40 * time.Minute})
	// Two pool nodes at t=0, adopted as the pool's (its min is 1).
	for i := range 2 {
		n, err := pool.Node("c8", i)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.API().Create(n); err != nil {
			t.Fatal(err)
		}
	}
	rt := startCA(t, s, pool)
	prefer := func(d *appsv1.Deployment, node string) *appsv1.Deployment {
		d.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 100,
				Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}}
		return d
	}
	web := prefer(cpuDeployment("web", 1, "2"), "pool-c8-0")
	web.Spec.Template.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			TopologyKey:   corev1.LabelTopologyZone}}}
	workloadstest.Create(t, s, web, prefer(cpuDeployment("other", 1, "2"), "pool-c8-1"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, e := range rt.Record().Events {
		t.Logf("event %v %s %s %v %s", e.At, e.Type, e.Reason, e.Nodes, e.Message)
	}
	for _, u := range rt.Record().Unremovable {
		t.Logf("unremovable %+v", u)
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		t.Logf("pod %s on %s", p.Name, p.Spec.NodeName)
	}
	downs := eventsOf(rt, "ScaleDown")
	if len(downs) != 1 || len(downs[0].Nodes) != 1 || downs[0].Nodes[0] != "pool-c8-0" || downs[0].Reason != "ScaleDown" {
		t.Errorf("scale-downs %+v, want pool-c8-0 removed, its web pod moved to pool-c8-1", downs)
	}
}
