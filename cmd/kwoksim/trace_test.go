package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad trace is rejected before the run: file and line in the message, exit 2, no report.
func TestBadTraces(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"unknown-op.jsonl", `unknown-op.jsonl:2: unknown operation "restart"; expected one of apply, delete, scale, patch`},
		{"malformed.jsonl", `malformed.jsonl:2: malformed line: column `},
		{"decreasing.jsonl", `decreasing.jsonl:3: at 10s is before the previous event's 20s (line 2)`},
		{"decreasing.yaml", `decreasing.yaml:6: at 30s is before the previous event's 1m0s (line 4)`},
		{"bad-duration.yaml", `bad-duration.yaml:6: at: expected a non-negative Go duration such as "90s" or "36h", got "soon"`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report.json")
			code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--trace", "../../testdata/bad/traces/"+tc.file, "--report", report)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d", code, exitBadInput)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("message %q does not contain %q", errOut, tc.want)
			}
			if _, err := os.Stat(report); !os.IsNotExist(err) {
				t.Errorf("a report was written: %v", err)
			}
		})
	}
}

// An event on a missing object is listed in the report and the run goes on; --strict makes
// it an error instead.
func TestTraceErrorsAndStrict(t *testing.T) {
	trace := "../../testdata/bad/traces/missing-object.yaml"
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--trace", trace, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.TraceErrors) != 1 {
		t.Fatalf("traceErrors = %+v, want one", r.TraceErrors)
	}
	if e := r.TraceErrors[0]; e.At != 10 || e.Line != 4 || e.File != trace || e.Message != "Node no-such-node not found" {
		t.Errorf("traceErrors[0] = %+v", e)
	}
	if r.Summary.Pods.Running != 10 {
		t.Errorf("the run did not go on: %+v", r.Summary.Pods)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	code, _, errOut = kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--trace", trace, "--strict", "--report", report)
	if code != exitBadInput || !strings.Contains(errOut, "missing-object.yaml:4: at 10s: Node no-such-node not found (--strict)") {
		t.Errorf("--strict: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("--strict wrote a report: %v", err)
	}
}
