package job

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	jobcontroller "k8s.io/kubernetes/pkg/controller/job"
)

// The Job controller's pod-failure backoff, ported from backoff_utils.go (unexported there):
// after n failures with no success since, a replacement pod waits
// DefaultJobPodFailureBackOff × 2^(n-1), capped at MaxJobPodFailureBackOff (10 s and 10 min
// in v1.37), counted from the last failure's finish time.

// failureBackoff is one Job's backoff record.
type failureBackoff struct {
	failuresAfterLastSuccess int32
	lastFailureTime          *time.Time
}

// next is the record after the pods that finished since the last sync.
func (b failureBackoff) next(newSucceeded, newFailed []*corev1.Pod) failureBackoff {
	sortByFinishTime(newSucceeded)
	sortByFinishTime(newFailed)
	if len(newSucceeded) == 0 {
		if len(newFailed) == 0 {
			return b
		}
		t := podFinishTime(newFailed[len(newFailed)-1])
		return failureBackoff{b.failuresAfterLastSuccess + int32(len(newFailed)), &t}
	}
	out := failureBackoff{}
	lastSuccess := podFinishTime(newSucceeded[len(newSucceeded)-1])
	for i := len(newFailed) - 1; i >= 0; i-- {
		t := podFinishTime(newFailed[i])
		if !t.After(lastSuccess) {
			break
		}
		if out.lastFailureTime == nil {
			out.lastFailureTime = &t
		}
		out.failuresAfterLastSuccess++
	}
	return out
}

// remaining is how long pod creation still has to wait at now.
func (b failureBackoff) remaining(now time.Time) time.Duration {
	if b.failuresAfterLastSuccess == 0 || b.lastFailureTime == nil {
		return 0
	}
	d := jobcontroller.DefaultJobPodFailureBackOff
	for i := 1; i < int(b.failuresAfterLastSuccess); i++ {
		d *= 2
		if d >= jobcontroller.MaxJobPodFailureBackOff {
			d = jobcontroller.MaxJobPodFailureBackOff
			break
		}
	}
	elapsed := now.Sub(*b.lastFailureTime)
	if d < elapsed {
		return 0
	}
	return d - elapsed
}

func sortByFinishTime(pods []*corev1.Pod) {
	// Stable, so pods finishing at one instant keep their (name) order.
	sort.SliceStable(pods, func(i, j int) bool { return podFinishTime(pods[i]).Before(podFinishTime(pods[j])) })
}

// podFinishTime is when a pod finished: the last container's finishedAt if all terminated,
// else when Ready turned False, else deletionTimestamp minus the grace period, else creation.
func podFinishTime(p *corev1.Pod) time.Time {
	if t := containersFinishTime(p); t != nil {
		return *t
	}
	if _, c := podutil.GetPodCondition(&p.Status, corev1.PodReady); c != nil && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
		return c.LastTransitionTime.Time
	}
	if p.DeletionTimestamp != nil {
		grace := int64(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = *p.DeletionGracePeriodSeconds
		}
		return p.DeletionTimestamp.Add(-time.Duration(grace) * time.Second)
	}
	return p.CreationTimestamp.Time
}

func containersFinishTime(p *corev1.Pod) *time.Time {
	finish := latestFinish(nil, p.Status.ContainerStatuses, nil)
	// Sidecars (restartable init containers) end after the main containers.
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	return latestFinish(finish, p.Status.InitContainerStatuses, sidecars)
}

// latestFinish is the latest finishedAt of the statuses (those named in only, if set),
// starting from prev; nil as soon as one of them has not terminated.
func latestFinish(prev *time.Time, statuses []corev1.ContainerStatus, only map[string]bool) *time.Time {
	finish := prev
	for _, cs := range statuses {
		if only != nil && !only[cs.Name] {
			continue
		}
		if cs.State.Terminated == nil || cs.State.Terminated.FinishedAt.IsZero() {
			return nil
		}
		if t := cs.State.Terminated.FinishedAt.Time; finish == nil || finish.Before(t) {
			finish = &t
		}
	}
	return finish
}
