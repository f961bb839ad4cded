package workloads_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/nodeautoscaler"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// karpenterPool is the pool of docs/autoscaling.md §3 timelines 7 and 8: shapes c8 (8 CPU,
// $0.40/h) and c32 (32 CPU, $1.50/h), provisioning 60–90 s.
func karpenterPool(t testing.TB, min int, extra string) *autoscaling.NodePool {
	t.Helper()
	p, err := autoscaling.Decode([]byte(fmt.Sprintf(`apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: pool}
spec:
  min: %d
  max: 20
  shapes:
  - {name: c8, capacity: {cpu: "8", memory: 32Gi}, pricePerHour: 0.40}
  - {name: c32, capacity: {cpu: "32", memory: 128Gi}, pricePerHour: 1.50}
  provisioning: {delay: {min: 60s, max: 90s}}
%s`, min, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cpuDeployment is a Deployment of pods requesting cpu each, labelled app=name.
func cpuDeployment(name string, replicas int32, cpu string) *appsv1.Deployment {
	d := workloadstest.Deployment(name, replicas)
	d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
	return d
}

// karpenterRun is a simulation with the Karpenter behaviour, and when each pod was created
// and bound, and how many of each app's pods were Ready, over time.
type karpenterRun struct {
	s              *sim.Simulator
	rt             *nodeautoscaler.Runtime
	created, bound map[string]time.Duration
	// minReady is, per app, the fewest Ready pods seen after the first time maxReady were.
	minReady, maxReady map[string]int
	ready              map[string]int
}

func startKarpenter(t *testing.T, cfg sim.Config, pools []*autoscaling.NodePool, objs ...runtime.Object) *karpenterRun {
	t.Helper()
	s := workloadstest.Sim(t, cfg)
	opts := autoscaling.DefaultOptions()
	opts.Autoscaler = autoscaling.Karpenter
	r := &karpenterRun{s: s, created: map[string]time.Duration{}, bound: map[string]time.Duration{},
		minReady: map[string]int{}, maxReady: map[string]int{}, ready: map[string]int{}}
	s.API().Watch(func(ev sim.WatchEvent) {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		app := p.Labels["app"]
		wasReady := ev.Old != nil && podutil.IsPodReady(ev.Old.(*corev1.Pod))
		isReady := ev.Type != watch.Deleted && podutil.IsPodReady(p)
		switch {
		case ev.Type == watch.Added:
			r.created[p.Name] = s.Elapsed()
		case ev.Type == watch.Modified && ev.Old.(*corev1.Pod).Spec.NodeName == "" && p.Spec.NodeName != "":
			r.bound[p.Name] = s.Elapsed()
		}
		if wasReady != isReady {
			if isReady {
				r.ready[app]++
			} else {
				r.ready[app]--
			}
			if r.ready[app] > r.maxReady[app] {
				r.maxReady[app], r.minReady[app] = r.ready[app], r.ready[app]
			}
			r.minReady[app] = min(r.minReady[app], r.ready[app])
		}
	})
	var err error
	if r.rt, err = nodeautoscaler.Start(s, pools, opts); err != nil {
		t.Fatal(err)
	}
	workloadstest.Create(t, s, objs...)
	return r
}

func (r *karpenterRun) nodes(shape string) []*analysis.AutoscaledNodeRecord {
	var out []*analysis.AutoscaledNodeRecord
	for _, n := range r.rt.Record().Nodes {
		if n.Shape == shape && !n.Initial {
			out = append(out, n)
		}
	}
	return out
}

func (r *karpenterRun) events(typ string) []analysis.ScaleEventRecord { return eventsOf(r.rt, typ) }

// docs/autoscaling.md §3, timelines 7 and 8. A c8 node exists at t=0 (the pool's min) with a
// baseline of 3 × 2 CPU; 30 step pods of 2 CPU arrive at 1h and go at 9h.
//
// Provisioning: one step pod takes the 2 free CPU of the c8 node; the other 29 are
// unschedulable at 1h, the batch closes 1 s later (BatchIdleDuration, no new pod), and the
// solve packs them by claim: the 1st claim takes 16 pods (32 CPU; after the 4th only c32
// still fits), the 2nd the other 13 (26 CPU, c32 only). So 2 × c32 = $3.00/h (CA's 8 × c8
// would cost $3.20/h), launched at 1h+1s; every pod waits at most 1 s + 90 s.
//
// Consolidation: both c32 nodes are empty after the drop. The c8 node is not Karpenter's (it
// predates the run) and does not count: budget 10% of 2 nodes, rounded up, is 1 at a time.
// Each deletion comes at a poll (every 10 s) + 15 s of validation; the second only once the
// first is gone: both are gone well before cluster-autoscaler's 10 minutes.
func TestKarpenterStepTimeline(t *testing.T) {
	r := startKarpenter(t, sim.Config{Seed: 3, Stages: stages.Default()}, []*autoscaling.NodePool{karpenterPool(t, 1, "")},
		cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Hour, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	workloadstest.PatchAt(t, r.s, 9*time.Hour, "Deployment", "default", "step", `{"spec":{"replicas":0}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}

	ups := r.events(analysis.ScaleUp)
	if len(ups) != 2 {
		t.Fatalf("want 2 launches, got %d: %+v", len(ups), ups)
	}
	var pods []int
	for _, e := range ups {
		if e.Shape != "c32" || e.At != time.Hour+time.Second || e.Reason != "Launched" {
			t.Errorf("launch %+v: want c32 at 1h1s (the batch closing 1 s after the pods)", e)
		}
		pods = append(pods, e.Pods)
	}
	if !slices.Equal(pods, []int{16, 13}) {
		t.Errorf("claims took %v pods, want [16 13]", pods)
	}
	if n := len(r.nodes("c8")); n != 0 {
		t.Errorf("%d c8 nodes launched, want none", n)
	}
	var hourly float64
	for _, n := range r.nodes("c32") {
		hourly += n.PricePerHour
	}
	if math.Abs(hourly-3.00) > 1e-9 || hourly >= 8*0.40 {
		t.Errorf("launched $%.2f/h, want $3.00/h (less than CA's 8 × c8 = $3.20/h)", hourly)
	}
	for name, c := range r.created {
		if !strings.HasPrefix(name, "step-") || c != time.Hour {
			continue
		}
		b, ok := r.bound[name]
		if !ok || b-c > time.Second+90*time.Second {
			t.Errorf("pod %s created at %v bound at %v (bound: %v): want a wait <= 1s + 90s", name, c, b, ok)
		}
	}

	// Consolidation after the drop.
	c32 := r.nodes("c32")
	if len(c32) != 2 {
		t.Fatalf("want 2 c32 nodes, got %d", len(c32))
	}
	slices.SortFunc(c32, func(a, b *analysis.AutoscaledNodeRecord) int { return int(*a.DeletedAt - *b.DeletedAt) })
	for _, n := range c32 {
		if n.DeletedAt == nil || n.RemovalReason != "empty" || *n.DrainStartedAt < 9*time.Hour {
			t.Fatalf("node %s: deleted at %v as %q, want removed as empty after 9h", n.Name, n.DeletedAt, n.RemovalReason)
		}
	}
	a, b := c32[0], c32[1]
	if *b.DrainStartedAt < *a.DeletedAt {
		t.Errorf("budget 1: %s chosen at %v before %s was gone at %v", b.Name, *b.DrainStartedAt, a.Name, *a.DeletedAt)
	}
	// The first empty node goes as soon as it is chosen (nothing to drain). The pass that
	// follows the command at once still sees it in flight (budget 0); the next poll, 10 s
	// later, chooses the second, executed after the 15 s validation.
	if *a.DeletedAt != *a.DrainStartedAt {
		t.Errorf("%s tainted at %v deleted at %v: an empty node goes at once", a.Name, *a.DrainStartedAt, *a.DeletedAt)
	}
	if chosen := *b.DrainStartedAt - autoscaling.KarpenterValidationDelay; chosen != *a.DeletedAt+autoscaling.KarpenterDisruptionPollingPeriod {
		t.Errorf("%s chosen at %v: want the poll 10 s after %s was gone at %v", b.Name, chosen, a.Name, *a.DeletedAt)
	}
	// The first chosen at the first poll after the pods are gone: at most 10 s + 15 s.
	if *a.DrainStartedAt > 9*time.Hour+autoscaling.KarpenterDisruptionPollingPeriod+autoscaling.KarpenterValidationDelay+time.Minute {
		t.Errorf("%s tainted at %v: want the first poll after the drop + 15 s", a.Name, *a.DrainStartedAt)
	}
	t.Logf("%s tainted %v deleted %v; %s tainted %v deleted %v", a.Name, *a.DrainStartedAt, *a.DeletedAt, b.Name, *b.DrainStartedAt, *b.DeletedAt)
	if *b.DeletedAt > 9*time.Hour+5*time.Minute {
		t.Errorf("last c32 gone at %v: want well before CA's 10 minutes after the drop", *b.DeletedAt)
	}
	for _, n := range r.rt.Record().Nodes {
		if n.Initial && n.DeletedAt != nil {
			t.Errorf("the c8 node present at t=0 was removed: %+v", n)
		}
	}
}

// consolidationRun: no node at t=0; a 20-CPU pod and 3 × 2-CPU "small" pods arrive at once, and
// one c32 takes them all (26 CPU: only c32 fits). At 1h the 20-CPU pod goes: 3 pods (6 CPU)
// are left on a $1.50/h c32, and a $0.40/h c8 would hold them. A pod selecting disk=ssd, a
// label no shape has, is never provisioned for.
func consolidationRun(t *testing.T, seed uint64, pool string, small *appsv1.Deployment, extra ...runtime.Object) *karpenterRun {
	ssd := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "ssd", Namespace: "default"}, Spec: workloadstest.PodSpec("1")}
	ssd.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	objs := append([]runtime.Object{cpuDeployment("big", 1, "20"), small, ssd}, extra...)
	r := startKarpenter(t, sim.Config{Seed: seed, Stages: stages.Default()}, []*autoscaling.NodePool{karpenterPool(t, 0, pool)}, objs...)
	workloadstest.PatchAt(t, r.s, time.Hour, "Deployment", "default", "big", `{"spec":{"replicas":0}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	return r
}

// Timeline 8's partial drop: the c32 is REPLACED by a c8 (cheaper, and the 3 pods fit), not
// deleted (nothing else can take them) and not kept. The replacement is launched first; the
// c32 is drained only once the c8 is Ready. A PDB of maxUnavailable 1 over the 3 pods is never
// broken: evictions it refuses (429) are retried with back-off until it allows them. A
// do-not-disrupt pod, or a PDB that allows no disruption, keeps the c32 (and the run still
// ends).
func TestKarpenterReplace(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pool        string // the NodePool's extra spec
		annotations map[string]string
		budget      runtime.Object
		// after is how long after the last pod event (1h) the node may be chosen.
		after time.Duration
		// reason and blocked are why the c32 stays, when it does.
		reason, blocked string
	}{
		{name: "pdb maxUnavailable 1", budget: pdb("small", map[string]string{"app": "small"}, nil, intOrPct("1"))},
		{name: "consolidateAfter 10m", pool: "  disruption: {consolidateAfter: 10m}", after: 10 * time.Minute},
		{name: "pdb allows none", budget: pdb("small", map[string]string{"app": "small"}, intOrPct("3"), nil),
			reason: "DisruptionBlocked", blocked: "pdb prevents pod evictions (PodDisruptionBudget=[default/small])"},
		{name: "do-not-disrupt", annotations: map[string]string{"karpenter.sh/do-not-disrupt": "true"},
			reason: "DisruptionBlocked", blocked: `pod has "karpenter.sh/do-not-disrupt" annotation`},
		{name: "WhenEmpty", pool: "  disruption: {consolidationPolicy: WhenEmpty}",
			reason: "Unconsolidatable", blocked: `NodePool "pool" has consolidation policy WhenEmpty, but node is not empty`},
		{name: "budget 0", pool: `  disruption: {budgets: [{nodes: "0", reasons: [Underutilized]}]}`,
			reason: "DisruptionBlocked", blocked: "No allowed disruptions for disruption reason Underutilized due to blocking budget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			small := cpuDeployment("small", 3, "2")
			small.Spec.Template.Annotations = tc.annotations
			var extra []runtime.Object
			if tc.budget != nil {
				extra = append(extra, tc.budget)
			}
			r := consolidationRun(t, 5, tc.pool, small, extra...)
			rec := r.rt.Record()

			ups := r.events(analysis.ScaleUp)
			if len(ups) == 0 || ups[0].Shape != "c32" || ups[0].Pods != 4 || ups[0].At != time.Second {
				t.Fatalf("first launch %+v: want one c32 for the 4 pods at 1s", ups)
			}
			c32 := r.nodes("c32")
			if len(c32) != 1 {
				t.Fatalf("want one c32, got %d", len(c32))
			}
			old := c32[0]
			if i := slices.IndexFunc(rec.NoScaleUp, func(n analysis.NoScaleUpRecord) bool { return n.Name == "ssd" }); i < 0 ||
				!strings.Contains(rec.NoScaleUp[i].Reason, `incompatible with nodepool "pool"`) ||
				!strings.Contains(rec.NoScaleUp[i].Reason, "didn't match Pod's node affinity/selector") {
				t.Errorf("the disk=ssd pod: want a NoScaleUp record naming the pool and NodeAffinity's reason, got %+v", rec.NoScaleUp)
			}

			if tc.blocked != "" {
				if old.DeletedAt != nil || len(r.nodes("c8")) != 0 {
					t.Fatalf("the c32 was disrupted (deleted at %v, %d c8) though %s", old.DeletedAt, len(r.nodes("c8")), tc.blocked)
				}
				i := slices.IndexFunc(rec.Unremovable, func(u analysis.UnremovableRecord) bool { return u.Node == old.Name })
				if i < 0 || rec.Unremovable[i].Reason != tc.reason || !strings.Contains(rec.Unremovable[i].Detail, tc.blocked) {
					t.Errorf("want %s unremovable (%s: %s), got %+v", old.Name, tc.reason, tc.blocked, rec.Unremovable)
				}
				return
			}

			c8 := r.nodes("c8")
			if len(c8) != 1 {
				t.Fatalf("want one c8 replacement, got %d (events %+v)", len(c8), rec.Events)
			}
			repl := c8[0]
			if old.RemovalReason != "replaced" || old.DeletedAt == nil || repl.DeletedAt != nil {
				t.Fatalf("c32 removed as %q at %v, c8 deleted at %v: want the c32 replaced and the c8 kept", old.RemovalReason, old.DeletedAt, repl.DeletedAt)
			}
			// Tainted (chosen + 15 s) and the replacement launched at once; drained only after
			// the replacement is Ready.
			if repl.LaunchedAt != *old.DrainStartedAt || repl.ReadyAt == nil || *old.DeletedAt < *repl.ReadyAt {
				t.Errorf("c32 tainted %v deleted %v; c8 launched %v Ready %v: want launch at the taint, deletion after Ready",
					*old.DrainStartedAt, *old.DeletedAt, repl.LaunchedAt, repl.ReadyAt)
			}
			// Consolidatable at lastPodEventTime (the 20-CPU pod gone, 1h) + consolidateAfter;
			// chosen by the pass at that instant (the controller requeues then), executed 15 s
			// later.
			if want := time.Hour + tc.after + autoscaling.KarpenterValidationDelay; *old.DrainStartedAt < want || *old.DrainStartedAt > want+autoscaling.KarpenterDisruptionPollingPeriod {
				t.Errorf("c32 tainted at %v: want within a poll of %v (1h + consolidateAfter %v + 15 s)", *old.DrainStartedAt, want, tc.after)
			}
			cons := r.events(analysis.Consolidation)
			if len(cons) != 1 || cons[0].Reason != "DisruptionTerminating" || !strings.Contains(cons[0].Message, "Disrupting Node: Underutilized (Underutilized: replace: nodepools=[pool]: ["+old.Name+"] -> [1 replacement] (savings: $1.10))") {
				t.Errorf("want one replace command saving $1.10/h, got %+v", cons)
			}
			if tc.budget != nil && (r.maxReady["small"] != 3 || r.minReady["small"] < 2) {
				t.Errorf("small pods Ready: at most %d, then at least %d: want 3 then never below 2 (maxUnavailable 1)", r.maxReady["small"], r.minReady["small"])
			}
			pods := workloadstest.List[*corev1.Pod](t, r.s, "Pod")
			on := 0
			for _, p := range pods {
				if p.Labels["app"] == "small" && p.Spec.NodeName == repl.Name {
					on++
				}
			}
			if on != 3 {
				t.Errorf("%d small pods on %s at the end, want 3", on, repl.Name)
			}
		})
	}
}

// The same seed gives the same record; the seed drives the provisioning delays.
func TestKarpenterReproducible(t *testing.T) {
	small := func() *appsv1.Deployment { return cpuDeployment("small", 3, "2") }
	budget := func() runtime.Object { return pdb("small", map[string]string{"app": "small"}, nil, intOrPct("1")) }
	js := func(r *karpenterRun) string {
		b, err := json.Marshal(r.rt.Record())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b := js(consolidationRun(t, 9, "", small(), budget())), js(consolidationRun(t, 9, "", small(), budget()))
	if a != b {
		t.Fatalf("same seed, different records: %s", workloadstest.FirstDifference([]byte(a), []byte(b)))
	}
	if c := js(consolidationRun(t, 10, "", small(), budget())); c == a {
		t.Error("another seed gave the same record: the provisioning delays should differ")
	}
}

// A whole run through workloads.Run (the pools and the karpenter choice as the CLI passes
// them, the step as a trace) ends on its own and gives the same report twice.
func TestKarpenterRunReport(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "step.jsonl")
	if err := os.WriteFile(trace, []byte(`{"at":"1h","scale":{"kind":"Deployment","namespace":"default","name":"step","replicas":30}}
{"at":"2h","scale":{"kind":"Deployment","namespace":"default","name":"step","replicas":3}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := autoscaling.DefaultOptions()
	opts.Autoscaler = autoscaling.Karpenter
	run := func() []byte {
		r, err := workloads.Run(context.Background(), workloads.Scenario{
			Config:      sim.Config{Seed: 4},
			Workloads:   []manifest.Object{{Obj: cpuDeployment("base", 3, "2")}, {Obj: cpuDeployment("step", 0, "2")}},
			NodePools:   []manifest.Object{{Obj: karpenterPool(t, 1, "")}},
			Autoscaling: opts,
			Traces:      []string{trace},
		})
		if err != nil {
			t.Fatal(err)
		}
		r.Runtime = analysis.Runtime{}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed, different reports: %s", workloadstest.FirstDifference(a, b))
	}
}

// A NodeClaim whose Node does not register within 15 minutes is given up
// (nodeclaim/lifecycle/liveness.go, registrationTimeout): billing ends then.
func TestKarpenterRegistrationTimeout(t *testing.T) {
	p := karpenterPool(t, 0, "")
	p.Spec.Provisioning.Delay = autoscaling.DelayRange{Min: 20 * time.Minute, Max: 20 * time.Minute}
	r := startKarpenter(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: 16 * time.Minute}, []*autoscaling.NodePool{p},
		cpuDeployment("one", 1, "2"))
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	c8 := r.nodes("c8")
	if len(c8) == 0 {
		t.Fatalf("no c8 launched: %+v", r.rt.Record().Events)
	}
	n := c8[0]
	want := time.Second + autoscaling.KarpenterRegistrationTimeout
	if n.LaunchedAt != time.Second || !n.FailedToRegister || n.DeletedAt == nil || *n.DeletedAt != want || n.RegisteredAt != nil {
		t.Errorf("node %+v: want launched at 1s, given up at %v, never registered", n, want)
	}
	if to := r.events(analysis.ScaleUpTimedOut); len(to) != 1 || to[0].At != want || to[0].Reason != "RegistrationTimeout" {
		t.Errorf("timeouts %+v: want one RegistrationTimeout at %v", to, want)
	}
}

// A DaemonSet's pod runs on every node, so a claim is packed with room for it (the
// daemonOverheadGroups of Scheduler.Solve). With a 1-CPU DaemonSet the c8 node present at t=0
// has 8 − 6 − 1 = 1 CPU free: all 30 step pods (2 CPU) are unschedulable, and each c32 holds
// 15 of them beside its DaemonSet pod (2 × 15 + 1 = 31; a 16th would need 33); packing
// without the overhead would give 16 and 14.
func TestKarpenterDaemonSetOverhead(t *testing.T) {
	ds := workloadstest.DaemonSet("agent")
	ds.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1")
	r := startKarpenter(t, sim.Config{Seed: 2, Stages: stages.Default(), Until: time.Hour + 10*time.Minute},
		[]*autoscaling.NodePool{karpenterPool(t, 1, "")}, ds, cpuDeployment("base", 3, "2"), cpuDeployment("step", 0, "2"))
	workloadstest.PatchAt(t, r.s, time.Hour, "Deployment", "default", "step", `{"spec":{"replicas":30}}`)
	if err := r.s.Run(); err != nil {
		t.Fatal(err)
	}
	var pods []int
	for _, e := range r.events(analysis.ScaleUp) {
		pods = append(pods, e.Pods)
	}
	if !slices.Equal(pods, []int{15, 15}) {
		t.Errorf("claims took %v pods, want [15 15]", pods)
	}
	// kube-scheduler does not follow Karpenter's packing: the first c32 to be Ready may take
	// 16 pending step pods before its DaemonSet pod is created, as in a real cluster (where a
	// DaemonSet of a higher priority would preempt). Only the claims are asserted.
}

// Multi-node consolidation: two 20-CPU pods take a c32 each; at 10m two 2-CPU pods come, and
// the scheduler spreads them (LeastAllocated), one on each. When the 20-CPU pods go at 1h,
// each c32 holds 2 CPU.
// With a budget of 2 nodes, multi-node consolidation (tried before single-node) replaces
// both with one c8 in one command: its pods fit one new node, cheaper than the two ($3.00/h)
// and than a c32 (filterOutSameInstanceType). With the default 10% (1 node at a time) it
// cannot take two, and single-node consolidation deletes one c32 (its pod fits the other)
// before replacing the other.
func TestKarpenterMultiNode(t *testing.T) {
	for _, tc := range []struct {
		name, pool string
		want       []string // the consolidation commands, in order
	}{
		{"budget 2", `  disruption: {budgets: [{nodes: "2"}]}`,
			[]string{"replace: nodepools=[pool]: [pool-c32-0, pool-c32-1] -> [1 replacement] (savings: $2.60)"}},
		{"budget 10%", "",
			[]string{"delete: nodepools=[pool]: [pool-c32-", "replace: nodepools=[pool]: [pool-c32-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startKarpenter(t, sim.Config{Seed: 6, Stages: stages.Default()}, []*autoscaling.NodePool{karpenterPool(t, 0, tc.pool)},
				cpuDeployment("big", 2, "20"), cpuDeployment("small", 0, "2"))
			workloadstest.PatchAt(t, r.s, 10*time.Minute, "Deployment", "default", "small", `{"spec":{"replicas":2}}`)
			workloadstest.PatchAt(t, r.s, time.Hour, "Deployment", "default", "big", `{"spec":{"replicas":0}}`)
			if err := r.s.Run(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range r.rt.Record().Events {
				if (e.Type == analysis.Consolidation || e.Type == analysis.ScaleDown) && e.Reason == "DisruptionTerminating" {
					got = append(got, e.Message)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("commands %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("command %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
			var live []string
			for _, n := range r.rt.Record().Nodes {
				if n.DeletedAt == nil {
					live = append(live, n.Shape)
				}
			}
			if !slices.Equal(live, []string{"c8"}) {
				t.Errorf("nodes at the end %v, want one c8", live)
			}
		})
	}
}
