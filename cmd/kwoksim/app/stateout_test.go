package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// stateList is a --state-out file: a v1 List.
type stateList struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []map[string]any `json:"items"`
}

func readState(t *testing.T, path string) stateList {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l stateList
	if err := yaml.Unmarshal(data, &l); err != nil {
		t.Fatalf("%s is not YAML: %v", path, err)
	}
	if l.APIVersion != "v1" || l.Kind != "List" {
		t.Fatalf("%s is a %s %s, want a v1 List", path, l.APIVersion, l.Kind)
	}
	return l
}

// splitState writes a state's nodes and its other objects to two files, for --nodes and
// --workload.
func splitState(t *testing.T, l stateList, dir string) (nodes, rest string) {
	t.Helper()
	var n, w []map[string]any
	for _, it := range l.Items {
		if it["kind"] == "Node" {
			n = append(n, it)
		} else {
			w = append(w, it)
		}
	}
	write := func(name string, items []map[string]any) string {
		data, err := yaml.Marshal(stateList{APIVersion: "v1", Kind: "List", Items: items})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("nodes.yaml", n), write("rest.yaml", w)
}

// run --state-out writes the final state, every object with its uid; a run from it restores
// the same cluster: the same pods on the same nodes, all restored, and the same state again.
func TestRunStateOutRoundTrip(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.yaml")
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "-o", "json", "--state-out", first)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r1 := decodeReport(t, out)
	state := readState(t, first)
	kinds := map[string]int{}
	for _, it := range state.Items {
		kinds[it["kind"].(string)]++
		if md, _ := it["metadata"].(map[string]any); md == nil || md["uid"] == nil {
			t.Errorf("%s without a uid: %v", it["kind"], it["metadata"])
		}
	}
	if kinds["Pod"] != 10 || kinds["Node"] != 1 || kinds["Deployment"] != 1 || kinds["ReplicaSet"] != 1 {
		t.Errorf("state holds %v, want the seed's node, Deployment, ReplicaSet and 10 pods", kinds)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	nodes, rest := splitState(t, state, dir)
	second := filepath.Join(dir, "second.yaml")
	code, out, errOut = kwoksim(t, "run", "--nodes", nodes, "--workload", rest, "-o", "json", "--state-out", second)
	if code != exitOK {
		t.Fatalf("run from the state: exit %d: %s", code, errOut)
	}
	r2 := decodeReport(t, out)
	if len(r2.Pods) != len(r1.Pods) {
		t.Fatalf("%d pods from the state, want %d", len(r2.Pods), len(r1.Pods))
	}
	for i, p := range r2.Pods {
		if q := r1.Pods[i]; p.Name != q.Name || p.Node != q.Node || p.Phase != q.Phase || !p.Restored || p.Attempts != 0 {
			t.Errorf("pod %s on %q %s restored %v attempts %d; want %s on %q %s, restored, never attempted", p.Name, p.Node, p.Phase, p.Restored, p.Attempts, q.Name, q.Node, q.Phase)
		}
	}
	if len(r2.Transitions) != 0 {
		t.Errorf("stages ran on the restored cluster: %+v", r2.Transitions)
	}
	a, b := readText(t, first), readText(t, second)
	volatile := regexp.MustCompile(`(resourceVersion: "\d*"|"?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"?)`)
	if volatile.ReplaceAllString(a, "…") != volatile.ReplaceAllString(b, "…") {
		t.Errorf("the state changed across a round trip:\n%s\n---\n%s", a, b)
	}
}

func readText(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A --state-out path that cannot be written fails before the run (exit 2).
func TestRunStateOutCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ path, want string }{
		{dir, "expected a file, found a directory"},
		{filepath.Join(dir, "missing", "state.yaml"), "does not exist"},
	} {
		code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--state-out", tc.path)
		if code != exitBadInput || !strings.Contains(errOut, "--state-out") || !strings.Contains(errOut, tc.want) {
			t.Errorf("--state-out %s: exit %d, %q; want 2 and %q", tc.path, code, errOut, tc.want)
		}
	}
}
