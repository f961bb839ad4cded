package workloads

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden reports of testdata/traces (review the diff before committing)")

// traceScenario loads testdata/traces/NAME: nodes.yaml, an optional workloads.yaml, and
// trace.yaml or trace.jsonl.
func traceScenario(t *testing.T, dir string) Scenario {
	t.Helper()
	var sc Scenario
	var err error
	if sc.Nodes, err = Load([]string{filepath.Join(dir, "nodes.yaml")}, LoadOptions{Kinds: map[string]bool{"Node": true}}); err != nil {
		t.Fatal(err)
	}
	if w := filepath.Join(dir, "workloads.yaml"); fileExists(w) {
		if sc.Workloads, err = Load([]string{w}, LoadOptions{Kinds: WorkloadKinds}); err != nil {
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
					t.Fatalf("GOMAXPROCS=2 differs from GOMAXPROCS=1:\n%s", firstDifference(first, got))
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
				t.Errorf("report differs from %s:\n%s", golden, firstDifference(want, first))
			}
		})
	}
}

// Trace parsing: events keep their file line, a List applies all its items, a patch can be
// given as a JSON string, a namespaced reference without a namespace means default.
func TestTraceParsing(t *testing.T) {
	dir := t.TempDir()
	yamlTrace := filepath.Join(dir, "t.yaml")
	os.WriteFile(yamlTrace, []byte(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 0s
  apply:
    apiVersion: v1
    kind: List
    items:
    - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
    - {apiVersion: v1, kind: Namespace, metadata: {name: b}}

- at: 1h30m
  patch: {kind: Deployment, name: web, type: json, patch: '[{"op":"replace","path":"/spec/paused","value":true}]'}
- at: 1h30m
  delete: {kind: Node, name: n1}
`), 0o644)
	r, err := openTrace(yamlTrace, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		ev, err := r.next()
		if err != nil {
			break
		}
		got = append(got, strings.Join([]string{ev.Source.String(), ev.At.String(), string(ev.Op), ev.Target.String(), string(ev.Patch)}, " "))
		if ev.Op == OpApply && len(ev.Objects) != 2 {
			t.Errorf("apply of a List: %d objects, want 2", len(ev.Objects))
		}
	}
	want := []string{
		yamlTrace + ":4 0s apply   ", // no target: ObjectRef{} prints as " "
		yamlTrace + `:12 1h30m0s patch Deployment default/web [{"op":"replace","path":"/spec/paused","value":true}]`,
		yamlTrace + ":14 1h30m0s delete Node n1 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for _, tc := range []struct{ line, want string }{
		{`{"at":"1s","scale":{"kind":"Job","name":"x","replicas":1}}`, `scale: kind "Job" is not accepted here; expected one of Deployment, ReplicaSet, StatefulSet`},
		{`{"at":"1s","scale":{"kind":"Deployment","name":"x"}}`, "scale: replicas: expected a non-negative integer"},
		{`{"at":"1s","patch":{"kind":"Node","name":"n","type":"apply","patch":{}}}`, `patch: type: expected strategic, merge or json, got "apply"`},
		{`{"at":"1s","patch":{"kind":"Node","name":"n","type":"json","patch":{}}}`, "a json patch is a list of operations"},
		{`{"at":"1s","delete":{"kind":"Node","namespace":"x","name":"n"}}`, `Node is cluster-scoped; remove namespace "x"`},
		{`{"at":"1s","delete":{"kind":"Pod","name":"p"},"scale":{}}`, "the event has 2 operations (delete, scale)"},
		{`{"at":"1s","apply":{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}}`, `apply: kind "Service" is not accepted here`},
		{`{"at":"1s","apply":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containerz":[]}}}`, `unknown field "spec.containerz"`},
		{`{"apply":{}}`, `missing "at"`},
		{`[1,2]`, "expected an event, a mapping with at and one of apply, delete, scale, patch; found a list"},
	} {
		p := filepath.Join(dir, "bad.jsonl")
		os.WriteFile(p, []byte("\n"+tc.line+"\n"), 0o644)
		_, err := CheckTrace(p, 0)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), p+":2: ") {
			t.Errorf("%s:\n got %v\nwant %s:2: …%s…", tc.line, err, p, tc.want)
		}
	}
}
