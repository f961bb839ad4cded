package workloads

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

func loadScenario(t *testing.T, nodes, workloads string) Scenario {
	t.Helper()
	n, err := Load([]string{nodes}, LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Load([]string{workloads}, LoadOptions{Kinds: WorkloadKinds})
	if err != nil {
		t.Fatal(err)
	}
	return Scenario{Nodes: n, Workloads: w}
}

func reportJSON(t *testing.T, sc Scenario) ([]byte, *analysis.Report) {
	t.Helper()
	r, err := Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	r.Runtime = analysis.Runtime{}
	var buf bytes.Buffer
	if err := analysis.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), r
}

// Same inputs and seed give byte-identical reports (runtime aside), run after run and whatever
// the number of OS threads, on a scenario that uses anti-affinity, topology spread, node
// affinity and tolerations across 240 nodes in two zones. The last two runs also lay the
// scheduler's nodes out afresh before every drain that follows a node write (at 240 nodes
// the default never does), which must not change a byte either.
func TestReportIsDeterministic(t *testing.T) {
	sc := loadScenario(t, "../testdata/scenarios/zones/nodes.yaml", "../testdata/scenarios/zones/workloads.yaml")
	sc.Seed = 42
	var first []byte
	for i, run := range []struct{ procs, relayout int }{{1, 0}, {2, 0}, {1, 1}, {2, 1}} {
		procs := run.procs
		sc.RelayoutNodeWrites = run.relayout
		prev := runtime.GOMAXPROCS(procs)
		got, r := reportJSON(t, sc)
		runtime.GOMAXPROCS(prev)
		if i == 0 {
			first = got
			if r.Summary.Pods.Total != 238 || r.Summary.Pods.Scheduled < 200 || r.Summary.Nodes.Total != 240 {
				t.Fatalf("scenario did not run as expected: %+v", r.Summary)
			}
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("run %d (GOMAXPROCS=%d) differs from run 0:\n%s", i, procs, firstDifference(first, got))
		}
	}

	// The seed matters: another seed names pods differently.
	sc.Seed, sc.RelayoutNodeWrites = 43, 0
	other, _ := reportJSON(t, sc)
	if bytes.Equal(first, other) {
		t.Errorf("seeds 42 and 43 gave identical reports")
	}
}

func firstDifference(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	return "lengths differ"
}
