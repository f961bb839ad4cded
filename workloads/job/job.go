package job

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	jobcontroller "k8s.io/kubernetes/pkg/controller/job"
	jobutil "k8s.io/kubernetes/pkg/controller/job/util"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// The Job controller, after k8s.io/kubernetes/pkg/controller/job (v1.37): the same pods, names,
// labels, counters, conditions and timing (one-second batching of pod events, exponential
// backoff after pod failures), run synchronously on the virtual clock.
//
// Deliberate deviations:
//   - Pods get no batch.kubernetes.io/job-tracking finalizer. The real controller uses it to
//     count every finished pod exactly once, racing a kubelet and the pod GC; here nothing
//     races, so the controller remembers which pods it counted (state.counted stands for
//     "finalizer removed") and keeps the last state of a pod deleted before it was counted
//     (state.gone stands for "still held by the finalizer"). status.uncountedTerminatedPods
//     therefore stays empty, and each sync writes the status once instead of up to three times.
//   - Not implemented: podFailurePolicy, backoffLimitPerIndex/maxFailedIndexes, successPolicy,
//     managedBy other than the built-in controller (such Jobs are left alone), adoption of
//     orphan pods, Workload/PodGroup objects (WorkloadWithJob is alpha and off).
//   - A Job with a deletionTimestamp is not synced; the generic garbage collection of
//     the manager package deletes its pods.

var controllerKind = batchv1.SchemeGroupVersion.WithKind("Job")

// Controller is the Job controller.
type Controller struct {
	m       *manager.Manager
	podKind *sim.Kind
	states  map[types.UID]*state
	queue   *manager.Queue
	// client is the job-controller's own client, which paces its pod creates.
	client *manager.Client
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
	_ manager.OwnedFilter  = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
)

// New registers a Job controller with m.
func New(m *manager.Manager) *Controller {
	podKind, _ := sim.KindNamed("Pod")
	j := &Controller{m: m, podKind: podKind, states: map[types.UID]*state{}, client: m.Client("job-controller")}
	j.queue = m.Register(j)
	if j.client.Paced() {
		j.queue.SetWorkers(int(m.Simulator().ControlPlane().ConcurrentJobSyncs))
	}
	return j
}

// Kind is "Job".
func (j *Controller) Kind() string { return "Job" }

// state is what the controller remembers about one Job between syncs.
type state struct {
	generation int64
	backoff    failureBackoff
	// counted holds the pods the status already accounts for, or that the controller removed
	// without counting them (scale-down, suspension).
	counted map[types.UID]bool
	// gone holds pods deleted before they were counted, as they were last seen.
	gone map[types.UID]*corev1.Pod
}

// ObjectChanged handles a change of the Job itself, as the real addJob/updateJob do: a new
// Job or a new generation (spec change) is synced at once, anything else (its own status
// writes) one batch period later; a finished Job is not synced again.
func (j *Controller) ObjectChanged(ev sim.WatchEvent) bool {
	job := ev.Object.(*batchv1.Job)
	if jobutil.IsJobFinished(job) {
		return false
	}
	if st := j.states[job.UID]; st == nil || st.generation != job.Generation {
		return true
	}
	j.queue.AddAfter(job.Namespace, job.Name, jobcontroller.SyncJobBatchPeriod)
	return false
}

// OwnedChanged batches a sync of the Job one period after a change that matters to it: a pod
// that ended, started terminating, went away, or changed readiness or restart count. The
// framework's immediate sync is never asked for (it returns false), as the real controller
// batches every pod event.
func (j *Controller) OwnedChanged(ev sim.WatchEvent) bool {
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ev.Type == watch.Deleted {
		j.podGone(ref.UID, pod)
	} else if ev.Old == nil || !podChangeMatters(ev.Old.(*corev1.Pod), pod) {
		return false
	}
	j.queue.AddAfter(pod.Namespace, ref.Name, jobcontroller.SyncJobBatchPeriod)
	return false
}

func podChangeMatters(old, cur *corev1.Pod) bool {
	return old.Status.Phase != cur.Status.Phase ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		podutil.IsPodReady(old) != podutil.IsPodReady(cur) ||
		restarts(old) != restarts(cur)
}

func restarts(p *corev1.Pod) int32 {
	n := int32(0)
	for _, s := range p.Status.InitContainerStatuses {
		n += s.RestartCount
	}
	for _, s := range p.Status.ContainerStatuses {
		n += s.RestartCount
	}
	return n
}

// podGone remembers a deleted pod the status does not count yet: the real controller's
// finalizer would keep it, terminating, until the next sync counts it.
func (j *Controller) podGone(owner types.UID, pod *corev1.Pod) {
	st := j.states[owner]
	if st == nil {
		return
	}
	if st.counted[pod.UID] {
		delete(st.counted, pod.UID)
		return
	}
	p := pod.DeepCopy()
	if p.DeletionTimestamp == nil {
		now := metav1.NewTime(j.m.Clock().Now())
		zero := int64(0)
		p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &zero
	}
	st.gone[p.UID] = p
}

// Observe forgets a deleted Job.
func (j *Controller) Observe(ev sim.WatchEvent) {
	if ev.Kind.Name() != "Job" || ev.Type != watch.Deleted {
		return
	}
	m := ev.Object.(metav1.Object)
	delete(j.states, m.GetUID())
	j.queue.Forget(m.GetNamespace(), m.GetName())
}
