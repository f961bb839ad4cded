package workloads_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/nodeautoscaler"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// testPool is the pool of the timelines: one 8-CPU shape at $0.40/h, min 1, max 20,
// provisioning 60–90 s.
func testPool(t testing.TB, extra string) *autoscaling.NodePool {
	t.Helper()
	p, err := autoscaling.Decode([]byte(`apiVersion: kwoksim/v1alpha1
kind: NodePool
metadata: {name: pool}
spec:
  min: 1
  max: 20
  shapes:
  - {name: c8, capacity: {cpu: "8", memory: 32Gi}, pricePerHour: 0.40}
` + extra + `
  provisioning: {delay: {min: 60s, max: 90s}}
`))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The runtime brings a pool to its min at t=0, launches nodes whose Node objects appear after
// a delay drawn from the pool's range, and simulates placements with the scheduler's own
// Filter plugins on template nodes.
func TestNodeAutoscalerRuntime(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 7, Stages: stages.Default(), Until: 5 * time.Minute})
	opts := autoscaling.DefaultOptions()
	opts.Autoscaler = autoscaling.ClusterAutoscaler
	rt, err := nodeautoscaler.New(s, []*autoscaling.NodePool{testPool(t, "")}, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := rt.Pool("pool")
	if p.Size() != 1 || !p.Members()[0].Registered() || p.Members()[0].Name != "pool-c8-0" {
		t.Fatalf("min 1 gives one registered node pool-c8-0 at t=0, got %d members", p.Size())
	}
	ms, err := rt.Launch(p, "c8", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		reg := m.Record.RegisteredAt
		if reg == nil || *reg < 60*time.Second || *reg > 90*time.Second {
			t.Errorf("%s registered at %v, want within [60s, 90s]", m.Name, reg)
		}
		if m.Record.ReadyAt == nil || *m.Record.ReadyAt < *reg {
			t.Errorf("%s Ready at %v, want at or after its registration %v", m.Name, m.Record.ReadyAt, *reg)
		}
	}

	sn, err := rt.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := rt.Template(p, "c8", "template-pool-c8")
	if err != nil {
		t.Fatal(err)
	}
	sn.AddNode(tmpl)
	pod := &corev1.Pod{Spec: workloadstest.PodSpec("6")}
	pod.Name, pod.Namespace, pod.UID = "a", "default", "uid-a"
	if f, err := sn.Fits(pod, "template-pool-c8"); err != nil || !f.OK {
		t.Fatalf("a 6-CPU pod fits an empty 8-CPU template: %v %v", f, err)
	}
	if err := sn.Place(pod, "template-pool-c8"); err != nil {
		t.Fatal(err)
	}
	second := pod.DeepCopy()
	second.Name, second.UID = "b", "uid-b"
	f, err := sn.Fits(second, "template-pool-c8")
	if err != nil || f.OK || !strings.Contains(f.String(), "Insufficient cpu") {
		t.Fatalf("a second 6-CPU pod must not fit (Insufficient cpu), got %v %v", f, err)
	}
	sel := second.DeepCopy()
	sel.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	sel.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	f, err = sn.Fits(sel, "template-pool-c8")
	if err != nil || f.OK || !strings.Contains(f.String(), "didn't match Pod's node affinity/selector") {
		t.Fatalf("a pod selecting disk=ssd must not fit the template (NodeAffinity), got %v %v", f, err)
	}
}
