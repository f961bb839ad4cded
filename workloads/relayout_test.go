package workloads_test

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// Once the pods and nodes are laid out afresh, nothing holds the old objects: the store, the
// informer, the scheduler's cache, the recorder and every controller that indexes stored pods
// or nodes (the manager's owned index, taint eviction, the disruption and quota controllers,
// the DaemonSet and node lifecycle controllers) hold the copies, so that a relayout costs no
// memory once collected. Without stages: a pod written after the last scheduling cycle would
// be relaid again with no cycle to refresh the scheduler's snapshot, which keeps the copies
// of the relayout before until its next cycle.
func TestRelayoutLeavesNoOldCopy(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, RelayoutPodWrites: 1, RelayoutNodeWrites: 1, Until: 10 * time.Minute})
	min := intstr.FromInt32(2)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "8"), workloadstest.KWOKNode("n2", "8"),
		workloadstest.Deployment("web", 6), workloadstest.DaemonSet("agent"),
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &min, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "default"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("100")}}})
	// Every object a relayout replaces, from the first (the objects the controllers were
	// delivered) to the last.
	var olds []func() bool
	var names []string
	s.API().OnRelaid(func(k *sim.Kind, old, _ k8sruntime.Object) {
		switch o := old.(type) {
		case *corev1.Pod:
			w := weak.Make(o)
			olds, names = append(olds, func() bool { return w.Value() != nil }), append(names, "pod "+o.Name)
		case *corev1.Node:
			w := weak.Make(o)
			olds, names = append(olds, func() bool { return w.Value() != nil }), append(names, "node "+o.Name)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}

	// A pod write makes a relayout due before the next drain, which schedules the new pod and
	// so refreshes the scheduler's snapshot too.
	extra := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "extra", Namespace: "default"}, Spec: workloadstest.PodSpec("100m")}
	workloadstest.Create(t, s, extra)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	relaid := strings.Join(names, " ")
	if strings.Count(relaid, "pod web-") < 12 || strings.Count(relaid, "pod agent-") < 2 || strings.Count(relaid, "node ") < 2 {
		t.Fatalf("relaid: %s; want the Deployment's 6 pods at least twice, the DaemonSet's and the nodes", relaid)
	}
	for i, alive := range olds {
		if alive() {
			t.Errorf("%s: an object a relayout replaced is still reachable", names[i])
		}
	}
}
