package fidelity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeScenario writes a scenario directory with one node and the given checks, and loads it.
func writeScenario(t *testing.T, checks string) (*Scenario, string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "case")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"scenario.yaml": "description: test\nstages: fast\nduration: 30s\nrepeats: 1\n" + checks,
		"nodes.yaml": `apiVersion: v1
kind: List
items:
- {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "a"}}}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {topology.kubernetes.io/zone: b}}
`,
		"trace.yaml": `apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- {"at": "0s", "apply": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}}
- {"at": "20s", "apply": {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n3", "labels": {"topology.kubernetes.io/zone": "c"}}}}
`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := LoadScenario(dir)
	return sc, filepath.Join(dir, "scenario.yaml"), err
}

func TestLoadChecks(t *testing.T) {
	sc, _, err := writeScenario(t, `checks:
- check: placement
  owner: Deployment/web
  by: zone
- check: timing
  of: lastRunning
  owner: Deployment/web
  since: 20s
  tolerance: 2s
  known: "not modelled"
- check: distribution
  owner: Deployment/web
  countTolerance: 0
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Checks) != 3 || sc.Checks[1].Tolerance.Duration.Seconds() != 2 || sc.Checks[1].Since.Duration.Seconds() != 20 ||
		sc.Checks[1].Known != "not modelled" || *sc.Checks[2].CountTolerance != 0 {
		t.Fatalf("checks: %+v", sc.Checks)
	}
	// The node labels come from nodes.yaml (a List and a single Node) and from the trace.
	for node, zone := range map[string]string{"n1": "a", "n2": "b", "n3": "c"} {
		if got := sc.NodeLabels[node]["topology.kubernetes.io/zone"]; got != zone {
			t.Errorf("node %s: zone %q, want %q", node, got, zone)
		}
	}
}

// A bad check is an error naming the scenario file, the check's index and what is wrong.
func TestLoadBadChecks(t *testing.T) {
	ok := "- check: names\n  owner: Deployment/web\n"
	for _, tc := range []struct{ name, check, want string }{
		{"unknown kind", "- check: placment\n  owner: Deployment/web\n", `check: want one of placement, unschedulable`},
		{"unknown field", "- check: names\n  owner: Deployment/web\n  ownr: x\n", `unknown field "ownr"`},
		{"missing parameter", "- check: placement\n  owner: Deployment/web\n", "(placement): by: required"},
		{"parameter of another kind", "- check: names\n  owner: Deployment/web\n  by: zone\n", "(names): by: not a parameter of a names check"},
		{"owner without kind", "- check: names\n  owner: web\n", "owner: want Kind/name"},
		{"rollout of a ReplicaSet", "- check: rollout\n  owner: ReplicaSet/web-abc\n", "owner: want a Deployment"},
		{"bad by", "- check: placement\n  owner: Deployment/web\n  by: rack\n", `by: want "zone", "node", "histogram" or "label:KEY", got "rack"`},
		{"bad of", "- check: timing\n  of: lastReady\n  owner: Deployment/web\n  tolerance: 1s\n", `of: want first or last`},
		{"timing without tolerance", "- check: timing\n  of: lastRunning\n  owner: Deployment/web\n", "tolerance: required"},
		{"timing of whose pods", "- check: timing\n  of: lastRunning\n  tolerance: 1s\n", "want owner or node"},
		{"taint without node", "- check: timing\n  of: taint\n  taint: a:NoSchedule\n  tolerance: 1s\n", "of taint: want node and taint"},
		{"bad ready status", "- check: timing\n  of: ready\n  node: n1\n  status: Ready\n  tolerance: 1s\n", `status: want "True", "False" or "Unknown"`},
		{"bad tolerance", "- check: timing\n  of: lastRunning\n  owner: Deployment/web\n  tolerance: 2\n", "duration"},
		{"zero steps", "- check: rollout\n  owner: Deployment/web\n  steps: 0\n", "steps: want at least 1"},
		{"sizes without workload", "- check: sizes\n  owner: Job/batch\n", "(sizes): workload: required"},
		{"hpa without countTolerance", "- check: hpa\n  hpa: web\n", "(hpa): countTolerance: required"},
		{"hpa of a bad name", "- check: hpa\n  hpa: default/\n  countTolerance: 1\n", `hpa: want name or namespace/name, got "default/"`},
		{"hpa on another kind", "- check: sizes\n  workload: Job/batch\n  hpa: web\n", "(sizes): hpa: not a parameter of a sizes check"},
		{"negative count tolerance", "- check: distribution\n  owner: Deployment/web\n  countTolerance: -1\n", "countTolerance: must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := writeScenario(t, "checks:\n"+ok+tc.check)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, want := range []string{path, "checks[1]", tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

// The suite's own checks load.
func TestSuiteChecksLoad(t *testing.T) {
	suite, err := LoadSuite(filepath.Join("..", "testdata", "fidelity"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range suite {
		if len(sc.Checks) == 0 {
			t.Errorf("%s: no checks", sc.Name)
		}
	}
}
