package openb

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kwoksim/kwoksim/workloads/manifest"
)

var update = flag.Bool("update", false, "rewrite testdata/openb/golden from the current output")

// The fixture covers a CPU-only node, GPU nodes with and without a model and a fractional
// CPU; pods without GPUs, with a GPU share, with gpu_spec "A|B" and "B", without qos, without
// a deletion_time, deleted the second they are created, and several created at the same
// second, listed out of order so that sorting shows.
const (
	fixtureNodes = "../../testdata/openb/nodes.csv"
	fixturePods  = "../../testdata/openb/pods.csv"
	goldenDir    = "../../testdata/openb/golden"
	realTraceDir = "../../../shared/traces/openb"
)

func TestGolden(t *testing.T) {
	out := t.TempDir()
	sum, err := Import(fixtureNodes, fixturePods, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Summary{Nodes: 4, Pods: 6, Events: 10}); sum != want {
		t.Errorf("summary = %+v, want %+v", sum, want)
	}
	for _, name := range []string{NodesFile, TraceFile} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join(goldenDir, name)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (rerun with -update and review the diff):\n%s", name, golden, got)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("output directory holds %d entries, want nodes.yaml and trace.jsonl only", len(entries))
	}
}

// The nodes must load through the simulator's own strict loader and mean what the contract
// says.
func TestNodesDecode(t *testing.T) {
	out := t.TempDir()
	if _, err := Import(fixtureNodes, fixturePods, out, Options{}); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Load([]string{filepath.Join(out, NodesFile)}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, cpu, memory, gpu, model string
	}{
		{"node-cpu", "32", "256Gi", "", ""},
		{"node-a", "96", "768Gi", "8", "A"},
		{"node-b", "64", "512Gi", "4", "B"},
		{"node-gpu-nomodel", "8500m", "30517Mi", "1", ""},
	}
	if len(objs) != len(want) {
		t.Fatalf("%d nodes, want %d", len(objs), len(want))
	}
	for i, w := range want {
		n := objs[i].Obj.(*corev1.Node)
		if n.Name != w.name {
			t.Errorf("node %d is %q, want %q (CSV order)", i, n.Name, w.name)
		}
		for _, list := range []corev1.ResourceList{n.Status.Capacity, n.Status.Allocatable} {
			checkQuantity(t, n.Name+" cpu", list, corev1.ResourceCPU, w.cpu)
			checkQuantity(t, n.Name+" memory", list, corev1.ResourceMemory, w.memory)
			checkQuantity(t, n.Name+" pods", list, corev1.ResourcePods, "256")
			checkQuantity(t, n.Name+" gpu", list, ResourceGPUMilli, map[string]string{"": "", "8": "8k", "4": "4k", "1": "1k"}[w.gpu])
		}
		if got, ok := n.Labels[LabelGPUModel]; got != w.model || ok != (w.model != "") {
			t.Errorf("%s: label %s = %q (set %v), want %q", n.Name, LabelGPUModel, got, ok, w.model)
		}
	}
}

// checkQuantity compares a resource with a quantity string; want "" means absent.
func checkQuantity(t *testing.T, what string, list corev1.ResourceList, name corev1.ResourceName, want string) {
	t.Helper()
	got, ok := list[name]
	if want == "" {
		if ok {
			t.Errorf("%s: %s = %s, want none", what, name, got.String())
		}
		return
	}
	if !ok || got.Cmp(resource.MustParse(want)) != 0 {
		t.Errorf("%s: %s = %s (set %v), want %s", what, name, got.String(), ok, want)
	}
}

// traceLine mirrors one line of trace.jsonl, keeping the manifest raw for the scheme decoder.
type traceLine struct {
	At     string          `json:"at"`
	Apply  json.RawMessage `json:"apply"`
	Delete *objectRef      `json:"delete"`
}

func readTrace(t *testing.T, path string) []traceLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []traceLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l traceLine
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d: %v: %s", len(lines)+1, err, sc.Bytes())
		}
		if (l.Apply == nil) == (l.Delete == nil) {
			t.Fatalf("line %d has not exactly one of apply and delete: %s", len(lines)+1, sc.Bytes())
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// at parses an event time, which must be a Go duration in whole seconds written as such.
func at(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil || d%time.Second != 0 || !strings.HasSuffix(s, "s") || strings.ContainsAny(s, "hm") {
		t.Fatalf("at %q is not a whole number of seconds (%v)", s, err)
	}
	return d
}

// strictDecoder is how the simulator reads manifests: a misspelt field is an error.
var strictDecoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	kjson.SerializerOptions{Strict: true})

