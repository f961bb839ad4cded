package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

const full = `apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  nodes: [nodes.yaml]
  workload: [apps/, /abs/job.yaml]
  trace: [trace.jsonl]
  stages: [stages/]
  until: 1h
matrix:
  schedulerConfig: ["", most.yaml]
  nodes:
  - {files: [small.yaml]}
  - {template: node.yaml, count: 10}
  - {files: [a.yaml, b.yaml], template: t.yaml, count: 0}
  replicaScale: [1, 2.5]
  seed: [1, 2, 3]
`

func TestCombinations(t *testing.T) {
	m, err := Parse("dir/sweep.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	combos := m.Combinations()
	if len(combos) != 2*3*2*3 || m.Len() != 36 {
		t.Fatalf("%d combinations, want 36", len(combos))
	}
	for i, want := range map[int]string{
		0:  "schedulerConfig=(defaults) nodes=small.yaml replicaScale=1 seed=1",
		1:  "schedulerConfig=(defaults) nodes=small.yaml replicaScale=1 seed=2",
		3:  "schedulerConfig=(defaults) nodes=small.yaml replicaScale=2.5 seed=1",
		6:  "schedulerConfig=(defaults) nodes=node.yaml×10 replicaScale=1 seed=1",
		12: "schedulerConfig=(defaults) nodes=a.yaml+b.yaml+t.yaml×0 replicaScale=1 seed=1",
		35: "schedulerConfig=most.yaml nodes=a.yaml+b.yaml+t.yaml×0 replicaScale=2.5 seed=3",
	} {
		if combos[i].Index != i || combos[i].Label != want {
			t.Errorf("combination %d: %d %q, want %q", i, combos[i].Index, combos[i].Label, want)
		}
	}
	c := combos[25] // most.yaml, node.yaml×10, 1, seed 2
	if got, want := strings.Join(c.Args, " "), "run --nodes dir/nodes.yaml --node-template dir/node.yaml --template-nodes 10 "+
		"--workload dir/apps --workload /abs/job.yaml --trace dir/trace.jsonl --stages dir/stages "+
		"--scheduler-config dir/most.yaml --until 1h --seed 2 --scale-replicas 1"; got != want {
		t.Errorf("args:\n got %s\nwant %s", got, want)
	}
	if *c.Values.SchedulerConfig != "most.yaml" || *c.Values.Nodes != "node.yaml×10" || *c.Values.ReplicaScale != 1 || *c.Values.Seed != 2 {
		t.Errorf("values %+v", c.Values)
	}
	if got, ok := m.Combination(25); !ok || got.Label != c.Label {
		t.Errorf("Combination(25) = %q, %v", got.Label, ok)
	}
	if _, ok := m.Combination(36); ok {
		t.Error("Combination(36) exists")
	}
	var fields []string
	for _, in := range m.Inputs() {
		fields = append(fields, in.Field+"="+in.Resolved)
	}
	if got := strings.Join(fields, " "); got != "base.nodes[0]=dir/nodes.yaml base.workload[0]=dir/apps base.workload[1]=/abs/job.yaml "+
		"base.trace[0]=dir/trace.jsonl base.stages[0]=dir/stages matrix.schedulerConfig[1]=dir/most.yaml "+
		"matrix.nodes[0].files[0]=dir/small.yaml matrix.nodes[1].template=dir/node.yaml matrix.nodes[2].files[0]=dir/a.yaml "+
		"matrix.nodes[2].files[1]=dir/b.yaml matrix.nodes[2].template=dir/t.yaml" {
		t.Errorf("inputs: %s", got)
	}
}

// Errors the command-line table does not cover, each with its line and field.
func TestParseErrors(t *testing.T) {
	head := "apiVersion: kwoksim/v1alpha1\nkind: Sweep\n"
	for _, tc := range []struct{ text, want string }{
		{head + "base: {nodes: [n.yaml]}\nmatrix: {seed: [1]}\n---\na: 1\n", "m.yaml:5: a sweep file holds one YAML document"},
		{"- a\n", "m.yaml:1: expected a mapping with apiVersion, kind, base and matrix"},
		{head + "base: {nodes: [n.yaml]\n", "m.yaml:2: yaml: did not find expected ',' or '}'"},
		{head + "base: {nodes: [n.yaml]}\n", "m.yaml: matrix: missing: a sweep needs at least one axis"},
		{head + "base: {nodes: [n.yaml]}\nmatrix: {}\n", "m.yaml:4: matrix: no axis given"},
		{head + "base: {}\nmatrix: {seed: [1]}\n", "m.yaml:3: base.nodes: no nodes: give base.nodes or a matrix.nodes axis"},
		{head + "base: {nodes: [n.yaml], until: soon}\nmatrix: {seed: [1]}\n", `m.yaml:3: base.until: expected a non-negative duration such as 90s or 24h, got "soon"`},
		{head + "base: {nodes: [n.yaml]}\nmatrix:\n  nodes: [{template: t.yaml, count: -1}]\n", "m.yaml:5: matrix.nodes[0].count: must not be negative, got -1"},
		{head + "base: {nodes: [n.yaml]}\nmatrix:\n  nodes: [{count: 3}]\n", "m.yaml:5: matrix.nodes[0].count: a count needs a template"},
		{head + "base: {nodes: [n.yaml]}\nmatrix:\n  nodes: [{}]\n", "m.yaml:5: matrix.nodes[0]: expected files, or a template and a count"},
		{head + "base: {nodes: [n.yaml]}\nmatrix:\n  nodes: [{files: [a], size: 3}]\n", "m.yaml:5: matrix.nodes[0].size: unknown field; expected one of files, template, count"},
		{head + "base: {nodes: [n.yaml], replicaScale: 2}\nmatrix: {replicaScale: [1]}\n", "m.yaml:3: base.replicaScale: given in base and as an axis"},
		{head + "base: {nodes: [n.yaml]}\nmatrix: {seed: 1}\n", "m.yaml:4: matrix.seed: an axis must be a list of at least one value"},
		{head + "base: {nodes: [\"\"]}\nmatrix: {seed: [1]}\n", "m.yaml:3: base.nodes[0]: an empty path"},
		{head + "base: {nodes: [n.yaml]}\nmatrix: {seed: [x]}\n", "m.yaml:4: matrix.seed[0]: cannot unmarshal !!str `x` into uint64"},
		{head + "base: {nodes: [n.yaml], trace: [t.jsonl], untilUnschedulable: -1}\nmatrix: {seed: [1]}\n",
			"m.yaml:3: base.untilUnschedulable: must not be negative, got -1"},
		{head + "base: {nodes: [n.yaml], arrivalsOnly: true}\nmatrix: {seed: [1]}\n", "m.yaml:3: base.arrivalsOnly: needs base.trace"},
		{head + "base: {nodes: [n.yaml], untilUnschedulable: 1}\nmatrix: {seed: [1]}\n", "m.yaml:3: base.untilUnschedulable: needs base.trace"},
	} {
		_, err := Parse("m.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.text, err, tc.want)
		}
	}
	var seeds []string
	for i := range MaxCombinations + 1 {
		seeds = append(seeds, itoa(i))
	}
	_, err := Parse("m.yaml", []byte(head+"base: {nodes: [n.yaml]}\nmatrix: {seed: ["+strings.Join(seeds, ",")+"]}\n"))
	if err == nil || !strings.Contains(err.Error(), "10001 combinations, more than the limit of 10000") {
		t.Errorf("too many combinations: %v", err)
	}
}

func itoa(i int) string {
	s := ""
	for {
		s = string(rune('0'+i%10)) + s
		i /= 10
		if i == 0 {
			return s
		}
	}
}

// base.arrivalsOnly and base.untilUnschedulable reach every run as run's flags: a sweep over
// scheduler configurations of an arrivals-only replay, the packing studies' experiment; each
// row carries its report's arrivals section.
func TestArrivalsBase(t *testing.T) {
	const matrix = "apiVersion: kwoksim/v1alpha1\nkind: Sweep\n" +
		"base: {nodes: [n.yaml], trace: [t.jsonl], arrivalsOnly: true, untilUnschedulable: 1}\n" +
		"matrix: {schedulerConfig: [a.yaml, b.yaml]}\n"
	m, err := Parse("/s/sweep.yaml", []byte(matrix))
	if err != nil {
		t.Fatal(err)
	}
	combos := m.Combinations()
	want := []string{"run", "--nodes", "/s/n.yaml", "--trace", "/s/t.jsonl", "--scheduler-config", "/s/b.yaml", "--arrivals-only", "--until-unschedulable", "1"}
	if got := combos[1].Args; !slices.Equal(got, want) {
		t.Errorf("args\n got %q\nwant %q", got, want)
	}
	plain, err := Parse("/s/sweep.yaml", []byte(strings.Replace(matrix, ", arrivalsOnly: true, untilUnschedulable: 1", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.Combinations()[1].Args; slices.ContainsFunc(got, func(a string) bool { return strings.Contains(a, "arrivals") || strings.Contains(a, "unschedulable") }) {
		t.Errorf("a sweep without them passes %q", got)
	}
	res := NewResult(combos)
	arrivals := &analysis.ArrivalsReport{Mode: analysis.ReplayArrivalsOnly, Created: 3, Accepted: 2, Unschedulable: 1}
	res.SetReport(0, &analysis.Report{Arrivals: arrivals})
	res.SetReport(1, &analysis.Report{})
	if got := res.Combinations[0].Arrivals; got != arrivals || res.Combinations[1].Arrivals != nil {
		t.Errorf("rows' arrivals %v, %v", got, res.Combinations[1].Arrivals)
	}
}

func TestFlatNames(t *testing.T) {
	used := map[string]bool{MatrixKey: true}
	for _, tc := range []struct{ in, want string }{
		{"nodes.yaml", "nodes.yaml"},
		{"../configs/most allocated.yaml", "configs_most_allocated.yaml"},
		{"apps/", "apps"},
		{"/abs/x.yaml", "abs_x.yaml"},
		{"nodes.yaml", "nodes-2.yaml"},
		{"sweep.yaml", "sweep-2.yaml"},
		{".hidden", "input.hidden"},
		{strings.Repeat("d/", 60) + "x.yaml", strings.Repeat("d_", 47) + "x.yaml"},
	} {
		if got := unique(flatName(tc.in), used); got != tc.want {
			t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, name := range []string{"x", "my sweep.yaml", strings.Repeat("long", 20) + ".yaml", "Sweep.yaml"} {
		if n := jobName(name); len(n) > 48 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.HasSuffix(n, "-") {
			t.Errorf("jobName(%q) = %q", name, n)
		}
	}
}

// The matrix copy of an emitted Job names the inputs by their keys, keeps its comments and
// expands to the same combinations.
func TestEmitJobRewritesTheMatrix(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sub/nodes.yaml", "n")
	write("apps/a.yaml", "a")
	write("apps/b.json", "b")
	write("apps/README.md", "not copied")
	write("most.yaml", "m")
	matrix := "# packing\napiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase:\n  nodes: [sub/nodes.yaml]\n  workload: [apps/]\n" +
		"matrix:\n  schedulerConfig: [\"\", most.yaml]\n  nodes: [{template: sub/nodes.yaml, count: 2}]\n"
	write("sweep.yaml", matrix)
	m, err := Load(filepath.Join(dir, "sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	job, err := m.EmitJob(JobOptions{Image: "i"})
	if err != nil {
		t.Fatal(err)
	}
	copyText := job.ConfigMap.Data[MatrixKey]
	if !strings.HasPrefix(copyText, "# packing\n") || !strings.Contains(copyText, "nodes: [sub_nodes.yaml]") ||
		!strings.Contains(copyText, "workload: [apps]") || !strings.Contains(copyText, "template: sub_nodes.yaml") {
		t.Errorf("matrix copy:\n%s", copyText)
	}
	var keys []string
	for _, it := range job.Job.Spec.Template.Spec.Volumes[0].ConfigMap.Items {
		keys = append(keys, it.Key+"→"+it.Path)
	}
	if got := strings.Join(keys, " "); got != "apps_a.yaml→apps/a.yaml apps_b.json→apps/b.json most.yaml→most.yaml sub_nodes.yaml→sub_nodes.yaml sweep.yaml→sweep.yaml" {
		t.Errorf("items: %s", got)
	}
	c, err := Parse("/inputs/sweep.yaml", []byte(copyText))
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 || strings.Join(c.Combinations()[1].Args, " ") !=
		"run --nodes /inputs/sub_nodes.yaml --node-template /inputs/sub_nodes.yaml --template-nodes 2 --workload /inputs/apps --scheduler-config /inputs/most.yaml" {
		t.Errorf("the copy's combination 1: %v", c.Combinations()[1].Args)
	}
	if m2, _ := Load(filepath.Join(dir, "sweep.yaml")); m.Combinations()[1].Label != m2.Combinations()[1].Label {
		t.Error("emitting changed the matrix in memory")
	}
	write("big.yaml", strings.Repeat("x", MaxConfigMapBytes))
	write("sweep.yaml", strings.Replace(matrix, "[apps/]", "[apps/, big.yaml]", 1))
	m, _ = Load(filepath.Join(dir, "sweep.yaml"))
	if _, err := m.EmitJob(JobOptions{}); err == nil || !strings.Contains(err.Error(), "more than a ConfigMap holds (1048576 bytes)") {
		t.Errorf("over 1 MiB: %v", err)
	}
}

// An emitted Job runs the image of its kwoksim's version by default, never :latest (which a
// node pulls on every start, so that an image loaded into kind would not serve).
func TestDefaultImage(t *testing.T) {
	for version, want := range map[string]string{
		"v0.3.0":                  "kwoksim:v0.3.0",
		"v0.3.0-2-g57b8ab0-dirty": "kwoksim:v0.3.0-2-g57b8ab0-dirty",
		"dev":                     "kwoksim:dev",
		"":                        "kwoksim:dev",
		"v1.0.0+incompatible":     "kwoksim:v1.0.0-incompatible",
		"-x":                      "kwoksim:x",
		strings.Repeat("1", 200):  "kwoksim:" + strings.Repeat("1", 128),
	} {
		if got := DefaultImage(version); got != want {
			t.Errorf("DefaultImage(%q) = %q, want %q", version, got, want)
		}
	}
}

func TestCollectErrors(t *testing.T) {
	run := func(index, total int) *Run {
		c := Combination{Index: index, Label: "seed=" + itoa(index)}
		return NewRun(c, total, &analysis.Report{APIVersion: analysis.APIVersion, Kind: analysis.ReportKind})
	}
	for _, tc := range []struct {
		runs []*Run
		want string
	}{
		{[]*Run{run(0, 2), run(0, 2)}, "b.json: combination 0 is also in "},
		{[]*Run{run(0, 2), run(1, 3)}, "b.json: a run of a sweep of 3 combinations"},
		{[]*Run{run(2, 2)}, "a.json: index 2 is not a combination of a sweep of 2"},
		{nil, "no sweep runs (SweepRun documents) found"},
	} {
		dir := t.TempDir()
		for i, r := range tc.runs {
			f, err := os.Create(filepath.Join(dir, string(rune('a'+i))+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := WriteRunJSON(f, r); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		if _, err := Collect(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// Rows are filled by index: the comparison does not depend on the order runs finish in.
func TestResultIndependentOfCompletionOrder(t *testing.T) {
	m, err := Parse("m.yaml", []byte("apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {nodes: [n.yaml]}\nmatrix: {seed: [1, 2, 3, 4]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	report := func(i int) *analysis.Report {
		return &analysis.Report{APIVersion: analysis.APIVersion, Kind: analysis.ReportKind, Seed: uint64(i + 1),
			Summary:     analysis.Summary{Nodes: analysis.NodeSummary{Total: 4, Used: i}},
			Utilization: map[string]analysis.UtilizationStats{"cpu": {Mean: 0.1 * float64(i)}, "memory": {Mean: 0.2}}}
	}
	render := func(order []int) string {
		res := NewResult(m.Combinations())
		for _, i := range order {
			if i == 2 {
				res.SetError(i, "exit code 3")
			} else {
				res.SetReport(i, report(i))
			}
		}
		var b strings.Builder
		for _, w := range []func(*strings.Builder, *Result) error{
			func(b *strings.Builder, r *Result) error { return WriteJSON(b, r) },
			func(b *strings.Builder, r *Result) error { return WriteCSV(b, r) },
			func(b *strings.Builder, r *Result) error { return WriteTable(b, r) },
		} {
			if err := w(&b, res); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	first := render([]int{0, 1, 2, 3})
	if got := render([]int{3, 1, 2, 0}); got != first {
		t.Errorf("the comparison depends on completion order:\n%s\n---\n%s", first, got)
	}
	for _, want := range []string{"Sweep of 4 combinations: 3 done, 1 failed.", "combination 2 (seed=3) failed: exit code 3",
		"2,seed=3,,,,3,failed,exit code 3,,", `"status": "failed"`} {
		if !strings.Contains(first, want) {
			t.Errorf("no %q in:\n%s", want, first)
		}
	}
}

// The autoscaler axis compares autoscalers (and their flags) on the same inputs: a name alone
// or a mapping with flags, after base.autoscalerFlags, as run's --autoscaler and
// --autoscaler-flag.
func TestAutoscalerAxis(t *testing.T) {
	m, err := Parse("dir/sweep.yaml", []byte(`apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  nodes: [nodes.yaml]
  workload: [pools.yaml]
matrix:
  autoscaler:
  - {autoscaler: cluster-autoscaler, flags: [scale-down-unneeded-time=2m, "expander=price,random"]}
  - karpenter
  - none
  seed: [1, 2]
`))
	if err != nil {
		t.Fatal(err)
	}
	combos := m.Combinations()
	if len(combos) != 6 {
		t.Fatalf("%d combinations, want 6", len(combos))
	}
	// The autoscaler varies fastest: each seed's autoscalers side by side.
	if got, want := combos[3].Label, "seed=2 autoscaler=cluster-autoscaler[scale-down-unneeded-time=2m;expander=price,random]"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	if got, want := strings.Join(combos[3].Args, " "), "run --nodes dir/nodes.yaml --workload dir/pools.yaml --seed 2 "+
		"--autoscaler cluster-autoscaler --autoscaler-flag scale-down-unneeded-time=2m --autoscaler-flag expander=price,random"; got != want {
		t.Errorf("args:\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(combos[1].Args, " "); !strings.HasSuffix(got, "--seed 1 --autoscaler karpenter") {
		t.Errorf("karpenter's args: %s", got)
	}
	if v := combos[1].Values.Autoscaler; v == nil || *v != "karpenter" {
		t.Errorf("values %+v", combos[2].Values)
	}
	if err := m.CheckAutoscalerPools(false); err == nil || !strings.Contains(err.Error(), "matrix.autoscaler[0]: --autoscaler cluster-autoscaler: the inputs have no NodePool") {
		t.Errorf("no pools: %v", err)
	}
	if err := m.CheckAutoscalerPools(true); err != nil {
		t.Errorf("with pools: %v", err)
	}
	// Flags of no named autoscaler are checked against the one the run would choose.
	m, err = Parse("m.yaml", []byte("apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {nodes: [n.yaml], autoscalerFlags: [batch-idle-duration=2s]}\nmatrix: {seed: [1]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckAutoscalerPools(true); err == nil || !strings.Contains(err.Error(), "base.autoscalerFlags: --autoscaler-flag batch-idle-duration is a karpenter flag, but the run's autoscaler is cluster-autoscaler") {
		t.Errorf("a karpenter flag with the default autoscaler: %v", err)
	}
	if err := m.CheckAutoscalerPools(false); err == nil || !strings.Contains(err.Error(), "the run's autoscaler is none") {
		t.Errorf("an autoscaler flag without pools: %v", err)
	}
	// Pools alone are a cluster when every combination has an autoscaler to scale them.
	if _, err := Parse("m.yaml", []byte("apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {workload: [w.yaml]}\nmatrix: {autoscaler: [karpenter, cluster-autoscaler]}\n")); err != nil {
		t.Errorf("a sweep of pools alone: %v", err)
	}

	head := "apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {nodes: [n.yaml]"
	for _, tc := range []struct{ text, want string }{
		{head + ", autoscaler: karpenter}\nmatrix: {autoscaler: [none]}\n", "m.yaml:3: base.autoscaler: given in base and as an axis"},
		{head + "}\nmatrix: {autoscaler: [keda]}\n", `m.yaml:4: matrix.autoscaler[0]: expected none, cluster-autoscaler or karpenter, got "keda"`},
		{head + "}\nmatrix: {autoscaler: [{autoscaler: karpenter, flags: [scan-interval=5s]}]}\n",
			"matrix.autoscaler[0]: --autoscaler-flag scan-interval is a cluster-autoscaler flag, but the run's autoscaler is karpenter"},
		{head + "}\nmatrix: {autoscaler: [{autoscaler: karpenter, flag: [x]}]}\n", "matrix.autoscaler[0].flag: unknown field; expected one of autoscaler, flags"},
		{head + ", autoscalerFlags: [expander=grpc]}\nmatrix: {seed: [1]}\n", "base.autoscalerFlags[0]: --expander: the grpc expander"},
		{head + "}\nmatrix: {autoscaler: [karpenter, karpenter]}\n", "matrix.autoscaler[1]: the same value as matrix.autoscaler[0]"},
		{"apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {workload: [w.yaml]}\nmatrix: {autoscaler: [karpenter, none]}\n", "base.nodes: no nodes: give base.nodes or a matrix.nodes axis"},
		{head + ", autoscalerFlags: [new-pod-scale-up-delay=0s]}\nmatrix: {autoscaler: [cluster-autoscaler, karpenter]}\n",
			"m.yaml:4: matrix.autoscaler[1]: --autoscaler-flag new-pod-scale-up-delay is a cluster-autoscaler flag, but the run's autoscaler is karpenter"},
	} {
		_, err := Parse("m.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.text, err, tc.want)
		}
	}
}

// A report's autoscaling section reaches the comparison's figures, table and CSV; a sweep
// without one keeps its columns.
func TestAutoscalingFigures(t *testing.T) {
	m, err := Parse("m.yaml", []byte("apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {nodes: [n.yaml]}\nmatrix: {autoscaler: [cluster-autoscaler, karpenter]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := NewResult(m.Combinations())
	res.SetReport(0, &analysis.Report{Autoscaling: &analysis.AutoscalingReport{Autoscaler: "cluster-autoscaler", Cost: 35.74, NodeHours: 89.3556,
		PeakNodes: 9, CapacityWait: analysis.Distribution{P50: 80, P90: 95, P99: 100, Max: 100, Count: 29}}})
	res.SetError(1, "exit code 3")
	row := res.Combinations[0]
	if a := row.Autoscaling; a == nil || a.Cost != 35.74 || a.NodeHours != 89.3556 || a.PeakNodes != 9 || a.CapacityWait.P99 != 100 {
		t.Errorf("figures %+v", row.Figures)
	}
	var js, csv, table strings.Builder
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&csv, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"autoscaler": "cluster-autoscaler"`, `"cost": 35.74`, `"nodeHours": 89.3556`, `"peakNodes": 9`, `"p99": 100`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("no %s in the JSON:\n%s", want, js.String())
		}
	}
	lines := strings.Split(csv.String(), "\n")
	if !strings.HasSuffix(lines[0], ",autoscaler,autoscaling.autoscaler,autoscaling.cost,autoscaling.nodeHours,autoscaling.peakNodes,"+
		"autoscaling.capacityWait.p50,autoscaling.capacityWait.p90,autoscaling.capacityWait.p99") ||
		!strings.HasSuffix(lines[1], ",cluster-autoscaler,cluster-autoscaler,35.74,89.3556,9,80,95,100") ||
		!strings.HasSuffix(lines[2], ",karpenter,,,,,,,") {
		t.Errorf("CSV:\n%s", csv.String())
	}
	if !strings.Contains(table.String(), "AUTOSCALER") || !strings.Contains(table.String(), "35.74") || !strings.Contains(table.String(), "89.4") {
		t.Errorf("table:\n%s", table.String())
	}
	// Without the section and the axis, no autoscaling column.
	plain := NewResult([]Combination{{Label: "seed=1"}})
	plain.SetReport(0, &analysis.Report{})
	csv.Reset()
	if err := WriteCSV(&csv, plain); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(csv.String(), "autoscal") || plain.Combinations[0].Autoscaling != nil {
		t.Errorf("a sweep without autoscaling has its columns:\n%s", csv.String())
	}
}

// base.featureGates and base.disableAdmissionPlugins reach every run as run's flags, the gates
// sorted by name; a featureGates axis value adds its gates to the base's. The emitted Job's
// matrix copy expands to the same flags, and the CSV gains the axis's column.
func TestFeatureGates(t *testing.T) {
	const matrix = `apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  nodes: [n.yaml]
  featureGates: {SchedulerAsyncPreemption: true, NominatedNodeNameForExpectation: false}
  disableAdmissionPlugins: [Priority, LimitRanger]
matrix:
  seed: [1]
  featureGates:
  - {}
  - {OpportunisticBatching: true}
`
	dir := t.TempDir()
	for name, text := range map[string]string{"n.yaml": "n", "sweep.yaml": matrix} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Load(filepath.Join(dir, "sweep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantArgs := func(nodes, gates string) []string {
		return []string{"run", "--nodes", nodes, "--seed", "1", "--feature-gates", gates, "--disable-admission-plugins", "Priority,LimitRanger"}
	}
	base := "NominatedNodeNameForExpectation=false,SchedulerAsyncPreemption=true"
	batching := "NominatedNodeNameForExpectation=false,OpportunisticBatching=true,SchedulerAsyncPreemption=true"
	combos := m.Combinations()
	for i, want := range []struct {
		label, value string
		args         []string
	}{
		{"seed=1 featureGates=(defaults)", "(defaults)", wantArgs(filepath.Join(dir, "n.yaml"), base)},
		{"seed=1 featureGates=OpportunisticBatching=true", "OpportunisticBatching=true", wantArgs(filepath.Join(dir, "n.yaml"), batching)},
	} {
		c := combos[i]
		if c.Label != want.label || c.Values.FeatureGates == nil || *c.Values.FeatureGates != want.value || !slices.Equal(c.Args, want.args) {
			t.Errorf("combination %d: label %q, value %v, args\n %q\nwant %q, %q,\n %q", i, c.Label, c.Values.FeatureGates, c.Args, want.label, want.value, want.args)
		}
	}
	var sets []string
	for _, s := range m.FeatureGateSets() {
		sets = append(sets, s.Field+"="+gatesArg(s.Gates))
	}
	if got, want := strings.Join(sets, " "), "base.featureGates="+base+" matrix.featureGates[0]="+base+" matrix.featureGates[1]="+batching; got != want {
		t.Errorf("gate sets:\n got %s\nwant %s", got, want)
	}

	// The Job's pods expand the matrix copy: the same flags.
	job, err := m.EmitJob(JobOptions{Image: "i"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("/inputs/sweep.yaml", []byte(job.ConfigMap.Data[MatrixKey]))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Combinations()[1].Args, wantArgs("/inputs/n.yaml", batching); !slices.Equal(got, want) {
		t.Errorf("the Job's combination 1:\n got %q\nwant %q", got, want)
	}

	res := NewResult(combos)
	res.SetReport(0, &analysis.Report{})
	res.SetError(1, "exit code 3")
	var csv strings.Builder
	if err := WriteCSV(&csv, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(csv.String(), "\n")
	header := strings.Split(lines[0], ",")
	for i, want := range []string{"featureGates", "(defaults)", "OpportunisticBatching=true"} {
		if cells := strings.Split(lines[i], ","); len(cells) != len(header) || cells[len(cells)-1] != want {
			t.Errorf("CSV line %d: %d cells (header %d), the last not %q:\n%s", i, len(cells), len(header), want, csv.String())
		}
	}

	head := "apiVersion: kwoksim/v1alpha1\nkind: Sweep\nbase: {nodes: [n.yaml]"
	for _, tc := range []struct{ text, want string }{
		{head + ", featureGates: {OpportunisticBatching: false}}\nmatrix: {featureGates: [{OpportunisticBatching: true}]}\n",
			"m.yaml:4: matrix.featureGates[0].OpportunisticBatching: also set in base.featureGates; set each gate in one place"},
		{head + ", featureGates: {\"A=true,B\": false}}\nmatrix: {seed: [1]}\n",
			`m.yaml:3: base.featureGates.A=true,B: expected a feature gate name such as OpportunisticBatching, got "A=true,B"`},
		{head + ", featureGates: {OpportunisticBatching: maybe}}\nmatrix: {seed: [1]}\n", "m.yaml:3: base.featureGates.OpportunisticBatching: cannot unmarshal !!str `maybe` into bool"},
		{head + ", disableAdmissionPlugins: [\"Priority,LimitRanger\"]}\nmatrix: {seed: [1]}\n",
			`m.yaml:3: base.disableAdmissionPlugins[0]: expected one admission plugin name per item, such as Priority, got "Priority,LimitRanger"`},
		{head + "}\nmatrix: {featureGates: [{A: true, B: false}, {B: false, A: true}]}\n", "m.yaml:4: matrix.featureGates[1]: the same value as matrix.featureGates[0]"},
		{head + "}\nmatrix: {featureGates: {A: true}}\n", "m.yaml:4: matrix.featureGates: an axis must be a list of at least one value"},
	} {
		_, err := Parse("m.yaml", []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.text, err, tc.want)
		}
	}
}
