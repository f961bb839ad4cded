package sim

import (
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// A pod whose scheduling cycle fails without naming a plugin that rejected it (a cluster with
// no nodes at all, an error from a plugin or the apiserver) waits in the queue's error backoff
// heap. Pop never takes pods from that heap: the real queue moves them to activeQ from a flush
// that runs every second of wall time (flushBackoffQCompleted), which the simulator does not
// run. The driver reproduces that flush on virtual time, pod by pod.

// backoffWindow is the queue's backoff ordering window (backoffQOrderingWindowDuration):
// backoff expiries are truncated to it, and its flush runs once per window.
const backoffWindow = time.Second

// inErrorBackoff reports whether the failure handler puts the pod in error backoff: the queue
// does so when the failure names no unschedulable or pending plugin, which only a FitError
// does.
func inErrorBackoff(status *fwk.Status) bool {
	var fit *framework.FitError
	if !errors.As(status.AsError(), &fit) {
		return true
	}
	return fit.Diagnosis.UnschedulablePlugins.Len() == 0 && fit.Diagnosis.PendingPlugins.Len() == 0
}

// backingOffAfterError notes a pod the failure handler just put in error backoff and arms its
// retry. The failure handler works on a copy of the queued pod, so the backoff is computed
// here as the queue computes it (backoffQueue.getBackoffTime): the consecutive error count,
// now one more, doubles the initial backoff up to the maximum; the expiry is truncated to
// the ordering window, and the first flush after it moves the pod.
func (d *driver) backingOffAfterError(pi *framework.QueuedPodInfo) {
	if d.armRetry == nil || d.maxBackoff == 0 {
		return // no backoff: the queue put the pod straight back in activeQ
	}
	backoff := d.maxBackoff
	if shift := pi.ConsecutiveErrorsCount; shift < 32 && d.initialBackoff <= d.maxBackoff>>shift {
		backoff = d.initialBackoff << shift
	}
	expiry := d.clock.Now().Add(backoff).Truncate(backoffWindow)
	d.errorBackoff[pi.Pod.UID] = true
	d.armRetry(expiry.Add(backoffWindow), pi.Pod)
}

// retryAfterError moves a pod whose error backoff has ended to the active queue, as the
// queue's flush would. A pod that has left the backoff queue meanwhile (deleted, bound,
// failed again) is left alone: Activate only moves pods it finds there.
func (d *driver) retryAfterError(pod *corev1.Pod) {
	if !d.errorBackoff[pod.UID] {
		return
	}
	delete(d.errorBackoff, pod.UID)
	d.sched.SchedulingQueue.Activate(d.logger, map[string]*corev1.Pod{pod.Namespace + "/" + pod.Name: pod})
}

// poppableFromBackoff counts the backoff queue's pods that Pop can take: those in error
// backoff cannot be popped, and counting them would make the driver's next Pop block.
func (d *driver) poppableFromBackoff(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if !d.errorBackoff[p.UID] {
			n++
		}
	}
	return n
}

// armRetry schedules an error-backoff retry as background work: a pod retried forever (no
// node exists for it) must not keep a run without --until going, as the retry of
// unschedulable pods does not.
func (s *Simulator) armRetry(at time.Time, pod *corev1.Pod) {
	s.clock.Daemon(at, func() { s.driver.retryAfterError(pod) })
}
