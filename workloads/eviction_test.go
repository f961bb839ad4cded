package workloads_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

func evictPod(s *sim.Simulator, name string) error {
	return s.API().Evict(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}})
}

// livePods are the pods of app=web not being deleted, by name.
func livePods(t *testing.T, s *sim.Simulator) []string {
	var out []string
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Labels["app"] == "web" && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	return out
}

// The eviction API against a budget the disruption controller keeps, as kube-apiserver's
// EvictionREST.Create and pkg/controller/disruption play it. A Deployment of 3 on a node with
// room for 3, a budget minAvailable 2; under stage-fast every pod is Ready at 0 s, so the
// controller's status is healthy 3, desired 2, allowed 1.
//
//   - 60 s: the first eviction is allowed (checkAndDecrement): allowed 1 → 0, the pod in
//     status.disruptedPods at 60 s, the pod gets DisruptionTarget (EvictionByEvictionAPI) and
//     deletionTimestamp 60 s + its 30 s grace period (the default terminationGracePeriodSeconds).
//   - 60 s, after the events that eviction caused at that instant (stage-fast's pod-delete,
//     the controller's sync: countHealthyPods skips the deleted or disrupted pod, so healthy
//     2, allowed 0): a second eviction is refused with 429 and the cause "The disruption
//     budget web needs 2 healthy pods and has 2 currently" (currentHealthy ≤ desiredHealthy),
//     and recorded. The replacement is created and scheduled at 60 s once the capacity is
//     free, and Ready at once.
//   - 70 s: the controller has synced the Ready replacement (healthy 3, allowed 1): a third
//     eviction is allowed.
func TestEvictionAPIRespectsTheDisruptionBudget(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 3), workloadstest.Deployment("web", 3),
		pdb("web", map[string]string{"app": "web"}, intOrPct("2"), nil))
	var first, second string
	s.Clock().At(sim.Epoch.Add(60*time.Second), func() {
		live := livePods(t, s)
		if len(live) != 3 {
			t.Fatalf("pods before the eviction: %v", live)
		}
		first, second = live[0], live[1]
		if b := workloadstest.MustGet[*policyv1.PodDisruptionBudget](t, s, "PodDisruptionBudget", "web"); b.Status.DisruptionsAllowed != 1 {
			t.Fatalf("budget allows %d before the eviction, want 1", b.Status.DisruptionsAllowed)
		}
		if err := evictPod(s, first); err != nil {
			t.Fatalf("first eviction: %v", err)
		}
		p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", first)
		if c := podCondition(p, corev1.DisruptionTarget); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "EvictionByEvictionAPI" {
			t.Errorf("evicted pod's DisruptionTarget: %+v", c)
		}
		if p.DeletionTimestamp == nil || !p.DeletionTimestamp.Time.Equal(sim.Epoch.Add(90*time.Second)) {
			t.Errorf("deletionTimestamp %v, want 90 s", p.DeletionTimestamp)
		}
		b := workloadstest.MustGet[*policyv1.PodDisruptionBudget](t, s, "PodDisruptionBudget", "web")
		if at, ok := b.Status.DisruptedPods[first]; !ok || !at.Time.Equal(sim.Epoch.Add(60*time.Second)) || b.Status.DisruptionsAllowed != 0 {
			t.Errorf("budget after the eviction: disruptedPods %v, allowed %d; want %s at 60 s, 0", b.Status.DisruptedPods, b.Status.DisruptionsAllowed, first)
		}
		s.Clock().AfterDelay(0, func() {
			err := evictPod(s, second)
			if !apierrors.IsTooManyRequests(err) {
				t.Fatalf("second eviction: %v, want 429", err)
			}
			if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", second); p.DeletionTimestamp != nil || podCondition(p, corev1.DisruptionTarget) != nil {
				t.Error("the refused pod is being deleted or marked")
			}
		})
	})
	s.Clock().At(sim.Epoch.Add(70*time.Second), func() {
		if err := evictPod(s, second); err != nil {
			t.Errorf("third eviction, after the replacement is Ready: %v", err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	want := "The disruption budget web needs 2 healthy pods and has 2 currently"
	if r := obs.RefusedEvictions; len(r) != 1 || r[0].At != 60*time.Second || r[0].Pod != second || r[0].Budget != "web" || r[0].Message != want {
		t.Errorf("refused evictions %+v, want %s at 60s by web: %q", r, second, want)
	}
	if live := livePods(t, s); len(live) != 3 || slices.Contains(live, first) || slices.Contains(live, second) {
		t.Errorf("pods at the end %v, want 3 replacements", live)
	}
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// A pod with terminationGracePeriodSeconds 30 deleted at 10 s on a node with room for one pod
// only; a second pod waits for the room from 5 s. The scheduler keeps a terminating pod's
// capacity until the pod is gone, so the waiting pod is bound exactly when the old one goes:
//
//   - stage-fast: its pod-delete (no delay) removes the pod at 10 s;
//   - KWOK's general pod-delete (testdata/kwok/stages/pod/general): delay 1 s with jitter up to
//     deletionTimestamp, i.e. drawn in [11 s, 40 s);
//   - no pod-delete stage: the grace period ends at deletionTimestamp, 40 s, when the kubelet
//     removes the pod (sim's graceful termination).
func TestGracefulTerminationFreesCapacityWhenThePodGoes(t *testing.T) {
	general, err := os.ReadFile("../testdata/kwok/stages/pod/general/pod-delete.yaml")
	if err != nil {
		t.Fatal(err)
	}
	generalDelete, err := stages.Parse(general, "general/pod-delete.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withoutDelete := slices.DeleteFunc(stages.Default(), func(st *stages.Stage) bool { return st.Name == "pod-delete" })
	for _, tc := range []struct {
		name     string
		stages   []*stages.Stage
		min, max time.Duration // when the old pod goes, inclusive
	}{
		{"stage-fast", stages.Default(), 10 * time.Second, 10 * time.Second},
		{"general pod-delete", append(slices.Clone(withoutDelete), generalDelete...), 11 * time.Second, 40*time.Second - time.Millisecond},
		{"no pod-delete stage", withoutDelete, 40 * time.Second, 40 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: tc.stages})
			old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "old", Namespace: "default"}, Spec: workloadstest.PodSpec("1")}
			old.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
			workloadstest.Create(t, s, workloadstest.CPUNode("n1", 1), old)
			var gone, bound time.Duration = -1, -1
			s.API().Watch(func(ev sim.WatchEvent) {
				p, ok := ev.Object.(*corev1.Pod)
				switch {
				case !ok:
				case p.Name == "old" && ev.Type == watch.Deleted:
					gone = s.Elapsed()
				case p.Name == "waiting" && p.Spec.NodeName != "" && bound < 0:
					bound = s.Elapsed()
				}
			})
			s.Clock().At(sim.Epoch.Add(5*time.Second), func() {
				w := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "waiting", Namespace: "default"}, Spec: workloadstest.PodSpec("1")}
				if _, err := s.API().Create(w); err != nil {
					t.Error(err)
				}
			})
			s.Clock().At(sim.Epoch.Add(10*time.Second), func() {
				k, _ := sim.KindNamed("Pod")
				if err := s.API().Delete(k, "default", "old", metav1.DeleteOptions{}); err != nil {
					t.Error(err)
				}
			})
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			t.Logf("old pod gone at %v, waiting pod bound at %v", gone, bound)
			if gone < tc.min || gone > tc.max {
				t.Errorf("old pod gone at %v, want in [%v, %v]", gone, tc.min, tc.max)
			}
			if bound != gone {
				t.Errorf("waiting pod bound at %v, want when the old pod went (%v)", bound, gone)
			}
		})
	}
}

