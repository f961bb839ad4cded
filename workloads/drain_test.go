package workloads_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// evictEnforcesBudgets tells whether sim.API.Evict refuses what a budget forbids: a budget
// not yet observed by the disruption controller (observedGeneration < generation) refuses
// every eviction of a running pod in kube-apiserver's EvictionREST (checkAndDecrement).
func evictEnforcesBudgets(t *testing.T) bool {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	p := barePodLabelled("probe", map[string]string{"app": "probe"})
	p.Spec.NodeName = "n1"
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 1), p,
		pdb("probe", map[string]string{"app": "probe"}, intOrPct("1"), nil))
	// A Pending pod is evicted without a look at budgets (canIgnorePDB): make it Running.
	running := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "probe")
	running.Status.Phase = corev1.PodRunning
	if _, err := s.API().UpdateStatus(running); err != nil {
		t.Fatal(err)
	}
	err := s.API().Evict(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "probe"}})
	return apierrors.IsTooManyRequests(err)
}

// A drain of a node holding the 3 pods of a StatefulSet with a budget of minAvailable 2.
// Pods become Ready 5 s after binding and go 3 s after their deletion (SlowStages). db-0,
// db-1, db-2 are Ready on n1 by 15 s (OrderedReady); n2 joins at 30 s; the drain starts at
// 60 s. kubectl (drain.go evictPods) evicts the three at once: EvictionREST's
// checkAndDecrement lets db-0 go (3 healthy, 2 desired: 1 allowed, decremented to 0) and
// refuses db-1 and db-2 (429), which kubectl retries every 5 s. db-0 is gone at 63 s, the
// StatefulSet recreates it (on n2: n1 is cordoned), Ready at 68 s; the retries at 65 s are
// refused (2 healthy), at 70 s db-1 goes and db-2 is refused again; db-1 is back Ready at
// 78 s; at 80 s db-2 goes, gone at 83 s: the drain (waitForDelete polls every second) is
// complete at 83 s. Refusals: db-1 at 60, 65; db-2 at 60, 65, 70, 75: 6.
func TestDrainStatefulSetRespectsBudget(t *testing.T) {
	if !evictEnforcesBudgets(t) {
		t.Skip("sim.API.Evict does not enforce PodDisruptionBudgets yet (the sim-core part)")
	}
	s := workloadstest.SlowSim(t)
	db := workloadstest.StatefulSet("db", 3, "")
	db.Spec.Template.Spec.NodeSelector = map[string]string{"pool": "a"}
	n1, n2 := workloadstest.CPUNode("n1", 4), workloadstest.CPUNode("n2", 4)
	n1.Labels["pool"], n2.Labels["pool"] = "a", "a"
	workloadstest.Create(t, s, n1, db, pdb("db", map[string]string{"app": "db"}, intOrPct("2"), nil))
	createAt(t, s, 30*time.Second, n2)
	startTrace(t, s, "- at: 60s\n  drain: {node: n1}\n")
	log := workloadstest.WatchPods(s)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	// Ready and not terminating, after each recorded step: never below 2 once all were up.
	ready := map[types.UID]bool{}
	var evictions []string
	for _, e := range *log {
		switch e.What {
		case "ready":
			ready[e.UID] = true
		case "terminating":
			delete(ready, e.UID)
			evictions = append(evictions, e.String())
		case "gone":
			delete(ready, e.UID)
		}
		if e.At >= 15*time.Second && len(ready) < 2 {
			t.Errorf("after %s: %d Ready, below the budget's 2", e, len(ready))
		}
	}
	if want := []string{"db-0 terminating@1m0s", "db-1 terminating@1m10s", "db-2 terminating@1m20s"}; !slices.Equal(evictions, want) {
		t.Errorf("evictions %v, want %v", evictions, want)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Drains) != 1 {
		t.Fatalf("drains %+v, want 1", obs.Drains)
	}
	d := obs.Drains[0]
	if d.Outcome != analysis.DrainCompleted || d.Start != 60*time.Second || d.End == nil || *d.End != 83*time.Second ||
		d.Evicted != 3 || d.Refused != 6 || len(d.Skipped) != 0 {
		t.Errorf("drain %+v (end %v), want completed 60s–83s, 3 evicted, 6 refused", d, d.End)
	}
}

