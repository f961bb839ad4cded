package analysis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }

// assertReport is a small report with a value in every kind of field an assertion reads.
func assertReport() *Report {
	return &Report{
		APIVersion: APIVersion, Kind: ReportKind, Seed: 7, SimulatedSeconds: 90,
		Summary: Summary{Pods: PodSummary{Total: 3, Scheduled: 2, Unschedulable: 1, Running: 2, Pending: 1}, Nodes: NodeSummary{Total: 1, Ready: 1, Used: 1}},
		Pods: []PodReport{
			{Namespace: "default", Name: "a", Node: "n1", Phase: "Running", CreatedAt: f64(0), ScheduledAt: f64(1.5), Attempts: 1},
			{Namespace: "default", Name: "b", Node: "n1", Phase: "Running", CreatedAt: f64(0), ScheduledAt: f64(2), Attempts: 1},
			{Namespace: "default", Name: "c", Phase: "Pending", CreatedAt: f64(3), Attempts: 4, UnschedulableReason: "0/1 nodes are available"},
		},
		Nodes:       []NodeReport{{Name: "n1", Ready: true, Pods: 2, Allocatable: map[string]string{"cpu": "4"}}},
		TraceErrors: []TraceErrorReport{},
		Latency:     Latency{Startup: Distribution{P50: 30, P90: 40, P99: 42.5, Max: 42.5, Count: 2}},
		Utilization: map[string]UtilizationStats{"cpu": {Mean: 0.25, Max: 0.5}},
	}
}

func checkOne(t *testing.T, expr string, r *Report) AssertionResult {
	t.Helper()
	a, err := CompileAssertion(expr)
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	res, err := CheckAssertions(r, []*Assertion{a})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

func TestAssertionsPassAndFail(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		pass       bool
	}{
		{"an int field against an int literal", "summary.pods.unschedulable == 1", true},
		{"an int field against a double literal", "summary.pods.unschedulable == 1.0", true},
		{"a double field that is whole, against an int literal", "simulatedSeconds == 90", true},
		{"a whole double is still a double in arithmetic", "simulatedSeconds / 60.0 == 1.5", true},
		{"a double field against an int literal, ordered", "latency.startup.p99 < 30", false},
		{"a double field against a double literal", "latency.startup.p99 <= 42.5", true},
		{"counts stay ints, so integer division is exact", "summary.pods.scheduled / summary.pods.total == 0", true},
		{"the seed (unsigned in Go) is an int", "seed == 7", true},
		{"a macro over pods", `pods.all(p, p.node != "")`, false},
		{"a macro over pods, filtered", `pods.filter(p, p.phase == "Running").all(p, p.node == "n1")`, true},
		{"null times are null", "pods.exists(p, p.runningAt == null)", true},
		{"an empty list", "size(traceErrors) == 0", true},
		{"a list the report leaves null is empty", "size(unschedulableReasons) == 0 && size(timeseries.t) == 0", true},
		{"a map by key", `utilization["cpu"].max < 0.9 && utilization.cpu.mean == 0.25`, true},
		{"has() on a map key", "has(utilization.gpu)", false},
		{"node quantities are strings", `nodes[0].allocatable.cpu == "4"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := checkOne(t, tc.expr, assertReport())
			if res.Err != nil {
				t.Fatalf("%s: error %v", tc.expr, res.Err)
			}
			if res.Passed != tc.pass {
				t.Errorf("%s: passed = %v, want %v", tc.expr, res.Passed, tc.pass)
			}
		})
	}
}

// A failing assertion shows the values of the fields it names; a runtime error fails it and
// says so.
func TestAssertionFailureShowsValues(t *testing.T) {
	const (
		podsValue = `[{"attempts":1,"createdAt":0,"deletedAt":null,"name":"a","namespace":"default","node":"n1","phase":"Running","runningAt":null,"scheduledAt":1.5,"unschedulableReason":""},{"attempts":1,"createdAt":0,"d… (a list of 3)`
		pod2Value = `{"attempts":4,"createdAt":3,"deletedAt":null,"name":"c","namespace":"default","node":"","phase":"Pending","runningAt":null,"scheduledAt":null,"unschedulableReason":"0/1 nodes are available"}`
	)
	for _, tc := range []struct {
		expr   string
		err    string
		values []FieldValue
	}{
		{expr: "latency.startup.p99 < 30.0 && summary.pods.total > 0",
			values: []FieldValue{{"latency.startup.p99", "42.5", ""}, {"summary.pods.total", "(not evaluated)", ""}}},
		{expr: "summary.pods.total > 0 && latency.startup.p50 < 30",
			values: []FieldValue{{"summary.pods.total", "3", ""}, {"latency.startup.p50", "30.0", ""}}},
		{expr: `utilization["gpu"].max < 0.9`, err: "no such key: gpu",
			values: []FieldValue{{`utilization.gpu.max`, "error: no such key: gpu", ""}}},
		{expr: `pods.all(p, p.node != "")`,
			values: []FieldValue{{"pods[2]", pod2Value, "first of pods for which all() is false"}}},
		// The all() is over a filter's result, not a report path: no element is singled out.
		{expr: `summary.pods.total == 3 && pods.filter(p, p.phase == "Running").all(p, p.node == "n2")`,
			values: []FieldValue{{"summary.pods.total", "3", ""}, {"pods", podsValue, ""}}},
		{expr: `nodes.all(n, n.ready) && pods.all(p, p.attempts < 4)`,
			values: []FieldValue{{"nodes", `[{"allocatable":{"cpu":"4"},"name":"n1","pods":2,"ready":true,"requested":{},"utilization":{}}]`, ""},
				{"pods[2]", pod2Value, "first of pods for which all() is false"}}},
		// A type known only when it runs (nodes[0].pods alone is refused when compiled).
		{expr: "nodes.map(n, n.pods)[0]", err: "gave 2, not a bool"},
		{expr: `pods.all(a, pods.all(b, pods.all(c, pods.all(d, pods.all(e, pods.all(f, pods.all(g, pods.all(h, pods.all(i, pods.all(j, pods.all(k, pods.all(l, pods.all(m, pods.all(n, pods.all(o, pods.all(p, a.name != "x"))))))))))))))))`,
			err: "over the limit of 100000000"},
	} {
		res := checkOne(t, tc.expr, assertReport())
		if res.Passed {
			t.Errorf("%s passed", tc.expr)
			continue
		}
		if tc.err == "" && res.Err != nil || tc.err != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.expr, res.Err, tc.err)
		}
		if tc.values != nil && !equalValues(res.Values, tc.values) {
			t.Errorf("%s: values\n got %q\nwant %q", tc.expr, res.Values, tc.values)
		}
	}

	res := checkOne(t, "latency.startup.p99 < 30.0", assertReport())
	var buf bytes.Buffer
	if err := WriteAssertionFailures(&buf, []AssertionResult{res}); err != nil {
		t.Fatal(err)
	}
	if want := "assertion failed: latency.startup.p99 < 30.0\n  latency.startup.p99 = 42.5\n"; buf.String() != want {
		t.Errorf("failure text = %q, want %q", buf.String(), want)
	}
}

func equalValues(a, b []FieldValue) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Expressions that cannot be right for any report fail to compile, before anything runs.
func TestAssertionCompileErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"summary.pods.unschedulable ==", "Syntax error"},
		{"size(pods)", "has type int, want bool"},
		{"nosuchfield > 0", "undeclared reference to 'nosuchfield'"},
		{"summary.pods.unschedulabel == 0", `summary.pods has no field "unschedulabel"; its fields are total, scheduled, unschedulable`},
		{`pods.all(p, p.nod != "")`, `p has no field "nod"`},
		{`pods.exists(p, has(p.nodeName))`, `p has no field "nodeName"`},
		{"latency.startup.p99.max > 0", "latency.startup.p99 is a double, it has no field"},
		{"pods.node == 'x'", "pods is a list"},
		// The report's variables are dyn; what a field or an operator gives is known anyway.
		{"summary.pods.unschedulable", "gives an int, want bool"},
		{"nodes[0].pods", "gives an int, want bool"},
		{"summary.workloads", "gives a map, want bool"},
		{"latency.startup.p99", "gives a double, want bool"},
		{"pods", "gives a list, want bool"},
		{"pods[0].name", "gives a string, want bool"},
		{"summary.pods.total - summary.pods.scheduled", "gives the result of -, want bool"},
		{"seed == 1 ? true : summary.pods.total", "gives an int, want bool"},
	} {
		_, err := CompileAssertion(tc.expr)
		var ae *AssertionError
		if !errors.As(err, &ae) || ae.Expr != tc.expr || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want an AssertionError containing %q", tc.expr, err, tc.want)
		}
	}
	// Every bad expression is reported, not just the first.
	_, err := CompileAssertions([]string{"seed == 1", "seed ==", "size(pods)"})
	if err == nil || !strings.Contains(err.Error(), `"seed =="`) || !strings.Contains(err.Error(), `"size(pods)"`) {
		t.Errorf("CompileAssertions error = %v, want both bad expressions", err)
	}
	// A bool field, or a dyn whose type is not known before the run, still compiles.
	for _, expr := range []string{"incomplete", "pods[0].node == 'x'", "workloads.all(w, !w.failing)", "utilization['cpu'].max < 0.9"} {
		if _, err := CompileAssertion(expr); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
}

