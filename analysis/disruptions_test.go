package analysis

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func sec(s float64) *time.Duration {
	d := time.Duration(s * float64(time.Second))
	return &d
}

// disruptionObservation is a hand-built run with one disruption of each kind and a known
// recovery for each workload:
//
//   - Deployment web (3 replicas, through ReplicaSet web-abc): w0..w2 Ready at 5 s. w0 is
//     evicted by the taint manager at 100 s (DeletionByTaintManager); its replacement w3 is
//     Ready at 104 s: episode [100, 104], 4 s, 2 Ready at worst. w1 and w2 are evicted
//     through the eviction API at 200 s and 201 s (a drain); w4 is Ready at 210 s, w5 at
//     215 s: one episode from 200 s with 2 pods, 1 Ready at worst (201..210), recovered at
//     215 s, 15 s.
//   - StatefulSet db (2 replicas): d0 on node n2, d1 on n1, Ready at 5 s. n2 is deleted at
//     300 s and d0 deleted at 340 s without a DisruptionTarget condition (so not an
//     eviction, but a disruption: its node was gone); nothing replaces it by the end
//     (500 s): open episode from 340 s, 1 Ready.
//   - Job batch (desired 0 at the end: it finished): j0 Ready at 10 s, preempted at 50 s
//     (PreemptionByScheduler); j1 Ready at 60 s. It had 1 Ready before: recovered at 60 s,
//     10 s.
//   - orphan (no owner) deleted by pod GC at 340 s (DeletionByPodGC): an eviction, no
//     workload.
//   - gone (ReplicaSet web-abc), bound but never Ready, deleted by a user at 400 s without
//     the condition, on a node that exists: neither an eviction nor a disruption.
func disruptionObservation() Observation {
	rsRef := []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc", Controller: ptr.To(true)}}
	dbRef := []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", Controller: ptr.To(true)}}
	jobRef := []metav1.OwnerReference{{Kind: "Job", Name: "batch", Controller: ptr.To(true)}}
	pod := func(name, node string, owner []metav1.OwnerReference) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: meta(name), Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		p.OwnerReferences = owner
		return p
	}
	recs := []PodRecord{
		{Pod: pod("w0", "n1", rsRef), EvictedAt: sec(100), EvictionReason: ConditionDeletionByTaintManager, TerminatingAt: sec(100), DeletedAt: sec(130)},
		{Pod: pod("w1", "n1", rsRef), EvictedAt: sec(200), EvictionReason: ConditionEvictionByEvictionAPI, TerminatingAt: sec(200), DeletedAt: sec(200)},
		{Pod: pod("w2", "n1", rsRef), EvictedAt: sec(201), EvictionReason: ConditionEvictionByEvictionAPI, TerminatingAt: sec(201), DeletedAt: sec(201)},
		{Pod: pod("w3", "n1", rsRef)},
		{Pod: pod("w4", "n1", rsRef)},
		{Pod: pod("w5", "n1", rsRef)},
		{Pod: pod("d0", "n2", dbRef), TerminatingAt: sec(340), DeletedAt: sec(340)},
		{Pod: pod("d1", "n1", dbRef)},
		{Pod: pod("j0", "n1", jobRef), EvictedAt: sec(50), EvictionReason: ConditionPreemptionByScheduler, TerminatingAt: sec(50), DeletedAt: sec(50)},
		{Pod: pod("j1", "n1", jobRef)},
		{Pod: pod("orphan", "n2", nil), EvictedAt: sec(340), EvictionReason: ConditionDeletionByPodGC, TerminatingAt: sec(340), DeletedAt: sec(340)},
		{Pod: pod("gone", "n1", rsRef), TerminatingAt: sec(400), DeletedAt: sec(400)},
	}
	const (
		w0 = iota
		w1
		w2
		w3
		w4
		w5
		d0
		d1
		j0
		j1
		orphan
		gone
	)
	ready := func(at float64, p int32) PodChange {
		return PodChange{At: *sec(at), Pod: p, Phase: corev1.PodRunning, Bound: true, Ready: true}
	}
	terminating := func(at float64, p int32) PodChange {
		return PodChange{At: *sec(at), Pod: p, Phase: corev1.PodRunning, Bound: true, Ready: true, Terminating: true}
	}
	deleted := func(at float64, p int32) PodChange {
		return PodChange{At: *sec(at), Pod: p, Phase: corev1.PodRunning, Bound: true, Gone: true}
	}
	h := History{
		Pods: []PodChange{
			ready(5, w0), ready(5, w1), ready(5, w2), ready(5, d0), ready(5, d1), ready(5, orphan),
			ready(10, j0), {At: *sec(10), Pod: gone, Phase: corev1.PodPending, Bound: true},
			deleted(50, j0), ready(60, j1),
			terminating(100, w0), ready(104, w3), deleted(130, w0),
			deleted(200, w1), deleted(201, w2), ready(210, w4), ready(215, w5),
			deleted(340, d0), deleted(340, orphan), deleted(400, gone),
		},
		Nodes: []NodeChange{{At: 0, Name: "n1", Ready: true}, {At: 0, Name: "n2", Ready: true}, {At: *sec(300), Name: "n2", Gone: true}},
	}
	web := &appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)}}
	webRS := &appsv1.ReplicaSet{ObjectMeta: meta("web-abc"), Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)}}
	webRS.OwnerReferences = []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}
	db := &appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](2)}}
	batch := &batchv1.Job{ObjectMeta: meta("batch"), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](1), Completions: ptr.To[int32](1)},
		Status: batchv1.JobStatus{Succeeded: 1, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: meta("web-pdb"),
		Spec:   policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2))},
		Status: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, DisruptionsAllowed: 1, ExpectedPods: 3}}
	done := *sec(220)
	return Observation{
		Elapsed: *sec(500),
		Nodes:   []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}},
		Pods:    recs,
		History: h,
		// Sorted by kind, namespace and name, as sim.Observe lists them.
		Workloads: []runtime.Object{web, batch, webRS, db},
		Budgets:   []*policyv1.PodDisruptionBudget{pdb},
		RefusedEvictions: []RefusedEvictionRecord{
			{At: *sec(150), Namespace: "default", Pod: "w1", Budget: "web-pdb", Message: "Cannot evict pod as it would violate the pod's disruption budget."},
			{At: *sec(160), Namespace: "default", Pod: "w1", Budget: "web-pdb"},
			{At: *sec(170), Namespace: "default", Pod: "w2", Budget: "old-pdb"},
		},
		Drains: []DrainRecord{
			{Node: "n1", Start: *sec(190), End: &done, Outcome: DrainCompleted, Evicted: 2, Refused: 3, Skipped: []string{"default/agent-x (DaemonSet)"}},
			{Node: "n3", Start: *sec(400), Outcome: DrainInProgress, Refused: 1},
		},
	}
}

