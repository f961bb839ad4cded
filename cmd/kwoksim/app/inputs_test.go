package app

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/analysis"
)

const (
	inputsDir   = "../../../testdata/inputs/"
	bundle      = inputsDir + "bundle.yaml"
	bundleNodes = inputsDir + "nodes.yaml"
)

// What bundle.yaml holds besides what kwoksim simulates: one entry per apiVersion, kind and
// reason, sorted by kind.
var bundleSkipped = []analysis.SkippedKind{
	{APIVersion: "v1", Kind: "ConfigMap", Count: 2, Reason: "kwoksim does not simulate this kind"},
	{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition", Count: 1,
		Reason: "custom resource definitions are not simulated: kwoksim serves only built-in kinds"},
	{APIVersion: "v1", Kind: "Pod", Count: 1,
		Reason: "Helm hook (helm.sh/hook annotation): Helm runs it around the install and deletes it, it is not part of the release"},
	{APIVersion: "v1", Kind: "Secret", Count: 1, Reason: "kwoksim does not simulate this kind"},
	{APIVersion: "example.com/v1", Kind: "Widget", Count: 1, Reason: "custom resource: its API group is not built into Kubernetes"},
}

const bundleSkippedLine = "kwoksim: skipped 6 objects of 5 kinds kwoksim does not simulate: " +
	"ConfigMap ×2, CustomResourceDefinition ×1 (CRD), Pod ×1 (Helm hook), Secret ×1, Widget ×1 (custom resource)\n"

// A chart's output of every kind, nodes and workloads together, through -f: the Deployment
// listed before its Namespace and PriorityClass is created after them (Helm's install order),
// the kinds kwoksim does not simulate are skipped and listed, and the Node written without
// labels gets the kubelet's, so that the Deployment's hostname anti-affinity spreads its three
// pods over the three nodes.
func TestMixedBundle(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "-f", bundle, "--nodes", bundleNodes, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if got := r.Summary.Pods; got.Total != 3 || got.Running != 3 {
		t.Errorf("summary.pods = %+v, want the Deployment's 3 pods running", got)
	}
	nodes := map[string]bool{}
	for _, p := range r.Pods {
		if p.Namespace != "shop" {
			t.Errorf("pod %s/%s, want namespace shop", p.Namespace, p.Name)
		}
		nodes[p.Node] = true
	}
	if len(nodes) != 3 || r.Summary.Nodes.Total != 3 {
		t.Errorf("pods on %v of %d nodes, want one on each of 3 (required hostname anti-affinity)", nodes, r.Summary.Nodes.Total)
	}
	if !reflect.DeepEqual(r.Skipped, bundleSkipped) {
		t.Errorf("skipped = %+v\nwant %+v", r.Skipped, bundleSkipped)
	}
	if !strings.HasPrefix(errOut, bundleSkippedLine) {
		t.Errorf("stderr does not start with the skipped line:\n%s\nwant:\n%s", errOut, bundleSkippedLine)
	}
	note := "labels kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch set on 3 nodes that lacked them (bare-1, bare-2, bare-0)"
	if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], note) || !strings.Contains(errOut, "kwoksim: note: "+note) {
		t.Errorf("notes = %q, stderr:\n%s\nwant a note %q in both", r.Notes, errOut, note)
	}

	// The same bundle on standard input gives the same report.
	code, stdinOut, errOut := kwoksimStdin(t, readFile(t, bundle), "run", "-f", "-", "--nodes", bundleNodes, "-o", "json")
	if code != exitOK {
		t.Fatalf("-f -: exit %d: %s", code, errOut)
	}
	sameRun(t, stdinOut, out)

	// The table output has a short section listing them.
	_, table, _ := kwoksim(t, "run", "-f", bundle, "--nodes", bundleNodes)
	for _, want := range []string{"Skipped inputs, not simulated (5 kinds):\n  v1 ConfigMap ×2: kwoksim does not simulate this kind\n",
		"  example.com/v1 Widget ×1: custom resource", "Notes:\n  labels kubernetes.io/hostname"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// --workload takes the same mix, and an input without any node but the ones -f holds runs.
func TestMixedWorkloadFlag(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "--workload", bundle, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if !reflect.DeepEqual(r.Skipped, bundleSkipped) || r.Summary.Nodes.Total != 1 {
		t.Errorf("skipped = %+v, nodes = %d; want the bundle's skipped kinds and its one node", r.Skipped, r.Summary.Nodes.Total)
	}
	// One node, three pods that must not share it: two stay pending, as in a real cluster.
	if got := r.Summary.Pods; got.Running != 1 || got.Unschedulable != 2 {
		t.Errorf("summary.pods = %+v, want 1 running and 2 unschedulable", got)
	}
}

// --strict-kinds makes a skipped kind bad input, listing every one.
func TestStrictKinds(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "-f", bundle, "--strict-kinds", "--report", t.TempDir()+"/r.json")
	if code != exitBadInput || out != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing written", code, out)
	}
	for _, s := range bundleSkipped {
		want := fmt.Sprintf("%s %s ×%d: %s", s.APIVersion, s.Kind, s.Count, s.Reason)
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(errOut, "--strict-kinds") {
		t.Errorf("stderr does not name the flag:\n%s", errOut)
	}
}

