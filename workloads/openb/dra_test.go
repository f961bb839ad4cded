package openb

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"

	"github.com/kwoksim/kwoksim/workloads/devices"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// draImport converts the CSVs with --gpu dra and reads the output back through kwoksim's
// own loaders: the nodes, and the trace's applied objects by kind and name.
func draImport(t *testing.T, nodes, pods string) (*Output, map[string]*corev1.Node, map[string]any) {
	t.Helper()
	out, err := Convert(strings.NewReader(nodes), "nodes.csv", strings.NewReader(pods), "pods.csv", Options{GPU: GPUDRA})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	nodesYAML, traceFile := filepath.Join(dir, NodesFile), filepath.Join(dir, TraceFile)
	writeFile(t, nodesYAML, string(out.Nodes))
	writeFile(t, traceFile, string(out.Trace))
	objs, err := manifest.Load([]string{nodesYAML}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*corev1.Node{}
	for _, o := range objs {
		n := o.Obj.(*corev1.Node)
		byName[n.Name] = n
	}
	evs, err := trace.ReadFile(traceFile)
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]any{}
	for _, ev := range evs {
		for _, o := range ev.Objects {
			m := o.Obj.(interface{ GetName() string })
			applied[o.Obj.GetObjectKind().GroupVersionKind().Kind+"/"+m.GetName()] = o.Obj
		}
	}
	return out, byName, applied
}

const draNodes = "sn,cpu_milli,memory_mib,gpu,model\nn-cpu,32000,262144,0,\nn-gpu,64000,262144,2,V100M16\n"

// A 2-card node gets both cards as shared devices of 1000 gpuMilli with the model attribute,
// and no pooled extended resource; 0.6-GPU pods claim 600 of one card through one template.
func TestDRASharedCards(t *testing.T) {
	pods := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n" +
		"p1,1000,1024,1,600,,LS,0,\np2,1000,1024,1,600,,LS,0,\np3,1000,1024,1,600,,LS,1,\ncpu,1000,1024,0,0,,LS,2,\n"
	out, nodes, applied := draImport(t, draNodes, pods)
	if want := (Summary{Nodes: 2, Pods: 4, Events: 4, Templates: 1, Setup: 2}); out.Summary != want {
		t.Errorf("summary %+v, want %+v", out.Summary, want)
	}
	n := nodes["n-gpu"]
	if _, ok := n.Status.Allocatable[ResourceGPUMilli]; ok {
		t.Errorf("n-gpu still has the pooled %s", ResourceGPUMilli)
	}
	if n.Labels[LabelGPUModel] != "V100M16" {
		t.Errorf("n-gpu labels %v", n.Labels)
	}
	sets, err := devices.Parse(n.Annotations[devices.Annotation])
	if err != nil || len(sets) != 1 {
		t.Fatalf("n-gpu devices %v: %v", sets, err)
	}
	s := sets[0]
	if s.Driver != GPUDriver || s.Count != 2 || !s.Shared || *s.Attributes[AttributeModel].StringValue != "V100M16" {
		t.Errorf("set %+v", s)
	}
	if c := s.Capacity[CapacityGPUMilli].Value; c.Value() != 1000 {
		t.Errorf("gpuMilli %v", c.String())
	}
	if _, ok := nodes["n-cpu"].Annotations[devices.Annotation]; ok {
		t.Error("a node without GPUs got devices")
	}

	class, ok := applied["DeviceClass/"+DeviceClassName].(*resourcev1.DeviceClass)
	if !ok || class.Spec.Selectors[0].CEL.Expression != `device.driver == "gpu.kwoksim.io"` {
		t.Errorf("device class %+v", class)
	}
	tmpl, ok := applied["ResourceClaimTemplate/gpu-1x600"].(*resourcev1.ResourceClaimTemplate)
	if !ok {
		t.Fatalf("no template gpu-1x600 among %v", keysOf(applied))
	}
	req := tmpl.Spec.Spec.Devices.Requests[0].Exactly
	if milli := req.Capacity.Requests[CapacityGPUMilli]; req.DeviceClassName != DeviceClassName || req.Count != 1 || milli.Value() != 600 || len(req.Selectors) != 0 {
		t.Errorf("request %+v", req)
	}
	for _, name := range []string{"p1", "p2", "p3"} {
		p := applied["Pod/"+name].(*corev1.Pod)
		c := p.Spec.Containers[0]
		if len(p.Spec.ResourceClaims) != 1 || *p.Spec.ResourceClaims[0].ResourceClaimTemplateName != "gpu-1x600" ||
			len(c.Resources.Claims) != 1 || c.Resources.Claims[0].Name != p.Spec.ResourceClaims[0].Name {
			t.Errorf("pod %s claims %+v, container %+v", name, p.Spec.ResourceClaims, c.Resources)
		}
		if _, ok := c.Resources.Requests[ResourceGPUMilli]; ok || p.Spec.Affinity != nil {
			t.Errorf("pod %s still asks for pooled GPUs: %+v %+v", name, c.Resources, p.Spec.Affinity)
		}
	}
	if p := applied["Pod/cpu"].(*corev1.Pod); p.Spec.ResourceClaims != nil {
		t.Errorf("a CPU pod claims %+v", p.Spec.ResourceClaims)
	}
	// The setup objects come first, at t=0.
	first := strings.SplitN(string(out.Trace), "\n", 3)
	if !strings.Contains(first[0], `"kind":"DeviceClass"`) || !strings.Contains(first[1], `"kind":"ResourceClaimTemplate"`) {
		t.Errorf("trace starts with\n%s\n%s", first[0], first[1])
	}
}

