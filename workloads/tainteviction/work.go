package tainteviction

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	apipod "k8s.io/kubernetes/pkg/api/v1/pod"
)

// add is TimedWorkerQueue.AddWork: nothing when an eviction is already scheduled; one due
// now runs at this instant (after the event in progress), a later one at fireAt. Both are
// foreground: the run does not end before a pending eviction.
func (c *Controller) add(k podKey, createdAt, fireAt time.Time) {
	if c.work[k] != nil {
		return
	}
	w := &timedWork{createdAt: createdAt, fireAt: fireAt}
	w.event = c.clock.At(fireAt, func() {
		delete(c.work, k)
		c.deletePod(k)
	})
	c.work[k] = w
}

// cancel is TimedWorkerQueue.CancelWork.
func (c *Controller) cancel(k podKey) bool {
	w := c.work[k]
	if w == nil {
		return false
	}
	w.event.Cancel()
	delete(c.work, k)
	return true
}

// deletePod is addConditionAndDeletePod (taint_eviction.go): the DisruptionTarget condition
// through a strategic merge patch of the status (utilpod.PatchPodStatus), when it is not
// already so, then a delete with default options (the pod's own grace period).
func (c *Controller) deletePod(k podKey) {
	obj, err := c.api.Get(podKind, k.namespace, k.name)
	if err != nil {
		return
	}
	pod := obj.(*corev1.Pod)
	cond := corev1.PodCondition{
		Type:               corev1.DisruptionTarget,
		ObservedGeneration: apipod.CalculatePodConditionObservedGeneration(&pod.Status, pod.Generation, corev1.DisruptionTarget),
		Status:             corev1.ConditionTrue,
		Reason:             "DeletionByTaintManager",
		Message:            "Taint manager: deleting due to NoExecute taint",
		// UpdatePodCondition's rule, on virtual time (it stamps the wall clock).
		LastTransitionTime: metav1.NewTime(c.clock.Now().Truncate(time.Second)),
	}
	_, old := apipod.GetPodCondition(&pod.Status, corev1.DisruptionTarget)
	if old != nil && old.Status == cond.Status {
		cond.LastTransitionTime = old.LastTransitionTime
	}
	if old == nil || old.Reason != cond.Reason || old.Message != cond.Message || old.Status != cond.Status ||
		!old.LastProbeTime.IsZero() {
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"uid": pod.UID},
			"status":   map[string]any{"conditions": []corev1.PodCondition{cond}},
		})
		if err != nil {
			return
		}
		if _, err := c.api.Patch(podKind, pod.Namespace, pod.Name, types.StrategicMergePatchType, patch, "status"); err != nil {
			return
		}
	}
	_ = c.api.Delete(podKind, pod.Namespace, pod.Name, metav1.DeleteOptions{})
}