func decodePod(t *testing.T, raw []byte) *corev1.Pod {
	t.Helper()
	obj, _, err := strictDecoder.Decode(raw, nil, nil)
	if err != nil {
		t.Fatalf("apply does not decode as a Pod: %v\n%s", err, raw)
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		t.Fatalf("apply decodes as %T, want *v1.Pod", obj)
	}
	return pod
}

// Every apply must decode as a typed Pod whose requests, limits and affinity follow the
// contract, and the events must come in the contract's order.
func TestTraceDecode(t *testing.T) {
	out := t.TempDir()
	if _, err := Import(fixtureNodes, fixturePods, out, Options{}); err != nil {
		t.Fatal(err)
	}
	var order []string
	pods := map[string]*corev1.Pod{}
	for _, l := range readTrace(t, filepath.Join(out, TraceFile)) {
		if l.Delete != nil {
			if *l.Delete != (objectRef{Kind: "Pod", Namespace: "default", Name: l.Delete.Name}) {
				t.Errorf("delete = %+v", *l.Delete)
			}
			order = append(order, l.At+" delete "+l.Delete.Name)
			continue
		}
		p := decodePod(t, l.Apply)
		pods[p.Name] = p
		order = append(order, l.At+" apply "+p.Name)
	}
	wantOrder := []string{
		"0s apply pod-cpu",
		"5s apply pod-noqos",
		"10s apply pod-bursty",
		"10s delete pod-bursty",
		"10s apply pod-share",
		"10s apply pod-spec",
		"100s apply pod-multi",
		"100s delete pod-spec",
		"200s delete pod-multi",
		"3600s delete pod-cpu",
	}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(wantOrder, "\n"))
	}

	for _, w := range []struct {
		name, cpu, memory, gpu, qos string
		models                      []string
	}{
		{"pod-cpu", "4", "8Gi", "", "LS", nil},
		{"pod-share", "6", "12Gi", "460", "BE", nil},
		{"pod-spec", "12", "24Gi", "2000", "LS", []string{"A", "B"}},
		{"pod-bursty", "500m", "1Gi", "", "Burstable", nil},
		{"pod-noqos", "2", "4Gi", "1000", "", []string{"B"}},
		{"pod-multi", "8", "16Gi", "4000", "Guaranteed", []string{"A"}},
	} {
		p := pods[w.name]
		if p == nil {
			t.Errorf("no apply for %s", w.name)
			continue
		}
		if p.Namespace != "default" || p.APIVersion != "v1" || p.Kind != "Pod" || p.Spec.RestartPolicy != "" {
			t.Errorf("%s: namespace %q, %s %s, restartPolicy %q", w.name, p.Namespace, p.APIVersion, p.Kind, p.Spec.RestartPolicy)
		}
		if len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Name != "main" || p.Spec.Containers[0].Image != "openb" {
			t.Fatalf("%s: containers = %+v", w.name, p.Spec.Containers)
		}
		res := p.Spec.Containers[0].Resources
		checkQuantity(t, w.name+" request", res.Requests, corev1.ResourceCPU, w.cpu)
		checkQuantity(t, w.name+" request", res.Requests, corev1.ResourceMemory, w.memory)
		checkQuantity(t, w.name+" request", res.Requests, ResourceGPUMilli, w.gpu)
		checkQuantity(t, w.name+" limit", res.Limits, ResourceGPUMilli, w.gpu)
		checkQuantity(t, w.name+" limit", res.Limits, corev1.ResourceCPU, "")
		checkQuantity(t, w.name+" limit", res.Limits, corev1.ResourceMemory, "")
		if got, ok := p.Labels[LabelQoS]; got != w.qos || ok != (w.qos != "") || len(p.Labels) > 1 {
			t.Errorf("%s: labels = %v, want %s=%q", w.name, p.Labels, LabelQoS, w.qos)
		}
		if w.models == nil {
			if p.Spec.Affinity != nil {
				t.Errorf("%s: affinity %+v, want none", w.name, p.Spec.Affinity)
			}
			continue
		}
		want := corev1.NodeSelectorRequirement{Key: LabelGPUModel, Operator: corev1.NodeSelectorOpIn, Values: w.models}
		a := p.Spec.Affinity
		if a == nil || a.NodeAffinity == nil || a.PodAffinity != nil || a.PodAntiAffinity != nil ||
			a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution != nil ||
			a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
			t.Errorf("%s: affinity = %+v, want required node affinity %+v", w.name, a, want)
			continue
		}
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 0 || len(terms[0].MatchExpressions) != 1 ||
			terms[0].MatchExpressions[0].Key != want.Key || terms[0].MatchExpressions[0].Operator != want.Operator ||
			!slices.Equal(terms[0].MatchExpressions[0].Values, want.Values) {
			t.Errorf("%s: node selector terms = %+v, want one term with %+v", w.name, terms, want)
		}
	}
}

