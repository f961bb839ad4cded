package sim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/stages"
)

func mapID(m map[string]string) unsafe.Pointer { return reflect.ValueOf(m).UnsafePointer() }

func TestLabelSetsShareMapsByContent(t *testing.T) {
	var ls labelSets
	a := map[string]string{"app": "web", "tier": "front"}
	b := map[string]string{"tier": "front", "app": "web"}
	c := map[string]string{"app": "web"}
	// Joined naively as k=v pairs these two would read the same.
	d := map[string]string{"a": "b,c=d"}
	e := map[string]string{"a": "b", "c": "d"}
	if got := ls.intern(a); mapID(got) != mapID(a) {
		t.Fatal("the first map of a content is not the one kept")
	}
	if got := ls.intern(b); mapID(got) != mapID(a) {
		t.Error("equal labels did not share the first map")
	}
	if got := ls.intern(c); mapID(got) != mapID(c) {
		t.Error("different labels shared a map")
	}
	if mapID(ls.intern(d)) != mapID(d) || mapID(ls.intern(e)) != mapID(e) {
		t.Error("label sets that differ only in where keys end shared a map")
	}
	if ls.intern(nil) != nil {
		t.Error("nil labels became a map")
	}
}

// Stored objects with equal labels share one map and one namespace string; what callers get
// back are copies, so changing them changes nothing stored.
func TestStoredPodsShareLabels(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	for _, name := range []string{"a", "b"} {
		p := pod(name)
		p.Labels = map[string]string{"app": "web"}
		mustCreate(t, s, p)
	}
	stored := func(name string) *corev1.Pod {
		o, ok, _ := s.api.informers["Pod"].indexer.GetByKey("default/" + name)
		if !ok {
			t.Fatalf("pod %s is not in the informer", name)
		}
		return o.(*corev1.Pod)
	}
	a, b := stored("a"), stored("b")
	if mapID(a.Labels) != mapID(b.Labels) {
		t.Error("pods with equal labels do not share the map")
	}
	if unsafe.StringData(a.Namespace) != unsafe.StringData(b.Namespace) {
		t.Error("pods of one namespace do not share the string")
	}
	got := getPod(t, s, "a")
	got.Labels["app"] = "changed"
	if a.Labels["app"] != "web" || b.Labels["app"] != "web" {
		t.Fatal("changing a copy changed the stored labels")
	}
}

// A relayout copies the scheduler's nodes into one block, equal to what is stored.
func TestRelayoutLaysNodesOutInOneBlock(t *testing.T) {
	s := newSim(t, Config{Seed: 1, RelayoutNodeWrites: 3})
	names := []string{"n0", "n1", "n2", "n3", "n4"}
	for _, n := range names {
		mustCreate(t, s, node(n))
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if s.api.layout.done != 1 {
		t.Fatalf("%d relayouts, want 1", s.api.layout.done)
	}
	var prev *corev1.Node
	for _, name := range names {
		o, _, _ := s.api.informers["Node"].indexer.GetByKey(name)
		n := o.(*corev1.Node)
		if prev != nil && uintptr(unsafe.Pointer(n))-uintptr(unsafe.Pointer(prev)) != unsafe.Sizeof(*n) {
			t.Errorf("node %s does not follow %s in memory", name, prev.Name)
		}
		prev = n
		want, err := s.API().Get(kinds["Node"], "", name)
		if err != nil {
			t.Fatal(err)
		}
		if !apiequality.Semantic.DeepEqual(n, want) {
			t.Errorf("the copy of node %s differs from the stored node", name)
		}
		// The store holds the copy too, so that the node is held once.
		if stored, _ := s.api.tracker.shared(kinds["Node"].GVR, "", name); stored != runtime.Object(n) {
			t.Errorf("the store does not hold the informer's copy of node %s", name)
		}
	}

	// Below the threshold nothing moves.
	if _, err := s.API().Patch(kinds["Node"], "", "n0", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"x":"y"}}}`), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if s.api.layout.done != 1 {
		t.Errorf("%d relayouts after one more node write, want 1", s.api.layout.done)
	}

	// The count due() reads follows creates and deletes, without listing the informer.
	if err := s.API().Delete(kinds["Node"], "", "n4", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.api.layout.nodes, len(s.api.informers["Node"].indexer.ListKeys()); got != want || got != 4 {
		t.Errorf("layout counts %d nodes, the informer holds %d, want 4", got, want)
	}
}

// Laying the nodes out again changes no decision: the same pods get the same nodes, attempts
// and messages, through a run where pods wait unschedulable, are retried by the queue's
// flush, and are requeued by node writes (a label change, a taint removed) that each make a
// relayout due when every node write does.
func TestRelayoutDoesNotChangeTheReport(t *testing.T) {
	run := func(threshold int) (string, int) {
		s := newSim(t, Config{Seed: 9, RelayoutNodeWrites: threshold, Stages: stages.Default(), Until: 20 * time.Minute})
		for i := range 6 {
			n := node(fmt.Sprintf("node-%d", i))
			n.Labels[corev1.LabelTopologyZone] = []string{"z1", "z2"}[i%2]
			mustCreate(t, s, n)
		}
		mustCreate(t, s, node("tainted", corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}))
		for i := range 40 {
			p := pod(fmt.Sprintf("p-%02d", i))
			p.Labels = map[string]string{"app": "web"}
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("700m")}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			}}
			mustCreate(t, s, p)
		}
		patch := func(at time.Duration, name, data string) {
			s.Clock().At(Epoch.Add(at), func() {
				if _, err := s.API().Patch(kinds["Node"], "", name, "application/merge-patch+json", []byte(data), ""); err != nil {
					t.Error(err)
				}
			})
		}
		patch(7*time.Minute, "node-0", `{"metadata":{"labels":{"extra":"1"}}}`)
		patch(13*time.Minute, "tainted", `{"spec":{"taints":null}}`)
		out, obs := runPods(t, s)
		retried, onTainted := 0, 0
		for _, p := range obs.Pods {
			if p.Attempts > 1 {
				retried++
			}
			if p.Pod.Spec.NodeName == "tainted" {
				onTainted++
			}
		}
		if retried == 0 || onTainted == 0 {
			t.Fatalf("the scenario did not exercise retries (%d pods retried) or the untainted node (%d pods)", retried, onTainted)
		}
		return out, s.api.layout.done
	}
	without, n0 := run(-1)
	with, n1 := run(1)
	if n0 != 0 || n1 < 3 {
		t.Fatalf("relayouts: %d with relayout off, %d at every node write; want 0 and at least 3", n0, n1)
	}
	if with != without {
		t.Errorf("relayout changed the outcome:\n%s\nwithout:\n%s", with, without)
	}
}

// runPods runs the simulation and returns its pod records as JSON, with the observation.
func runPods(t *testing.T, s *Simulator) (string, analysis.Observation) {
	t.Helper()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(obs.Pods)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), obs
}
