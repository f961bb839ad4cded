package fidelity

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func f64(v float64) *float64 { return &v }

func dur(d time.Duration) *Duration { return &Duration{d} }

func intp(v int) *int { return &v }

// testPod builds a pod of owner bound to node ("" for none), created at 0 and Running at 1.
func testPod(name, owner, node string) Pod {
	p := Pod{Namespace: "default", Name: name, Owner: owner, Node: node, Created: f64(0), Phase: "Pending"}
	if node != "" {
		p.Scheduled, p.Running, p.Phase = f64(0), f64(1), "Running"
	}
	return p
}

// webRun is a run of a Deployment web (ReplicaSet web-abc) with pods on the given nodes.
func webRun(nodes ...string) Run {
	r := Run{Duration: 60, Workloads: []Workload{
		{Kind: "Deployment", Namespace: "default", Name: "web"},
		{Kind: "ReplicaSet", Namespace: "default", Name: "web-abc", Owner: "Deployment/web"},
	}}
	for i, n := range nodes {
		r.Pods = append(r.Pods, testPod(fmt.Sprintf("web-abc-%05d", i), "ReplicaSet/web-abc", n))
	}
	return r
}

func obs(source string, runs ...Run) Observation {
	return Observation{Scenario: "test", Source: source, Runs: runs}
}

func testScenario(checks ...Check) *Scenario {
	return &Scenario{Name: "test", Checks: checks, NodeLabels: map[string]map[string]string{
		"n1": {"topology.kubernetes.io/zone": "a", "tier": "gold"},
		"n2": {"topology.kubernetes.io/zone": "a"},
		"n3": {"topology.kubernetes.io/zone": "b"},
	}}
}

// one compares with a single check and returns its only finding.
func one(t *testing.T, c Check, real Observation, kw Run) Finding {
	t.Helper()
	fs := Compare(testScenario(c), real, obs("kwoksim", kw))
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %d: %v", len(fs), fs)
	}
	return fs[0]
}

// wantDisagree checks that f disagrees, fails, and that its message names both values.
func wantDisagree(t *testing.T, f Finding, real, kw string) {
	t.Helper()
	if f.Agree || !f.Failed() {
		t.Fatalf("want a failing disagreement, got %v", f)
	}
	msg := f.String()
	for _, s := range []string{"test", fmt.Sprintf("checks[%d]", f.Check), f.Figure, "real " + real, "kwoksim " + kw} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q does not name %q", msg, s)
		}
	}
}

func wantAgree(t *testing.T, f Finding) {
	t.Helper()
	if !f.Agree || f.Failed() {
		t.Fatalf("want agreement, got %v", f)
	}
}

func TestPlacement(t *testing.T) {
	byZone := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "zone"}
	real := obs("real", webRun("n1", "n2", "n3"), webRun("n2", "n1", "n3"))
	wantAgree(t, one(t, byZone, real, webRun("n1", "n1", "n3")))
	f := one(t, byZone, real, webRun("n1", "n3", "n3"))
	wantDisagree(t, f, "a=2, b=1", "a=1, b=2")
	if !strings.Contains(f.Note, "a: real 2, kwoksim 1") {
		t.Errorf("note %q does not say which zone differs", f.Note)
	}

	byNode := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "node"}
	wantDisagree(t, one(t, byNode, real, webRun("n1", "n1", "n3")), "n1=1, n2=1, n3=1", "n1=2, n3=1")

	byLabel := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "label:tier"}
	wantAgree(t, one(t, byLabel, real, webRun("n1", "n2", "n3")))
	wantDisagree(t, one(t, byLabel, real, webRun("n1", "n1", "n3")), "<none>=2, gold=1", "<none>=1, gold=2")

	// One per node, whichever nodes: the histogram agrees where the nodes differ.
	hist := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "histogram"}
	wantAgree(t, one(t, hist, obs("real", webRun("n1", "n2")), webRun("n2", "n3")))
	wantDisagree(t, one(t, hist, obs("real", webRun("n1", "n2")), webRun("n2", "n2")), "2 × 1 pod", "1 × 2 pods")

	// Pods gone by the end do not count; another owner's pods neither.
	r := webRun("n1", "n3")
	r.Pods[1].Gone = f64(30)
	r.Pods = append(r.Pods, testPod("other-xyz-abcde", "ReplicaSet/other-xyz", "n3"))
	wantAgree(t, one(t, byZone, obs("real", webRun("n2")), r))
}

