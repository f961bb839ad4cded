package workloads_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/workloads"
)

// fourNodes are four kwok nodes of 4 CPU: room for 16 one-CPU pods, more than a rollout of 10
// at 25% surge needs (13).
const fourNodes = `
apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "110"}, capacity: {cpu: "4", memory: 16Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-b, labels: {kubernetes.io/hostname: node-b}}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "110"}, capacity: {cpu: "4", memory: 16Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-c, labels: {kubernetes.io/hostname: node-c}}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "110"}, capacity: {cpu: "4", memory: 16Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: node-d, labels: {kubernetes.io/hostname: node-d}}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "110"}, capacity: {cpu: "4", memory: 16Gi, pods: "110"}}
`

// runTrace replays a trace on fourNodes under KWOK's stage-fast (the default stages) and
// returns the report.
func runTrace(t *testing.T, trace string) *analysis.Report {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nodes.yaml"), []byte(fourNodes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trace.yaml"), []byte(trace), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := workloads.Run(context.Background(), traceScenario(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rollingUpdate is a Deployment of 10 one-CPU pods, rolling 25%/25% (the defaults, written
// out), whose template changes at 60 s; the run ends at 10 minutes.
const rollingUpdate = `
apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply:
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 10
      strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: web, image: web:1, resources: {requests: {cpu: "1"}}}]}
- at: 60s
  patch:
    kind: Deployment
    name: web
    patch: {spec: {template: {spec: {containers: [{name: web, image: web:2}]}}}}
- at: 10m
  delete: {kind: Pod, name: no-such-pod}
`

// rolloutSteps merges the spec.replicas changes of Deployment/web's two ReplicaSets, from
// the rollout on (60 s), ordered by (at, seq), as "old N" and "new N".
func rolloutSteps(t *testing.T, r *analysis.Report) []string {
	t.Helper()
	old, cur := webReplicaSets(t, r)
	type step struct {
		at    float64
		seq   int64
		which string
		n     int32
	}
	var steps []step
	for _, rs := range []struct {
		which string
		w     analysis.WorkloadSizesReport
	}{{"old", old}, {"new", cur}} {
		prev := int32(-1)
		for _, s := range rs.w.Sizes {
			if s.Replicas != prev && s.At >= 60 {
				steps = append(steps, step{s.At, s.Seq, rs.which, s.Replicas})
			}
			prev = s.Replicas
		}
	}
	slices.SortFunc(steps, func(a, b step) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = fmt.Sprintf("%s %d", s.which, s.n)
	}
	return out
}

// webReplicaSets are the old (created first) and new ReplicaSets of Deployment/web.
func webReplicaSets(t *testing.T, r *analysis.Report) (old, cur analysis.WorkloadSizesReport) {
	t.Helper()
	var rss []analysis.WorkloadSizesReport
	for _, w := range r.WorkloadSizes {
		if w.Kind == "ReplicaSet" && w.Owner == "Deployment/web" {
			rss = append(rss, w)
		}
	}
	if len(rss) != 2 {
		t.Fatalf("%d ReplicaSets of Deployment/web in workloadSizes, want 2: %+v", len(rss), r.WorkloadSizes)
	}
	if *rss[0].CreatedAt > *rss[1].CreatedAt {
		rss[0], rss[1] = rss[1], rss[0]
	}
	return rss[0], rss[1]
}

// realRollout is one sequence of ReplicaSet spec.replicas a real v1.37.2 cluster wrote for
// rollingUpdate under stage-fast (run 2 of testdata/fidelity/rollout-fast/observed.json, 1.6 s
// from first to last). Each step is pkg/controller/deployment/rolling.go's arithmetic for
// replicas 10, maxSurge 25% (rounded up: 3, so maxTotal 13) and maxUnavailable 25% (rounded
// down: 2, so minAvailable 8), given a, the new ReplicaSet's status.availableReplicas the sync
// read:
//
//  1. new 3: the new ReplicaSet is created with NewRSNewReplicas = min(13-10, 10-0) = 3.
//  2. old 8: reconcileOldReplicaSets, a=0: maxScaledDown = 13-8-(3-0) = 2; no old pod is
//     unavailable (cleanupUnhealthyReplicas: 0), scaleDownOldReplicaSetsForRollingUpdate:
//     available 10+0, 10-8 = 2 may go: 10 → 8.
//  3. new 5: reconcileNewReplicaSet: 13-(8+3) = 2 more: 5.
//  4. old 6: a=2: maxScaledDown = 13-8-(5-2) = 2, available 8+2 = 10, 2 may go: 8 → 6.
//  5. new 7: 13-(6+5) = 2 more: 7.
//  6. old 3: a=5: maxScaledDown = 13-8-(7-5) = 3, available 6+5 = 11, 3 may go: 6 → 3.
//  7. new 10: min(13-(3+7), 10-7) = 3 more: 10.
//  8. old 1: a=7: maxScaledDown = 13-8-(10-7) = 2, available 3+7 = 10, 2 may go: 3 → 1.
//  9. old 0: a≥8: available 1+a > 8, 1 may go: 0.
//
// From step 4 on, each old step depends on how many of the new pods were available when the
// Deployment controller synced: in the real cluster pods are created, bound and reported Ready
// one by one over tens of milliseconds while the controllers sync in between. The three
// recorded runs went three different ways after step 3 (…old 5 → new 8…, the sequence above,
// and one with two more steps); only steps 1-3 and the end are the same in every run.
var realRollout = []string{"new 3", "old 8", "new 5", "old 6", "new 7", "old 3", "new 10", "old 1", "old 0"}

// zeroLatencyRollout is the same arithmetic when every new pod is available before the next
// Deployment sync, which is what stage-fast gives in kwoksim (no apiserver, watch or kubelet
// latency: every sync of an instant runs before the next write's effects are seen, and a bound
// pod is Ready in its bind): step 4 becomes maxScaledDown = 13-8-(5-5) = 5, available 8+5 = 13,
// old 8 → 3; then new min(13-(3+5), 10-5) = 5 more: 10; then old 3 → 0. It is the limit the real
// runs approach as latency shrinks. Under KWOK's general stages, where pods turn Ready seconds
// apart, kwoksim matches the real cluster's 16 steps exactly (testdata/fidelity/rollout-general,
// checked by TestFidelity).
var zeroLatencyRollout = []string{"new 3", "old 8", "new 5", "old 3", "new 10", "old 0"}

// Under stage-fast the rollout's merged ReplicaSet sizes are the zero-latency sequence, whose
// first three steps and end are those of every real run.
func TestReportRolloutStepsAtZeroLatency(t *testing.T) {
	got := rolloutSteps(t, runTrace(t, rollingUpdate))
	if !slices.Equal(got, zeroLatencyRollout) {
		t.Errorf("ReplicaSet spec.replicas steps:\n got %s\nwant %s", strings.Join(got, " → "), strings.Join(zeroLatencyRollout, " → "))
	}
	if !slices.Equal(got[:3], realRollout[:3]) || got[len(got)-1] != realRollout[len(realRollout)-1] {
		t.Errorf("first steps and end differ from the real cluster's:\n got %s\nreal %s", strings.Join(got, " → "), strings.Join(realRollout, " → "))
	}
}

// Every ReplicaSet size the rollout wrote is what rolling.go computes from the sizes recorded
// before it: the report's (at, seq) order is the order of the writes, and the Deployment
// controller reads the ReplicaSets as last written (kwoksim's informers are synchronous).
// readyReplicas stands for availableReplicas: with minReadySeconds 0 they are the same
// count (the ReplicaSet controller's calculateStatus).
func TestReportWorkloadSizesFollowRollingArithmetic(t *testing.T) {
	r := runTrace(t, rollingUpdate)
	old, cur := webReplicaSets(t, r)
	const replicas = 10
	quarter := intstr.FromString("25%")
	// ResolveFenceposts (deployment/util): surge rounds up, unavailable down.
	surge, _ := intstr.GetScaledValueFromIntOrPercent(&quarter, replicas, true)
	unavailable, _ := intstr.GetScaledValueFromIntOrPercent(&quarter, replicas, false)
	maxTotal, minAvailable := int32(replicas+surge), int32(replicas-unavailable)

	type entry struct {
		new bool
		s   analysis.WorkloadSizeStep
	}
	var log []entry
	for _, s := range old.Sizes {
		log = append(log, entry{false, s})
	}
	for _, s := range cur.Sizes {
		log = append(log, entry{true, s})
	}
	slices.SortFunc(log, func(a, b entry) int {
		if c := cmp.Compare(a.s.At, b.s.At); c != 0 {
			return c
		}
		return cmp.Compare(a.s.Seq, b.s.Seq)
	})
	var o, n analysis.WorkloadSizeStep // last written; n is zero until the new one exists
	checked := 0
	for _, e := range log {
		switch {
		case e.new && e.s.Replicas != n.Replicas:
			// reconcileNewReplicaSet, NewRSNewReplicas (and getNewReplicaSet on creation).
			want := n.Replicas + min(maxTotal-(o.Replicas+n.Replicas), replicas-n.Replicas)
			if e.s.Replicas != want {
				t.Errorf("at %v seq %d: new ReplicaSet to %d, rolling.go gives %d (old %+v, new %+v)", e.s.At, e.s.Seq, e.s.Replicas, want, o, n)
			}
			checked++
		case !e.new && e.s.Replicas != o.Replicas && e.s.At >= 60:
			// reconcileOldReplicaSets: cleanupUnhealthyReplicas, then
			// scaleDownOldReplicaSetsForRollingUpdate, each a write of its own.
			maxScaledDown := o.Replicas + n.Replicas - minAvailable - (n.Replicas - n.Ready)
			cleanup := max(0, min(maxScaledDown, o.Replicas-o.Ready))
			available := o.Ready + n.Ready
			afterCleanup := o.Replicas - cleanup
			final := afterCleanup - min(afterCleanup, max(0, available-minAvailable))
			direct := o.Replicas - min(o.Replicas, max(0, available-minAvailable))
			if maxScaledDown <= 0 || (e.s.Replicas != final && e.s.Replicas != afterCleanup && e.s.Replicas != direct) {
				t.Errorf("at %v seq %d: old ReplicaSet to %d, rolling.go gives %d (maxScaledDown %d; old %+v, new %+v)",
					e.s.At, e.s.Seq, e.s.Replicas, final, maxScaledDown, o, n)
			}
			checked++
		}
		if e.new {
			n = e.s
		} else {
			o = e.s
		}
	}
	if o.Replicas != 0 || n.Replicas != replicas || n.Ready != replicas {
		t.Errorf("the rollout ended with old %+v, new %+v", o, n)
	}
	if checked < 4 {
		t.Errorf("only %d steps checked", checked)
	}
}

// A node made NotReady (its kubelet reports Ready=False, KWOK's node-not-ready chaos) shows in
// nodeHistory: Ready "False", then the node lifecycle controller's taints. Upstream
// (pkg/controller/nodelifecycle/node_lifecycle_controller.go) adds NotReadyTaintTemplate,
// node.kubernetes.io/not-ready:NoExecute (doNoExecuteTaintingPass), and, from the condition,
// node.kubernetes.io/not-ready:NoSchedule (nodeConditionToTaintKeyStatusMap,
// doNoScheduleTaintingPass). Heartbeats that change neither add no entry, so node-a, which
// nothing happens to, has only the entries of its registration.
func TestReportNodeHistoryShowsNotReadyTaints(t *testing.T) {
	r := runTrace(t, `
apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 60s
  fail: {node: node-b, mode: not-ready}
- at: 10m
  delete: {kind: Pod, name: no-such-pod}
`)
	var b, a *analysis.NodeHistoryReport
	for i := range r.NodeHistory {
		switch r.NodeHistory[i].Name {
		case "node-a":
			a = &r.NodeHistory[i]
		case "node-b":
			b = &r.NodeHistory[i]
		}
	}
	if a == nil || b == nil {
		t.Fatalf("nodeHistory lacks node-a or node-b: %+v", r.NodeHistory)
	}
	for _, c := range a.Changes {
		if c.At != 0 {
			t.Errorf("node-a changed at %v (%+v): only its registration should show", c.At, c)
		}
	}
	if last := a.Changes[len(a.Changes)-1]; last.Ready != "True" || len(last.Taints) != 0 {
		t.Errorf("node-a ends %+v, want Ready True, no taints", last)
	}
	before := b.Changes[0]
	for _, c := range b.Changes {
		if c.At < 60 {
			before = c
		}
	}
	if before.Ready != "True" || len(before.Taints) != 0 {
		t.Errorf("node-b before the failure: %+v, want Ready True, no taints", before)
	}
	want := []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule"}
	var notReadyAt, taintedAt float64 = -1, -1
	for _, c := range b.Changes {
		if c.At < 60 {
			continue
		}
		if c.Ready == "False" && notReadyAt < 0 {
			notReadyAt = c.At
		}
		if slices.Equal(c.Taints, want) && taintedAt < 0 {
			taintedAt = c.At
		}
		if !slices.IsSorted(c.Taints) {
			t.Errorf("taints not sorted: %v", c.Taints)
		}
	}
	if notReadyAt < 0 || taintedAt < notReadyAt {
		t.Errorf("node-b: Ready False at %v, tainted %v at %v; changes:\n%+v", notReadyAt, want, taintedAt, b.Changes)
	}
	for i := 1; i < len(b.Changes); i++ {
		p, c := b.Changes[i-1], b.Changes[i]
		if p.Ready == c.Ready && slices.Equal(p.Taints, c.Taints) {
			t.Errorf("entry %d repeats the one before: %+v", i, c)
		}
		if c.Seq <= p.Seq || c.At < p.At {
			t.Errorf("entry %d out of order: %+v after %+v", i, c, p)
		}
	}
}

// deletionRequestedAt is when the deletion was asked for: a pod held by a finalizer has it
// (and terminatingAt, the same) but no deletedAt; a pod deleted with grace 0 has it equal to
// its deletedAt; a pod never deleted has neither.
func TestReportDeletionRequestedAt(t *testing.T) {
	r := runTrace(t, `
apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply:
    apiVersion: v1
    kind: Pod
    metadata: {name: held, finalizers: [example.com/hold]}
    spec: {containers: [{name: c, image: c:1}]}
- at: 0s
  apply:
    apiVersion: v1
    kind: Pod
    metadata: {name: gone}
    spec: {containers: [{name: c, image: c:1}]}
- at: 0s
  apply:
    apiVersion: v1
    kind: Pod
    metadata: {name: kept}
    spec: {containers: [{name: c, image: c:1}]}
- at: 2m
  delete: {kind: Pod, name: held}
- at: 3m
  delete: {kind: Pod, name: gone, gracePeriodSeconds: 0}
- at: 5m
  delete: {kind: Pod, name: no-such-pod}
`)
	pods := map[string]analysis.PodReport{}
	for _, p := range r.Pods {
		pods[p.Name] = p
	}
	str := func(f *float64) string {
		if f == nil {
			return "absent"
		}
		return fmt.Sprint(*f)
	}
	for _, tc := range []struct{ pod, requested, terminating, deleted string }{
		{"held", "120", "120", "absent"},
		{"gone", "180", "180", "180"},
		{"kept", "absent", "absent", "absent"},
	} {
		p, ok := pods[tc.pod]
		if !ok {
			t.Fatalf("no pod %s in the report", tc.pod)
		}
		if got := [3]string{str(p.DeletionRequestedAt), str(p.TerminatingAt), str(p.DeletedAt)}; got != [3]string{tc.requested, tc.terminating, tc.deleted} {
			t.Errorf("%s: deletionRequestedAt, terminatingAt, deletedAt = %v, want %s %s %s", tc.pod, got, tc.requested, tc.terminating, tc.deleted)
		}
	}
	// The report's JSON carries the field, and assertions read it.
	a, err := analysis.CompileAssertion(`pods.exists(p, p.name == "held" && p.deletionRequestedAt == 120.0) && workloadSizes.size() == 0 && nodeHistory.size() == 4`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := analysis.CheckAssertions(r, []*analysis.Assertion{a})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Passed {
		t.Errorf("assertion failed: %+v", res[0])
	}
}

// Assertions see workloadSizes: the rollout's ReplicaSets have more than one size.
func TestReportWorkloadSizesInAssertions(t *testing.T) {
	r := runTrace(t, rollingUpdate)
	for _, tc := range []struct {
		expr string
		pass bool
	}{
		{`workloadSizes.exists(w, w.kind == "ReplicaSet" && w.sizes.size() > 1)`, true},
		{`workloadSizes.exists(w, w.kind == "Deployment" && w.owner == "" && w.sizes.exists(s, s.replicas == 10 && s.ready == 10))`, true},
		{`workloadSizes.all(w, w.kind != "ReplicaSet" || w.sizes.all(s, s.replicas <= 8))`, false},
	} {
		a, err := analysis.CompileAssertion(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		res, err := analysis.CheckAssertions(r, []*analysis.Assertion{a})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Passed != tc.pass || res[0].Err != nil {
			t.Errorf("%s: passed %v (err %v), want %v", tc.expr, res[0].Passed, res[0].Err, tc.pass)
		}
	}
}