func TestEvictionsByReason(t *testing.T) {
	r := Build(disruptionObservation())
	want := []EvictionReport{
		{Reason: "taint", ConditionReason: "DeletionByTaintManager", Count: 1, First: 100, Last: 100, Times: []float64{100}},
		{Reason: "preemption", ConditionReason: "PreemptionByScheduler", Count: 1, First: 50, Last: 50, Times: []float64{50}},
		{Reason: "eviction-api", ConditionReason: "EvictionByEvictionAPI", Count: 2, First: 200, Last: 201, Times: []float64{200, 201}},
		{Reason: "pod-gc", ConditionReason: "DeletionByPodGC", Count: 1, First: 340, Last: 340, Times: []float64{340}},
	}
	if !reflect.DeepEqual(r.Evictions, want) {
		t.Errorf("evictions:\n got %+v\nwant %+v", r.Evictions, want)
	}
	if r.Summary.Evictions != 5 {
		t.Errorf("summary.evictions = %d, want 5", r.Summary.Evictions)
	}
	byName := map[string]PodReport{}
	for _, p := range r.Pods {
		byName[p.Name] = p
	}
	if p := byName["w0"]; p.EvictionReason != "DeletionByTaintManager" || *p.EvictedAt != 100 || *p.TerminatingAt != 100 || *p.DeletedAt != 130 {
		t.Errorf("w0: %+v", p)
	}
	if p := byName["gone"]; p.EvictedAt != nil || p.EvictionReason != "" || *p.TerminatingAt != 400 {
		t.Errorf("a pod deleted without the condition is not evicted: %+v", p)
	}
	if EvictionReason("SomethingNew") != "other" {
		t.Error("an unknown condition reason is not reported as other")
	}
}

func TestDisruptionBudgetsAndDrains(t *testing.T) {
	r := Build(disruptionObservation())
	wantBudgets := []DisruptionBudgetReport{
		{Namespace: "default", Name: "old-pdb", RefusedEvictions: 1, FirstRefused: f64(170), LastRefused: f64(170), Deleted: true},
		{Namespace: "default", Name: "web-pdb", MinAvailable: "2", RefusedEvictions: 2, FirstRefused: f64(150), LastRefused: f64(160),
			CurrentHealthy: 3, DesiredHealthy: 2, DisruptionsAllowed: 1, ExpectedPods: 3},
	}
	if !reflect.DeepEqual(r.DisruptionBudgets, wantBudgets) {
		t.Errorf("budgets:\n got %+v\nwant %+v", r.DisruptionBudgets, wantBudgets)
	}
	wantDrains := []DrainReport{
		{Node: "n1", Start: 190, End: f64(220), DurationSeconds: 30, Outcome: "completed", Evicted: 2, Refused: 3, Skipped: []string{"default/agent-x (DaemonSet)"}},
		// In progress at the end (500 s): it has run 100 s.
		{Node: "n3", Start: 400, DurationSeconds: 100, Outcome: "in progress", Refused: 1, Skipped: []string{}},
	}
	if !reflect.DeepEqual(r.Drains, wantDrains) {
		t.Errorf("drains:\n got %+v\nwant %+v", r.Drains, wantDrains)
	}
}

