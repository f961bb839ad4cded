package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --assert: a passing set exits 0, a failing one exits 1 with the values it saw and still
// writes the report, an invalid one exits 2 before anything is loaded or simulated.
func TestRunAssert(t *testing.T) {
	for _, tc := range []struct {
		name    string
		asserts []string
		nodes   string
		code    int
		stderr  []string
		report  bool
	}{
		{"passing", []string{"summary.pods.unschedulable == 0", `pods.all(p, p.node == "kwok-node-0")`, "latency.startup.p99 < 30"},
			seedNodes, exitOK, []string{"kwoksim: all 3 assertions passed\n"}, true},
		{"failing, with the values seen", []string{"summary.pods.running < 5 && summary.nodes.ready == 1", "summary.pods.total == 10"},
			seedNodes, exitAssertion, []string{
				"assertion failed: summary.pods.running < 5 && summary.nodes.ready == 1\n  summary.pods.running = 10\n  summary.nodes.ready = (not evaluated)\n",
				"kwoksim: 1 of 2 assertions failed\n"}, true},
		{"a runtime error fails and says so", []string{`nodes.all(n, n.allocatable["nvidia.com/gpu"] == "8")`},
			seedNodes, exitAssertion, []string{"assertion failed: nodes.all", "error: no such key: nvidia.com/gpu", "kwoksim: the assertion failed\n"}, true},
		// The nodes file does not exist: the assertion is what fails, so it was checked first.
		{"a syntax error, before anything is loaded", []string{"summary.pods.unschedulable =="},
			"../../../testdata/seed/no-such.yaml", exitBadInput, []string{`--assert: assertion "summary.pods.unschedulable =="`, "Syntax error"}, false},
		{"a misspelt field", []string{"summary.pods.total > 0", "summary.pods.unschedulabel == 0"},
			seedNodes, exitBadInput, []string{`summary.pods has no field "unschedulabel"`}, false},
		{"not a bool", []string{"size(pods)"},
			seedNodes, exitBadInput, []string{`assertion "size(pods)": the expression has type int, want bool`}, false},
		// The report's fields are dyn to CEL; their type is known all the same, before the
		// nodes are even read.
		{"a field that is no bool, before anything is loaded", []string{"summary.workloads.failing"},
			"../../../testdata/seed/no-such.yaml", exitBadInput, []string{`assertion "summary.workloads.failing": the expression gives an int, want bool`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			report := filepath.Join(dir, "report.json")
			args := []string{"run", "--nodes", tc.nodes, "--workload", seedWorkload, "--report", report}
			for _, a := range tc.asserts {
				args = append(args, "--assert", a)
			}
			code, out, errOut := kwoksim(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			_, err := os.Stat(report)
			if wrote := err == nil; wrote != tc.report {
				t.Errorf("report written = %v, want %v", wrote, tc.report)
			}
			if tc.report && !strings.Contains(out, "10 total, 10 scheduled") {
				t.Errorf("stdout lacks the table:\n%s", out)
			}
			if !tc.report && out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}