const (
	goodNodes = "sn,cpu_milli,memory_mib,gpu,model\nn1,32000,262144,0,\nn2,96000,786432,8,V100M32\n"
	podHeader = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
	goodPods  = podHeader + "p1,1000,1024,0,0,,LS,Running,0,10,0\n"
)

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, nodes, pods string
		want              []string // substrings of the message; the first names file and line
	}{
		{"node cpu not a number", goodNodes + "n3,abc,1,0,\n", goodPods,
			[]string{`nodes.csv:4: column cpu_milli: expected a non-negative integer, got "abc"`}},
		{"negative memory", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,-1,0,\n", goodPods,
			[]string{`nodes.csv:2: column memory_mib: expected a non-negative integer, got "-1"`}},
		{"fractional gpu count", "sn,cpu_milli,memory_mib,gpu,model\nn1,1000,1,0.5,A\n", goodPods,
			[]string{`nodes.csv:2: column gpu: expected a non-negative integer, got "0.5"`}},
		{"cpu out of range", "sn,cpu_milli,memory_mib,gpu,model\nn1,99999999999999999999,1,0,\n", goodPods,
			[]string{`nodes.csv:2: column cpu_milli: expected a non-negative integer no larger than 9223372036854775807, got "99999999999999999999"`}},
		{"missing node column", "sn,cpu_milli,memory_mib,gpu\nn1,1,1,0\n", goodPods,
			[]string{`nodes.csv:1: missing column "model" in the header`, "sn,cpu_milli,memory_mib,gpu,model"}},
		{"duplicate header column", "sn,cpu_milli,memory_mib,gpu,model,gpu\n", goodPods,
			[]string{`nodes.csv:1: column "gpu" appears twice in the header`}},
		{"empty node name", "sn,cpu_milli,memory_mib,gpu,model\n,1,1,0,\n", goodPods,
			[]string{`nodes.csv:2: column sn: expected a node name, got an empty field`}},
		{"invalid node name", "sn,cpu_milli,memory_mib,gpu,model\nNode_1,1,1,0,\n", goodPods,
			[]string{`nodes.csv:2: column sn: expected a node name, got "Node_1"`, "RFC 1123"}},
		{"duplicate node", goodNodes + "n1,1,1,0,\n", goodPods,
			[]string{`nodes.csv:4: column sn: node "n1" is already defined on line 2`}},
		{"invalid model", "sn,cpu_milli,memory_mib,gpu,model\nn1,1,1,1,Tesla V100\n", goodPods,
			[]string{`nodes.csv:2: column model: expected a label value, got "Tesla V100"`}},
		{"empty nodes file", "", goodPods,
			[]string{`nodes.csv: empty file; expected a header line naming the columns sn,cpu_milli,memory_mib,gpu,model`}},
		{"no nodes", "sn,cpu_milli,memory_mib,gpu,model\n", goodPods,
			[]string{`nodes.csv: no nodes after the header line`}},
		{"short line", goodNodes, goodPods + "p2,1000,1024,0,0,,LS,Running,0,10\n",
			[]string{`pods.csv:3: expected 11 fields, as in the header, got 10`}},
		{"bare quote", goodNodes, goodPods + "p2,1000,1024,0,0,A\"B,LS,Running,0,10,0\n",
			[]string{`pods.csv:3: character 19: bare " in non-quoted-field`}},
		{"unclosed quote", goodNodes, goodPods + "p2,1000,1024,0,0,\"A,LS,Running,0,10,0\np3,1,1,0,0,,,,0,,\n",
			[]string{`pods.csv:3: extraneous or missing " in quoted-field (a quoted field opened on this line runs on to line 4)`}},
		{"missing pod columns", goodNodes, "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\np1,1,1,0,0,,\n",
			[]string{`pods.csv:1: missing column "creation_time", "deletion_time" in the header`}},
		{"empty pod name", goodNodes, podHeader + ",1000,1024,0,0,,LS,Running,0,10,0\n",
			[]string{`pods.csv:2: column name: expected a pod name, got an empty field`}},
		{"duplicate pod", goodNodes, goodPods + "p2,1,1,0,0,,,,0,,\np1,1,1,0,0,,,,0,,\n",
			[]string{`pods.csv:4: column name: pod "p1" is already defined on line 2`}},
		{"negative creation time", goodNodes, podHeader + "p1,1,1,0,0,,,,-5,,\n",
			[]string{`pods.csv:2: column creation_time: expected a non-negative integer, got "-5"`}},
		{"creation time beyond a Go duration", goodNodes, podHeader + "p1,1,1,0,0,,,,9223372037,,\n",
			[]string{`pods.csv:2: column creation_time: expected a non-negative integer no larger than 9223372036, got "9223372037"`}},
		{"deleted before created", goodNodes, podHeader + "p1,1,1,0,0,,,,100,50,\n",
			[]string{`pods.csv:2: column deletion_time: expected a time no earlier than creation_time (100), got 50`}},
		{"gpu share above one GPU", goodNodes, podHeader + "p1,1,1,1,1001,,,,0,,\n",
			[]string{`pods.csv:2: column gpu_milli: expected a non-negative integer no larger than 1000, got "1001"`}},
		{"GPUs without a share", goodNodes, podHeader + "p1,1,1,2,0,,,,0,,\n",
			[]string{`pods.csv:2: column gpu_milli: expected 1 to 1000 (thousandths of each GPU) when num_gpu is 2, got 0`}},
		{"empty model in gpu_spec", goodNodes, podHeader + "p1,1,1,1,1000,A||B,,,0,,\n",
			[]string{`pods.csv:2: column gpu_spec: expected GPU models separated by "|", got "A||B" with an empty model`}},
		{"invalid model in gpu_spec", goodNodes, podHeader + "p1,1,1,1,1000,A|B C,,,0,,\n",
			[]string{`pods.csv:2: column gpu_spec: expected GPU models usable as label values, got "B C"`}},
		{"invalid qos", goodNodes, podHeader + "p1,1,1,0,0,,best effort,,0,,\n",
			[]string{`pods.csv:2: column qos: expected a label value, got "best effort"`}},
		{"problems in both files", goodNodes + "n3,1,x,0,\n", goodPods + "p2,1,1,0,0,,,,7,6,\n",
			[]string{`nodes.csv:4: column memory_mib: expected a non-negative integer, got "x"`,
				`pods.csv:3: column deletion_time: expected a time no earlier than creation_time (7), got 6`}},
		{"several rows", goodNodes, podHeader + "p1,x,1,0,0,,,,0,,\np2,1,1,0,0,,,,0,,\np3,1,y,0,0,,,,0,,\n",
			[]string{`pods.csv:2: column cpu_milli: expected a non-negative integer, got "x"`,
				`pods.csv:4: column memory_mib: expected a non-negative integer, got "y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Convert(strings.NewReader(tc.nodes), "nodes.csv", strings.NewReader(tc.pods), "pods.csv", Options{})
			if err == nil {
				t.Fatalf("no error; nodes.yaml:\n%s", out.Nodes)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestTooManyProblems(t *testing.T) {
	pods := podHeader + strings.Repeat("p,x,1,0,0,,,,0,,\n", maxErrors+5)
	_, err := Convert(strings.NewReader(goodNodes), "nodes.csv", strings.NewReader(pods), "pods.csv", Options{})
	if err == nil || strings.Count(err.Error(), "\n") != maxErrors || !strings.HasSuffix(err.Error(), "... and 5 more problems") {
		t.Errorf("error:\n%v", err)
	}
}

// A header in a different order, with extra columns and a byte order mark, is still read.
func TestColumnsByName(t *testing.T) {
	nodes := "\ufeffmodel,gpu,rack,memory_mib,cpu_milli,sn\nT4,2,r1,1024,2000,n1\n"
	out, err := Convert(strings.NewReader(nodes), "nodes.csv", strings.NewReader(goodPods), "pods.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\nkind: Node\nmetadata:\n  labels:\n    kwoksim.io/gpu-model: T4\n  name: n1\nstatus:\n" +
		"  allocatable:\n    cpu: \"2\"\n    kwoksim.io/gpu-milli: \"2000\"\n    memory: 1024Mi\n    pods: \"256\"\n" +
		"  capacity:\n    cpu: \"2\"\n    kwoksim.io/gpu-milli: \"2000\"\n    memory: 1024Mi\n    pods: \"256\"\n"
	if string(out.Nodes) != want {
		t.Errorf("nodes.yaml:\n%s\nwant:\n%s", out.Nodes, want)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// On bad input nothing is written: an existing output stays as it was, and a missing output
// directory is not created.
func TestNothingWrittenOnError(t *testing.T) {
	in := t.TempDir()
	nodes, pods := filepath.Join(in, "nodes.csv"), filepath.Join(in, "pods.csv")
	writeFile(t, nodes, goodNodes)
	writeFile(t, pods, goodPods+"p2,1,1,0,0,,,,10,5,\n")

	out := t.TempDir()
	writeFile(t, filepath.Join(out, NodesFile), "old nodes")
	_, err := Import(nodes, pods, out, Options{})
	var bad *Error
	if !errors.As(err, &bad) || bad.File != pods || bad.Line != 3 || bad.Column != "deletion_time" {
		t.Fatalf("error = %#v, want an *Error at %s:3, column deletion_time", err, pods)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("output directory holds %d entries, want only the old nodes.yaml", len(entries))
	}
	if b, _ := os.ReadFile(filepath.Join(out, NodesFile)); string(b) != "old nodes" {
		t.Errorf("nodes.yaml was overwritten: %q", b)
	}

	missing := filepath.Join(t.TempDir(), "new", "dir")
	if _, err := Import(nodes, pods, missing, Options{}); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("output directory was created (stat: %v)", err)
	}

	// A missing input is an *Error naming the file.
	_, err = Import(filepath.Join(in, "absent.csv"), pods, out, Options{})
	if !errors.As(err, &bad) || !strings.Contains(err.Error(), "absent.csv: no such file or directory") {
		t.Errorf("error = %v", err)
	}
}

// The whole public trace imports, quickly, into what the contract promises.
func TestRealTrace(t *testing.T) {
	nodesCSV := filepath.Join(realTraceDir, "openb_node_list_all_node.csv")
	podsCSV := filepath.Join(realTraceDir, "openb_pod_list_default.csv")
	if _, err := os.Stat(realTraceDir); os.IsNotExist(err) {
		t.Skipf("%s not present", realTraceDir)
	}
	out := t.TempDir()
	start := time.Now()
	sum, err := Import(nodesCSV, podsCSV, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %+v in %v", sum, time.Since(start))

	deletions := 0
	f, err := os.Open(podsCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "deletion_time")
	for _, r := range rows[1:] {
		if r[col] != "" {
			deletions++
		}
	}
	if want := (Summary{Nodes: 1523, Pods: 8152, Events: 8152 + deletions}); sum != want {
		t.Errorf("summary = %+v, want %+v", sum, want)
	}

	lines := readTrace(t, filepath.Join(out, TraceFile))
	if len(lines) != sum.Events {
		t.Errorf("trace.jsonl has %d lines, summary says %d events", len(lines), sum.Events)
	}
	var last time.Duration
	applies := 0
	for i, l := range lines {
		d := at(t, l.At)
		if d < last {
			t.Fatalf("event %d at %v comes after one at %v", i+1, d, last)
		}
		last = d
		if l.Apply != nil {
			decodePod(t, l.Apply)
			applies++
		}
	}
	if applies != sum.Pods {
		t.Errorf("%d applies, want %d", applies, sum.Pods)
	}

	objs, err := manifest.Load([]string{filepath.Join(out, NodesFile)}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != sum.Nodes {
		t.Errorf("nodes.yaml holds %d nodes, want %d", len(objs), sum.Nodes)
	}
}
