package workloads_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/nodeautoscaler"
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
	nodeGone                            map[string]time.Duration
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

// cpuDeployment is a Deployment of pods requesting cpu each.
func cpuDeployment(name string, replicas int32, cpu string) *appsv1.Deployment {
	d := workloadstest.Deployment(name, replicas)
	d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	return d
}

func (r *caRun) events(typ string) []analysis.ScaleEventRecord {
	var out []analysis.ScaleEventRecord
	for _, e := range r.rt.Record().Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
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
	if len(late) > 1 {
		t.Errorf("at most the one partly filled node can have no place for its pods, got %v", before)
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