// A 2-GPU pod claims two whole cards; a gpu_spec becomes a CEL selector on the model, with
// one template per (count, share, models) shape, whatever the order of the models.
func TestDRAShapes(t *testing.T) {
	pods := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n" +
		"two,1000,1024,2,1000,,LS,0,\nab,1000,1024,1,500,A|B,LS,0,\nba,1000,1024,1,500,B|A,LS,0,\nb,1000,1024,1,500,B,LS,0,\n"
	out, _, applied := draImport(t, draNodes, pods)
	if out.Summary.Templates != 3 {
		t.Errorf("%d templates, want 3 (two, A|B, B): %v", out.Summary.Templates, keysOf(applied))
	}
	two := applied["ResourceClaimTemplate/gpu-2x1000"].(*resourcev1.ResourceClaimTemplate).Spec.Spec.Devices.Requests[0].Exactly
	if milli := two.Capacity.Requests[CapacityGPUMilli]; two.Count != 2 || milli.Value() != 1000 {
		t.Errorf("2-GPU request %+v", two)
	}
	ab, ba := applied["Pod/ab"].(*corev1.Pod), applied["Pod/ba"].(*corev1.Pod)
	name := *ab.Spec.ResourceClaims[0].ResourceClaimTemplateName
	if *ba.Spec.ResourceClaims[0].ResourceClaimTemplateName != name || !strings.HasPrefix(name, "gpu-1x500-") {
		t.Errorf("A|B and B|A use templates %s and %s", name, *ba.Spec.ResourceClaims[0].ResourceClaimTemplateName)
	}
	if ab.Spec.Affinity != nil {
		t.Errorf("gpu_spec still node affinity: %+v", ab.Spec.Affinity)
	}
	req := applied["ResourceClaimTemplate/"+name].(*resourcev1.ResourceClaimTemplate).Spec.Spec.Devices.Requests[0].Exactly
	want := `has(device.attributes["gpu.kwoksim.io"].model) && device.attributes["gpu.kwoksim.io"].model in ["A", "B"]`
	if len(req.Selectors) != 1 || req.Selectors[0].CEL.Expression != want {
		t.Errorf("selectors %+v, want %s", req.Selectors, want)
	}
}

func TestDRATooManyCards(t *testing.T) {
	nodes := "sn,cpu_milli,memory_mib,gpu,model\nhuge,1000,1024,1025,X\n"
	_, err := Convert(strings.NewReader(nodes), "nodes.csv", strings.NewReader("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n"), "pods.csv", Options{GPU: GPUDRA})
	if err == nil || err.Error() != "nodes.csv:2: column gpu: expected at most 1024 GPUs per node with --gpu dra (one device each), got 1025" {
		t.Errorf("error %v", err)
	}
	if _, err := Convert(strings.NewReader(nodes), "nodes.csv", strings.NewReader("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n"), "pods.csv", Options{}); err != nil {
		t.Errorf("pooled mode refuses it: %v", err)
	}
}

// The real trace with --gpu dra: every GPU node gets its devices, and the pods' shapes make
// 24 templates.
func TestRealTraceDRA(t *testing.T) {
	if _, err := os.Stat(realTraceDir); os.IsNotExist(err) {
		t.Skipf("%s not present", realTraceDir)
	}
	sum, err := Import(filepath.Join(realTraceDir, "openb_node_list_all_node.csv"), filepath.Join(realTraceDir, "openb_pod_list_default.csv"), t.TempDir(), Options{GPU: GPUDRA})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Templates != 24 || sum.Setup != 25 || sum.Nodes != 1523 || sum.Pods != 8152 {
		t.Errorf("summary %+v", sum)
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Two model lists whose hash gives one template name are an error naming both, not a template
// applied over another.
func TestDRATemplateNameCollision(t *testing.T) {
	seen := map[uint32]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		m := fmt.Sprintf("M%d", i)
		h := fnv.New32a()
		h.Write([]byte(m))
		if prev, ok := seen[h.Sum32()]; ok {
			a, b = prev, m
		}
		seen[h.Sum32()] = m
	}
	pods := "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,creation_time,deletion_time\n" +
		"a,1000,1024,1,500," + a + ",LS,0,\nb,1000,1024,1,500," + b + ",LS,0,\n"
	_, err := Convert(strings.NewReader(draNodes), "nodes.csv", strings.NewReader(pods), "pods.csv", Options{GPU: GPUDRA})
	if err == nil || !strings.Contains(err.Error(), "hash collision") || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("models %s and %s: error %v", a, b, err)
	}
}