func TestWorkloadRecovery(t *testing.T) {
	r := Build(disruptionObservation())
	got := map[string][]WorkloadDisruption{}
	for _, w := range r.Workloads {
		got[w.Kind+"/"+w.Name] = w.Disruptions
	}
	want := map[string][]WorkloadDisruption{
		"Deployment/web": {
			{Start: 100, Pods: 1, Wanted: 3, MinReady: 2, RecoveredAt: f64(104), RecoverySeconds: f64(4)},
			{Start: 200, Pods: 2, Wanted: 3, MinReady: 1, RecoveredAt: f64(215), RecoverySeconds: f64(15)},
		},
		"Job/batch":      {{Start: 50, Pods: 1, Wanted: 1, MinReady: 0, RecoveredAt: f64(60), RecoverySeconds: f64(10)}},
		"StatefulSet/db": {{Start: 340, Pods: 1, Wanted: 2, MinReady: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		t.Errorf("disruptions:\n got %s\nwant %s", a, b)
	}
}

func TestDisruptionTableAndAssertions(t *testing.T) {
	r := Build(disruptionObservation())
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Evictions (5), by reason:",
		"taint         DeletionByTaintManager  1     1.7m   1.7m",
		"eviction-api  EvictionByEvictionAPI   2     3.3m   3.4m",
		"Disruption budgets (2):",
		"default/web-pdb  minAvailable 2  3/2 (of 3)  1        2",
		"Drains (2):",
		"n1    3.2m   3.7m  completed    2        3        1",
		"n3    6.7m   -     in progress  0        1        0",
		"Deployment default/web  3.3m          2     1/3        3.6m          15s",
		"StatefulSet default/db  5.7m          1     1/2        -             not within the run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	for _, c := range []struct {
		expr string
		pass bool
	}{
		{`summary.evictions == 5`, true},
		{`evictions.exists(e, e.reason == "taint" && e.first == 100.0)`, true},
		{`disruptionBudgets.all(b, b.refusedEvictions <= 2)`, true},
		{`drains.exists(d, d.outcome == "in progress")`, true},
		{`workloads.all(w, !has(w.disruptions) || w.disruptions.all(d, d.recoverySeconds != null && d.recoverySeconds < 20.0))`, false},
		{`pods.filter(p, has(p.evictedAt)).size() == 5`, true},
	} {
		if res := checkOne(t, c.expr, r); res.Passed != c.pass || res.Err != nil {
			t.Errorf("%s: passed %v (err %v), want %v", c.expr, res.Passed, res.Err, c.pass)
		}
	}
	// A run without any: the sections are left out, and assertions see empty lists and 0.
	quiet := Build(Observation{Elapsed: time.Minute})
	buf.Reset()
	if err := WriteTable(&buf, quiet); err != nil {
		t.Fatal(err)
	}
	for _, unwanted := range []string{"Evictions", "Disruption budgets", "Drains", "Recovery"} {
		if strings.Contains(buf.String(), unwanted) {
			t.Errorf("%q in the table of a run without disruptions:\n%s", unwanted, buf.String())
		}
	}
	for _, expr := range []string{`summary.evictions == 0`, `size(evictions) == 0`, `size(disruptionBudgets) == 0`, `drains.all(d, d.outcome == "completed")`} {
		if res := checkOne(t, expr, quiet); !res.Passed {
			t.Errorf("%s on a run without evictions: %+v", expr, res)
		}
	}
}

// The report of a run with every disruption validates against the schema.
func TestReportSchemaAcceptsDisruptions(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(disruptionObservation())); err != nil {
		t.Fatal(err)
	}
	if err := validate(compileSchema(t), buf.Bytes()); err != nil {
		t.Errorf("%v\n%s", err, buf.String())
	}
}

// A pod deleted without a DisruptionTarget condition counts as disrupted only if its node did
// not exist at that moment: a node deleted and created again is there.
func TestDisruptionsOnMissingNodes(t *testing.T) {
	bound := func(node string, deleted float64) PodRecord {
		return PodRecord{Pod: &corev1.Pod{Spec: corev1.PodSpec{NodeName: node}}, TerminatingAt: sec(deleted), DeletedAt: sec(deleted)}
	}
	nodes := []NodeChange{
		{At: 0, Name: "a", Ready: true}, {At: 0, Name: "b", Ready: true},
		{At: *sec(100), Name: "a", Gone: true}, {At: *sec(100), Name: "b", Gone: true},
		{At: *sec(120), Name: "b", Ready: false}, {At: *sec(125), Name: "b", Ready: true},
	}
	pods := []PodRecord{
		bound("a", 90),  // node still there: a plain deletion
		bound("a", 140), // node gone: disrupted
		bound("b", 110), // node gone then: disrupted
		bound("b", 140), // node back: a plain deletion
	}
	got := disruptions(pods, nodes)
	want := []disruption{{*sec(110), 2}, {*sec(140), 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("disruptions %v, want %v", got, want)
	}
}
