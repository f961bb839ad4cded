package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

// runReport runs the seed workload on the given nodes and seed, and returns the report's path.
func runReport(t *testing.T, dir, name, nodes, seed string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if code, _, errOut := kwoksim(t, "run", "--nodes", nodes, "--workload", seedWorkload, "--seed", seed, "--report", path); code != exitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	return path
}

func TestCompareReports(t *testing.T) {
	dir := t.TempDir()
	// The same scenario with the node renamed: same seed, so the same pod names, each on the
	// other node.
	data, err := os.ReadFile(seedNodes)
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "renamed-node.yaml")
	if err := os.WriteFile(renamed, []byte(strings.ReplaceAll(string(data), "kwok-node-0", "other-node")), 0o644); err != nil {
		t.Fatal(err)
	}
	a := runReport(t, dir, "a.json", seedNodes, "1")
	b := runReport(t, dir, "b.json", renamed, "1")
	c := runReport(t, dir, "c.json", seedNodes, "2")

	code, out, errOut := kwoksim(t, "compare", a, b, "-o", "json")
	if code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	var cmp analysis.Comparison
	if err := json.Unmarshal([]byte(out), &cmp); err != nil {
		t.Fatalf("compare -o json: %v\n%s", err, out)
	}
	if cmp.A.File != a || cmp.B.File != b || cmp.A.Seed != 1 {
		t.Errorf("sides = %+v %+v", cmp.A, cmp.B)
	}
	for _, f := range cmp.Figures {
		if f.Diff == nil || *f.Diff != 0 {
			t.Errorf("%s differs: %v → %v", f.Name, f.A, f.B)
		}
	}
	if len(cmp.Placements) != 10 {
		t.Fatalf("%d pods placed differently, want all 10", len(cmp.Placements))
	}
	for _, p := range cmp.Placements {
		if p.A == nil || *p.A != "kwok-node-0" || p.B == nil || *p.B != "other-node" {
			t.Errorf("%s/%s: %v → %v, want kwok-node-0 → other-node", p.Namespace, p.Name, p.A, p.B)
		}
	}

	if len(cmp.Nodes) != 2 || cmp.Nodes[0].Name != "kwok-node-0" || *cmp.Nodes[0].A != 10 || cmp.Nodes[0].B != nil ||
		cmp.Nodes[1].Name != "other-node" || cmp.Nodes[1].A != nil || *cmp.Nodes[1].B != 10 {
		t.Errorf("nodes = %+v, want kwok-node-0 with 10 pods in A only and other-node with 10 in B only", cmp.Nodes)
	}

	// Another seed draws other pod names: each report's pods are missing from the other.
	code, out, errOut = kwoksim(t, "compare", a, c)
	if code != exitOK {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"A: " + a + " (seed 1)\nB: " + c + " (seed 2)\n", "summary.pods.running", "Every node holds as many pods in both reports.", "Pods placed differently (20):", "(no such pod)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestCompareBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"apiVersion": "kwoksim/v1alpha1", "kind": "Report", "seed": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	notReport := filepath.Join(dir, "pod.json")
	if err := os.WriteFile(notReport, []byte(`{"apiVersion": "v1", "kind": "Pod"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing", []string{good, filepath.Join(dir, "missing.json")}, []string{"missing.json", "no such file"}},
		{"not JSON", []string{seedNodes, good}, []string{"node.yaml:1: not JSON"}},
		{"not a report", []string{good, notReport}, []string{"pod.json: not a kwoksim report"}},
		{"one file", []string{good}, []string{"accepts 2 arg(s)"}},
		{"bad output", []string{good, good, "-o", "yaml"}, []string{"--output must be table or json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kwoksim(t, append([]string{"compare"}, tc.args...)...)
			if code != exitBadInput || out != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %s", w, errOut)
				}
			}
		})
	}
}
