package capacity

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// dynamicReport is a hand-made run report with an autoscaling section: docs/autoscaling.md's
// timelines 1, 2 and 4 (8 c8 nodes added for 29 pods, $35.74; a pod with a nodeSelector no
// pool has).
func dynamicReport() *analysis.Report {
	return &analysis.Report{APIVersion: analysis.APIVersion, Kind: analysis.ReportKind, SimulatedSeconds: 86400,
		Summary: analysis.Summary{Pods: analysis.PodSummary{Unschedulable: 1}},
		Pods:    []analysis.PodReport{{Namespace: "default", Name: "ssd"}},
		Autoscaling: &analysis.AutoscalingReport{Autoscaler: "cluster-autoscaler", Cost: 35.74, NodeHours: 89.3556, PeakNodes: 9,
			CapacityWait: analysis.Distribution{P50: 80, P90: 95, P99: 100, Max: 100, Count: 29},
			Pools:        []analysis.PoolReport{{Name: "general", Min: 1, Max: 20, Cost: 35.74, NodeHours: 89.3556, PeakNodes: 9, Nodes: 1}},
			NoScaleUp: []analysis.NoScaleUpReport{{Namespace: "default", Name: "ssd", At: 3610,
				Reason: "pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity/selector"}}}}
}

func TestDynamicPlan(t *testing.T) {
	d, err := Dynamic(dynamicReport(), nil, "chosen for you")
	if err != nil {
		t.Fatal(err)
	}
	if d.Autoscaler != "cluster-autoscaler" || d.Cost != 35.74 || d.NodeHours != 89.3556 || d.PeakNodes != 9 || d.CapacityWait.P99 != 100 ||
		len(d.Pools) != 1 || d.Pools[0].Name != "general" || len(d.NoScaleUp) != 1 || d.Note != "chosen for you" {
		t.Errorf("dynamic %+v", d)
	}
	// The pod no pool could take is unbound: the default goal is not met.
	if d.Run.Passed || d.Run.Unbound != 1 {
		t.Errorf("run %+v, want the goal not met with 1 pod unbound", d.Run)
	}
	p := NewDynamicPlan(d, Options{Parallel: 1})
	var js, table bytes.Buffer
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	if err := validatePlan(planSchema(t), js.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	// A dynamic plan with a template, or a static one without, is not a plan.
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	m["templates"] = []any{map[string]any{}}
	b, _ := json.Marshal(m)
	if err := validatePlan(planSchema(t), b); err == nil {
		t.Error("the schema takes a dynamic plan with templates")
	}
	delete(m, "dynamic")
	m["templates"] = []any{}
	b, _ = json.Marshal(m)
	if err := validatePlan(planSchema(t), b); err == nil {
		t.Error("the schema takes a static plan without templates")
	}

	if err := WriteTable(&table, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"With the NodePools scaled by cluster-autoscaler over 24.0h of virtual time: goal not met.",
		"note: chosen for you",
		"Cost 35.74 for 89.4 node-hours; at most 9 pool nodes at once.",
		"Waiting for capacity: 29 pod(s), p50 1.3m, p99 1.7m.",
		"general  35.74  89.4        9           1",
		"default/ssd: pod didn't trigger scale-up: 1 node(s) didn't match Pod's node affinity/selector",
		"1 pod(s) unbound at the end",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("no %q in:\n%s", want, table.String())
		}
	}
	r := dynamicReport()
	r.Autoscaling = nil
	if _, err := Dynamic(r, nil, ""); !errors.Is(err, ErrNoAutoscaling) {
		t.Errorf("a report without the section: %v", err)
	}
}
