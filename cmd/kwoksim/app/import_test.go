package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	openbNodes = "../../../testdata/openb/nodes.csv"
	openbPods  = "../../../testdata/openb/pods.csv"
)

func TestImportOpenb(t *testing.T) {
	out := filepath.Join(t.TempDir(), "openb") // created by the command
	code, stdout, stderr := kwoksim(t, "import", "openb", "--nodes", openbNodes, "--pods", openbPods, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "imported 4 nodes and 6 pods (10 events) into " + out + "\n"; stdout != want || stderr != "" {
		t.Errorf("stdout = %q, want %q; stderr = %q", stdout, want, stderr)
	}
	for _, name := range []string{"nodes.yaml", "trace.jsonl"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../../testdata/openb/golden", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file", name)
		}
	}

	// The simulator takes the nodes as they are.
	nodes := filepath.Join(out, "nodes.yaml")
	code, stdout, stderr = kwoksim(t, "run", "--nodes", nodes, "-o", "json")
	if code != exitOK {
		t.Fatalf("run --nodes: exit %d: %s", code, stderr)
	}
	if r := decodeReport(t, stdout); r.Summary.Nodes.Total != 4 || r.Summary.Nodes.Ready != 4 {
		t.Errorf("summary.nodes = %+v, want 4 ready", r.Summary.Nodes)
	}

	// And the pods: their manifests, gathered into a List, pass the simulator's validation
	// and land only on nodes with the GPU model they ask for.
	pods := filepath.Join(out, "pods.json")
	writePodList(t, filepath.Join(out, "trace.jsonl"), pods)
	code, stdout, stderr = kwoksim(t, "run", "--nodes", nodes, "--workload", pods, "-o", "json")
	if code != exitOK {
		t.Fatalf("run --workload: exit %d: %s", code, stderr)
	}
	r := decodeReport(t, stdout)
	if got := r.Summary.Pods; got.Total != 6 || got.Scheduled != 6 {
		t.Errorf("summary.pods = %+v, want all 6 scheduled", got)
	}
	allowed := map[string]string{ // pod → nodes it may land on
		"pod-spec":  "node-a node-b",
		"pod-noqos": "node-b",
		"pod-multi": "node-a",
		"pod-share": "node-a node-b node-gpu-nomodel",
	}
	for _, p := range r.Pods {
		if nodes, ok := allowed[p.Name]; ok && !strings.Contains(nodes, p.Node) {
			t.Errorf("%s ran on %q, want one of %s", p.Name, p.Node, nodes)
		}
	}
}

// writePodList gathers the applied manifests of a trace into a v1 List file.
func writePodList(t *testing.T, trace, path string) {
	t.Helper()
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list := struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Items      []json.RawMessage `json:"items"`
	}{APIVersion: "v1", Kind: "List"}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Apply json.RawMessage `json:"apply"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Apply != nil {
			list.Items = append(list.Items, ev.Apply)
		}
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
