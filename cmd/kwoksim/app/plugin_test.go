package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
	"github.com/kwoksim/kwoksim/examples/plugins/nodecost"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// nodecostDir holds the example out-of-tree plugin's nodes, Deployment and configuration.
const nodecostDir = "../../../examples/plugins/nodecost/"

// withNodeCost is what examples/plugins/cmd/kwoksim-nodecost gives Main.
var withNodeCost = []Option{WithPlugin(nodecost.Name, nodecost.New)}

// pluginsEnv, set to 1 in a child's environment, makes the test binary acting as kwoksim
// (TestMain) a build with withNodeCost, as a plan's or sweep's runs are the parent's binary.
const pluginsEnv = "KWOKSIM_TEST_PLUGINS"

func childPlugins() []Option {
	if os.Getenv(pluginsEnv) == "1" {
		return withNodeCost
	}
	return nil
}

// kwoksimWith is kwoksim (run_test.go) in a build with the out-of-tree plugins opts register.
func kwoksimWith(t *testing.T, opts []Option, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := executeWith(context.Background(), args, os.Stdin, &stdout, &stderr, opts...)
	return code, stdout.String(), stderr.String()
}

// reportWith runs the command line with -o json in a build with opts, twice, and returns the
// report once it has checked that it ran and gave the same report both times.
func reportWith(t *testing.T, opts []Option, args ...string) *analysis.Report {
	t.Helper()
	args = append(args, "-o", "json")
	var first string
	for i := range 2 {
		code, out, errOut := kwoksimWith(t, opts, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		out = runtimeField.ReplaceAllString(out, `"runtime": {}`)
		if i == 0 {
			first = out
		} else if out != first {
			t.Errorf("%v: two runs gave different reports:\n%s", args, lineDiff([]byte(first), []byte(out)))
		}
	}
	return decodeReport(t, first)
}

// exampleNodes are the example's nodes, read as the run reads them.
func exampleNodes(t *testing.T) []*corev1.Node {
	t.Helper()
	objs, err := manifest.Load([]string{nodecostDir + "nodes.yaml"}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*corev1.Node
	for _, o := range objs {
		nodes = append(nodes, o.Obj.(*corev1.Node))
	}
	return nodes
}

// costPlacement checks the report's placements against the costs the nodes' label gives:
// NodeCost's promise is that no pod sits on a node while a cheaper one (or, for a node without
// a cost, any node with one) still has room for it. It returns the violations and the nodes
// used, sorted.
func costPlacement(t *testing.T, r *analysis.Report, nodes []*corev1.Node, label string) (violations, used []string) {
	t.Helper()
	podsOn := map[string]int{}
	for _, p := range r.Pods {
		if p.Node == "" {
			t.Fatalf("pod %s unscheduled: %s", p.Name, p.UnschedulableReason)
		}
		podsOn[p.Node]++
	}
	// Every pod asks for 1 CPU: a node has room while it holds fewer pods than CPUs.
	room := func(n *corev1.Node) bool { return int64(podsOn[n.Name]) < n.Status.Allocatable.Cpu().Value() }
	cheaper := func(a, b *corev1.Node) bool {
		ca, oka := nodecost.Cost(a, label)
		cb, okb := nodecost.Cost(b, label)
		return oka && (!okb || ca < cb)
	}
	for _, n := range nodes {
		if podsOn[n.Name] == 0 {
			continue
		}
		used = append(used, n.Name)
		for _, m := range nodes {
			if cheaper(m, n) && room(m) {
				violations = append(violations, fmt.Sprintf("%s holds %d pod(s) while the cheaper %s has room", n.Name, podsOn[n.Name], m.Name))
			}
		}
	}
	sort.Strings(used)
	return violations, used
}

// The example plugin decides placements: the same nodes and pods land on the cheapest nodes
// with NodeCost enabled, spread over every node without it, and on other nodes when its args
// name another label.
func TestPluginNodeCostPlacesOnCheapestNodes(t *testing.T) {
	nodes := exampleNodes(t)
	args := []string{"run", "--nodes", nodecostDir + "nodes.yaml", "--workload", nodecostDir + "deployment.yaml"}

	r := reportWith(t, withNodeCost, append(args, "--scheduler-config", nodecostDir+"scheduler-config.yaml")...)
	violations, cheap := costPlacement(t, r, nodes, nodecost.DefaultLabel)
	if len(violations) > 0 || r.Summary.Pods.Scheduled != 8 {
		t.Errorf("with NodeCost: %d pods scheduled on %v; %s", r.Summary.Pods.Scheduled, cheap, strings.Join(violations, "; "))
	}
	// 8 pods of 1 CPU fill two 4-CPU nodes.
	if len(cheap) != 2 {
		t.Errorf("with NodeCost: pods on %v, want the two cheapest nodes", cheap)
	}

	// The same build without the configuration: kube-scheduler's default scoring spreads the
	// pods, cost or not.
	r = reportWith(t, withNodeCost, args...)
	violations, spread := costPlacement(t, r, nodes, nodecost.DefaultLabel)
	if len(violations) == 0 || len(spread) <= len(cheap) {
		t.Errorf("without the configuration: pods on %v, want them spread over more nodes than %v, dear ones too", spread, cheap)
	}

	// The plugin's args reach it: another label, another price list, other nodes.
	const spot = "example.kwoksim.io/spot-cost"
	config := readConfig(t, nodecostDir+"scheduler-config.yaml")
	spotConfig := writeTestConfig(t, strings.Replace(config, "label: "+nodecost.DefaultLabel, "label: "+spot, 1))
	r = reportWith(t, withNodeCost, append(args, "--scheduler-config", spotConfig)...)
	violations, spotUsed := costPlacement(t, r, nodes, spot)
	if len(violations) > 0 || len(spotUsed) != 2 || slices.Equal(spotUsed, cheap) {
		t.Errorf("with label %s: pods on %v (by %s: %v); %s", spot, spotUsed, nodecost.DefaultLabel, cheap, strings.Join(violations, "; "))
	}
}

func readConfig(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeTestConfig(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A configuration that enables a plugin the build lacks is bad input (exit 2, nothing on
// standard output), and the message says that the build lacks it; so are arguments the
// plugin refuses.
func TestPluginUnknownToTheBuild(t *testing.T) {
	nodes := []string{"run", "--nodes", nodecostDir + "nodes.yaml", "--workload", nodecostDir + "deployment.yaml", "--scheduler-config"}
	config := readConfig(t, nodecostDir+"scheduler-config.yaml")
	for _, tc := range []struct {
		name   string
		opts   []Option
		config string
		want   []string
	}{
		{"kwoksim without the plugin", nil, nodecostDir + "scheduler-config.yaml", []string{
			nodecostDir + "scheduler-config.yaml: ", `ScorePlugin "NodeCost" does not exist`,
			`this kwoksim has only the in-tree scheduler plugins; an out-of-tree plugin needs a kwoksim built with it: see "Out-of-tree scheduler plugins" in the README`}},
		{"a plugin neither in tree nor registered", withNodeCost, writeTestConfig(t, strings.ReplaceAll(config, "name: NodeCost", "name: NoSuchPlugin")), []string{
			`ScorePlugin "NoSuchPlugin" does not exist`,
			"this kwoksim has the in-tree scheduler plugins and the out-of-tree NodeCost; another out-of-tree plugin needs a kwoksim built with it"}},
		{"args the plugin refuses", withNodeCost, writeTestConfig(t, strings.Replace(config, "label: "+nodecost.DefaultLabel, "label: not a label!", 1)), []string{
			`NodeCost args: label "not a label!" is not a label key`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kwoksimWith(t, tc.opts, append(nodes, tc.config)...)
			if code != exitBadInput || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 2 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q\nwant it to contain %q", errOut, w)
				}
			}
			if strings.Contains(tc.name, "args") && strings.Contains(errOut, "this kwoksim has") {
				t.Errorf("stderr %q: a plugin the build has needs no word about builds", errOut)
			}
		})
	}
}

// A build whose plugins clash with kwoksim's own, or with each other, fails every command
// (exit 3: the build's fault, not the input's) and names every clash.
func TestPluginRegistryClash(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want []string
	}{
		{"in tree", []Option{WithPlugin("NodeResourcesFit", nodecost.New), WithPlugin("TaintToleration", nodecost.New)}, []string{
			`out-of-tree scheduler plugin "NodeResourcesFit" has the name of an in-tree plugin`,
			`out-of-tree scheduler plugin "TaintToleration" has the name of an in-tree plugin`}},
		{"kwoksim's own", []Option{WithPlugin("KwoksimRecorder", nodecost.New)}, []string{
			`"KwoksimRecorder" has the name of a plugin of kwoksim's own`}},
		{"twice", append(slices.Clone(withNodeCost), withNodeCost...), []string{
			"out-of-tree scheduler plugins: a plugin named NodeCost already exists"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := kwoksimWith(t, tc.opts, "version")
			if code != exitSimulationErr || out != "" {
				t.Errorf("exit %d, stdout %q; want exit 3 and nothing", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q\nwant it to contain %q", errOut, w)
				}
			}
		})
	}
}

// `kwoksim version` lists a build's out-of-tree plugins; a build without any prints no line.
func TestPluginVersionLists(t *testing.T) {
	code, out, errOut := kwoksimWith(t, withNodeCost, "version")
	if code != exitOK || !strings.HasSuffix(out, "\nplugins    NodeCost\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want a last line naming NodeCost", code, out, errOut)
	}
	code, out, errOut = kwoksimWith(t, withNodeCost, "version", "-o", "json")
	var v versionJSON
	if err := json.Unmarshal([]byte(out), &v); code != exitOK || err != nil || !slices.Equal(v.Plugins, []string{nodecost.Name}) || v.Version == "" {
		t.Errorf("-o json: exit %d, %+v (%v): %s%s", code, v, err, out, errOut)
	}
	if _, out, _ := kwoksim(t, "version", "-o", "json"); strings.Contains(out, "plugins") {
		t.Errorf("a build without plugins: %s", out)
	}
}

// The node autoscaler asks a second framework of the profile whether pods would fit on nodes
// it could add (sim.Simulator.FilterFramework): built from a profile that enables an
// out-of-tree plugin, it needs the plugin too, or the run fails at its first scale-up.
func TestPluginWithNodeAutoscaler(t *testing.T) {
	pool := writeTestConfig(t, `apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: cheap}
spec:
  min: 1
  max: 4
  shapes:
  - name: c4
    capacity: {cpu: "4", memory: 16Gi}
    pricePerHour: 0.10
    labels: {example.kwoksim.io/hourly-cost: "0.10"}
  provisioning:
    delay: {min: 60s, max: 60s}
`)
	r := reportWith(t, withNodeCost, "run", "-f", pool, "--workload", nodecostDir+"deployment.yaml",
		"--autoscaler", "cluster-autoscaler", "--scheduler-config", nodecostDir+"scheduler-config.yaml")
	// 8 pods of 1 CPU: the pool's first node takes 4, a second one added takes the rest.
	if s := r.Summary.Pods; s.Scheduled != 8 || r.Summary.Nodes.Total != 2 || r.Autoscaling == nil {
		t.Errorf("summary.pods %+v on %d nodes, autoscaling %+v; want 8 scheduled on 2 nodes, one added", s, r.Summary.Nodes.Total, r.Autoscaling)
	}
}

// A sweep's runs are child processes of the same executable, so they have its plugins: a
// matrix over the example's configuration and kube-scheduler's defaults (written out) places
// the pods on the two cheapest nodes in one and over all six in the other. --index runs its
// combination in process, with the plugins too.
func TestPluginInSweep(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	matrix := writeTestConfig(t, fmt.Sprintf(`apiVersion: kwoksim/v1alpha1
kind: Sweep
base:
  nodes: [%s]
  workload: [%s]
matrix:
  schedulerConfig: [%s, %s]
`, abs(nodecostDir+"nodes.yaml"), abs(nodecostDir+"deployment.yaml"), abs(schedConfigs+"least-allocated.yaml"), abs(nodecostDir+"scheduler-config.yaml")))
	prev := childEnv
	childEnv = append(slices.Clip(childEnv), pluginsEnv+"=1")
	t.Cleanup(func() { childEnv = prev })

	code, out, errOut := kwoksimWith(t, withNodeCost, "sweep", matrix, "--parallel", "1", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	res := decodeResult(t, out)
	if len(res.Combinations) != 2 {
		t.Fatalf("%d combinations", len(res.Combinations))
	}
	for i, want := range []int{6, 2} {
		if row := res.Combinations[i]; row.Status != sweep.StatusDone || row.Summary.Pods.Scheduled != 8 || row.Summary.Nodes.Used != want {
			t.Errorf("combination %d (%s): %s, %+v on %d nodes; want 8 pods on %d", i, row.Label, row.Status, row.Summary.Pods, row.Summary.Nodes.Used, want)
		}
	}
	code, out, errOut = kwoksimWith(t, withNodeCost, "sweep", matrix, "--index", "1", "-o", "json")
	if code != exitOK {
		t.Fatalf("--index 1: exit %d: %s", code, errOut)
	}
	if r := decodeRun(t, []byte(out)).Report; r.Summary.Nodes.Used != 2 {
		t.Errorf("--index 1: pods on %d nodes, want 2", r.Summary.Nodes.Used)
	}
}

// A plan's runs are child processes of the same executable too: with the example's
// configuration, each of them has NodeCost, and 8 pods of 1 CPU need two 4-CPU nodes.
func TestPluginInPlan(t *testing.T) {
	template := writeTestConfig(t, `apiVersion: v1
kind: Node
metadata:
  name: c4
  labels: {example.kwoksim.io/hourly-cost: "0.10"}
status:
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
  capacity: {cpu: "4", memory: 16Gi, pods: "110"}
`)
	prev := childEnv
	childEnv = append(slices.Clip(childEnv), pluginsEnv+"=1")
	t.Cleanup(func() { childEnv = prev })
	code, out, errOut := kwoksimWith(t, withNodeCost, "plan", "--node-template", template, "--workload", nodecostDir+"deployment.yaml",
		"--scheduler-config", nodecostDir+"scheduler-config.yaml", "--max-nodes", "4", "--parallel", "1", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if p := decodePlan(t, out); len(p.Templates) != 1 || p.Templates[0].NodesNeeded == nil || *p.Templates[0].NodesNeeded != 2 {
		t.Errorf("plan %+v, want 2 nodes needed", p)
	}
}