func TestExactCheckWhereTheRealRunsDiffer(t *testing.T) {
	c := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "zone"}
	f := one(t, c, obs("real", webRun("n1", "n2"), webRun("n1", "n3")), webRun("n1", "n2"))
	if f.Agree || !strings.Contains(f.Real, "run 1: a=2; run 2: a=1, b=1") || !strings.Contains(f.Note, "real runs differ") {
		t.Fatalf("want a disagreement saying the real runs differ, got %v", f)
	}
}

func TestKnown(t *testing.T) {
	c := Check{Check: CheckPlacement, Owner: "Deployment/web", By: "zone", Known: "kwoksim breaks ties by node order"}
	f := one(t, c, obs("real", webRun("n1")), webRun("n3"))
	if f.Agree || f.Failed() || f.Known == "" {
		t.Fatalf("a known difference must disagree without failing: %v", f)
	}
	if !strings.Contains(f.String(), "known: kwoksim breaks ties") {
		t.Errorf("message %q does not give the known reason", f.String())
	}
	// A known check that agrees says so, so that a stale known shows.
	f = one(t, c, obs("real", webRun("n1")), webRun("n2"))
	if !f.Agree || f.Known == "" {
		t.Fatalf("want an agreement that keeps its known: %v", f)
	}
}

func TestUnschedulable(t *testing.T) {
	msg := "0/3 nodes are available: 3 Insufficient cpu."
	run := func(n int, m string) Run {
		r := webRun("n1")
		for i := 0; i < n; i++ {
			p := testPod(fmt.Sprintf("web-abc-p%04d", i), "ReplicaSet/web-abc", "")
			p.Unschedulable = m
			r.Pods = append(r.Pods, p)
		}
		return r
	}
	c := Check{Check: CheckUnschedulable, Owner: "Deployment/web"}
	fs := Compare(testScenario(c), obs("real", run(2, msg)), obs("kwoksim", run(2, msg)))
	if len(fs) != 2 {
		t.Fatalf("want count and messages, got %v", fs)
	}
	wantAgree(t, fs[0])
	wantAgree(t, fs[1])
	fs = Compare(testScenario(c), obs("real", run(2, msg)), obs("kwoksim", run(3, msg)))
	wantDisagree(t, fs[0], "2", "3")
	other := "0/3 nodes are available: 3 node(s) had untolerated taint(s)."
	fs = Compare(testScenario(c), obs("real", run(2, msg)), obs("kwoksim", run(2, other)))
	wantAgree(t, fs[0])
	wantDisagree(t, fs[1], "2 × "+msg, "2 × "+other)
}

func TestNames(t *testing.T) {
	c := Check{Check: CheckNames, Owner: "Deployment/web"}
	wantAgree(t, one(t, c, obs("real", webRun()), webRun()))
	kw := webRun()
	kw.Workloads[1].Name = "web-xyz"
	wantDisagree(t, one(t, c, obs("real", webRun()), kw), "ReplicaSet/web-abc", "ReplicaSet/web-xyz")
}

