package daemonset_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubernetes/pkg/controller"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

func tainted(n *corev1.Node, key, value string, effect corev1.TaintEffect) *corev1.Node {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// podsOf is the DaemonSet's live pods as "node:phase" by target node, sorted.
func podsOf(t *testing.T, s *sim.Simulator, ds string) []string {
	t.Helper()
	podKind, _ := sim.KindNamed("Pod")
	objs, err := s.API().List(podKind)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if ref := metav1.GetControllerOf(p); ref == nil || ref.Name != ds || ref.Kind != "DaemonSet" {
			continue
		}
		target, err := dsutil.GetTargetNodeName(p)
		if err != nil {
			t.Errorf("pod %s has no target node: %v", p.Name, err)
		}
		if p.Spec.NodeName != target {
			t.Errorf("pod %s aimed at %s is on %q", p.Name, target, p.Spec.NodeName)
		}
		out = append(out, target+":"+string(p.Status.Phase))
	}
	sort.Strings(out)
	return out
}

func getDaemonSet(t *testing.T, s *sim.Simulator, name string) *appsv1.DaemonSet {
	t.Helper()
	return workloadstest.MustGet[*appsv1.DaemonSet](t, s, "DaemonSet", name)
}

func statusString(st appsv1.DaemonSetStatus) string {
	return fmt.Sprintf("desired=%d current=%d ready=%d available=%d updated=%d misscheduled=%d unavailable=%d",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.NumberAvailable,
		st.UpdatedNumberScheduled, st.NumberMisscheduled, st.NumberUnavailable)
}

// One pod per eligible node: the node selector and untolerated taints exclude nodes, the
// template's own tolerations and those the controller adds (unschedulable) admit them; each
// pod is pinned by node affinity and bound by the scheduler, and carries the real labels.
func TestDaemonSetOnePodPerEligibleNode(t *testing.T) {
	s := workloadstest.SlowSim(t)
	cordoned := tainted(workloadstest.KWOKNode("e", "4"), "node.kubernetes.io/unschedulable", "", corev1.TaintEffectNoSchedule)
	cordoned.Spec.Unschedulable = true
	unlabelled := workloadstest.KWOKNode("d", "4")
	unlabelled.Labels = nil
	agent := workloadstest.DaemonSet("agent")
	agent.Spec.Template.Spec.NodeSelector = map[string]string{"type": "kwok"}
	infra := workloadstest.DaemonSet("infra")
	infra.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule}}
	workloadstest.Create(t, s, workloadstest.KWOKNode("a", "4"), workloadstest.KWOKNode("b", "4"),
		tainted(workloadstest.KWOKNode("c", "4"), "dedicated", "infra", corev1.TaintEffectNoSchedule), unlabelled, cordoned, agent, infra)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	if got, want := podsOf(t, s, "agent"), []string{"a:Running", "b:Running", "e:Running"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("agent pods %v, want %v", got, want)
	}
	if got, want := podsOf(t, s, "infra"), []string{"a:Running", "b:Running", "c:Running", "d:Running", "e:Running"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("infra pods %v, want %v", got, want)
	}
	ds := getDaemonSet(t, s, "agent")
	if got, want := statusString(ds.Status), "desired=3 current=3 ready=3 available=3 updated=3 misscheduled=0 unavailable=0"; got != want || ds.Status.ObservedGeneration != ds.Generation {
		t.Errorf("agent status %s (observed generation %d), want %s", got, ds.Status.ObservedGeneration, want)
	}
	hash := controller.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	scheduled := map[string]bool{}
	for _, e := range s.Recorder().Events() {
		if e.Reason == "Scheduled" {
			scheduled[e.Name] = true
		}
	}
	obs, _ := s.Observe()
	for _, rec := range obs.Pods {
		p := rec.Pod
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "DaemonSet" || p.GenerateName != ref.Name+"-" {
			t.Errorf("pod %s: controller %+v, generateName %q", p.Name, ref, p.GenerateName)
			continue
		}
		if !scheduled[p.Name] {
			t.Errorf("pod %s was not bound by the scheduler", p.Name)
		}
		if ref.Name == "agent" && (p.Labels["controller-revision-hash"] != hash || p.Labels["pod-template-generation"] != "1") {
			t.Errorf("pod %s labels %v, want controller-revision-hash=%s and pod-template-generation=1", p.Name, p.Labels, hash)
		}
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Key != "metadata.name" ||
			terms[0].MatchFields[0].Values[0] != p.Spec.NodeName {
			t.Errorf("pod %s node affinity %+v, want metadata.name In [%s]", p.Name, terms, p.Spec.NodeName)
		}
		tolerated := map[string]bool{}
		for _, tol := range p.Spec.Tolerations {
			tolerated[tol.Key+":"+string(tol.Effect)] = true
		}
		for _, k := range []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
			"node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
			"node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"} {
			if !tolerated[k] {
				t.Errorf("pod %s does not tolerate %s", p.Name, k)
			}
		}
	}
}

