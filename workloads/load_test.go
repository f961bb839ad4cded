package workloads_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// loadTrace sets the demand of Deployment web (three one-CPU pods, Ready at once with the
// default stages) at 10 s and again at 20 s for memory only, and names a Deployment that does
// not exist at 30 s.
const loadTrace = `apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 10s
  load: {kind: Deployment, name: web, cpu: 1500m, memory: 3Gi}
- at: 20s
  load: {kind: Deployment, namespace: default, name: web, memory: 1Gi}
- at: 30s
  load: {kind: Deployment, name: nope, cpu: "2"}
`

// A trace's load operation, end to end: workloads.Run replays it (a missing workload is a
// trace error worded as the other operations' are), and replayed on a simulator it is the
// demand the load model records.
func TestTraceLoadOperation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.yaml")
	if err := os.WriteFile(path, []byte(loadTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := func(o runtime.Object) manifest.Object {
		return manifest.Object{Obj: o, Source: manifest.Source{File: "test", Line: 1}}
	}
	sc := workloads.Scenario{
		Config:    sim.Config{Seed: 1, Until: time.Minute},
		Nodes:     []manifest.Object{obj(workloadstest.CPUNode("n1", 4))},
		Workloads: []manifest.Object{obj(workloadstest.Deployment("web", 3))},
		Traces:    []string{path},
	}
	r, err := workloads.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	want := []analysis.TraceErrorReport{{At: 30, File: path, Line: 8, Message: "Deployment default/nope not found"}}
	if fmt.Sprint(r.TraceErrors) != fmt.Sprint(want) {
		t.Errorf("trace errors %+v, want %+v", r.TraceErrors, want)
	}

	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: time.Minute})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4), workloadstest.Deployment("web", 3))
	rp, err := trace.Start(s, []string{path}, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if obs.Usage == nil || len(obs.Usage.Workloads) != 1 {
		t.Fatalf("usage %+v, want Deployment web's", obs.Usage)
	}
	w := obs.Usage.Workloads[0]
	// The memory-only operation leaves the CPU demand as it was (-1).
	loads := []analysis.LoadStep{{At: 10 * time.Second, CPU: 1500, Memory: 3 << 30}, {At: 20 * time.Second, CPU: -1, Memory: 1 << 30}}
	// The three pods, Ready long before 10 s, share the demand at once; each requests 1 CPU
	// and no memory.
	steps := []analysis.WorkloadUsageStep{
		{UsageStep: analysis.UsageStep{At: 10 * time.Second, CPU: 1500, Memory: 3 << 30, RequestedCPU: 3000}, ReadyPods: 3},
		{UsageStep: analysis.UsageStep{At: 20 * time.Second, CPU: 1500, Memory: 1 << 30, RequestedCPU: 3000}, ReadyPods: 3},
	}
	if w.Name != "web" || fmt.Sprint(w.Loads) != fmt.Sprint(loads) || fmt.Sprint(w.Steps) != fmt.Sprint(steps) {
		t.Errorf("web's usage: %+v\nwant loads %v, steps %v", w, loads, steps)
	}
}
