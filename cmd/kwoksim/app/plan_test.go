package app

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kwoksim/kwoksim/analysis/capacity"
)

const (
	planData     = "../../../testdata/plan/"
	planSchema   = "../../../analysis/plan.schema.json"
	cpuWorkload  = planData + "cpu-workload.yaml"
	cpu4Template = planData + "cpu4.yaml"
	cpu8Template = planData + "cpu8.yaml"
	givenNodes   = planData + "given.yaml"
)

// decodePlan decodes a plan and checks it against the schema.
func decodePlan(t *testing.T, data string) *capacity.Plan {
	t.Helper()
	sch, err := jsonschema.NewCompiler().Compile(planSchema)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, data)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the plan does not match %s: %v", planSchema, err)
	}
	var p capacity.Plan
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

func runsByNodes(tp capacity.TemplatePlan) map[int]capacity.Run {
	out := map[int]capacity.Run{}
	for _, r := range tp.Runs {
		out[r.Nodes] = r
	}
	return out
}

func nodeCounts(tp capacity.TemplatePlan) []int {
	out := []int{}
	for _, r := range tp.Runs {
		out = append(out, r.Nodes)
	}
	return out
}

// The seed Deployment scaled to 1,000 replicas, the seed node as template and no other node:
// the pods request nothing, so the 110-pod limit decides. 9 nodes hold 990, so 10 are needed.
func TestPlanSeedThousand(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", seedNodes, "--workload", planData+"seed-1000.yaml",
		"--parallel", "2", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePlan(t, out)
	tp := p.Templates[0]
	if tp.Name != "kwok-node-0" || tp.NodesNeeded == nil || *tp.NodesNeeded != 10 || p.GivenNodes != 0 || p.Incomplete {
		t.Fatalf("plan: %+v", p)
	}
	// Two at a time: [0 1] [2 4] [8 16]; 16 passes, so (8,16) in three parts: [10 13], both
	// pass; then [9], which fails.
	if got, want := nodeCounts(tp), []int{0, 1, 2, 4, 8, 9, 10, 13, 16}; !reflect.DeepEqual(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
	runs := runsByNodes(tp)
	if r := runs[0]; r.Passed || r.Unbound != 1000 || r.Used != 0 || len(r.Utilization) != 0 {
		t.Errorf("no node: %+v", r)
	}
	if r := runs[9]; r.Passed || r.Unschedulable != 10 || r.Unbound != 10 || r.Used != 9 || r.Utilization["pods"] != 1 {
		t.Errorf("9 nodes: %+v, want 10 pods left over and every pod slot taken", r)
	}
	// 1,000 of 10 × 110 pod slots.
	if r := runs[10]; !r.Passed || r.Unbound != 0 || r.Used != 10 || r.Utilization["pods"] != 1000.0/1100 || r.Utilization["cpu"] != 0 {
		t.Errorf("10 nodes: %+v", r)
	}
	if tp.Cost != nil || tp.CostPerNode != nil || len(tp.Warnings) != 0 {
		t.Errorf("cost %v, per node %v, warnings %q", tp.Cost, tp.CostPerNode, tp.Warnings)
	}
}

// Fifteen pods of 1500m CPU; two given 4-CPU nodes hold two each (a third would need 4.5
// CPUs), so 11 remain. cpu4 (4 CPUs, cost 1) holds two: ⌈11/2⌉ = 6 nodes, cost 6; five leave
// one pod out. cpu8 (8 CPUs, cost 1.8) holds five: ⌈11/5⌉ = 3 nodes, cost 5.4; two leave one
// out. The plan is the same bytes on a second run, and --parallel 1 gives the same answers.
func TestPlanCPURequestsAndCost(t *testing.T) {
	args := []string{"plan", "--node-template", cpu4Template, "--node-template", cpu8Template, "--nodes", givenNodes,
		"--workload", cpuWorkload, "--parallel", "2", "-o", "json"}
	code, out, errOut := kwoksim(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePlan(t, out)
	if p.GivenNodes != 2 || len(p.Templates) != 2 {
		t.Fatalf("plan: %+v", p)
	}
	for i, want := range []struct {
		name         string
		needed       int
		perNode, sum float64
		runs         []int
	}{
		// [0 1] [2 4] [8 16]: 8 passes; (4,8) in three parts: [5 6]; 5 fails, 6 passes.
		{"cpu4", 6, 1, 6, []int{0, 1, 2, 4, 5, 6, 8, 16}},
		// [0 1] [2 4]: 4 passes; (2,4): [3] passes.
		{"cpu8", 3, 1.8, 5.4, []int{0, 1, 2, 3, 4}},
	} {
		tp := p.Templates[i]
		if tp.Name != want.name || tp.NodesNeeded == nil || *tp.NodesNeeded != want.needed ||
			*tp.CostPerNode != want.perNode || *tp.Cost != want.sum || !reflect.DeepEqual(nodeCounts(tp), want.runs) {
			t.Errorf("template %d: %s needs %v at %v each (%v), runs %v; want %+v", i, tp.Name, tp.NodesNeeded, tp.CostPerNode, tp.Cost, nodeCounts(tp), want)
		}
		below := runsByNodes(tp)[want.needed-1]
		if below.Passed || below.Unbound != 1 || below.Unschedulable != 1 {
			t.Errorf("%s with %d nodes: %+v, want one pod left over", tp.Name, want.needed-1, below)
		}
	}
	// cpu4 with 6: 15 × 1.5 = 22.5 CPUs of (2 + 6) × 4 = 32.
	if u := runsByNodes(p.Templates[0])[6].Utilization["cpu"]; u != 22.5/32 {
		t.Errorf("cpu4 with 6 nodes: cpu utilization %v, want %v", u, 22.5/32)
	}

	_, again, _ := kwoksim(t, args...)
	if again != out {
		t.Errorf("a second plan with the same inputs and --parallel differs")
	}
	code, serial, errOut := kwoksim(t, append(args[:len(args)-4], "--parallel", "1", "-o", "json")...)
	if code != exitOK {
		t.Fatalf("--parallel 1: exit %d: %s", code, errOut)
	}
	for i, tp := range decodePlan(t, serial).Templates {
		if *tp.NodesNeeded != *p.Templates[i].NodesNeeded {
			t.Errorf("%s: --parallel 1 needs %d, --parallel 2 %d", tp.Name, *tp.NodesNeeded, *p.Templates[i].NodesNeeded)
		}
	}
}

// The table sets the templates side by side, then each one's runs.
func TestPlanTable(t *testing.T) {
	report := filepath.Join(t.TempDir(), "plan.json")
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu8Template, "--nodes", givenNodes, "--workload", cpuWorkload,
		"--parallel", "2", "--report", report)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `Goal: every pod bound to a node and no workload failing at the end of the run.
Each run: 2 given node(s) plus the template's copies, up to 1000; 2 run(s) at a time.

TEMPLATE  FILE                              NODES NEEDED  COST/NODE  TOTAL COST
cpu8      ../../../testdata/plan/cpu8.yaml  3             1.80       5.40

cpu8: 5 run(s)
NODES  GOAL  UNSCHEDULABLE  UNBOUND  USED  CPU    MEMORY  PODS
0      fail  11             11       2     75.0%  12.5%   1.8%
1      fail  6              6        3     84.4%  14.1%   2.7%
2      fail  1              1        4     87.5%  14.6%   3.2%
3      pass  0              0        5     70.3%  11.7%   2.7%
4      pass  0              0        6     56.2%  9.4%    2.3%
`
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if p := decodePlan(t, string(data)); *p.Templates[0].NodesNeeded != 3 {
		t.Errorf("--report: %s", data)
	}
	if !strings.Contains(errOut, "kwoksim: plan: 2 × cpu8: not met, 1 pod(s) unbound\n") {
		t.Errorf("stderr does not list the runs:\n%s", errOut)
	}
}

// With --assert the goal is the assertions alone: 12 pods running needs 6 cpu4 nodes (two
// pods each), not the 8 that would hold all 15.
func TestPlanAssertGoal(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", cpuWorkload,
		"--assert", "summary.pods.running >= 12", "--parallel", "2", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	p := decodePlan(t, out)
	tp := p.Templates[0]
	if *tp.NodesNeeded != 6 || !reflect.DeepEqual(p.Assertions, []string{"summary.pods.running >= 12"}) {
		t.Fatalf("needs %v, assertions %q", tp.NodesNeeded, p.Assertions)
	}
	runs := runsByNodes(tp)
	if r := runs[5]; r.Passed || !reflect.DeepEqual(r.FailedAssertions, []string{"summary.pods.running >= 12"}) {
		t.Errorf("5 nodes: %+v", r)
	}
	if r := runs[6]; !r.Passed || r.Unbound != 3 || len(r.FailedAssertions) != 0 {
		t.Errorf("6 nodes: %+v, want the goal met with 3 pods unbound", r)
	}
}

// No count up to --max-nodes meets the goal: the plan says so, with no answer, and exits 1.
func TestPlanGoalNotMet(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", cpuWorkload,
		"--max-nodes", "5", "--parallel", "3", "-o", "json")
	if code != exitAssertion || !strings.Contains(errOut, "kwoksim: the goal was not met with up to 5 nodes of cpu4\n") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	tp := decodePlan(t, out).Templates[0]
	if tp.NodesNeeded != nil || tp.Cost != nil || !reflect.DeepEqual(nodeCounts(tp), []int{0, 1, 2, 4, 5}) ||
		!reflect.DeepEqual(tp.Warnings, []string{"the goal was not met with up to 5 nodes of the template"}) {
		t.Errorf("template: %+v", tp)
	}
}

