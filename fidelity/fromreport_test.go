package fidelity

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

func TestFromReportWithoutHistories(t *testing.T) {
	// A report as kwoksim wrote it before workloadSizes and nodeHistory: top-level workloads
	// only, terminatingAt for the deletion request.
	run, err := runFromReportJSON([]byte(`{
		"simulatedSeconds": 60,
		"workloads": [
			{"kind": "Deployment", "namespace": "default", "name": "web"},
			{"kind": "Deployment", "namespace": "default", "name": "web-api"},
			{"kind": "StatefulSet", "namespace": "default", "name": "db"},
			{"kind": "DaemonSet", "namespace": "default", "name": "agent"},
			{"kind": "Job", "namespace": "default", "name": "batch"}
		],
		"pods": [
			{"namespace": "default", "name": "web-5d4f8c7b9-x7k2p", "node": "n1", "phase": "Running", "createdAt": 0, "runningAt": 1},
			{"namespace": "default", "name": "web-api-6c8d9f7b5-q9z8w", "node": "", "phase": "Pending", "createdAt": 0, "unschedulableReason": "0/1 nodes are available"},
			{"namespace": "default", "name": "db-0", "node": "n1", "phase": "Running"},
			{"namespace": "default", "name": "db-12", "node": "n1", "phase": "Running"},
			{"namespace": "default", "name": "agent-b2c4d", "node": "n1", "phase": "Running", "terminatingAt": 20, "deletedAt": 25, "evictedAt": 20, "evictionReason": "DeletionByTaintManager"},
			{"namespace": "default", "name": "batch-3-abcde", "node": "n1", "phase": "Succeeded"},
			{"namespace": "default", "name": "bare", "node": "n1", "phase": "Running", "deletedAt": 30}
		],
		"nodes": [{"name": "n1"}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{}
	for _, p := range run.Pods {
		owners[p.Name] = p.Owner
	}
	for pod, want := range map[string]string{
		"web-5d4f8c7b9-x7k2p":     "ReplicaSet/web-5d4f8c7b9",
		"web-api-6c8d9f7b5-q9z8w": "ReplicaSet/web-api-6c8d9f7b5",
		"db-0":                    "StatefulSet/db",
		"db-12":                   "StatefulSet/db",
		"agent-b2c4d":             "DaemonSet/agent",
		"batch-3-abcde":           "Job/batch",
		"bare":                    "",
	} {
		if owners[pod] != want {
			t.Errorf("pod %s: owner %q, want %q", pod, owners[pod], want)
		}
	}
	// The inferred ReplicaSets are owned by their Deployments, so a check of Deployment/web-api
	// finds its pod.
	if got := ownedWorkloads(run, "Deployment/web-api"); len(got) != 1 || got[0] != "ReplicaSet/web-api-6c8d9f7b5" {
		t.Errorf("web-api owns %v", got)
	}
	if n := len(unschedulable(run, "Deployment/web-api")); n != 1 {
		t.Errorf("web-api: %d unschedulable pods, want 1", n)
	}
	agent := run.Pods[4]
	if agent.DeletionRequested == nil || *agent.DeletionRequested != 20 || agent.Gone == nil || *agent.Gone != 25 ||
		agent.Phase != "" || agent.EvictionReason != "DeletionByTaintManager" {
		t.Errorf("agent pod: %+v", agent)
	}
	// Deleted outright: the deletion was requested when it went.
	if bare := run.Pods[6]; bare.DeletionRequested == nil || *bare.DeletionRequested != 30 {
		t.Errorf("bare pod: %+v", bare)
	}
	if len(run.Nodes) != 1 || run.Nodes[0].Name != "n1" || run.Duration != 60 {
		t.Errorf("run: %+v", run)
	}
}

func TestFromReportWithHistories(t *testing.T) {
	run, err := runFromReportJSON([]byte(`{
		"simulatedSeconds": 60,
		"workloads": [{"kind": "Deployment", "namespace": "default", "name": "web"}],
		"workloadSizes": [
			{"kind": "Deployment", "namespace": "default", "name": "web", "createdAt": 0, "sizes": [{"at": 0, "seq": 1, "replicas": 1, "current": 0, "ready": 0}]},
			{"kind": "ReplicaSet", "namespace": "default", "name": "web-abc", "owner": "Deployment/web", "createdAt": 0, "deletedAt": 40,
			 "sizes": [{"at": 0, "seq": 2, "replicas": 1, "current": 0, "ready": 0}, {"at": 0, "seq": 5, "replicas": 1, "current": 1, "ready": 1}]}
		],
		"nodeHistory": [{"name": "n1", "createdAt": 0, "deletedAt": 50, "changes": [{"at": 0, "seq": 3, "ready": "True", "taints": ["a=b:NoSchedule"]}]}],
		"pods": [{"namespace": "default", "name": "web-abc-x7k2p", "node": "n1", "phase": "Running", "terminatingAt": 9, "deletionRequestedAt": 8}],
		"nodes": []
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Workloads) != 2 || run.Workloads[1].Owner != "Deployment/web" || len(run.Workloads[1].Sizes) != 2 || run.Workloads[1].Sizes[1].Seq != 5 {
		t.Fatalf("workloads: %+v", run.Workloads)
	}
	if p := run.Pods[0]; p.Owner != "ReplicaSet/web-abc" || *p.DeletionRequested != 8 {
		t.Errorf("pod: %+v", p)
	}
	if n := run.Nodes[0]; n.Name != "n1" || *n.Deleted != 50 || len(n.Changes) != 1 || n.Changes[0].Taints[0] != "a=b:NoSchedule" {
		t.Errorf("node: %+v", n)
	}
}

func TestFromReport(t *testing.T) {
	at := 1.5
	obs, err := FromReport("seed", &analysis.Report{SimulatedSeconds: 30, Pods: []analysis.PodReport{{Namespace: "default", Name: "p", Node: "n1", Phase: "Running", RunningAt: &at}}})
	if err != nil {
		t.Fatal(err)
	}
	if obs.Source != "kwoksim" || obs.Scenario != "seed" || len(obs.Runs) != 1 || *obs.Runs[0].Pods[0].Running != 1.5 {
		t.Fatalf("%+v", obs)
	}
}

// The report's HPAs: entries of one (type, reason, message) summed (the report counts a run
// of consecutive ones once, an Event object every recurrence), the status from the last
// reconcile, the target's replicas from the workloads' sizes.
func TestFromReportHPAs(t *testing.T) {
	run, err := runFromReportJSON([]byte(`{
		"simulatedSeconds": 50,
		"workloadSizes": [
			{"kind": "Deployment", "namespace": "default", "name": "web", "sizes": [
				{"at": 0, "seq": 1, "replicas": 2, "current": 0, "ready": 0},
				{"at": 1, "seq": 4, "replicas": 2, "current": 2, "ready": 2},
				{"at": 30, "seq": 9, "replicas": 4, "current": 2, "ready": 2}]}
		],
		"horizontalPodAutoscalers": {"hpas": [{
			"namespace": "default", "name": "web", "target": "Deployment/web",
			"replicasOverTime": [{"at": 0, "current": 2, "desired": 0, "proposal": -1}, {"at": 30, "current": 2, "desired": 4, "proposal": 4}],
			"events": [
				{"at": 0, "lastAt": 15, "count": 2, "type": "Warning", "reason": "FailedGetResourceMetric", "message": "m"},
				{"at": 30, "lastAt": 30, "count": 1, "type": "Normal", "reason": "SuccessfulRescale", "message": "New size: 4"},
				{"at": 45, "lastAt": 45, "count": 1, "type": "Warning", "reason": "FailedGetResourceMetric", "message": "m"}
			],
			"finalConditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale", "message": "x", "since": 30}]
		}]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.HPAs) != 1 {
		t.Fatalf("HPAs: %+v", run.HPAs)
	}
	h := run.HPAs[0]
	wantEvents := []HPAEvent{
		{Type: "Warning", Reason: "FailedGetResourceMetric", Message: "m", Count: 3, First: 0, Last: 45},
		{Type: "Normal", Reason: "SuccessfulRescale", Message: "New size: 4", Count: 1, First: 30, Last: 30},
	}
	if !reflect.DeepEqual(h.Events, wantEvents) {
		t.Errorf("events %+v, want %+v", h.Events, wantEvents)
	}
	if h.Target != "Deployment/web" || h.CurrentReplicas != 2 || h.DesiredReplicas != 4 || !reflect.DeepEqual(h.TargetReplicas, []int32{2, 4}) {
		t.Errorf("status: %+v", h)
	}
	if !reflect.DeepEqual(h.Conditions, []HPACondition{{Type: "AbleToScale", Status: "True", Reason: "SucceededRescale", Message: "x"}}) {
		t.Errorf("conditions: %+v", h.Conditions)
	}

	// A report without HPAs gives none, and the Run's JSON has no hpas key.
	run, err = runFromReportJSON([]byte(`{"simulatedSeconds": 50}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(run); run.HPAs != nil || strings.Contains(string(b), "hpas") {
		t.Errorf("without HPAs: %s", b)
	}
}