// rolloutRun is a rollout of a Deployment of replicas from ReplicaSet web-old to web-new, one
// controller sync at a time as pkg/controller/deployment/rolling.go (rolloutRolling) does it:
// a sync that scales the new ReplicaSet up (reconcileNewReplicaSet, NewRSNewReplicas: up to
// replicas+maxSurge pods in all) returns; otherwise the old one is scaled down
// (reconcileOldReplicaSets: all pods - (replicas-maxUnavailable) - new unavailable ones). The
// new pods become available one sync late. maxSurge and maxUnavailable are absolute
// (deployment/util.ResolveFenceposts rounds a percentage surge up, unavailable down).
func rolloutRun(replicas, maxSurge, maxUnavailable int32) Run {
	r := Run{Duration: 60, Workloads: []Workload{
		{Kind: "Deployment", Namespace: "default", Name: "web"},
		{Kind: "ReplicaSet", Namespace: "default", Name: "web-old", Owner: "Deployment/web", Sizes: []Size{{At: 0, Seq: 1, Replicas: replicas}}},
		{Kind: "ReplicaSet", Namespace: "default", Name: "web-new", Owner: "Deployment/web"},
	}}
	old, nw, avail := replicas, int32(0), int32(0)
	seq := int64(10)
	write := func(i int, v int32) {
		// A status-only write (same replicas) after each must not count as a step.
		r.Workloads[i].Sizes = append(r.Workloads[i].Sizes, Size{At: 30, Seq: seq, Replicas: v}, Size{At: 30, Seq: seq + 1, Replicas: v, Ready: v})
		seq += 2
	}
	for sync := 0; (nw < replicas || old > 0) && sync < 100; sync++ {
		if up := min(replicas+maxSurge-(old+nw), replicas-nw); up > 0 {
			nw += up
			write(2, nw)
			continue
		}
		if down := min(old+nw-(replicas-maxUnavailable)-(nw-avail), old); down > 0 {
			old -= down
			write(1, old)
		}
		avail = nw
	}
	return r
}

func TestRollout(t *testing.T) {
	c := Check{Check: CheckRollout, Owner: "Deployment/web"}
	// 25% of 10: surge rounds up to 3, unavailable down to 2 (intstr.GetScaledValueFromIntOrPercent).
	surge, unavailable := int32(math.Ceil(0.25*10)), int32(math.Floor(0.25*10))
	real := obs("real", rolloutRun(10, surge, unavailable))
	fs := Compare(testScenario(c), real, obs("kwoksim", rolloutRun(10, surge, unavailable)))
	if len(fs) != 3 {
		t.Fatalf("want steps, most at once, last sizes; got %v", fs)
	}
	for _, f := range fs {
		wantAgree(t, f)
	}
	if fs[1].Real != "13" || fs[2].Real != "old 0, new 10" {
		t.Errorf("most at once %q (want 10 + surge 3), last %q", fs[1].Real, fs[2].Real)
	}
	f := fs[0]
	if want := "old 10 → new 3 → old 8 → new 5 → old 5 → new 8 → old 3 → new 10 → old 0"; f.Real != want {
		t.Errorf("steps %q, want %q", f.Real, want)
	}
	// A mutant that rounds the surge down: new 2 instead of new 3.
	fs = Compare(testScenario(c), real, obs("kwoksim", rolloutRun(10, int32(math.Floor(0.25*10)), unavailable)))
	if f := fs[0]; f.Agree || !f.Failed() || !strings.Contains(f.Note, "step 2: real new 3, kwoksim new 2") {
		t.Fatalf("want the wrong surge rounding flagged at step 2, got %v", f)
	}
	wantDisagree(t, fs[1], "13", "12")
	// Only the first steps: runs that differ later agree on them.
	c.Steps = intp(3)
	later := rolloutRun(10, surge, unavailable)
	later.Workloads[1].Sizes = later.Workloads[1].Sizes[:len(later.Workloads[1].Sizes)-2]
	f = Compare(testScenario(c), obs("real", rolloutRun(10, surge, unavailable), later), obs("kwoksim", rolloutRun(10, surge, unavailable)))[0]
	if !f.Agree || f.Real != "old 10 → new 3 → old 8" || f.Figure != "first 3 spec.replicas steps" {
		t.Fatalf("first 3 steps: %v", f)
	}
}

