package job

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/kubernetes/pkg/features"
)

// A Job's limits and conditions.

// pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts of running
// pods count against the backoff limit.
func pastBackoffLimitOnFailure(job *batchv1.Job, pods []*corev1.Pod) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	n := int32(0)
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
			n += restarts(p)
		}
	}
	if backoffLimit(job) == 0 {
		return n > 0
	}
	return n >= backoffLimit(job)
}

func (j *Controller) pastActiveDeadline(job *batchv1.Job, now time.Time) bool {
	if job.Spec.ActiveDeadlineSeconds == nil || job.Status.StartTime == nil || suspended(job) {
		return false
	}
	return now.Sub(job.Status.StartTime.Time) >= time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second
}

// setSuspendCondition keeps the Suspended condition in step with spec.suspend, resetting the
// start time on resume (and, as v1.37 does by default, on suspension).
func (j *Controller) setSuspendCondition(job *batchv1.Job, now time.Time) {
	var changed bool
	if suspended(job) {
		job.Status.Conditions, changed = ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now)
		if changed && utilfeature.DefaultFeatureGate.Enabled(features.MutableSchedulingDirectivesForSuspendedJobs) {
			job.Status.StartTime = nil
		}
		return
	}
	job.Status.Conditions, changed = ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
	if changed {
		t := metav1.NewTime(now)
		job.Status.StartTime = &t
	}
}

func (j *Controller) recordFinished(job *batchv1.Job, cond *batchv1.JobCondition) {
	if cond.Type == batchv1.JobComplete {
		if job.Spec.Completions != nil && job.Status.Succeeded > *job.Spec.Completions {
			j.m.Simulator().Recorder().Event(job, corev1.EventTypeWarning, "TooManySucceededPods", "Too many succeeded pods running after completion count reached")
		}
		j.m.Simulator().Recorder().Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
		return
	}
	j.m.Simulator().Recorder().Event(job, corev1.EventTypeWarning, cond.Reason, cond.Message)
}

func getCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func newCondition(t batchv1.JobConditionType, reason, message string, now time.Time) *batchv1.JobCondition {
	return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, LastProbeTime: metav1.NewTime(now),
		LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: message}
}

// ensureCondition is the real ensureJobConditionStatus: set a condition of the type, or add
// it unless it would be added as False.
func ensureCondition(list []batchv1.JobCondition, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) ([]batchv1.JobCondition, bool) {
	for i := range list {
		if list[i].Type != t {
			continue
		}
		if list[i].Status != status || list[i].Reason != reason || list[i].Message != message {
			c := newCondition(t, reason, message, now)
			c.Status = status
			list[i] = *c
			return list, true
		}
		return list, false
	}
	if status == corev1.ConditionFalse {
		return list, false
	}
	c := newCondition(t, reason, message, now)
	c.Status = status
	return append(list, *c), true
}
