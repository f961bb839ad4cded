package sim

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// runningPod is a pod bound to n1, Running, Ready or not, labelled app=web. Without stages
// nothing changes its status after the test sets it.
func runningPod(t *testing.T, s *Simulator, name string, ready bool) {
	t.Helper()
	p := pod(name)
	p.Labels = map[string]string{"app": "web"}
	p.Spec.NodeName = "n1"
	p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	mustCreate(t, s, p)
	p = getPod(t, s, name)
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: status})
	if _, err := s.API().UpdateStatus(p); err != nil {
		t.Fatal(err)
	}
}

// budget stores a PodDisruptionBudget over app=web with the status the disruption controller
// would have written (this package has no controller).
func budget(t *testing.T, s *Simulator, name string, minAvailable int, policy *policyv1.UnhealthyPodEvictionPolicyType, healthy, desired, allowed int32) {
	t.Helper()
	min := intstr.FromInt32(int32(minAvailable))
	obj, err := s.API().Create(&policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &min, UnhealthyPodEvictionPolicy: policy,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pdb := obj.(*policyv1.PodDisruptionBudget)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation,
		CurrentHealthy: healthy, DesiredHealthy: desired, DisruptionsAllowed: allowed, ExpectedPods: healthy}
	if _, err := s.API().UpdateStatus(pdb); err != nil {
		t.Fatal(err)
	}
}

func getBudget(t *testing.T, s *Simulator, name string) *policyv1.PodDisruptionBudget {
	t.Helper()
	obj, err := s.API().Get(kinds["PodDisruptionBudget"], "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*policyv1.PodDisruptionBudget)
}

func evict(s *Simulator, name string) error {
	return s.API().Evict(&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}})
}

func disruptionCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.DisruptionTarget {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// The eviction handler's decisions that do not use up the budget, from EvictionREST.Create
// (pkg/registry/core/pod/storage/eviction.go): a pod that is not Ready goes without a
// decrement when the budget is whole (IfHealthyBudget: currentHealthy ≥ desiredHealthy > 0)
// or its policy is AlwaysAllow; otherwise checkAndDecrement refuses it when no disruption is
// allowed, with "needs %d healthy pods and has %d currently". A Pending pod (canIgnorePDB)
// goes whatever the budget says.
func TestEvictionOfUnhealthyPods(t *testing.T) {
	always := ptr.To(policyv1.AlwaysAllow)
	for _, tc := range []struct {
		name                     string
		ready                    []bool // pods p0…, the last one is evicted
		policy                   *policyv1.UnhealthyPodEvictionPolicyType
		healthy, desired, allowd int32
		refused                  string
	}{
		{name: "whole budget lets an unready pod go", ready: []bool{true, true, true, false}, healthy: 3, desired: 2, allowd: 1},
		{name: "disrupted budget keeps it", ready: []bool{true, false}, healthy: 1, desired: 2,
			refused: "The disruption budget web needs 2 healthy pods and has 1 currently"},
		{name: "AlwaysAllow lets it go", ready: []bool{true, false}, policy: always, healthy: 1, desired: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Config{Seed: 1})
			mustCreate(t, s, node("n1"))
			var last string
			for i, r := range tc.ready {
				last = "p" + string(rune('0'+i))
				runningPod(t, s, last, r)
			}
			budget(t, s, "web", 2, tc.policy, tc.healthy, tc.desired, tc.allowd)
			err := evict(s, last)
			obs, _ := s.Observe()
			if tc.refused != "" {
				if !apierrors.IsTooManyRequests(err) {
					t.Fatalf("evict: %v, want 429", err)
				}
				if len(obs.RefusedEvictions) != 1 || obs.RefusedEvictions[0].Message != tc.refused || obs.RefusedEvictions[0].Budget != "web" {
					t.Errorf("refusals recorded %+v, want one by web: %q", obs.RefusedEvictions, tc.refused)
				}
				if p := getPod(t, s, last); p.DeletionTimestamp != nil || disruptionCondition(p) != nil {
					t.Errorf("refused pod is being deleted or has DisruptionTarget: %+v", p.Status.Conditions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(obs.RefusedEvictions) != 0 {
				t.Errorf("refusals recorded: %+v", obs.RefusedEvictions)
			}
			p := getPod(t, s, last)
			if c := disruptionCondition(p); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "EvictionByEvictionAPI" || c.Message != "Eviction API: evicting" {
				t.Errorf("DisruptionTarget = %+v", c)
			}
			if p.DeletionTimestamp == nil || !p.DeletionTimestamp.Time.Equal(Epoch.Add(30e9)) {
				t.Errorf("deletionTimestamp %v, want epoch + the pod's 30 s grace period", p.DeletionTimestamp)
			}
			b := getBudget(t, s, "web")
			if b.Status.DisruptionsAllowed != tc.allowd || len(b.Status.DisruptedPods) != 0 {
				t.Errorf("budget allowed %d, disruptedPods %v: an unready pod must not use it up", b.Status.DisruptionsAllowed, b.Status.DisruptedPods)
			}
		})
	}
}

// More than one budget over a pod: the handler's 500 "more than one PodDisruptionBudget". A
// budget whose status is older than its spec refuses as still being processed. Both come
// through the fake clientset's eviction subresource too (client-go's EvictV1).
func TestEvictionRefusals(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	runningPod(t, s, "p0", true)
	budget(t, s, "a", 0, nil, 1, 0, 1)
	budget(t, s, "b", 0, nil, 1, 0, 1)
	err := s.API().Client().CoreV1().Pods("default").EvictV1(context.Background(),
		&policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "p0"}})
	if s, ok := err.(apierrors.APIStatus); !ok || s.Status().Code != 500 ||
		s.Status().Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Errorf("two budgets: %v", err)
	}
	if err := s.API().Delete(kinds["PodDisruptionBudget"], "default", "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	a := getBudget(t, s, "a")
	a.Spec.MinAvailable = ptr.To(intstr.FromInt32(1))
	if _, err := s.API().Update(a); err != nil {
		t.Fatal(err)
	}
	err = evict(s, "p0")
	if !apierrors.IsTooManyRequests(err) || refusalMessage(err) != "The disruption budget a is still being processed by the server." {
		t.Errorf("stale budget: %v (%s), want 429 still being processed", err, refusalMessage(err))
	}
	if p := getPod(t, s, "p0"); p.DeletionTimestamp != nil {
		t.Error("p0 is being deleted")
	}
}
