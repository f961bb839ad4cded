package main

import (
	"testing"
)

// An event on a missing object is listed in the report and the run goes on (with --strict
// it is an error instead: see TestBadInputTable).
func TestTraceErrors(t *testing.T) {
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

}
