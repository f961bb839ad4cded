package workloads_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// antiAffinePod is a pod that must not share a node (kubernetes.io/hostname) with another
// pod labelled app=spread.
func antiAffinePod(name string) *corev1.Pod {
	spec := workloadstest.PodSpec("100m")
	spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "spread"}},
			TopologyKey:   corev1.LabelHostname,
		}},
	}}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "spread"}},
		Spec:       spec,
	}
}

func objects(objs ...runtime.Object) []manifest.Object {
	out := make([]manifest.Object, len(objs))
	for i, o := range objs {
		out[i] = manifest.Object{Obj: o, Source: manifest.Source{File: "test.yaml", Doc: i + 1, Line: 1}}
	}
	return out
}

// A Node written without kubernetes.io/hostname gets it as a kubelet registers it, so that two
// pods with required hostname anti-affinity do not share it: on one node, as in a real
// cluster, the second pod stays Pending (the scheduler's InterPodAffinity filter ignores a
// node without the topology key, which would let both in).
func TestNodeRegisteredWithKubeletLabels(t *testing.T) {
	bare := workloadstest.KWOKNode("bare", "4")
	r, err := workloads.Run(context.Background(), workloads.Scenario{
		Config:    sim.Config{Seed: 1},
		Nodes:     objects(bare),
		Workloads: objects(antiAffinePod("a"), antiAffinePod("b")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Summary.Pods; got.Scheduled != 1 || got.Unschedulable != 1 {
		t.Errorf("pods: %d scheduled, %d unschedulable; want 1 and 1 (required anti-affinity on one node)", got.Scheduled, got.Unschedulable)
	}
	if len(r.UnschedulableReasons) != 1 || !strings.Contains(r.UnschedulableReasons[0].Reason, "anti-affinity") {
		t.Errorf("unschedulable reasons = %+v, want the anti-affinity rule", r.UnschedulableReasons)
	}
	want := "labels kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch set on 1 node that lacked them (bare)"
	if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0], want) {
		t.Errorf("notes = %q, want one starting %q", r.Notes, want)
	}
	if _, ok := bare.Labels[corev1.LabelHostname]; ok {
		t.Error("the caller's Node was changed; Run must label a copy")
	}
}

func TestRegisterNodes(t *testing.T) {
	labelled := workloadstest.CPUNode("has-hostname", 1) // hostname only
	full := workloadstest.KWOKNode("full", "1")
	full.Labels = map[string]string{corev1.LabelHostname: "custom", corev1.LabelOSStable: "windows", corev1.LabelArchStable: "arm64"}
	nodes, notes := workloads.RegisterNodes(objects(labelled, full, workloadstest.KWOKNode("bare", "1")))
	got := func(i int) map[string]string { return nodes[i].Obj.(*corev1.Node).Labels }
	if l := got(0); l[corev1.LabelHostname] != "has-hostname" || l[corev1.LabelOSStable] != "linux" || l[corev1.LabelArchStable] != "amd64" {
		t.Errorf("has-hostname labels = %v", l)
	}
	if nodes[1].Obj != runtime.Object(full) || full.Labels[corev1.LabelHostname] != "custom" || full.Labels[corev1.LabelOSStable] != "windows" {
		t.Errorf("a fully labelled node must be kept as written, got %v", got(1))
	}
	if l := got(2); l[corev1.LabelHostname] != "bare" || l["type"] != "kwok" {
		t.Errorf("bare labels = %v", l)
	}
	want := []string{
		"label kubernetes.io/hostname set on 1 node that lacked it (bare), as a kubelet does when it registers a node",
		"labels kubernetes.io/os, kubernetes.io/arch set on 2 nodes that lacked them (has-hostname, bare), as a kubelet does when it registers a node",
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(notes, "\n"), strings.Join(want, "\n"))
	}
}

// The kinds stored but not acted on are counted with what a real cluster would do; an HPA is
// no longer one of them (workloads/podautoscaler acts on it).
func TestCountNotActedOn(t *testing.T) {
	hpa := func(name string) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	}
	pool := &autoscaling.NodePool{TypeMeta: metav1.TypeMeta{APIVersion: "kwoksim/v1alpha1", Kind: "NodePool"}}
	got := workloads.CountNotActedOn(objects(workloadstest.KWOKNode("n", "1")), objects(hpa("a"), workloadstest.Deployment("d", 1), hpa("b")), objects(pool, pool))
	if len(got) != 1 || got[0].Kind != "NodePool" || got[0].Count != 2 || !strings.Contains(got[0].Note, "a cluster autoscaler would add nodes") {
		t.Errorf("got %+v, want the two NodePools alone", got)
	}
}

// A Node a trace applies later joins as a kubelet registers it too, with the labels it lacks;
// one the trace replaces keeps what the trace wrote.
func TestTraceNodeRegisteredWithKubeletLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: kwoksim/v1alpha1
kind: Trace
events:
- at: 1m
  apply: {apiVersion: v1, kind: Node, metadata: {name: late, labels: {kubernetes.io/arch: arm64}}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	rp, err := trace.Start(s, []string{path}, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	got := workloadstest.MustGet[*corev1.Node](t, s, "Node", "late").Labels
	want := map[string]string{corev1.LabelHostname: "late", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "arm64"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, got[k], v, got)
		}
	}
}
