package analysis

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func comparedReports() (*Report, *Report) {
	a := assertReport()
	a.Transitions = []TransitionReport{{Kind: "Pod", Stage: "pod-ready", Count: 2}, {Kind: "Node", Stage: "node-initialize", Count: 1}}
	b := assertReport()
	b.Seed = 8
	b.Summary.Pods.Unschedulable, b.Summary.Pods.Scheduled = 0, 3
	b.Latency.Startup.P99 = 40.1
	b.Utilization = map[string]UtilizationStats{"cpu": {Mean: 0.3, Max: 0.5}, "memory": {Mean: 0.1, Max: 0.2}}
	b.Transitions = []TransitionReport{{Kind: "Pod", Stage: "pod-ready", Count: 3}}
	b.TraceErrors = []TraceErrorReport{{Message: "x"}}
	b.Nodes = []NodeReport{{Name: "n1", Pods: 1}, {Name: "n2", Pods: 2}}
	b.Pods = []PodReport{
		{Namespace: "default", Name: "a", Node: "n1"}, // same node
		{Namespace: "default", Name: "b", Node: "n2"}, // moved
		{Namespace: "default", Name: "c", Node: "n1"}, // scheduled in B only
		{Namespace: "apps", Name: "d", Node: "n1"},    // only in B
	}
	return a, b
}