func TestPodsAndEvictions(t *testing.T) {
	run := func(evicted int, reason string) Run {
		r := webRun("n1", "n2", "n3")
		for i := 0; i < evicted; i++ {
			r.Pods[i].EvictionReason, r.Pods[i].DeletionRequested, r.Pods[i].Gone = reason, f64(20), f64(21)
			r.Pods = append(r.Pods, testPod(fmt.Sprintf("web-abc-r%04d", i), "ReplicaSet/web-abc", "n1"))
		}
		return r
	}
	pods := Check{Check: CheckPods, Owner: "Deployment/web"}
	fs := Compare(testScenario(pods), obs("real", run(1, "DeletionByTaintManager")), obs("kwoksim", run(2, "DeletionByTaintManager")))
	wantDisagree(t, fs[0], "4", "5")
	wantDisagree(t, fs[1], "Running=3, gone=1", "Running=3, gone=2")
	ev := Check{Check: CheckEvictions}
	wantAgree(t, one(t, ev, obs("real", run(2, "DeletionByTaintManager")), run(2, "DeletionByTaintManager")))
	wantDisagree(t, one(t, ev, obs("real", run(2, "DeletionByTaintManager")), run(2, "DeletionByPodGC")), "DeletionByTaintManager=2", "DeletionByPodGC=2")
}

// nodeRun has node n1 going through the given (ready, taints) changes, one per second from 0.
func nodeRun(states ...string) Run {
	n := Node{Name: "n1"}
	for i, s := range states {
		ready, taints, _ := strings.Cut(s, " ")
		var ts []string
		if taints != "" {
			ts = strings.Split(taints, ",")
		}
		n.Changes = append(n.Changes, NodeChange{At: float64(i * 10), Seq: int64(i), Ready: ready, Taints: ts})
	}
	return Run{Duration: 100, Nodes: []Node{n}}
}

func TestNodeHistory(t *testing.T) {
	c := Check{Check: CheckNodeHistory, Node: "n1", Since: dur(15 * time.Second)}
	nr := "node.kubernetes.io/not-ready:NoSchedule"
	ne := "node.kubernetes.io/not-ready:NoExecute"
	// Before since only the state in effect at since counts, and repeats merge.
	real := obs("real", nodeRun("", "True", "False", "False "+nr, "False "+nr+","+ne))
	f := one(t, c, real, nodeRun("True", "True", "False", "False "+nr, "False "+nr, "False "+ne+","+nr))
	wantAgree(t, f)
	if want := "Ready True [] → Ready False [] → Ready False [" + nr + "] → Ready False [" + ne + " " + nr + "]"; f.Real != want {
		t.Errorf("states %q, want %q", f.Real, want)
	}
	f = one(t, c, real, nodeRun("True", "True", "False "+nr+","+ne))
	if f.Agree || !strings.Contains(f.Note, "step 2: real Ready False [], kwoksim Ready False ["+ne) {
		t.Fatalf("want the skipped state flagged, got %v", f)
	}
}

