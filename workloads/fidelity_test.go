package workloads_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/fidelity"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/input"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

var updateFidelity = flag.Bool("update-fidelity", false, "rewrite testdata/fidelity/RESULTS.md from the comparison (review the diff before committing)")

// requireAllObserved makes TestFidelityAllRecorded fail for a scenario of the suite that has
// no observed.json. It stays false until the recorder's observations are merged (the lead
// sets it then), so that the suite can grow ahead of its recordings.
const requireAllObserved = true

const fidelityRoot = "../testdata/fidelity"

// fidelitySuite loads the scenarios of testdata/fidelity.
func fidelitySuite(t *testing.T) []*fidelity.Scenario {
	t.Helper()
	suite, err := fidelity.LoadSuite(fidelityRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(suite) == 0 {
		t.Fatalf("no scenarios in %s", fidelityRoot)
	}
	return suite
}

// runFidelityScenario runs sc in kwoksim as `kwoksim run --nodes nodes.yaml --trace trace.yaml
// --stages stages/<set>.yaml --kcm-flag NAME=VALUE… --until <duration> --seed 1` would, with
// the extra kube-controller-manager flags after the scenario's, and turns the report into an
// Observation.
func runFidelityScenario(t *testing.T, sc *fidelity.Scenario, extraKCM ...string) fidelity.Observation {
	t.Helper()
	nodes, err := manifest.Load([]string{sc.NodesFile()}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	set, err := input.LoadStages([]string{sc.StagesFile()})
	if err != nil {
		t.Fatal(err)
	}
	flags := controlplane.Defaults()
	for _, kv := range append(sc.KCMFlagList(), extraKCM...) {
		// As --kcm-flag does (cmd/kwoksim/app/controlplane.go).
		if err := flags.Set(controlplane.KubeControllerManager, kv); err != nil {
			t.Fatalf("%s: --kcm-flag %s: unknown flag or bad value (kube-api-qps comes with control-plane pacing): %v", sc.Name, kv, err)
		}
	}
	if err := flags.Validate(); err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	report, err := workloads.Run(context.Background(), workloads.Scenario{
		Config: sim.Config{Stages: set, Seed: 1, Until: sc.Duration.Duration, Parallelism: 1, ControlPlane: &flags},
		Nodes:  nodes, Traces: []string{sc.TraceFile()},
	})
	if err != nil {
		t.Fatalf("%s: %v", sc.Name, err)
	}
	obs, err := fidelity.FromReport(sc.Name, report)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

// readObserved reads the scenario's real-cluster observation; ok is false when there is none
// yet.
func readObserved(t *testing.T, sc *fidelity.Scenario) (fidelity.Observation, bool) {
	t.Helper()
	var obs fidelity.Observation
	b, err := os.ReadFile(sc.ObservedFile())
	if errors.Is(err, os.ErrNotExist) {
		return obs, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &obs); err != nil {
		t.Fatalf("%s: %v", sc.ObservedFile(), err)
	}
	if obs.Source != "real" {
		t.Fatalf("%s: source %q, want real", sc.ObservedFile(), obs.Source)
	}
	return obs, true
}

// fidelityCache holds each scenario's findings, so that the tests of one binary run kwoksim
// once per scenario.
var fidelityCache = map[string][]fidelity.Finding{}

// compareScenario runs sc in kwoksim and compares it with its recording; ok is false when
// there is no recording yet.
func compareScenario(t *testing.T, sc *fidelity.Scenario) ([]fidelity.Finding, bool) {
	t.Helper()
	real, ok := readObserved(t, sc)
	if !ok {
		return nil, false
	}
	if f, ok := fidelityCache[sc.Name]; ok {
		return f, true
	}
	f := fidelity.Compare(sc, real, runFidelityScenario(t, sc))
	fidelityCache[sc.Name] = f
	return f, true
}

// Each scenario of the fidelity suite agrees with its recording from a real cluster, check by
// check, except where a check says why it does not (known).
func TestFidelity(t *testing.T) {
	for _, sc := range fidelitySuite(t) {
		t.Run(sc.Name, func(t *testing.T) {
			if len(sc.Checks) == 0 {
				t.Fatalf("%s/scenario.yaml has no checks", sc.Dir)
			}
			findings, ok := compareScenario(t, sc)
			if !ok {
				t.Skipf("%s: no observed.json yet (record it with make record-real)", sc.Name)
			}
			for _, f := range findings {
				if f.Failed() {
					t.Error(f.String())
				} else {
					t.Log(f.String())
				}
			}
		})
	}
}

// Every scenario of the suite has a recording (once requireAllObserved is set).
func TestFidelityAllRecorded(t *testing.T) {
	if !requireAllObserved {
		t.Skip("requireAllObserved is false until the recordings are merged")
	}
	for _, sc := range fidelitySuite(t) {
		if _, err := os.Stat(sc.ObservedFile()); err != nil {
			t.Errorf("%s: no recording: %v (make record-real)", sc.Name, err)
		}
	}
}

// testdata/fidelity/RESULTS.md is the current comparison; -update-fidelity rewrites it.
func TestFidelityResults(t *testing.T) {
	var results []fidelity.ScenarioResult
	for _, sc := range fidelitySuite(t) {
		r := fidelity.ScenarioResult{Scenario: sc.Name, Description: sc.Description}
		findings, ok := compareScenario(t, sc)
		if !ok {
			r.Missing = "Not recorded yet: no observed.json."
		}
		r.Findings = findings
		results = append(results, r)
	}
	var buf bytes.Buffer
	if err := fidelity.WriteResults(&buf, results); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(fidelityRoot, "RESULTS.md")
	if *updateFidelity {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with go test ./workloads -run TestFidelityResults -args -update-fidelity)", err)
	}
	if !bytes.Equal(old, buf.Bytes()) {
		t.Errorf("%s is not current (rewrite it with go test ./workloads -run TestFidelityResults -args -update-fidelity and review the diff):\n%s",
			path, workloadstest.FirstDifference(old, buf.Bytes()))
	}
}

// The comparison has teeth: kwoksim without control-plane pacing (the kube-controller-manager
// client's QPS off: every pod of zones-60 created at one instant) disagrees with the recording
// on a figure that the paced default agrees on.
func TestFidelityMutantNoPacing(t *testing.T) {
	var sc *fidelity.Scenario
	for _, s := range fidelitySuite(t) {
		if s.Name == "zones-60" {
			sc = s
		}
	}
	if sc == nil {
		t.Fatal("no zones-60 scenario")
	}
	// The flag first: until the pacing is merged it does not exist, and this fails naming it.
	mutant := runFidelityScenario(t, sc, "kube-api-qps=-1")
	real, ok := readObserved(t, sc)
	if !ok {
		t.Skip("zones-60: no observed.json yet")
	}
	paced, _ := compareScenario(t, sc)
	broken := fidelity.Compare(sc, real, mutant)
	var caught []string
	for i, f := range broken {
		if !f.Agree && paced[i].Agree {
			caught = append(caught, f.String())
		}
	}
	if len(caught) == 0 {
		var differ []string
		for _, f := range broken {
			if !f.Agree {
				differ = append(differ, f.String())
			}
		}
		t.Fatalf("without pacing, no figure that agrees with pacing disagrees; the mutant's disagreements:\n%s", strings.Join(differ, "\n"))
	}
	t.Logf("without pacing the comparison reports:\n%s", strings.Join(caught, "\n"))
}
