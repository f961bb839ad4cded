package cronjob

import (
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// The history limits: how many finished Jobs a CronJob keeps.

// cleanupFinishedJobs is the real cleanupFinishedJobs: beyond successfulJobsHistoryLimit
// (defaulted to 3) completed and failedJobsHistoryLimit (defaulted to 1) failed Jobs, the
// oldest go. It reports whether cj's status changed.
func (c *Controller) cleanupFinishedJobs(cj *batchv1.CronJob, jobs []*batchv1.Job) bool {
	if cj.Spec.FailedJobsHistoryLimit == nil && cj.Spec.SuccessfulJobsHistoryLimit == nil {
		return false
	}
	var succeeded, failed []*batchv1.Job
	for _, j := range jobs {
		switch finishedAs(j) {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	updated := false
	if l := cj.Spec.SuccessfulJobsHistoryLimit; l != nil && c.removeOldestJobs(cj, succeeded, *l) {
		updated = true
	}
	if l := cj.Spec.FailedJobsHistoryLimit; l != nil && c.removeOldestJobs(cj, failed, *l) {
		updated = true
	}
	return updated
}

// finishedAs is the real getFinishedStatus: Complete or Failed, or "" for a Job not finished.
func finishedAs(j *batchv1.Job) batchv1.JobConditionType {
	for _, cond := range j.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			return cond.Type
		}
	}
	return ""
}

// removeOldestJobs is the real removeOldestJobs: the Jobs beyond max go, earliest started
// first (byJobStartTime: unstarted last, then by name).
func (c *Controller) removeOldestJobs(cj *batchv1.CronJob, jobs []*batchv1.Job, max int32) bool {
	n := len(jobs) - int(max)
	if n <= 0 {
		return false
	}
	slices.SortFunc(jobs, byJobStartTime)
	updated := false
	for _, j := range jobs[:n] {
		if c.deleteJob(cj, j) {
			updated = true
		}
	}
	return updated
}

func byJobStartTime(a, b *batchv1.Job) int {
	sa, sb := a.Status.StartTime, b.Status.StartTime
	switch {
	case sa == nil && sb != nil:
		return 1
	case sa != nil && sb == nil:
		return -1
	case sa.Equal(sb):
		return strings.Compare(a.Name, b.Name)
	case sa.Before(sb):
		return -1
	default:
		return 1
	}
}