// kubectl drain's filters and timeout, with no stages (so no kubelet finishes a deletion):
// n1 holds a DaemonSet pod, a Deployment's pod and "solo", a pod with no controller and a
// finalizer (so it stays Terminating for ever once deleted).
//   - 20 s, drain without force: unreplicatedFilter fails the drain at once; kubectl has
//     cordoned the node first.
//   - 30 s, drain with force, grace period 0, timeout 30 s: the DaemonSet pod is skipped;
//     solo and the web pod are evicted (in name order); the web pod goes at once, solo
//     never: at 60 s the wait's context ends, "timed out".
//   - 70 s, skipWaitForDeleteTimeout 30: solo, deleted 40 s ago, is skipped
//     (skipDeletedFilter): nothing to evict, complete at once.
//   - 80 s, no timeout: solo is evicted again (EvictionREST lets a terminating pod go without
//     a budget check) and waited for, for ever: the polls are background work, the run ends
//     and the drain is still in progress.
//   - 90 s, uncordon: the web pod's replacement, pending since 30 s, is scheduled on n1.
func TestDrainFiltersTimeoutAndCordon(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	web := workloadstest.Deployment("web", 1)
	solo := barePod("solo", "100m", nil)
	solo.Finalizers = []string{"example.com/keep"}
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4), workloadstest.DaemonSet("agent"), web, solo)
	startTrace(t, s, `- at: 20s
  drain: {node: n1}
- at: 30s
  drain: {node: n1, force: true, gracePeriodSeconds: 0, timeout: 30s}
- at: 70s
  drain: {node: n1, force: true, skipWaitForDeleteTimeout: 30}
- at: 80s
  drain: {node: n1, force: true}
- at: 90s
  uncordon: {node: n1}
`)
	cordoned := map[time.Duration]bool{}
	s.API().Watch(func(ev sim.WatchEvent) {
		if n, ok := ev.Object.(*corev1.Node); ok {
			cordoned[s.Elapsed()] = n.Spec.Unschedulable
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if end := s.Elapsed(); end != 90*time.Second {
		t.Errorf("run ended at %v, want 90s (a drain waiting for ever is background work)", end)
	}
	if !cordoned[20*time.Second] || cordoned[90*time.Second] {
		t.Errorf("node writes (unschedulable by time) %v, want cordoned at 20s and uncordoned at 90s", cordoned)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	agent := ""
	for _, rec := range obs.Pods {
		if strings.HasPrefix(rec.Pod.Name, "agent-") {
			agent = "default/" + rec.Pod.Name + " (DaemonSet)"
		}
		if strings.HasPrefix(rec.Pod.Name, "web-") && rec.DeletedAt == nil && rec.Pod.Spec.NodeName != "n1" {
			t.Errorf("web replacement %s on %q after the uncordon, want n1", rec.Pod.Name, rec.Pod.Spec.NodeName)
		}
	}
	unmanaged := "cannot delete Pods that declare no controller (use --force to override): default/solo"
	sec := func(s int) *time.Duration { d := time.Duration(s) * time.Second; return &d }
	want := []analysis.DrainRecord{
		{Node: "n1", Start: 20 * time.Second, End: sec(20), Outcome: analysis.DrainFailed, Message: unmanaged},
		{Node: "n1", Start: 30 * time.Second, End: sec(60), Outcome: analysis.DrainTimedOut, Evicted: 2, Skipped: []string{agent},
			Message: `error when waiting for pod "solo" in namespace "default" to terminate: context deadline exceeded`},
		{Node: "n1", Start: 70 * time.Second, End: sec(70), Outcome: analysis.DrainCompleted, Skipped: []string{agent, "default/solo (terminating)"}},
		{Node: "n1", Start: 80 * time.Second, Outcome: analysis.DrainInProgress, Evicted: 1, Skipped: []string{agent}},
	}
	if len(obs.Drains) != len(want) {
		t.Fatalf("drains %+v, want %d", obs.Drains, len(want))
	}
	for i, w := range want {
		g := obs.Drains[i]
		if g.Node != w.Node || g.Start != w.Start || (g.End == nil) != (w.End == nil) || (g.End != nil && *g.End != *w.End) ||
			g.Outcome != w.Outcome || g.Evicted != w.Evicted || g.Refused != w.Refused || !slices.Equal(g.Skipped, w.Skipped) || g.Message != w.Message {
			t.Errorf("drain %d: %+v (end %v)\nwant %+v (end %v)", i, g, g.End, w, w.End)
		}
	}
	if len(obs.TraceErrors) != 1 || obs.TraceErrors[0].At != 20*time.Second || obs.TraceErrors[0].Message != unmanaged {
		t.Errorf("trace errors %+v, want the failed drain's at 20s", obs.TraceErrors)
	}
}

// The other operations: evict (a pod; a missing pod is a trace error), cordon, fail in each
// mode and recover (the kubelet state the simulator keeps; delete removes the Node), and
// their errors on a node that does not exist.
func TestTraceFailureOperations(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4), workloadstest.CPUNode("n2", 4), workloadstest.CPUNode("n3", 4),
		barePod("p", "100m", nil))
	startTrace(t, s, `- at: 10s
  evict: {name: p, gracePeriodSeconds: 0}
- at: 10s
  evict: {namespace: default, name: ghost}
- at: 20s
  cordon: {node: n1}
- at: 20s
  cordon: {node: ghost}
- at: 30s
  fail: {node: n1}
- at: 30s
  fail: {node: n2, mode: not-ready}
- at: 30s
  fail: {node: n3, mode: delete}
- at: 30s
  fail: {node: ghost}
- at: 40s
  recover: {node: n2}
`)
	type kubelet struct {
		state sim.KubeletState
		since time.Duration
	}
	states := map[string]kubelet{}
	s.Clock().At(sim.Epoch.Add(35*time.Second), func() {
		for _, n := range []string{"n1", "n2"} {
			st, since := s.API().Kubelet(n)
			states[n] = kubelet{st, since.Sub(sim.Epoch)}
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if want := map[string]kubelet{"n1": {sim.KubeletStopped, 30 * time.Second}, "n2": {sim.KubeletNotReady, 30 * time.Second}}; !equalMaps(states, want) {
		t.Errorf("kubelets at 35s %v, want %v", states, want)
	}
	if st, _ := s.API().Kubelet("n2"); st != sim.KubeletRunning {
		t.Errorf("n2's kubelet after recover: %v", st)
	}
	if got := s.API().FailedKubelets(); !slices.Equal(got, []string{"n1"}) {
		t.Errorf("failed kubelets %v, want [n1]", got)
	}
	nodes := workloadstest.List[*corev1.Node](t, s, "Node")
	if len(nodes) != 2 || nodes[0].Name != "n1" || !nodes[0].Spec.Unschedulable || nodes[1].Spec.Unschedulable {
		t.Errorf("nodes %v, want n1 (cordoned) and n2", nodes)
	}
	if pods := workloadstest.List[*corev1.Pod](t, s, "Pod"); len(pods) != 0 {
		t.Errorf("the evicted pod is still there: %v", pods[0].Name)
	}
	var errs []string
	for _, e := range obs(t, s).TraceErrors {
		errs = append(errs, e.At.String()+" "+e.Message)
	}
	if want := []string{"10s Pod default/ghost not found", "20s Node ghost not found", "30s Node ghost not found"}; !slices.Equal(errs, want) {
		t.Errorf("trace errors %q, want %q", errs, want)
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func obs(t *testing.T, s *sim.Simulator) analysis.Observation {
	t.Helper()
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// A run with a drain, a stopped kubelet and a deleted node gives the same report, byte for
// byte, twice and at GOMAXPROCS 1 and 2.
func TestDrainAndFailuresAreDeterministic(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var nodes strings.Builder
	for _, n := range []string{"n1", "n2", "n3", "n4"} {
		nodes.WriteString("---\napiVersion: v1\nkind: Node\nmetadata: {name: " + n + "}\nstatus: {allocatable: {cpu: \"8\", memory: 32Gi, pods: \"110\"}, capacity: {cpu: \"8\", memory: 32Gi, pods: \"110\"}}\n")
	}
	nodesPath := write("nodes.yaml", nodes.String())
	workloadsPath := write("workloads.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 8
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1, resources: {requests: {cpu: 500m}}}]}
`)
	tracePath := write("trace.yaml", `apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply: {apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: web}, spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}}
- at: 30s
  drain: {node: n1, timeout: 5m}
- at: 60s
  fail: {node: n2}
- at: 90s
  fail: {node: n3, mode: delete}
- at: 5m
  uncordon: {node: n1}
`)
	sc := loadScenario(t, nodesPath, workloadsPath)
	sc.Traces = []string{tracePath}
	sc.Seed = 7
	sc.SampleInterval = time.Minute
	var first []byte
	for i, procs := range []int{1, 2, 1} {
		prev := runtime.GOMAXPROCS(procs)
		got, r := reportJSON(t, sc)
		runtime.GOMAXPROCS(prev)
		if i == 0 {
			first = got
			if len(r.TraceErrors) != 0 {
				t.Errorf("trace errors: %+v", r.TraceErrors)
			}
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("run %d differs:\n%s", i, workloadstest.FirstDifference(first, got))
		}
	}
}
