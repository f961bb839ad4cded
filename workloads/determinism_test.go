package workloads_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/workloads"

	"github.com/kwoksim/kwoksim/workloads/workloadstest"

	"github.com/kwoksim/kwoksim/analysis"
)

func loadScenario(t *testing.T, nodes, workloadsPath string) workloads.Scenario {
	t.Helper()
	n, err := manifest.Load([]string{nodes}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := manifest.Load([]string{workloadsPath}, manifest.LoadOptions{Kinds: manifest.WorkloadKinds})
	if err != nil {
		t.Fatal(err)
	}
	return workloads.Scenario{Nodes: n, Workloads: w}
}

func reportJSON(t *testing.T, sc workloads.Scenario) ([]byte, *analysis.Report) {
	t.Helper()
	r, err := workloads.Run(context.Background(), sc)
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
// scheduler's nodes out afresh before every drain that follows a node write, and its pods
// before every drain that follows a pod write (at this size the defaults never do), through
// the controllers that index stored objects (API.OnRelaid), which must not change a byte
// either.
func TestReportIsDeterministic(t *testing.T) {
	sc := loadScenario(t, "../testdata/scenarios/zones/nodes.yaml", "../testdata/scenarios/zones/workloads.yaml")
	sc.Seed = 42
	var first []byte
	for i, run := range []struct{ procs, relayout int }{{1, 0}, {2, 0}, {1, 1}, {2, 1}} {
		procs := run.procs
		sc.RelayoutNodeWrites, sc.RelayoutPodWrites = run.relayout, run.relayout
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
			t.Fatalf("run %d (GOMAXPROCS=%d) differs from run 0:\n%s", i, procs, workloadstest.FirstDifference(first, got))
		}
	}

	// The seed matters: another seed names pods differently.
	sc.Seed, sc.RelayoutNodeWrites, sc.RelayoutPodWrites = 43, 0, 0
	other, _ := reportJSON(t, sc)
	if bytes.Equal(first, other) {
		t.Errorf("seeds 42 and 43 gave identical reports")
	}
}

// The same scenario — a Job, a StatefulSet and a DaemonSet on three nodes, with a node added
// mid-run — gives the same pod names, nodes and times, run after run.
func TestJobStatefulSetDaemonSetDeterministic(t *testing.T) {
	run := func() string {
		s := workloadstest.SlowSim(t)
		log := workloadstest.WatchPods(s)
		workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "2"), workloadstest.KWOKNode("n2", "2"), workloadstest.KWOKNode("n3", "2"),
			workloadstest.Job("batch", ptr.To[int32](6), ptr.To[int32](3), "40s"), workloadstest.StatefulSet("db", 3, ""), workloadstest.DaemonSet("agent"))
		s.Clock().AfterDelay(30*time.Second, func() { workloadstest.Create(t, s, workloadstest.KWOKNode("n4", "2")) })
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, e := range *log {
			fmt.Fprintf(&b, "%v %s %s %s\n", e.At, e.What, e.Pod, e.UID)
		}
		b.WriteString(workloadstest.Placement(t, s))
		return b.String()
	}
	first := run()
	if strings.Count(first, " created ") < 13 {
		t.Fatalf("scenario did not run as expected:\n%s", first)
	}
	for i := 0; i < 2; i++ {
		if again := run(); again != first {
			t.Fatalf("run %d differs:\n%s", i+2, workloadstest.FirstDifference([]byte(first), []byte(again)))
		}
	}
}

// A run with devices, claims made from templates and the report's gpu section gives the same
// report with one OS thread and with two: the claim controller, the DynamicResources plugin's
// allocations and the gpu log follow the run's order, not the Go scheduler's.
func TestDRAReportIsDeterministic(t *testing.T) {
	nodes, objs := draScenario(t)
	sc := workloads.Scenario{Nodes: nodes, Workloads: objs}
	var first []byte
	for i, procs := range []int{1, 2, 1} {
		prev := runtime.GOMAXPROCS(procs)
		got, r := reportJSON(t, sc)
		runtime.GOMAXPROCS(prev)
		if i == 0 {
			first = got
			// At the end the devices are free and a pod of the Job would fit: nothing is
			// stranded.
			if r.GPU == nil || r.GPU.Model != "dra" || r.GPU.Allocation.Peak != 1 || r.Summary.Pods.Succeeded != 6 ||
				r.GPU.Allocation.Final != 0 || r.GPU.StrandedMilli != 0 || r.GPU.Cards != 4 {
				t.Fatalf("scenario did not run as expected: gpu %+v, pods %+v", r.GPU, r.Summary.Pods)
			}
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("run %d (GOMAXPROCS=%d) differs from run 0:\n%s", i, procs, workloadstest.FirstDifference(first, got))
		}
	}
}
