package disruption

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
)

// deletionTimeout is the real controller's DeletionTimeout: how long a pod the eviction API
// let go (status.disruptedPods) is expected to take to be deleted.
const deletionTimeout = 2 * time.Minute

// Sync is the real controller's sync and trySync: compute the budget's status from the pods
// it selects and the scale of their controllers, write it if it changed, and fall back to
// failSafe (no disruption allowed, condition SyncFailed) when it cannot be computed.
func (c *Controller) Sync(ns, name string) error {
	b, ok := c.budgets[ns][name]
	if !ok {
		return nil // deleted since
	}
	pdb := b.pdb
	pods := c.podsFor(b)
	expected, desired, unmanaged, err := c.expectedPodCount(pdb, pods)
	if err != nil {
		c.warn(pdb, "CalculateExpectedPodCountFailed", fmt.Sprintf("Failed to calculate the number of expected pods: %v", err))
		return c.failSafe(pdb, err)
	}
	delete(c.warned, warningKey{ns, name, "CalculateExpectedPodCountFailed"})
	if len(unmanaged) > 0 {
		c.warn(pdb, "UnmanagedPods", fmt.Sprintf("Pods selected by this PodDisruptionBudget (selector: %v) were found "+
			"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
			"To account for these pods please set \".spec.minAvailable\" "+
			"field of the PDB to an integer value.", pdb.Spec.Selector))
	} else {
		delete(c.warned, warningKey{ns, name, "UnmanagedPods"})
	}
	now := c.m.Clock().Now()
	disrupted, recheck, late := disruptedPods(pods, pdb, now)
	for _, pod := range late {
		c.m.Warn("Pod", pod.Namespace, pod.Name, "NotDeleted",
			fmt.Sprintf("Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Namespace))
	}
	healthy := countHealthyPods(pods, disrupted, now)
	if err := c.updateStatus(pdb, healthy, desired, expected, disrupted); err != nil {
		return err
	}
	if recheck != nil {
		// An entry expiring at this very instant is still kept (expected.Before(now) is
		// false): look again just after, when it has expired, rather than at once forever.
		at := *recheck
		if !at.After(now) {
			at = now.Add(time.Nanosecond)
		}
		c.queue.AddAt(ns, name, at)
	} else {
		c.queue.Forget(ns, name) // nothing left to expire (see the package comment)
	}
	return nil
}

// disruptedPods is buildDisruptedPodMap: the pods the eviction API let go that are still
// expected to be deleted, when to look again, and the pods whose deletion is overdue (the
// real one warns NotDeleted on each), by name.
func disruptedPods(pods []*corev1.Pod, pdb *policyv1.PodDisruptionBudget, now time.Time) (map[string]metav1.Time, *time.Time, []*corev1.Pod) {
	result := map[string]metav1.Time{}
	var recheck *time.Time
	var late []*corev1.Pod
	if pdb.Status.DisruptedPods == nil {
		return result, nil, nil
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		t, found := pdb.Status.DisruptedPods[pod.Name]
		if !found {
			continue
		}
		expected := t.Add(deletionTimeout)
		if expected.Before(now) {
			late = append(late, pod)
			continue
		}
		if recheck == nil || expected.Before(*recheck) {
			recheck = &expected
		}
		result[pod.Name] = t
	}
	slices.SortFunc(late, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return result, recheck, late
}

// countHealthyPods is the real controller's: Ready pods that are neither being deleted nor
// recently let go by the eviction API.
func countHealthyPods(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var healthy int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if t, found := disrupted[pod.Name]; found && t.Add(deletionTimeout).After(now) {
			continue
		}
		if podutil.IsPodReady(pod) {
			healthy++
		}
	}
	return healthy
}

// updateStatus is updatePdbStatus: disruptions are allowed only while some pod is expected and
// more are healthy than desired.
func (c *Controller) updateStatus(pdb *policyv1.PodDisruptionBudget, healthy, desired, expected int32, disrupted map[string]metav1.Time) error {
	allowed := healthy - desired
	if expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	if pdb.Status.CurrentHealthy == healthy && pdb.Status.DesiredHealthy == desired &&
		pdb.Status.ExpectedPods == expected && pdb.Status.DisruptionsAllowed == allowed &&
		apiequality.Semantic.DeepEqual(pdb.Status.DisruptedPods, disrupted) &&
		pdb.Status.ObservedGeneration == pdb.Generation && pdbhelper.ConditionsAreUpToDate(pdb) {
		return nil
	}
	next := pdb.DeepCopy()
	next.Status = policyv1.PodDisruptionBudgetStatus{
		CurrentHealthy:     healthy,
		DesiredHealthy:     desired,
		ExpectedPods:       expected,
		DisruptionsAllowed: allowed,
		DisruptedPods:      disrupted,
		ObservedGeneration: pdb.Generation,
		Conditions:         next.Status.Conditions,
	}
	pdbhelper.UpdateDisruptionAllowedCondition(next)
	c.virtualizeCondition(pdb, next)
	_, err := c.m.API().UpdateStatus(next)
	return err
}

// failSafe is the real controller's: when the status cannot be computed, allow no disruption
// and say why in the condition.
func (c *Controller) failSafe(pdb *policyv1.PodDisruptionBudget, cause error) error {
	next := pdb.DeepCopy()
	next.Status.DisruptionsAllowed = 0
	if next.Status.Conditions == nil {
		next.Status.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&next.Status.Conditions, metav1.Condition{
		Type:               policyv1.DisruptionAllowedCondition,
		Status:             metav1.ConditionFalse,
		Reason:             policyv1.SyncFailedReason,
		Message:            cause.Error(),
		ObservedGeneration: next.Status.ObservedGeneration,
	})
	c.virtualizeCondition(pdb, next)
	_, err := c.m.API().UpdateStatus(next)
	return err
}

// virtualizeCondition puts virtual time on a DisruptionAllowed condition that is new or
// changed status: apimeta.SetStatusCondition stamps it with the wall clock.
func (c *Controller) virtualizeCondition(old, next *policyv1.PodDisruptionBudget) {
	cond := apimeta.FindStatusCondition(next.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if cond == nil {
		return
	}
	if prev := apimeta.FindStatusCondition(old.Status.Conditions, policyv1.DisruptionAllowedCondition); prev != nil && prev.Status == cond.Status {
		cond.LastTransitionTime = prev.LastTransitionTime
		return
	}
	cond.LastTransitionTime = metav1.NewTime(c.m.Clock().Now().Truncate(time.Second))
}

// expectedPodCount is getExpectedPodCount: with maxUnavailable, or a percentage minAvailable,
// the expected pods are the summed scale of the pods' controllers; an integer minAvailable
// expects the pods selected.
func (c *Controller) expectedPodCount(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod) (expected, desired int32, unmanaged []string, err error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		if expected, unmanaged, err = c.expectedScale(pods); err != nil {
			return
		}
		var maxUnavailable int
		if maxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true); err != nil {
			return
		}
		desired = max(expected-int32(maxUnavailable), 0)
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		desired = pdb.Spec.MinAvailable.IntVal
		expected = int32(len(pods))
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String:
		if expected, unmanaged, err = c.expectedScale(pods); err != nil {
			return
		}
		var minAvailable int
		if minAvailable, err = intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true); err != nil {
			return
		}
		desired = int32(minAvailable)
	}
	return
}
