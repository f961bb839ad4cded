package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const failingWorkload = "../../../testdata/scenarios/failing/workloads.yaml"

// A Deployment naming a PriorityClass that does not exist gets no pod: the Priority admission
// plugin refuses each ("no PriorityClass with name … was found", plugin/pkg/admission/priority)
// before the pod's name is generated, so the error names its generateName
// (admission.NewForbidden), and its ReplicaSet's ReplicaFailure condition (FailedCreate, the apiserver's error as
// message), which the Deployment carries, says so. The run reports it failing, and an
// assertion on summary.workloads.failing fails. The pods the scheduler's queue holds before
// any attempt are counted and explained with the PreEnqueue plugin's message (SchedulingGates
// for the gate, DynamicResources for the missing claim), not left pending without a reason.
func TestFailingWorkloadIsReported(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", failingWorkload, "--report", report,
		"--assert", "summary.workloads.failing == 0")
	if code != exitAssertion || !strings.Contains(errOut, "assertion failed: summary.workloads.failing == 0\n  summary.workloads.failing = 1\n") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"Pods:  4 total, 2 scheduled, 0 unschedulable, 2 gated;",
		"Workloads: 2 total, 1 failing\n\nFailing workloads (1):\n  Deployment default/web: 0/3 ready\n    ReplicaFailure (FailedCreate): pods \"web-",
		"\" is forbidden: no PriorityClass with name does-not-exist was found\n",
		"1 pod(s): SchedulingGates: waiting for scheduling gates: [example.com/wait]\n    default/held\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeReport(t, string(data))
	if len(r.Workloads) != 2 {
		t.Fatalf("workloads = %+v", r.Workloads)
	}
	ok, web := r.Workloads[0], r.Workloads[1]
	if ok.Name != "ok" || ok.Failing || ok.Desired != 2 || ok.Current != 2 {
		t.Errorf("ok = %+v", ok)
	}
	if web.Name != "web" || !web.Failing || web.Desired != 3 || web.Current != 0 || web.Ready != 0 {
		t.Errorf("web = %+v", web)
	}
	var failure *struct{ Type, Status, Reason, Message string }
	for _, c := range web.Conditions {
		if c.Type == "ReplicaFailure" {
			failure = &struct{ Type, Status, Reason, Message string }{c.Type, c.Status, c.Reason, c.Message}
		}
	}
	if failure == nil || failure.Status != "True" || failure.Reason != "FailedCreate" ||
		!strings.HasPrefix(failure.Message, `pods "web-`) ||
		// Admission runs before the name is generated, so the error names the prefix.
		!strings.HasSuffix(failure.Message, `-" is forbidden: no PriorityClass with name does-not-exist was found`) {
		t.Errorf("web's ReplicaFailure = %+v in %+v", failure, web.Conditions)
	}
	if s := r.Summary; s.Workloads.Total != 2 || s.Workloads.Failing != 1 || s.Pods.Gated != 2 || s.Pods.Unschedulable != 0 {
		t.Errorf("summary = %+v", s)
	}
	for _, p := range r.Pods {
		switch p.Name {
		case "held":
			if p.GatedReason != "SchedulingGates: waiting for scheduling gates: [example.com/wait]" || p.Attempts != 0 {
				t.Errorf("held: gatedReason %q, attempts %d", p.GatedReason, p.Attempts)
			}
		case "claims":
			if !strings.HasPrefix(p.GatedReason, "DynamicResources: ") || !strings.Contains(p.GatedReason, `"default/my-claim"`) || p.Attempts != 0 {
				t.Errorf("claims: gatedReason %q, attempts %d", p.GatedReason, p.Attempts)
			}
		default:
			if p.GatedReason != "" {
				t.Errorf("pod %s: gatedReason %q, want none", p.Name, p.GatedReason)
			}
		}
	}
}

// plan does not answer 0 nodes for a workload that creates no pods: every run fails the
// default goal on it, and the plan names it.
func TestPlanFailingWorkload(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", failingWorkload,
		"--max-nodes", "2", "--parallel", "2", "-o", "json")
	if code != exitAssertion || !strings.Contains(errOut, "not met, 2 pod(s) unbound, 1 workload(s) failing") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	var p struct {
		Templates []struct {
			NodesNeeded *int `json:"nodesNeeded"`
			Runs        []struct {
				Nodes            int      `json:"nodes"`
				Passed           bool     `json:"passed"`
				FailingWorkloads []string `json:"failingWorkloads"`
			} `json:"runs"`
			Warnings []string `json:"warnings"`
		} `json:"templates"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tp := p.Templates[0]
	if tp.NodesNeeded != nil {
		t.Errorf("nodes needed %d, want none", *tp.NodesNeeded)
	}
	var counts []int
	for _, r := range tp.Runs {
		counts = append(counts, r.Nodes)
		if r.Passed || len(r.FailingWorkloads) != 1 || !strings.HasPrefix(r.FailingWorkloads[0], "Deployment default/web: ReplicaFailure (FailedCreate): ") {
			t.Errorf("run %+v", r)
		}
	}
	if !reflect.DeepEqual(counts, []int{0, 1, 2}) {
		t.Errorf("runs at %v", counts)
	}
	if len(tp.Warnings) != 2 || !strings.HasPrefix(tp.Warnings[0], "failing in every run: Deployment default/web: ") {
		t.Errorf("warnings %q", tp.Warnings)
	}
}
