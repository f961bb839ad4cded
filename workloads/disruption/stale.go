package disruption

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// stalePodDisruptionTimeout is the real controller's: how long a pod may carry a
// DisruptionTarget condition without being deleted before the condition is reset.
const stalePodDisruptionTimeout = 2 * time.Minute

// staleKind names the stale-condition cleanup's queue with the manager. It is no object's
// kind, so the manager never syncs it for a change of its own; the cleanup follows pods
// through the disruption controller's Observe.
const staleKind = "PodDisruptionCondition"

// staleCleanup is the real controller's second queue (stalePodDisruptionQueue,
// syncStalePodDisruption): a pod marked DisruptionTarget True by an eviction (API, taint
// manager, preemption, pod GC) that is still not being deleted after
// stalePodDisruptionTimeout has the condition set back to False, because the disruption it
// announced did not happen.
//
// Deliberate deviation: when the pod starts terminating, leaves a terminal phase or goes, its
// waiting check is dropped (the real queue keeps it and its sync finds nothing to do), so
// that a run does not go on for two minutes after every eviction.
type staleCleanup struct {
	m     *manager.Manager
	queue *manager.Queue
}

var _ manager.Controller = (*staleCleanup)(nil)

func newStaleCleanup(m *manager.Manager) *staleCleanup {
	s := &staleCleanup{m: m}
	s.queue = m.Register(s)
	return s
}

// Kind is staleKind.
func (s *staleCleanup) Kind() string { return staleKind }

// observe is the real controller's addPod/updatePod part that enqueues the cleanup.
func (s *staleCleanup) observe(ev sim.WatchEvent) {
	pod := ev.Object.(*corev1.Pod)
	if ev.Type == watch.Deleted {
		s.queue.Forget(pod.Namespace, pod.Name)
		return
	}
	has, after := staleDisruptionCondition(pod, s.m.Clock().Now())
	if !has {
		s.queue.Forget(pod.Namespace, pod.Name)
		return
	}
	s.queue.AddAfter(pod.Namespace, pod.Name, after)
}

// Sync is syncStalePodDisruption: reset the condition to False once it is stale.
func (s *staleCleanup) Sync(ns, name string) error {
	obj, err := s.m.Get("Pod", ns, name)
	if err != nil {
		return nil // deleted
	}
	pod := obj.(*corev1.Pod)
	now := s.m.Clock().Now()
	has, after := staleDisruptionCondition(pod, now)
	if !has {
		return nil
	}
	if after > 0 {
		s.queue.AddAfter(ns, name, after)
		return nil
	}
	next := pod.DeepCopy()
	if !podutil.UpdatePodCondition(&next.Status, &corev1.PodCondition{
		Type:               corev1.DisruptionTarget,
		ObservedGeneration: podutil.CalculatePodConditionObservedGeneration(&next.Status, next.Generation, corev1.DisruptionTarget),
		Status:             corev1.ConditionFalse,
	}) {
		return nil
	}
	// UpdatePodCondition stamps the change with the wall clock.
	_, c := podutil.GetPodCondition(&next.Status, corev1.DisruptionTarget)
	c.LastTransitionTime = metav1.NewTime(now.Truncate(time.Second))
	_, err = s.m.API().UpdateStatus(next)
	return err
}

// staleDisruptionCondition is nonTerminatingPodHasStaleDisruptionCondition: a DisruptionTarget
// True condition on a live pod in a non-terminal phase, not set by the kubelet, and how long
// until it is stale.
func staleDisruptionCondition(pod *corev1.Pod, now time.Time) (bool, time.Duration) {
	if pod.DeletionTimestamp != nil {
		return false, 0
	}
	_, cond := podutil.GetPodCondition(&pod.Status, corev1.DisruptionTarget)
	if cond == nil || cond.Status != corev1.ConditionTrue || cond.Reason == corev1.PodReasonTerminationByKubelet ||
		pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false, 0
	}
	return true, max(stalePodDisruptionTimeout-now.Sub(cond.LastTransitionTime.Time), 0)
}