// A misspelt built-in kind or version is still a mistake, with the hint naming what exists;
// only kinds of groups that are not built in are taken for custom resources.
func TestMixedTypos(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"typo-kind.yaml", `typo-kind.yaml:1: unknown kind "Deploymnet" in apiVersion "apps/v1"`},
		{"typo-version.yaml", `typo-version.yaml:1: unknown kind "Deployment" in apiVersion "apps/v1beta9" (known: apps/v1 Deployment`},
	} {
		for _, flag := range []string{"-f", "--workload"} {
			code, _, errOut := kwoksim(t, "run", flag, inputsDir+tc.file, "--nodes", seedNodes)
			if code != exitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("%s %s: exit %d, stderr:\n%s\nwant 2 and %q", flag, tc.file, code, errOut, tc.want)
			}
		}
	}
}

// A shell glob given to --nodes expands to several arguments; the message says how to give
// them instead of cobra's "unknown command".
func TestPathFlagGlob(t *testing.T) {
	code, _, errOut := kwoksim(t, "run", "--nodes", bundleNodes, inputsDir+"typo-kind.yaml", inputsDir+"typo-version.yaml")
	want := `kwoksim: unexpected arguments "../../../testdata/inputs/typo-kind.yaml" "../../../testdata/inputs/typo-version.yaml": ` +
		"--nodes takes one path; repeat the flag for each file (--nodes a.yaml --nodes b.yaml) or pass the directory (--nodes ../../../testdata/inputs/)"
	if code != exitBadInput || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", code, errOut, want)
	}
	// The flag named is the one the glob followed.
	code, _, errOut = kwoksim(t, "run", "--nodes", seedNodes, "-f", bundle, inputsDir+"nodes.yaml")
	if code != exitBadInput || !strings.Contains(errOut, "--filename takes one path") {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 naming --filename", code, errOut)
	}
}

// An HPA in the inputs is acted on: without usage data for its target's pods it behaves as
// the real controller does when the resource metrics API returns nothing (every reconcile
// fails, the replicas stay as written), and the table says so, with what would give it data.
func TestHPAWithoutUsageData(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "-f", bundle, "-f", inputsDir+"hpa.yaml", "--nodes", bundleNodes, "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.NotActedOn) != 0 {
		t.Errorf("notActedOn = %+v, want none", r.NotActedOn)
	}
	h := r.HorizontalPodAutoscalers
	if h == nil || len(h.HPAs) != 1 {
		t.Fatalf("horizontalPodAutoscalers = %+v, want the HPA", h)
	}
	it := h.HPAs[0]
	if it.Reconciles == 0 || it.FailedReconciles != it.Reconciles || !strings.Contains(it.LastFailure, "no metrics returned from resource metrics API") {
		t.Errorf("%d of %d reconciles failed, last %q; want all, for want of metrics", it.FailedReconciles, it.Reconciles, it.LastFailure)
	}
	if got := r.Summary.Pods.Total; got != 3 {
		t.Errorf("%d pods, want the Deployment's 3 as written", got)
	}
	_, table, _ := kwoksim(t, "run", "-f", bundle, "-f", inputsDir+"hpa.yaml", "--nodes", bundleNodes)
	if line := "WARNING: hpa shop/web: "; !strings.Contains(table, line) || !strings.Contains(table, "kwoksim.io/cpu-usage") {
		t.Errorf("table lacks the WARNING with the hint:\n%s", table)
	}
}

// A NodePool given with -f and --autoscaler none is read, validated and listed as not acted
// on; it is not stored and adds no node. (Without --autoscaler, cluster-autoscaler scales it.)
func TestNodePoolNotActedOn(t *testing.T) {
	code, out, errOut := kwoksim(t, "run", "-f", bundle, "-f", inputsDir+"nodepool.yaml", "--nodes", bundleNodes, "-o", "json", "--autoscaler", "none")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := decodeReport(t, out)
	if len(r.NotActedOn) != 1 || r.NotActedOn[0].APIVersion != "kwoksim/v1alpha1" || r.NotActedOn[0].Kind != "NodePool" || r.NotActedOn[0].Count != 1 ||
		!strings.Contains(r.NotActedOn[0].Note, "would add nodes of this pool when pods are unschedulable") {
		t.Errorf("notActedOn = %+v, want the NodePool once, with what a cluster autoscaler would do", r.NotActedOn)
	}
	if line := "NodePool ×1 (read and validated, not stored, and not acted on with --autoscaler none: a cluster autoscaler would add nodes"; !strings.Contains(errOut, line) {
		t.Errorf("stderr lacks %q:\n%s", line, errOut)
	}
	// Only the given nodes: none of the pool's.
	_, without, _ := kwoksim(t, "run", "-f", bundle, "--nodes", bundleNodes, "-o", "json")
	if got, want := len(r.Nodes), len(decodeReport(t, without).Nodes); got != want {
		t.Errorf("%d nodes with the pool, %d without: the pool added nodes", got, want)
	}
	for _, n := range r.Nodes {
		if strings.HasPrefix(n.Name, "general-") {
			t.Errorf("node %s is the pool's", n.Name)
		}
	}
}
