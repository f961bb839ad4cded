package analysis

import (
	"bytes"
	"strings"
	"testing"
)

// Pods bound to a node that is gone keep their phase (nothing runs them, nothing changes
// it) until the pod garbage collector deletes them after its 40 s quarantine
// (quarantineTime, pkg/controller/podgc/gc_controller.go): the table lists those still there
// with their phase and says so, and no longer claims they "stay Pending". A pod already
// deleted is not listed.
func TestTableNamesPodsOnUnknownNodes(t *testing.T) {
	gone := 50.0
	r := &Report{
		Nodes: []NodeReport{{Name: "n1", Allocatable: map[string]string{"pods": "10"}}},
		Pods: []PodReport{
			{Namespace: "default", Name: "ok", Node: "n1", Phase: "Running"},
			{Namespace: "default", Name: "ghost", Node: "gone", Phase: "Running"},
			{Namespace: "default", Name: "collected", Node: "gone", Phase: "Failed", DeletedAt: &gone},
		},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Pods still bound to a node that no longer exists when the run ended (1)", "default/ghost on gone (Running)",
		"deletes such pods once they have been orphaned for 40s"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"default/ok on", "default/collected", "stay Pending"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("%q in the table:\n%s", unwanted, out)
		}
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

// A node's byte cells show requested and allocatable in one unit, the allocatable's largest;
// other resources stay as written.
func TestUsageInOneUnit(t *testing.T) {
	for _, tc := range []struct{ res, req, alloc, want string }{
		{"memory", "8332Mi", "15258000Ki", "8.14Gi/14.55Gi (56%)"},
		{"memory", "1536Mi", "16Gi", "1.5Gi/16Gi (9%)"},
		{"memory", "2Gi", "8Gi", "2Gi/8Gi (25%)"},
		{"memory", "", "256Gi", "0/256Gi (0%)"},
		{"memory", "1Mi", "64Gi", "0.00098Gi/64Gi (0%)"},
		{"memory", "1500M", "16G", "1.5G/16G (9%)"},
		{"ephemeral-storage", "10Gi", "1Ti", "0.01Ti/1Ti (1%)"},
		{"hugepages-2Mi", "4Mi", "1Gi", "0.0039Gi/1Gi (0%)"},
		{"cpu", "1500m", "4", "1500m/4 (38%)"},
		{"pods", "3", "110", "3/110 (3%)"},
	} {
		nr := NodeReport{Allocatable: map[string]string{tc.res: tc.alloc}, Requested: map[string]string{}}
		if tc.req != "" {
			nr.Requested[tc.res] = tc.req
		}
		if got := usage(nr, tc.res); got != tc.want {
			t.Errorf("%s %s/%s = %q, want %q", tc.res, tc.req, tc.alloc, got, tc.want)
		}
	}
}