func TestTiming(t *testing.T) {
	at := func(created, running float64) Run {
		r := webRun("n1", "n2")
		r.Pods[1].Created, r.Pods[1].Running = f64(created), f64(running)
		return r
	}
	c := Check{Check: CheckTiming, Of: "lastRunning", Owner: "Deployment/web", Tolerance: dur(time.Second)}
	real := obs("real", at(10, 12), at(10, 14))
	wantAgree(t, one(t, c, real, at(10, 14.9)))
	wantAgree(t, one(t, c, real, at(10, 11)))
	f := one(t, c, real, at(10, 16))
	wantDisagree(t, f, "12..14 s ±1", "16 s")
	if !strings.Contains(f.Note, "outside 11..15 s") {
		t.Errorf("note %q does not give the window", f.Note)
	}
	// Never on both sides agrees; never on one side does not.
	none := Check{Check: CheckTiming, Of: "firstEvicted", Owner: "Deployment/web", Tolerance: dur(time.Second)}
	wantAgree(t, one(t, none, real, at(10, 12)))
	ev := at(10, 12)
	ev.Pods[0].EvictionReason, ev.Pods[0].DeletionRequested = "DeletionByTaintManager", f64(40)
	wantDisagree(t, one(t, none, real, ev), "never", "40 s")
	// since keeps the pods created from then on: the replacements.
	since := Check{Check: CheckTiming, Of: "firstRunning", Owner: "Deployment/web", Since: dur(5 * time.Second), Tolerance: dur(time.Second)}
	wantAgree(t, one(t, since, real, at(10, 12)))
	wantDisagree(t, one(t, since, real, at(4, 5)), "12..14 s ±1", "never")
}

func TestNodeTiming(t *testing.T) {
	nr := "node.kubernetes.io/not-ready:NoSchedule"
	real := obs("real", nodeRun("True", "False", "False "+nr))
	taint := Check{Check: CheckTiming, Of: "taint", Node: "n1", Taint: nr, Tolerance: dur(2 * time.Second)}
	wantAgree(t, one(t, taint, real, nodeRun("True", "True", "False "+nr)))
	wantDisagree(t, one(t, taint, real, nodeRun("True", "False", "False", "False "+nr)), "20 s ±2", "30 s")
	ready := Check{Check: CheckTiming, Of: "ready", Node: "n1", Status: "False", Tolerance: dur(2 * time.Second)}
	wantAgree(t, one(t, ready, real, nodeRun("True", "False")))
	wantDisagree(t, one(t, ready, real, nodeRun("True", "True", "False")), "10 s ±2", "20 s")
	deleted := Check{Check: CheckTiming, Of: "nodeDeleted", Node: "n1", Tolerance: dur(time.Second)}
	rd := nodeRun("True")
	rd.Nodes[0].Deleted = f64(20)
	wantAgree(t, one(t, deleted, obs("real", rd), rd))
	wantDisagree(t, one(t, deleted, obs("real", rd), nodeRun("True")), "20 s ±1", "never")
}

func TestDistribution(t *testing.T) {
	c := Check{Check: CheckDistribution, Owner: "Deployment/web", By: "zone", CountTolerance: intp(0)}
	real := obs("real", webRun("n1", "n1", "n2", "n3"), webRun("n1", "n2", "n3", "n3"))
	fs := Compare(testScenario(c), real, obs("kwoksim", webRun("n1", "n2", "n3", "n3")))
	if len(fs) != 4 {
		t.Fatalf("want max per node, nodes used, zone a, zone b; got %v", fs)
	}
	for _, f := range fs {
		wantAgree(t, f)
	}
	if fs[2].Figure != "pods in a" || fs[2].Real != "2..3 ±0" {
		t.Errorf("zone a: %v", fs[2])
	}
	fs = Compare(testScenario(c), real, obs("kwoksim", webRun("n1", "n1", "n1", "n3")))
	wantDisagree(t, fs[0], "2 ±0", "3")
	wantDisagree(t, fs[1], "3 ±0", "2")
	wantAgree(t, fs[2])
	c.CountTolerance = intp(1)
	fs = Compare(testScenario(c), real, obs("kwoksim", webRun("n1", "n1", "n1", "n3")))
	wantAgree(t, fs[0])
}