func TestCompare(t *testing.T) {
	a, b := comparedReports()
	c := Compare(a, b, "a.json", "b.json")
	got := map[string]string{}
	var order []string
	for _, f := range c.Figures {
		got[f.Name] = figure(f.A) + " " + figure(f.B) + " " + signed(f.Diff)
		order = append(order, f.Name)
	}
	for name, want := range map[string]string{
		"simulatedSeconds":                  "90 90 0",
		"summary.pods.unschedulable":        "1 0 -1",
		"summary.pods.scheduled":            "2 3 +1",
		"summary.nodes.used":                "1 2 +1",         // counted from nodes[]: n1 in A; n1 and n2 in B
		"latency.startup.p99":               "42.5 40.1 -2.4", // rounded: 40.1 − 42.5 is -2.3999999999999986 in floating point
		"utilization.cpu.mean":              "0.25 0.3 +0.05",
		"utilization.memory.max":            "- 0.2 -",
		"transitions[Pod/pod-ready]":        "2 3 +1",
		"transitions[Node/node-initialize]": "1 - -",
		"traceErrors":                       "0 1 +1",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	wantOrder := "simulatedSeconds summary.pods.total summary.pods.scheduled summary.pods.unschedulable summary.pods.pending " +
		"summary.pods.running summary.pods.succeeded summary.pods.failed summary.pods.deleted summary.nodes.total summary.nodes.ready summary.nodes.used " +
		"latency.scheduling.p50 latency.scheduling.p90 latency.scheduling.p99 latency.scheduling.max " +
		"latency.startup.p50 latency.startup.p90 latency.startup.p99 latency.startup.max " +
		"utilization.cpu.mean utilization.cpu.max utilization.memory.mean utilization.memory.max " +
		"transitions[Node/node-initialize] transitions[Pod/pod-ready] traceErrors"
	if strings.Join(order, " ") != wantOrder {
		t.Errorf("figure order:\n got %s\nwant %s", strings.Join(order, " "), wantOrder)
	}

	// A run with evictions adds the eviction count after the node figures.
	b.Summary.Evictions = 2
	c2 := Compare(a, b, "a.json", "b.json")
	if f := c2.Figures[12]; f.Name != "summary.evictions" || figure(f.A)+" "+figure(f.B)+" "+signed(f.Diff) != "0 2 +2" {
		t.Errorf("figure 12 with evictions: %+v", f)
	}

	var placements []string
	for _, p := range c.Placements {
		placements = append(placements, p.Namespace+"/"+p.Name+": "+placement(p.A)+" → "+placement(p.B))
	}
	want := []string{"apps/d: (no such pod) → n1", "default/b: n1 → n2", "default/c: (not scheduled) → n1"}
	if strings.Join(placements, "; ") != strings.Join(want, "; ") {
		t.Errorf("placements = %q, want %q", placements, want)
	}

	var nodes []string
	for _, n := range c.Nodes {
		nodes = append(nodes, n.Name+": "+podCount(n.A)+" → "+podCount(n.B))
	}
	if got, want := strings.Join(nodes, "; "), "n1: 2 → 1; n2: (no such node) → 2"; got != want {
		t.Errorf("nodes = %q, want %q", got, want)
	}

	// The JSON form keeps its documented field names, with null for a missing side.
	var buf bytes.Buffer
	if err := WriteComparisonJSON(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"a": {`, `"file": "a.json"`, `"seed": 8`, `"figures": [`, `"name": "utilization.memory.max"`,
		`"a": null`, `"diff": null`, `"placements": [`, `"namespace": "apps"`, `"nodes": [`} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, buf.String())
		}
	}

	buf.Reset()
	if err := WriteComparisonTable(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"A: a.json (seed 7)\nB: b.json (seed 8)\n", "FIGURE", "summary.pods.unschedulable         1      0      -1\n",
		"Nodes holding a different number of pods (2):", "n2    (no such node)  2\n",
		"Pods placed differently (3):", "default/b  n1               n2\n", "Pods are matched by namespace and name",
		// Utilization is a percentage, as in run's table, and its difference in percentage
		// points; the JSON above keeps the fractions.
		"utilization.cpu.mean               25.0%  30.0%  +5.0 pp\n", "utilization.memory.max             -      20.0%  -\n"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}

	// A report against itself: every difference is zero and no pod moved.
	same := Compare(a, a, "a.json", "a.json")
	for _, f := range same.Figures {
		if f.Diff == nil || *f.Diff != 0 {
			t.Errorf("%s differs from itself: %s", f.Name, signed(f.Diff))
		}
	}
	if len(same.Placements) != 0 || len(same.Nodes) != 0 {
		t.Errorf("a report against itself: placements %+v, nodes %+v", same.Placements, same.Nodes)
	}
}

func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := json.Marshal(assertReport())
	if r, err := ReadReport(write("good.json", string(good))); err != nil || r.Seed != 7 || len(r.Pods) != 3 {
		t.Errorf("ReadReport(good) = %v, %v", r, err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"missing.json", "", "no such file"},
		{"yaml.json", "apiVersion: kwoksim/v1alpha1\nkind: Report\n", "yaml.json:1: not JSON"},
		{"truncated.json", "{\n  \"apiVersion\": \"kwoksim/v1alpha1\",\n  \"seed\": ", "truncated.json:3: not JSON"},
		{"wrong-type.json", "{\n\"apiVersion\": \"kwoksim/v1alpha1\",\n\"seed\": \"one\"}", `wrong-type.json:3: not a kwoksim report: field seed is a JSON string, want uint64`},
		{"other.json", `{"apiVersion": "v1", "kind": "Pod"}`, `other.json: not a kwoksim report: apiVersion "v1", kind "Pod"; want kwoksim/v1alpha1 Report`},
	} {
		p := filepath.Join(dir, tc.name)
		if tc.name != "missing.json" {
			p = write(tc.name, tc.data)
		}
		_, err := ReadReport(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
	}
}

func TestRoundDiff(t *testing.T) {
	for _, tc := range []struct{ a, b, want float64 }{
		{0.1, 0.3, 0.2}, // 0.19999999999999998 in floating point
		{42.5, 40.1, -2.4},
		// The mean pod utilization of 10 nodes, summed in two orders (kwoksim compare of a
		// spread and a packed placement of the same pods): the same figure.
		{0.01090909090909091, 0.010909090909090908, 0},
		{0, 1e-18, 1e-18}, // tiny, but not beside a larger operand: kept
	} {
		if got := roundDiff(tc.a, tc.b); got != tc.want {
			t.Errorf("roundDiff(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
