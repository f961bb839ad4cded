package workloads_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/workloads"

	"github.com/kwoksim/kwoksim/workloads/workloadstest"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden reports of testdata/traces (review the diff before committing)")

// traceScenario loads testdata/traces/NAME: nodes.yaml, an optional workloads.yaml, and
// trace.yaml or trace.jsonl.
func traceScenario(t *testing.T, dir string) workloads.Scenario {
	t.Helper()
	var sc workloads.Scenario
	var err error
	if sc.Nodes, err = manifest.Load([]string{filepath.Join(dir, "nodes.yaml")}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}}); err != nil {
		t.Fatal(err)
	}
	if w := filepath.Join(dir, "workloads.yaml"); fileExists(w) {
		if sc.Workloads, err = manifest.Load([]string{w}, manifest.LoadOptions{Kinds: manifest.WorkloadKinds}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"trace.yaml", "trace.jsonl"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			sc.Traces = append(sc.Traces, p)
		}
	}
	if len(sc.Traces) == 0 {
		t.Fatalf("%s has no trace", dir)
	}
	sc.Seed = 1
	// A minute keeps the goldens' time series short enough to review point by point (the
	// default would give 600 to 900 points); DefaultSampleInterval has its own test.
	sc.SampleInterval = time.Minute
	return sc
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Each trace of testdata/traces replays to its golden report, identically at GOMAXPROCS 1
// and 2. The goldens are reviewed by hand: each trace's comments say what must happen.
func TestTraceGoldenReports(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/traces/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no traces: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			sc := traceScenario(t, dir)
			var first []byte
			for i, procs := range []int{1, 2} {
				prev := runtime.GOMAXPROCS(procs)
				got, _ := reportJSON(t, sc)
				runtime.GOMAXPROCS(prev)
				if i == 0 {
					first = got
				} else if !bytes.Equal(first, got) {
					t.Fatalf("GOMAXPROCS=2 differs from GOMAXPROCS=1:\n%s", workloadstest.FirstDifference(first, got))
				}
			}
			golden := filepath.Join(dir, "report.golden.json")
			if *updateGolden {
				if err := os.WriteFile(golden, first, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it, then review it)", err)
			}
			if !bytes.Equal(want, first) {
				t.Errorf("report differs from %s:\n%s", golden, workloadstest.FirstDifference(want, first))
			}
		})
	}
}
