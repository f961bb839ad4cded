package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	perfMisc      = "../../../testdata/schedulerperf/misc/performance-config.yaml"
	perfThreshold = "../../../testdata/perf/threshold.yaml"
)

// kwoksim perf on upstream's misc configuration at its smallest workloads: JSON with upstream's
// DataItems and a result per workload; the workloads kwoksim cannot run say why.
func TestPerfJSON(t *testing.T) {
	code, out, errOut := kwoksim(t, "perf", "--config", perfMisc, "--label", "integration-test", "--test-case", "SchedulingBasic", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Version   string `json:"version"`
		DataItems []struct {
			Unit   string            `json:"unit"`
			Labels map[string]string `json:"labels"`
			Data   map[string]float64
		} `json:"dataItems"`
		Results []struct {
			TestCase, Workload, NotRun string
			Ops                        []struct{ Pods, Scheduled int }
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Version != "v1" || len(got.Results) != 2 {
		t.Fatalf("version %q, %d results; want v1 and SchedulingBasic's two smallest workloads", got.Version, len(got.Results))
	}
	if r := got.Results[0]; r.Workload != "5Nodes" || len(r.Ops) != 1 || r.Ops[0].Pods != 10 || r.Ops[0].Scheduled != 10 {
		t.Errorf("first result %+v: want 5Nodes with 10 of 10 measured pods scheduled", r)
	}
	if r := got.Results[1]; r.Workload != "5Nodes_AsyncAPICallsEnabled" || !strings.Contains(r.NotRun, "SchedulerAsyncAPICalls=true is not supported") {
		t.Errorf("second result %+v: want the async workload not run, with why", r)
	}
	hist := false
	for _, it := range got.DataItems {
		if it.Labels["Metric"] == "scheduler_scheduling_attempt_duration_seconds" && it.Labels["result"] == "scheduled" && it.Unit == "ms" &&
			it.Labels["Name"] == "SchedulingBasic/5Nodes/namespace-2" && it.Data["Perc50"] > 0 {
			hist = true
		}
	}
	if !hist {
		t.Errorf("no scheduling attempt histogram among the data items:\n%s", out)
	}
}

// -o benchstat prints go test -bench lines: a name, one iteration, then value-unit pairs.
func TestPerfBenchstat(t *testing.T) {
	code, out, errOut := kwoksim(t, "perf", "--config", perfMisc, "--test-case", "SchedulingBasic", "--workload", "5Nodes", "-o", "benchstat")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "Benchmark") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "BenchmarkPerfScheduling/SchedulingBasic/5Nodes-") {
		t.Fatalf("benchmark lines %q", lines)
	}
	f := strings.Split(lines[0], "\t")
	if len(f) < 4 || f[1] != "1" || f[2] != "0 ns/op" {
		t.Fatalf("line %q: want name, 1 iteration, 0 ns/op", lines[0])
	}
	units := map[string]bool{}
	for _, pair := range f[3:] {
		v, unit, ok := strings.Cut(pair, " ")
		if _, err := strconv.ParseFloat(v, 64); !ok || err != nil || unit == "" {
			t.Errorf("%q is not a value and a unit", pair)
		}
		units[unit] = true
	}
	for _, u := range []string{"scheduler_scheduling_attempt_duration_ms_scheduled/Perc99", "scheduler_framework_extension_point_duration_ms_Filter/Average", "runtime_seconds"} {
		if !units[u] {
			t.Errorf("no %s in %q", u, lines[0])
		}
	}
}

// A threshold is compared with the selected value, scaled by --threshold-factor; a workload
// below it, or with a parameter no op reads, exits 1.
func TestPerfThreshold(t *testing.T) {
	code, out, _ := kwoksim(t, "perf", "--config", perfThreshold, "--workload", "3Nodes")
	if code != exitAssertion || !strings.Contains(out, "BELOW THRESHOLD") ||
		!strings.Contains(out, `expected "scheduler_scheduling_attempt_duration_seconds" "Perc50" to be lower`) {
		t.Errorf("1 µs threshold: exit %d:\n%s", code, out)
	}
	code, out, _ = kwoksim(t, "perf", "--config", perfThreshold, "--workload", "3Nodes", "--threshold-factor", "1e9")
	if code != exitOK || !strings.Contains(out, " ok") {
		t.Errorf("1000 s threshold: exit %d:\n%s", code, out)
	}
	code, out, _ = kwoksim(t, "perf", "--config", perfThreshold, "--test-case", "NeverFits")
	if code != exitAssertion || !strings.Contains(out, "NeverFits/2Nodes failed: op 1: error in waiting for pods to get scheduled: at least pod namespace-1/pod-h-") ||
		!strings.Contains(out, "Insufficient cpu") || !strings.Contains(out, "0 of 2 pods scheduled after 10m0s of virtual time") {
		t.Errorf("pods that never fit: exit %d:\n%s", code, out)
	}
	code, out, _ = kwoksim(t, "perf", "--config", perfThreshold, "--test-case", "Gated")
	if code != exitAssertion || !strings.Contains(out, "is not scheduled (never attempted: SchedulingGates: waiting for scheduling gates: [test.k8s.io/hold])") {
		t.Errorf("gated pods: exit %d:\n%s", code, out)
	}
	code, out, _ = kwoksim(t, "perf", "--config", perfThreshold, "--workload", "Unused")
	if code != exitAssertion || !strings.Contains(out, "the parameters [typo] are defined on workload Unused, but unused") {
		t.Errorf("unused parameter: exit %d:\n%s", code, out)
	}
}

func TestPerfBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unknownField := file("field.yaml", "- name: A\n  workloadTemplate:\n  - opcode: createPods\n    count: 1\n    collectMetrics: true\n    bogus: 1\n  workloads:\n  - name: w\n")
	unknownOp := file("op.yaml", "- name: A\n  workloadTemplate:\n  - opcode: createPod\n  workloads:\n  - name: w\n")
	noMetrics := file("metrics.yaml", "- name: A\n  workloadTemplate:\n  - opcode: createPods\n    count: 1\n  workloads:\n  - name: w\n")
	yamlSyntax := file("syntax.yaml", "- name: A\n  workloads: [\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"perf"}, `required flag(s) "config" not set`},
		{[]string{"perf", "--config", "no-such.yaml"}, "no-such.yaml: no such file or directory"},
		{[]string{"perf", "--config", perfMisc, "-o", "yaml"}, "--output must be table, json or benchstat"},
		{[]string{"perf", "--config", perfMisc, "--test-case", "Nothing"}, `no workload matches --test-case "Nothing"`},
		{[]string{"perf", "--config", perfMisc, "--test-case", "("}, "--test-case: error parsing regexp"},
		{[]string{"perf", "--config", perfMisc, "--feature-gates", "Nope"}, "--feature-gates: missing bool value for Nope"},
		{[]string{"perf", "--config", perfMisc, "--workload", "5Nodes", "--test-case", "SchedulingBasic", "--feature-gates", "Nope=true"}, "--feature-gates: feature gates: unrecognized feature gate: Nope"},
		{[]string{"perf", "--config", perfMisc, "--feature-gates", "SchedulerAsyncAPICalls=true"}, "SchedulerAsyncAPICalls=true is not supported"},
		{[]string{"perf", "--config", perfMisc, "--threshold-factor", "0"}, "--threshold-factor must be positive"},
		{[]string{"perf", "--config", "../../../testdata/seed/pod.yaml"}, "expected a list of test cases"},
		{[]string{"perf", "--config", unknownField}, `field.yaml: test case 0 ("A"): decoding {"bogus":1,"collectMetrics":true,"count":1,"opcode":"createPods"} into createPods: json: unknown field "bogus"`},
		{[]string{"perf", "--config", unknownOp}, `op.yaml: test case 0 ("A"): unknown opcode "createPod"`},
		{[]string{"perf", "--config", noMetrics}, "metrics.yaml: A: no op in workloadTemplate collects metrics"},
		{[]string{"perf", "--config", yamlSyntax}, "syntax.yaml: yaml: line 2: did not find expected node content"},
	} {
		code, out, errOut := kwoksim(t, tc.args...)
		if code != exitBadInput || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// `run --stages none` runs as scheduler_perf does, with no kubelet: pods are scheduled and
// stay Pending, and the report says what is not modelled.
func TestRunStagesNone(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--nodes", "../../../testdata/seed/node.yaml", "--workload", "../../../testdata/seed/pod.yaml",
		"--stages", "none", "--assert", "summary.pods.scheduled == 10", "--assert", "summary.pods.running == 0")
	if code != exitOK || !strings.Contains(out, "no stages: no kubelet reports node status") || !strings.Contains(errOut, "all 2 assertions passed") {
		t.Errorf("exit %d:\n%s\n%s", code, out, errOut)
	}
}

// A configuration is bounded by the limits a run has: a workload that would store more than
// --max-objects fails the command (exit 3) at the create that would pass it.
func TestPerfObjectLimit(t *testing.T) {
	code, _, errOut := kwoksim(t, "perf", "--config", perfMisc, "--test-case", "SchedulingBasic", "--workload", "500Nodes", "--max-objects", "300")
	if code != exitSimulationErr || !strings.Contains(errOut, "creating node: object limit reached: creating Node node-0-") ||
		!strings.Contains(errOut, "would store more than 300 objects") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// An interrupt stops a perf run at the next event: what ended is written, exit 130.
func TestPerfInterrupted(t *testing.T) {
	cmd, stdout, stderr := startKwoksim(t, "perf", "--config", perfMisc, "--test-case", "SchedulingBasic", "--workload", "5Nodes|5000Nodes")
	time.Sleep(2 * time.Second) // 5Nodes ends at once, 5000Nodes takes several seconds
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted: the 1 workloads that ended are written") ||
		!strings.Contains(stdout.String(), "SchedulingBasic/5Nodes ") || strings.Contains(stdout.String(), "5000Nodes") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