// The cost bound follows the report's sizes: with 100,000 pods and reasons of 300 characters,
// one pass over the pods is allowed, a pass over every pair of them is refused.
func TestAssertionCostBound(t *testing.T) {
	env, err := assertEnv()
	if err != nil {
		t.Fatal(err)
	}
	sizes := sizeBounds{str: 300, list: 100_000, obj: 16}
	for _, tc := range []struct {
		expr    string
		refused bool
	}{
		{`pods.all(p, p.node != "" || p.unschedulableReason.contains("taint"))`, false},
		{`pods.filter(p, p.phase == "Running").size() > 0`, false},
		{`nodes.all(n, n.allocatable.cpu == "32")`, false},
		{`pods.map(p, p.node).exists(n, n == "node-7")`, false},
		{`pods.exists_one(p, p.name == "web-0") && nodes.filter(n, n.ready).size() == summary.nodes.total`, false},
		{`pods.all(p, p.unschedulableReason == "" || p.unschedulableReason.matches("taint|affinity"))`, false},
		{`transitions.exists(t, t.stage == "pod-ready" && t.delaySeconds.p99 < 5.0)`, false},
		{`utilization.all(r, utilization[r].max < 0.9)`, false},
		{`pods.all(a, pods.exists(b, a.node == b.node))`, true},
	} {
		a, err := CompileAssertion(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		est, err := env.EstimateCost(a.ast, costEstimator{sizes: sizes, types: a.types})
		if err != nil {
			t.Fatal(err)
		}
		if refused := est.Max > AssertCostLimit; refused != tc.refused {
			t.Errorf("%s: estimate %d, refused = %v, want %v", tc.expr, est.Max, refused, tc.refused)
		}
		t.Logf("%s: estimated at most %d", tc.expr, est.Max)
	}
}
