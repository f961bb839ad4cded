package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Three copies of the seed node, with the seed node itself: four nodes, each with its own
// hostname, and the seed Deployment spread over them by the default topology spreading.
func TestNodeTemplateAddsCopies(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--node-template", seedNodes, "--template-nodes", "3",
		"--workload", seedWorkload, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	var names []string
	pods := 0
	for _, n := range r.Nodes {
		names = append(names, n.Name)
		pods += n.Pods
		if n.Pods == 0 {
			t.Errorf("node %s got no pod; the default spreading should use every node", n.Name)
		}
	}
	if got := strings.Join(names, " "); got != "kwok-node-0 kwok-node-0-0 kwok-node-0-1 kwok-node-0-2" {
		t.Errorf("nodes = %s", got)
	}
	if pods != 10 || r.Summary.Nodes.Ready != 4 {
		t.Errorf("%d pods placed, %d nodes ready", pods, r.Summary.Nodes.Ready)
	}

	// Zero copies and no --nodes is a cluster without nodes: every pod unschedulable, with the
	// scheduler's own reason.
	code, out, errOut = kwoksim(t, "run", "--node-template", seedNodes, "--workload", seedWorkload, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r = decodeReport(t, out)
	if r.Summary.Nodes.Total != 0 || r.Summary.Pods.Unschedulable != 10 || r.Pods[0].UnschedulableReason != "no nodes available to schedule pods" {
		t.Errorf("without nodes: summary %+v, first pod %+v", r.Summary, r.Pods[0])
	}
}

func TestNodeTemplateErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	two := write("two.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: b}\n")
	cost := write("cost.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n  annotations: {kwoksim.io/cost: cheap}\n")
	noName := write("noname.yaml", "apiVersion: v1\nkind: Node\nmetadata: {labels: {a: b}}\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--node-template", two, "--template-nodes", "1"}, two + ": a node template must hold exactly one Node, found 2"},
		{[]string{"--node-template", cost, "--template-nodes", "1"}, cost + `:1: metadata.annotations["kwoksim.io/cost"]: the cost of one node must be a non-negative number, got "cheap"`},
		{[]string{"--node-template", noName, "--template-nodes", "1"}, noName + ":1: metadata.name: a node template needs a name"},
		{[]string{"--nodes", seedNodes, "--template-nodes", "2"}, "--template-nodes needs --node-template"},
		{[]string{"--node-template", seedNodes, "--template-nodes", "-1"}, "--template-nodes must not be negative"},
		{[]string{"--workload", seedWorkload}, `"nodes" not set`},
	} {
		code, _, errOut := kwoksim(t, append([]string{"run"}, tc.args...)...)
		if code != exitBadInput || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// A child run is kwoksim in a process of its own: its report comes back decoded, and its
// error message is its own.
func TestRunChild(t *testing.T) {
	res := runChild(context.Background(), []string{"run", "--nodes", seedNodes, "--workload", seedWorkload})
	if res.Err != nil || res.Exit != exitOK || res.Report == nil || res.Report.Summary.Pods.Running != 10 {
		t.Fatalf("child run: exit %d, err %v, report %v", res.Exit, res.Err, res.Report)
	}
	res = runChild(context.Background(), []string{"run", "--nodes", "missing.yaml"})
	if res.Exit != exitBadInput || res.Report != nil || res.Err == nil || !strings.HasPrefix(res.Err.Error(), "missing.yaml: ") {
		t.Errorf("bad child run: exit %d, err %v", res.Exit, res.Err)
	}
}