// The DaemonSet follows its nodes: a node added mid-run gets a pod, a node that loses the
// selected label loses its pod, an untolerated NoExecute taint evicts, a NoSchedule taint
// leaves the running pod alone but counts it misscheduled, and a deleted node leaves the
// desired count.
func TestDaemonSetFollowsNodes(t *testing.T) {
	s := workloadstest.SlowSim(t)
	log := workloadstest.WatchPods(s)
	agent := workloadstest.DaemonSet("agent")
	agent.Spec.Template.Spec.NodeSelector = map[string]string{"type": "kwok"}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.KWOKNode("n2", "4"), workloadstest.KWOKNode("n3", "4"), agent)
	nodeKind, _ := sim.KindNamed("Node")
	patchNode := func(at time.Duration, name, patch string) {
		s.Clock().AfterDelay(at, func() {
			if _, err := s.API().Patch(nodeKind, "", name, types.StrategicMergePatchType, []byte(patch), ""); err != nil {
				t.Error(err)
			}
		})
	}
	s.Clock().AfterDelay(time.Minute, func() { workloadstest.Create(t, s, workloadstest.KWOKNode("n4", "4")) })
	patchNode(2*time.Minute, "n2", `{"metadata":{"labels":{"type":null}}}`)
	patchNode(3*time.Minute, "n3", `{"spec":{"taints":[{"key":"evict","value":"yes","effect":"NoExecute"}]}}`)
	patchNode(4*time.Minute, "n1", `{"spec":{"taints":[{"key":"keep-out","value":"yes","effect":"NoSchedule"}]}}`)
	var atFive string
	s.Clock().AfterDelay(5*time.Minute, func() { atFive = statusString(getDaemonSet(t, s, "agent").Status) })
	s.Clock().AfterDelay(6*time.Minute, func() {
		if err := s.API().Delete(nodeKind, "", "n4", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(7*time.Minute, func() {})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	podNode := map[types.UID]string{}
	obs, _ := s.Observe()
	for _, rec := range obs.Pods {
		node, _ := dsutil.GetTargetNodeName(rec.Pod)
		podNode[rec.Pod.UID] = node
	}
	var got []string
	for _, e := range *log {
		if e.What == "created" || e.What == "terminating" {
			got = append(got, fmt.Sprintf("%s %s@%v", podNode[e.UID], e.What, e.At))
		}
	}
	// n4, deleted at 6m, leaves its pod to the pod garbage collector (the DaemonSet controller
	// never deletes pods of a node that is gone): the pass at 6m queues the node for the 40 s
	// quarantine, the pass at 6m40s marks the pod Failed and deletes it (workloads/podgc).
	want := []string{"n1 created@0s", "n2 created@0s", "n3 created@0s", "n4 created@1m0s", "n2 terminating@2m0s", "n3 terminating@3m0s", "n4 terminating@6m40s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pod lifecycle\n  %v\nwant\n  %v", got, want)
	}
	if want := "desired=1 current=1 ready=1 available=1 updated=1 misscheduled=1 unavailable=0"; atFive != want {
		t.Errorf("status at 5m: %s, want %s (n1 tainted NoSchedule keeps its pod, misscheduled)", atFive, want)
	}
	if got, want := statusString(getDaemonSet(t, s, "agent").Status), "desired=0 current=0 ready=0 available=0 updated=0 misscheduled=1 unavailable=0"; got != want {
		t.Errorf("status after n4 is deleted: %s, want %s", got, want)
	}
}

// A template change rolls out node by node (name order) with maxUnavailable 1: the old pod is
// deleted, the new one created when it is gone, and the next node waits until the new pod is
// available. With maxSurge 1 and maxUnavailable 0 the new pod starts next to the old one,
// which goes once the new one is available.
func TestDaemonSetRollingUpdate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		surge        bool
		created, del []string
	}{
		{"maxUnavailable", false,
			[]string{"n1@1m3s", "n2@1m11s", "n3@1m19s"},
			[]string{"n1@1m0s", "n2@1m8s", "n3@1m16s"}},
		{"maxSurge", true,
			[]string{"n1@1m0s", "n2@1m5s", "n3@1m10s"},
			[]string{"n1@1m5s", "n2@1m10s", "n3@1m15s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := workloadstest.SlowSim(t)
			log := workloadstest.WatchPods(s)
			ds := workloadstest.DaemonSet("agent")
			if tc.surge {
				one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
				ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxSurge: &one, MaxUnavailable: &zero}}
			}
			workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.KWOKNode("n2", "4"), workloadstest.KWOKNode("n3", "4"), ds)
			s.Clock().AfterDelay(time.Minute, func() {
				d := getDaemonSet(t, s, "agent")
				d.Spec.Template.Spec.Containers[0].Image = "agent:2"
				if _, err := s.API().Update(d); err != nil {
					t.Error(err)
				}
			})
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			podNode := map[types.UID]string{}
			obs, _ := s.Observe()
			for _, rec := range obs.Pods {
				node, _ := dsutil.GetTargetNodeName(rec.Pod)
				podNode[rec.Pod.UID] = node
			}
			var created, deleted []string
			for _, e := range *log {
				if e.At < time.Minute {
					continue
				}
				switch e.What {
				case "created":
					created = append(created, fmt.Sprintf("%s@%v", podNode[e.UID], e.At))
				case "terminating":
					deleted = append(deleted, fmt.Sprintf("%s@%v", podNode[e.UID], e.At))
				}
			}
			if fmt.Sprint(created) != fmt.Sprint(tc.created) || fmt.Sprint(deleted) != fmt.Sprint(tc.del) {
				t.Errorf("new pods %v, old pods deleted %v; want %v and %v", created, deleted, tc.created, tc.del)
			}
			d := getDaemonSet(t, s, "agent")
			if got, want := statusString(d.Status), "desired=3 current=3 ready=3 available=3 updated=3 misscheduled=0 unavailable=0"; got != want {
				t.Errorf("status %s, want %s", got, want)
			}
			if got := podsOf(t, s, "agent"); len(got) != 3 {
				t.Errorf("pods %v, want one per node", got)
			}
		})
	}
}
