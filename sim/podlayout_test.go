package sim

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/stages"
)

// cachedPods lists, per node, the pods the scheduler's cache holds, in the cache's order.
func cachedPods(s *Simulator) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for name, ni := range s.driver.sched.Cache.Dump().Nodes {
		for _, pi := range ni.Pods {
			out[name] = append(out[name], pi.GetPod())
		}
	}
	return out
}

// A pod relayout gives the scheduler's cache, the informer, the store and OnRelaid's indexes
// the same new copy of each pod, keeps every node's pod order and what the cache counts, and
// leaves a node with a pod of inter-pod affinity as it was.
func TestPodRelayoutKeepsEachNodesPods(t *testing.T) {
	s := newSim(t, Config{Seed: 1, RelayoutPodWrites: -1})
	for _, n := range []string{"n0", "n1", "n2"} {
		mustCreate(t, s, node(n))
	}
	for i := range 12 {
		p := cpuPod(pod(fmt.Sprintf("p-%02d", i)), "100m")
		p.Labels = map[string]string{"app": "web"}
		if i == 0 {
			p.Spec.NodeName = "n2"
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
				}},
			}}
		}
		mustCreate(t, s, p)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	before := cachedPods(s)
	if len(before["n0"]) == 0 || len(before["n1"]) == 0 || len(before["n2"]) < 2 {
		t.Fatalf("pods per node %d, %d, %d: the scenario needs pods on every node", len(before["n0"]), len(before["n1"]), len(before["n2"]))
	}
	requested := map[string]int64{}
	for name, ni := range s.driver.sched.Cache.Dump().Nodes {
		requested[name] = ni.Requested.MilliCPU
	}
	told := map[string]runtime.Object{}
	s.API().OnRelaid(func(k *Kind, old, cur runtime.Object) {
		if k.Name() == "Pod" {
			told[cur.(*corev1.Pod).Name] = old
		}
	})

	s.api.podLayout.threshold, s.api.podLayout.writes = 1, 0
	if err := s.relayoutPods(); err != nil {
		t.Fatal(err)
	}
	if s.api.podLayout.done != 0 {
		t.Fatalf("a relayout with no pod written since the last: %d", s.api.podLayout.done)
	}
	s.api.podLayout.writes = 1
	if err := s.relayoutPods(); err != nil {
		t.Fatal(err)
	}
	after := cachedPods(s)
	if got, want := s.api.podLayout.moved, len(before["n0"])+len(before["n1"]); s.api.podLayout.done != 1 || got != want {
		t.Fatalf("%d relayouts moved %d pods, want 1 moving %d (n0's and n1's)", s.api.podLayout.done, got, want)
	}
	for _, node := range []string{"n0", "n1", "n2"} {
		if len(after[node]) != len(before[node]) {
			t.Fatalf("node %s holds %d pods after the relayout, %d before", node, len(after[node]), len(before[node]))
		}
		for i, old := range before[node] {
			cur := after[node][i]
			if cur.Name != old.Name {
				t.Errorf("node %s: pod %d is %s after the relayout, %s before: the order changed", node, i, cur.Name, old.Name)
				continue
			}
			moved := cur != old
			if moved != (node != "n2") {
				t.Errorf("node %s: pod %s copied %v, want %v (n2 holds a pod with anti-affinity)", node, cur.Name, moved, node != "n2")
			}
			held, _, _ := s.api.informers["Pod"].indexer.GetByKey("default/" + cur.Name)
			stored, _ := s.api.tracker.shared(kinds["Pod"].GVR, "default", cur.Name)
			if held != any(cur) || stored != runtime.Object(cur) {
				t.Errorf("pod %s: the informer and the store do not hold the cache's object", cur.Name)
			}
			if moved && told[cur.Name] != runtime.Object(old) {
				t.Errorf("pod %s: OnRelaid was not told of the copy", cur.Name)
			}
		}
	}
	for name, ni := range s.driver.sched.Cache.Dump().Nodes {
		if ni.Requested.MilliCPU != requested[name] {
			t.Errorf("node %s requests %dm after the relayout, %dm before", name, ni.Requested.MilliCPU, requested[name])
		}
	}

	// The cache goes on from the copies: a copied pod deleted leaves it.
	victim := after["n0"][0].Name
	if err := s.API().Delete(kinds["Pod"], "default", victim, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, p := range cachedPods(s)["n0"] {
		if p.Name == victim {
			t.Errorf("deleted pod %s is still in the scheduler's cache", victim)
		}
	}
}

// Laying the pods out again changes no decision: the same pods get the same nodes, attempts
// and messages, through a run where pods spread over zones, pods are deleted, and
// preemption picks its victims among pods of equal priority started at the same instant
// (an order the cache's pod lists decide), relaying the pods out at every pod write.
func TestPodRelayoutDoesNotChangeTheReport(t *testing.T) {
	run := func(threshold int) (string, int) {
		s := newSim(t, Config{Seed: 3, RelayoutPodWrites: threshold, Stages: stages.Default(), Until: 20 * time.Minute})
		for i := range 4 {
			n := node(fmt.Sprintf("node-%d", i))
			n.Labels[corev1.LabelTopologyZone] = []string{"z1", "z2"}[i%2]
			mustCreate(t, s, n)
		}
		createAll(t, s, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000})
		for i := range 24 {
			p := cpuPod(pod(fmt.Sprintf("p-%02d", i)), "600m")
			p.Labels = map[string]string{"app": "web"}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			}}
			mustCreate(t, s, p)
		}
		for i, name := range []string{"p-03", "p-10", "p-17"} {
			at(t, s, time.Duration(3+i)*time.Minute, func() error {
				return s.API().Delete(kinds["Pod"], "default", name, metav1.DeleteOptions{})
			})
		}
		for i := range 3 {
			at(t, s, time.Duration(8+2*i)*time.Minute, func() error {
				vip := cpuPod(pod(fmt.Sprintf("vip-%d", i)), "2500m")
				vip.Spec.PriorityClassName = "high"
				_, err := s.API().Create(vip)
				return err
			})
		}
		out, _ := runPods(t, s)
		preempted := 0
		for _, e := range s.Recorder().Events() {
			if e.Kind == "Pod" && e.Reason == "Preempted" {
				preempted++
			}
		}
		if preempted < 3 {
			t.Fatalf("%d pods preempted: the scenario did not exercise preemption", preempted)
		}
		return out, s.api.podLayout.moved
	}
	without, n0 := run(-1)
	with, n1 := run(1)
	if n0 != 0 || n1 < 50 {
		t.Fatalf("pods relaid: %d with relayout off, %d at every pod write; want 0 and at least 50", n0, n1)
	}
	if with != without {
		t.Errorf("the pod relayout changed the outcome:\n%s\nwithout:\n%s", with, without)
	}
}