func TestSizes(t *testing.T) {
	job := func(active ...int32) Run {
		w := Workload{Kind: "Job", Namespace: "default", Name: "batch"}
		for i, a := range active {
			w.Sizes = append(w.Sizes, Size{At: float64(i), Seq: int64(i), Replicas: 4, Current: a, Ready: a})
		}
		return Run{Duration: 60, Workloads: []Workload{w}}
	}
	c := Check{Check: CheckSizes, Workload: "Job/batch"}
	fs := Compare(testScenario(c), obs("real", job(0, 4, 3, 4, 0)), obs("kwoksim", job(0, 2, 4, 1, 0)))
	wantAgree(t, fs[0])
	wantAgree(t, fs[1])
	if fs[0].Real != "4" || fs[1].Real != "4/0/0" {
		t.Errorf("figures: %v", fs)
	}
	// A wrong parallelism: 5 at once.
	fs = Compare(testScenario(c), obs("real", job(0, 4, 0)), obs("kwoksim", job(0, 5, 1)))
	wantDisagree(t, fs[0], "4", "5")
	wantDisagree(t, fs[1], "4/0/0", "4/1/1")
}

func TestCountsOrder(t *testing.T) {
	m := counts{"node-10": 1, "node-2": 1, "10 pods": 1, "2 pods": 3, "1 pod": 2}
	if got, want := m.String(), "2 × 1 pod, 3 × 2 pods, 1 × 10 pods, node-2=1, node-10=1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCompareWithoutRuns(t *testing.T) {
	fs := Compare(testScenario(Check{Check: CheckNames, Owner: "Deployment/web"}), obs("real"), obs("kwoksim", webRun()))
	if len(fs) != 1 || !fs[0].Failed() {
		t.Fatalf("an observation without runs must fail: %v", fs)
	}
}