// An eviction the budget allowed whose pod was then not deleted (here: the delete's UID
// precondition does not match, so EvictionREST.Create fails after checkAndDecrement wrote
// status.disruptedPods) counts as disrupted for DeletionTimeout (2 min), then the disruption
// controller drops it (buildDisruptedPodMap: expired, NotDeleted warning) at its recheck.
// Deployment of 3, all Ready at 0 s, minAvailable 1: healthy 3, allowed 2.
//
//   - 60 s: the eviction fails with a Conflict; the apiserver wrote allowed 1 and the pod at
//     60 s; the controller's sync counts it out of the healthy pods: healthy 2, allowed 1.
//   - 180 s, the recheck: countHealthyPods counts the pod again (60 s + 2 min is not after
//     now) while buildDisruptedPodMap still keeps its entry (not before now): healthy 3,
//     allowed 2, one disrupted pod.
//   - just past 180 s: the entry has expired: no disrupted pod, one NotDeleted warning.
func TestDisruptedPodExpiresAfterDeletionTimeout(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 3), workloadstest.Deployment("web", 3),
		pdb("web", map[string]string{"app": "web"}, intOrPct("1"), nil))
	var log []string
	s.API().Watch(func(ev sim.WatchEvent) {
		if b, ok := ev.Object.(*policyv1.PodDisruptionBudget); ok && s.Elapsed() > 0 {
			log = append(log, fmt.Sprintf("%v healthy=%d allowed=%d disrupted=%d", s.Elapsed().Truncate(time.Second),
				b.Status.CurrentHealthy, b.Status.DisruptionsAllowed, len(b.Status.DisruptedPods)))
		}
	})
	var victim string
	s.Clock().At(sim.Epoch.Add(60*time.Second), func() {
		victim = livePods(t, s)[0]
		wrong := types.UID("not-the-pod")
		err := s.API().Evict(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: victim},
			DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}})
		if !apierrors.IsConflict(err) {
			t.Errorf("eviction with a wrong UID: %v, want a Conflict", err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1m0s healthy=3 allowed=1 disrupted=1", // the eviction handler's decrement
		"1m0s healthy=2 allowed=1 disrupted=1", // the controller's sync
		"3m0s healthy=3 allowed=2 disrupted=1", // the recheck at DeletionTimeout
		"3m0s healthy=3 allowed=2 disrupted=0", // and just past it
	}
	if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("budget status:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	var warned []string
	for _, e := range s.Recorder().Events() {
		if e.Reason == "NotDeleted" {
			warned = append(warned, e.Name+": "+e.Message)
		}
	}
	if len(warned) != 1 || warned[0] != victim+": Pod was expected by PDB default/default to be deleted but it wasn't" {
		t.Errorf("NotDeleted warnings %q", warned)
	}
	if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", victim); p.DeletionTimestamp != nil || podCondition(p, corev1.DisruptionTarget) != nil {
		t.Errorf("the pod the eviction failed on was changed: %+v", p.Status.Conditions)
	}
}

// A DisruptionTarget condition that no deletion followed is stale after 2 minutes
// (stalePodDisruptionTimeout) and the disruption controller sets it back to False
// (syncStalePodDisruption), even with no budget in the cluster.
func TestStaleDisruptionTargetIsReset(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: workloadstest.PodSpec("1")}
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 1), p)
	var log []string
	s.API().Watch(func(ev sim.WatchEvent) {
		if p, ok := ev.Object.(*corev1.Pod); ok {
			if c := podCondition(p, corev1.DisruptionTarget); c != nil {
				line := fmt.Sprintf("%v %s %s", s.Elapsed(), c.Status, c.Reason)
				if len(log) == 0 || log[len(log)-1] != line {
					log = append(log, line)
				}
			}
		}
	})
	s.Clock().At(sim.Epoch.Add(10*time.Second), func() {
		p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "p")
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget,
			Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI", LastTransitionTime: metav1.NewTime(sim.Epoch.Add(10 * time.Second))})
		if _, err := s.API().UpdateStatus(p); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := "10s True EvictionByEvictionAPI\n2m10s False "
	if got := strings.Join(log, "\n"); got != want {
		t.Errorf("DisruptionTarget:\n%s\nwant:\n%s", got, want)
	}
}
