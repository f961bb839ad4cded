package capacity

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

func ptr[T any](v T) *T { return &v }

// Two nodes of different sizes, one bound pod, one unschedulable, one never tried before
// the end, one deleted while unbound, one bound and still Pending.
func judgeReport() *analysis.Report {
	return &analysis.Report{
		Summary: analysis.Summary{Pods: analysis.PodSummary{Total: 5, Unschedulable: 1}, Nodes: analysis.NodeSummary{Total: 2, Used: 1}},
		Pods: []analysis.PodReport{
			{Name: "bound", Node: "big", Phase: "Running"},
			{Name: "rejected", Phase: "Pending", UnschedulableReason: "0/2 nodes are available"},
			{Name: "untried", Phase: "Pending"},
			{Name: "gone", Phase: "Pending", DeletedAt: ptr(3.0)},
			{Name: "starting", Node: "small", Phase: "Pending"},
		},
		Nodes: []analysis.NodeReport{
			{Name: "big", Allocatable: map[string]string{"cpu": "8", "memory": "32Gi", "pods": "110"}, Requested: map[string]string{"cpu": "6", "memory": "8Gi", "pods": "1"}},
			{Name: "small", Allocatable: map[string]string{"cpu": "2", "memory": "0", "pods": "110"}, Requested: map[string]string{"cpu": "500m", "memory": "0", "pods": "1"}},
		},
	}
}

func TestJudgeDefaultGoal(t *testing.T) {
	run, err := Judge(judgeReport(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Unbound: rejected and untried (gone was deleted; starting has its node).
	if run.Passed || run.Unbound != 2 || run.Unschedulable != 1 || run.Used != 1 {
		t.Errorf("run %+v", run)
	}
	// Weighted by size: cpu (6 + 0.5) / (8 + 2); memory 8Gi / 32Gi; pods 2 / 220. The mean
	// across nodes would say cpu (0.75 + 0.25) / 2 = 0.5.
	want := map[string]float64{"cpu": 0.65, "memory": 0.25, "pods": 2.0 / 220}
	if len(run.Utilization) != len(want) {
		t.Errorf("utilization %v, want %v", run.Utilization, want)
	}
	for k, v := range want {
		if math.Abs(run.Utilization[k]-v) > 1e-12 {
			t.Errorf("utilization[%s] = %v, want %v", k, run.Utilization[k], v)
		}
	}

	r := judgeReport()
	r.Pods = r.Pods[:1]
	if run, _ := Judge(r, nil); !run.Passed {
		t.Errorf("every pod bound, but the run failed: %+v", run)
	}
}

// Quantities past int64's millicores: a 1e29-CPU request on a 1e30-CPU node (and 1e29 more
// on a second) is exactly 20% of 1e30 + 1e30, not a float approximation of it.
func TestJudgeHugeQuantities(t *testing.T) {
	r := &analysis.Report{Nodes: []analysis.NodeReport{
		{Name: "a", Allocatable: map[string]string{"cpu": "1e30"}, Requested: map[string]string{"cpu": "1e29"}},
		{Name: "b", Allocatable: map[string]string{"cpu": "1e30"}, Requested: map[string]string{"cpu": "3e29"}},
	}}
	run, err := Judge(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.Utilization["cpu"]; got != 0.2 {
		t.Errorf("cpu utilization %v, want 0.2", got)
	}
}

// With assertions the goal is theirs alone, and the failing ones are named.
func TestJudgeAssertions(t *testing.T) {
	checks, err := analysis.CompileAssertions([]string{"summary.nodes.used <= 1", "summary.pods.unschedulable == 0", "size(pods) == 5"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := Judge(judgeReport(), checks)
	if err != nil {
		t.Fatal(err)
	}
	if run.Passed || !reflect.DeepEqual(run.FailedAssertions, []string{"summary.pods.unschedulable == 0"}) {
		t.Errorf("passed %v, failed %q", run.Passed, run.FailedAssertions)
	}
	run, _ = Judge(judgeReport(), checks[:1])
	if !run.Passed || run.Unbound != 2 {
		t.Errorf("the assertion holds, yet: %+v", run)
	}
}

func TestJudgeBadQuantity(t *testing.T) {
	r := judgeReport()
	r.Nodes[1].Requested["cpu"] = "lots"
	if _, err := Judge(r, nil); err == nil || !strings.Contains(err.Error(), `node small: cpu "lots"`) {
		t.Errorf("error %v", err)
	}
}

// A workload that creates no pod (its pods refused by the apiserver) leaves nothing unbound;
// it still fails the default goal, named, so a plan never answers 0 nodes for it. With
// assertions, the goal is theirs, and the run still names it.
func TestJudgeFailingWorkload(t *testing.T) {
	r := judgeReport()
	r.Pods = r.Pods[:1]
	r.Workloads = []analysis.WorkloadReport{
		{Kind: "Deployment", Namespace: "default", Name: "ok"},
		{Kind: "Deployment", Namespace: "default", Name: "web", Failing: true, Conditions: []analysis.WorkloadCondition{
			{Type: "Available", Status: "False", Reason: "MinimumReplicasUnavailable"},
			{Type: "ReplicaFailure", Status: "True", Reason: "FailedCreate", Message: "no PriorityClass with name x was found"}}},
	}
	run, err := Judge(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Deployment default/web: ReplicaFailure (FailedCreate): no PriorityClass with name x was found"}
	if run.Passed || run.Unbound != 0 || !reflect.DeepEqual(run.FailingWorkloads, want) {
		t.Errorf("run %+v, want failed with %q", run, want)
	}
	checks, err := analysis.CompileAssertions([]string{"summary.nodes.used <= 1"})
	if err != nil {
		t.Fatal(err)
	}
	if run, _ := Judge(r, checks); !run.Passed || !reflect.DeepEqual(run.FailingWorkloads, want) {
		t.Errorf("with an assertion that holds: %+v", run)
	}
}

// A plan whose every run has the same failing workload says so beside "not met": more nodes
// did not help it. One failing in some runs only is not named.
func TestConcludeNamesWorkloadsFailingInEveryRun(t *testing.T) {
	tp := &TemplatePlan{Runs: []Run{
		{Nodes: 0, FailingWorkloads: []string{`Deployment default/web: ReplicaFailure (FailedCreate): pods "web-1" is forbidden`, "Job default/j: SyncFailed: x"}},
		{Nodes: 1, FailingWorkloads: []string{`Deployment default/web: ReplicaFailure (FailedCreate): pods "web-2" is forbidden`}},
	}}
	conclude(tp, 1, false)
	want := []string{
		`failing in every run: Deployment default/web: ReplicaFailure (FailedCreate): pods "web-1" is forbidden`,
		"the goal was not met with up to 1 nodes of the template",
	}
	if tp.NodesNeeded != nil || !reflect.DeepEqual(tp.Warnings, want) {
		t.Errorf("nodes needed %v, warnings %q, want %q", tp.NodesNeeded, tp.Warnings, want)
	}
}