func TestWriteResults(t *testing.T) {
	fs := Compare(testScenario(Check{Check: CheckNames, Owner: "Deployment/web", Known: "a | b"}), obs("real", webRun()), obs("kwoksim", webRun()))
	var b strings.Builder
	if err := WriteResults(&b, []ScenarioResult{{Scenario: "test", Findings: fs}, {Scenario: "later", Missing: "Not recorded yet."}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| test | 1 | 1 | 0 | 0 |", "| later | Not recorded yet. |", `agrees, though marked known: a \| b`} {
		if !strings.Contains(out, want) {
			t.Errorf("results lack %q:\n%s", want, out)
		}
	}
}

// hpaRun is a run with the Deployment web at replicas over time and its HPA web: the given
// events (type, reason, count), conditions "Type=Status=Reason", status current/desired.
func hpaRun(replicas []int32, events []HPAEvent, conds []string, current, desired int32) Run {
	w := Workload{Kind: "Deployment", Namespace: "default", Name: "web"}
	for i, r := range replicas {
		w.Sizes = append(w.Sizes, Size{At: float64(i), Seq: int64(i), Replicas: r, Current: r, Ready: r})
	}
	h := HPA{Namespace: "default", Name: "web", Target: "Deployment/web", Events: events, CurrentReplicas: current, DesiredReplicas: desired}
	for _, c := range conds {
		p := strings.SplitN(c, "=", 3)
		h.Conditions = append(h.Conditions, HPACondition{Type: p[0], Status: p[1], Reason: p[2]})
	}
	r := Run{Duration: 50, Workloads: []Workload{w}}
	h.TargetReplicas = targetReplicas(r.Workloads, "default", "Deployment/web")
	r.HPAs = []HPA{h}
	return r
}

func TestHPA(t *testing.T) {
	ev := func(reason string, count int, msg string) HPAEvent {
		return HPAEvent{Type: "Warning", Reason: reason, Count: count, Message: msg}
	}
	conds := []string{"AbleToScale=True=SucceededGetScale", "ScalingActive=False=FailedGetResourceMetric"}
	real := obs("real",
		hpaRun([]int32{2}, []HPAEvent{ev("FailedGetResourceMetric", 4, "the server could not find the requested resource"), ev("FailedComputeMetricsReplicas", 4, "real")}, conds, 2, 0),
		hpaRun([]int32{2}, []HPAEvent{ev("FailedGetResourceMetric", 3, "the server could not find the requested resource"), ev("FailedComputeMetricsReplicas", 3, "real")}, conds, 2, 0))
	c := Check{Check: CheckHPA, HPA: "web", CountTolerance: intp(1)}
	// kwoksim: another message (not compared), one tick more than the most real runs had
	// (within ±1), the conditions in another order.
	kw := hpaRun([]int32{2}, []HPAEvent{ev("FailedComputeMetricsReplicas", 5, "kwoksim"), ev("FailedGetResourceMetric", 5, "no metrics returned from resource metrics API")},
		[]string{conds[1], conds[0]}, 2, 0)
	fs := Compare(testScenario(c), real, obs("kwoksim", kw))
	want := []struct{ figure, real, kw string }{
		{"recorded", "yes", "yes"},
		{"events (type reason)", "Warning FailedComputeMetricsReplicas, Warning FailedGetResourceMetric", "Warning FailedComputeMetricsReplicas, Warning FailedGetResourceMetric"},
		{"count of Warning FailedComputeMetricsReplicas", "3..4 ±1", "5"},
		{"count of Warning FailedGetResourceMetric", "3..4 ±1", "5"},
		{"final conditions", "AbleToScale=True (SucceededGetScale), ScalingActive=False (FailedGetResourceMetric)", "AbleToScale=True (SucceededGetScale), ScalingActive=False (FailedGetResourceMetric)"},
		{"currentReplicas/desiredReplicas", "2/0", "2/0"},
		{"target's spec.replicas over the run", "2", "2"},
	}
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d: %v", len(fs), len(want), fs)
	}
	for i, w := range want {
		if fs[i].Figure != w.figure || fs[i].Real != w.real || fs[i].Kwoksim != w.kw {
			t.Errorf("finding %d: %q real %q kwoksim %q; want %q %q %q", i, fs[i].Figure, fs[i].Real, fs[i].Kwoksim, w.figure, w.real, w.kw)
		}
		wantAgree(t, fs[i])
	}

	// Two ticks more, an event of another reason, ScalingActive True, a rescale of the target.
	kw = hpaRun([]int32{2, 4}, []HPAEvent{ev("FailedGetResourceMetric", 6, ""), ev("FailedComputeMetricsReplicas", 4, ""), {Type: "Normal", Reason: "SuccessfulRescale", Count: 1}},
		[]string{conds[0], "ScalingActive=True=ValidMetricFound"}, 2, 4)
	fs = Compare(testScenario(c), real, obs("kwoksim", kw))
	byFigure := map[string]Finding{}
	for _, f := range fs {
		byFigure[f.Figure] = f
	}
	wantDisagree(t, byFigure["events (type reason)"], "Warning FailedComputeMetricsReplicas, Warning FailedGetResourceMetric", "Normal SuccessfulRescale, Warning FailedComputeMetricsReplicas, Warning FailedGetResourceMetric")
	wantAgree(t, byFigure["count of Warning FailedComputeMetricsReplicas"])
	wantDisagree(t, byFigure["count of Warning FailedGetResourceMetric"], "3..4 ±1", "6")
	// One event of a reason the real runs never had is within ±1 of their 0: the set of
	// reasons above is what catches it.
	wantAgree(t, byFigure["count of Normal SuccessfulRescale"])
	wantDisagree(t, byFigure["final conditions"], "AbleToScale=True (SucceededGetScale), ScalingActive=False (FailedGetResourceMetric)", "AbleToScale=True (SucceededGetScale), ScalingActive=True (ValidMetricFound)")
	wantDisagree(t, byFigure["currentReplicas/desiredReplicas"], "2/0", "2/4")
	wantDisagree(t, byFigure["target's spec.replicas over the run"], "2", "2 → 4")

	// An HPA kwoksim does not have.
	kw.HPAs = nil
	fs = Compare(testScenario(c), real, obs("kwoksim", kw))
	wantDisagree(t, fs[0], "yes", "no")
}