// Bad input is found before any run, once, naming the file and the field; nothing is
// written.
func TestPlanBadInput(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(two, []byte("apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: b}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cost := filepath.Join(dir, "cost.yaml")
	if err := os.WriteFile(cost, []byte("apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n  annotations: {kwoksim.io/cost: \"-2\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "plan.json")
	base := []string{"plan", "--report", report}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"two nodes in a template", []string{"--node-template", two, "--workload", cpuWorkload}, two + ": a node template must hold exactly one Node, found 2"},
		{"negative cost", []string{"--node-template", cpu4Template, "--node-template", cost, "--workload", cpuWorkload},
			cost + `:1: metadata.annotations["kwoksim.io/cost"]: the cost of one node must be a non-negative number, got "-2"`},
		{"missing template", []string{"--node-template", "missing.yaml", "--workload", cpuWorkload}, "missing.yaml"},
		{"bad assertion", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--assert", "summary.pods.unschedulabel == 0"},
			`--assert: assertion "summary.pods.unschedulabel == 0": column 13: summary.pods has no field "unschedulabel"`},
		{"missing workload", []string{"--node-template", cpu4Template, "--workload", "nowhere.yaml"}, "nowhere.yaml"},
		{"missing trace", []string{"--node-template", cpu4Template, "--trace", "nowhere.jsonl"}, "nowhere.jsonl"},
		{"missing stages", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--stages", "nowhere"}, "nowhere"},
		{"bad scheduler config", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--scheduler-config", "../../../testdata/bad/scheduler-config/empty-name.yaml"},
			"empty-name.yaml: profiles[1].schedulerName: Required value"},
		{"no template", []string{"--workload", cpuWorkload}, `"node-template" not set`},
		{"no workload", []string{"--node-template", cpu4Template}, `"workload" not set`},
		{"yaml output", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "-o", "yaml"}, "--output must be table or json"},
		{"parallel 0", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--parallel", "0"}, "--parallel must be at least 1"},
		{"negative max", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--max-nodes", "-1"}, "--max-nodes must not be negative"},
		{"bad limit", []string{"--node-template", cpu4Template, "--workload", cpuWorkload, "--max-objects", "0"}, "--max-objects must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kwoksim(t, append(base, tc.args...)...)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, errOut, tc.want)
			}
			if strings.Contains(errOut, "kwoksim: plan: ") || out != "" {
				t.Errorf("runs were started: stdout %q, stderr %q", out, errOut)
			}
			if _, err := os.Stat(report); err == nil {
				t.Errorf("a plan was written")
			}
		})
	}
}

// A workload only the simulated apiserver can reject passes the parent's checks; the first
// run fails on it, and the plan ends with that run's message and exit code.
func TestPlanChildFailure(t *testing.T) {
	code, out, errOut := kwoksim(t, "plan", "--node-template", cpu4Template, "--workload", "../../../testdata/bad/selector-mismatch.yaml", "--parallel", "2")
	want := "`selector` does not match template `labels` (the run with 0 nodes of template cpu4)\n"
	if code != exitBadInput || out != "" || !strings.Contains(errOut, "selector-mismatch.yaml:1: ") || !strings.HasSuffix(errOut, want) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and the run's message", code, out, errOut)
	}
}

// Every forwarded flag is one of run's, and reaches the runs as the user wrote it.
func TestPlanForwardsRunFlags(t *testing.T) {
	cmd := newPlanCommand(nil)
	if err := cmd.ParseFlags([]string{"--node-template", "t.yaml", "--nodes", "a", "--nodes", "b", "--workload", "w", "--seed", "7",
		"--until", "90s", "--strict", "--max-objects", "12", "--max-memory", "6Gi", "--stages", "s", "--assert", "true", "--parallel", "3",
		"-f", "bundle.yaml", "--strict-kinds", "--arrivals-only", "--until-unschedulable", "3"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"--nodes=a", "--nodes=b", "--workload=w", "--filename=bundle.yaml", "--strict-kinds=true", "--stages=s", "--seed=7",
		"--until=1m30s", "--strict=true", "--max-objects=12", "--max-memory=6Gi", "--arrivals-only=true", "--until-unschedulable=3"}
	if got := forwardArgs(cmd.Flags()); !reflect.DeepEqual(got, want) {
		t.Errorf("forwarded %q, want %q", got, want)
	}
	run := newRunCommand(nil)
	if err := run.ParseFlags(want); err != nil {
		t.Errorf("run does not take the forwarded flags: %v", err)
	}
}

// An interrupted plan stops starting runs, interrupts the running one and writes the runs
// that finished, marked incomplete, with exit 130. A year of heartbeats, each performed,
// takes longer the more nodes there are; the goal is never met, so the search goes on
// doubling until the signal.
func TestPlanInterrupted(t *testing.T) {
	report := filepath.Join(t.TempDir(), "plan.json")
	cmd, stdout, stderr := startKwoksimWatched(t, "plan", "--node-template", seedNodes, "--nodes", seedNodes, "--workload", seedWorkload,
		"--until", "720h", "--keep-renewals", "--assert", "summary.nodes.total > 100", "--max-nodes", "64", "--parallel", "1",
		"-o", "json", "--report", report)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "kwoksim: plan: 2 × kwok-node-0: ") { // the third run finished
		if time.Now().After(deadline) {
			t.Fatalf("no third run within a minute; stderr:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no plan after the interrupt: %v", err)
	}
	if !bytes.Equal(data, stdout.Bytes()) {
		t.Errorf("stdout and the plan file differ")
	}
	p := decodePlan(t, string(data))
	tp := p.Templates[0]
	// The signal came while 4 ran (or, on a slow machine, just before it started).
	if !p.Incomplete || tp.NodesNeeded != nil || !reflect.DeepEqual(nodeCounts(tp), []int{0, 1, 2}) {
		t.Errorf("incomplete %v, needed %v, runs %v; want an incomplete plan of runs 0, 1 and 2", p.Incomplete, tp.NodesNeeded, nodeCounts(tp))
	}
	if !strings.Contains(stderr.String(), "kwoksim: interrupted: the plan holds the runs that finished, marked incomplete") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// lockedBuffer is a buffer a test may read while a process writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Bytes() []byte { return []byte(b.String()) }

// startKwoksimWatched is startKwoksim with outputs that may be read while it runs.
func startKwoksimWatched(t *testing.T, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KWOKSIM_TEST_AS_MAIN=1")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stdout, &stderr
}
