package analysis

import (
	"bytes"
	"strings"
	"testing"
)

func TestTableNamesPodsOnUnknownNodes(t *testing.T) {
	r := &Report{
		Nodes: []NodeReport{{Name: "n1", Allocatable: map[string]string{"pods": "10"}}},
		Pods: []PodReport{
			{Namespace: "default", Name: "ok", Node: "n1", Phase: "Running"},
			{Namespace: "default", Name: "ghost", Node: "gone", Phase: "Pending"},
		},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "Pods bound to nodes that do not exist (1)") || !strings.Contains(out, "default/ghost on gone") {
		t.Errorf("table:\n%s", out)
	}
	if strings.Contains(out, "default/ok on") {
		t.Errorf("a pod on a known node is listed:\n%s", out)
	}
}

// An interrupted run's table says so first, with the time it reached.
func TestTableSaysAnInterruptedRunIsIncomplete(t *testing.T) {
	for _, incomplete := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, &Report{Seed: 3, SimulatedSeconds: 5400, Incomplete: incomplete}); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(buf.String(), "\n")
		if got := strings.HasPrefix(first, "INCOMPLETE: interrupted after 1.5h of cluster time"); got != incomplete {
			t.Errorf("incomplete=%v: first line %q", incomplete, first)
		}
	}
}
