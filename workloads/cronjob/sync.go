package cronjob

import (
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/reference"
	jobutil "k8s.io/kubernetes/pkg/controller/job/util"
	"k8s.io/utils/ptr"
)

// syncCronJob is the real syncCronJob: it brings cj's status in line with its Jobs, then
// starts the Job of the scheduled time due, if any and if the concurrency policy allows it.
// It changes cj in place and reports whether its status needs writing, and when to sync
// next (nil: not until something changes).
func (c *Controller) syncCronJob(cj *batchv1.CronJob, jobs []*batchv1.Job) (*time.Duration, bool, error) {
	now := c.m.Clock().Now()
	updateStatus := false

	children := map[types.UID]bool{}
	for _, j := range jobs {
		children[j.UID] = true
		found := inActiveList(cj, j.UID)
		switch {
		case !found && !jobutil.IsJobFinished(j):
			c.event(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: "+j.Name)
		case jobutil.IsJobFinished(j):
			if found {
				_, cond := jobutil.FinishedCondition(j)
				deleteFromActiveList(cj, j.UID)
				c.event(cj, corev1.EventTypeNormal, "SawCompletedJob", fmt.Sprintf("Saw completed job: %s, condition: %v", j.Name, cond))
				updateStatus = true
			}
			if jobutil.IsJobSucceeded(j) {
				// A Job need not be active to count: any success moves lastSuccessfulTime on.
				if cj.Status.LastSuccessfulTime == nil {
					cj.Status.LastSuccessfulTime = j.Status.CompletionTime
					updateStatus = true
				}
				if j.Status.CompletionTime != nil && j.Status.CompletionTime.After(cj.Status.LastSuccessfulTime.Time) {
					cj.Status.LastSuccessfulTime = j.Status.CompletionTime
					updateStatus = true
				}
			}
		}
	}
	// An active Job that no longer exists is dropped, or the CronJob would stay active forever.
	for _, ref := range slices.Clone(cj.Status.Active) {
		if !children[ref.UID] {
			c.event(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: "+ref.Name)
			deleteFromActiveList(cj, ref.UID)
			updateStatus = true
		}
	}

	if cj.DeletionTimestamp != nil {
		return nil, updateStatus, nil
	}
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil {
			c.warn(cj, "UnknownTimeZone", fmt.Sprintf("invalid timeZone: %q: %s", *tz, err))
			return nil, updateStatus, nil
		}
	}
	if ptr.Deref(cj.Spec.Suspend, false) {
		return nil, updateStatus, nil
	}
	if _, unsupported := formatSchedule(cj); unsupported {
		c.event(cj, corev1.EventTypeWarning, "UnsupportedSchedule", fmt.Sprintf("CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule))
	}
	sched, err := parseSchedule(cj, c.m.API().WallShift())
	if err != nil {
		c.warn(cj, "UnparseableSchedule", fmt.Sprintf("unparseable schedule: %q : %s", cj.Spec.Schedule, err))
		return nil, updateStatus, nil
	}
	scheduled, tooMany, err := nextScheduleTime(cj, now, sched)
	if tooMany {
		c.event(cj, corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	if err != nil {
		c.warn(cj, "InvalidSchedule", fmt.Sprintf("invalid schedule: %s : %s", cj.Spec.Schedule, err))
		return nil, updateStatus, nil
	}
	next := func() *time.Duration {
		d := nextScheduleTimeDuration(cj, now, sched)
		return &d
	}
	if scheduled == nil {
		return next(), updateStatus, nil
	}
	if d := cj.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		c.event(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: "+scheduled.UTC().Format(time.RFC1123Z))
		return next(), updateStatus, nil
	}
	name := jobName(cj, *scheduled, c.m.API().WallShift())
	if inActiveListByName(cj, cj.Namespace, name) || cj.Status.LastScheduleTime.Equal(&metav1.Time{Time: *scheduled}) {
		return next(), updateStatus, nil // this scheduled time was acted on already
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent && len(cj.Status.Active) > 0 {
		c.event(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
		return next(), updateStatus, nil
	}
	if cj.Spec.ConcurrencyPolicy == batchv1.ReplaceConcurrent {
		for _, ref := range slices.Clone(cj.Status.Active) {
			obj, err := c.m.Get("Job", ref.Namespace, ref.Name)
			if err != nil {
				c.event(cj, corev1.EventTypeWarning, "FailedGet", fmt.Sprintf("Get job: %v", err))
				return nil, updateStatus, err
			}
			if !c.deleteJob(cj, obj.(*batchv1.Job)) {
				return nil, updateStatus, fmt.Errorf("could not replace job %s/%s", ref.Namespace, ref.Name)
			}
			updateStatus = true
		}
	}

	job, err := jobFromTemplate(cj, *scheduled, name)
	if err != nil {
		return nil, updateStatus, err
	}
	created, err := c.m.API().Create(job)
	switch {
	case apierrors.IsAlreadyExists(err):
		// A Job of this name exists: if it is this CronJob's and not yet in its active list,
		// the real controller adds it (a status write lost after the create); otherwise it
		// leaves it to whoever made it.
		obj, err := c.m.Get("Job", cj.Namespace, name)
		if err != nil {
			return nil, updateStatus, err
		}
		existing := obj.(*batchv1.Job)
		if !metav1.IsControlledBy(existing, cj) || inActiveList(cj, existing.UID) {
			return nil, updateStatus, nil
		}
		created = existing
	case err != nil:
		// The error reaches the report as the sync's warning (SyncFailed).
		c.event(cj, corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating job: %v", err))
		return nil, updateStatus, err
	default:
		c.event(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+name)
	}
	ref, err := reference.GetReference(scheme.Scheme, created)
	if err != nil {
		return nil, updateStatus, fmt.Errorf("unable to make object reference for job for %s/%s", cj.Namespace, cj.Name)
	}
	cj.Status.Active = append(cj.Status.Active, *ref)
	cj.Status.LastScheduleTime = &metav1.Time{Time: *scheduled}
	return next(), true, nil
}

// jobFromTemplate is the real getJobFromTemplate2: the CronJob's Job template, named after
// the scheduled time, annotated with that time (RFC 3339, in the CronJob's time zone) and
// controlled by the CronJob.
func jobFromTemplate(cj *batchv1.CronJob, scheduled time.Time, name string) (*batchv1.Job, error) {
	loc, err := time.LoadLocation(ptr.Deref(cj.Spec.TimeZone, ""))
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for k, v := range cj.Spec.JobTemplate.Labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range cj.Spec.JobTemplate.Annotations {
		annotations[k] = v
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			// The real controller passes the namespace to the client call, not in the Job.
			Namespace:       cj.Namespace,
			Labels:          labels,
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, controllerKind)},
		},
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&job.Spec)
	return job, nil
}

// deleteJob is the real deleteJob: delete the Job (its pods go with it, in the background)
// and drop it from the active list.
func (c *Controller) deleteJob(cj *batchv1.CronJob, j *batchv1.Job) bool {
	background := metav1.DeletePropagationBackground
	if err := c.m.API().Delete(c.jobKind, j.Namespace, j.Name, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		c.warn(cj, "FailedDelete", fmt.Sprintf("Deleted job: %v", err))
		return false
	}
	deleteFromActiveList(cj, j.UID)
	c.event(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job "+j.Name)
	return true
}

func inActiveList(cj *batchv1.CronJob, uid types.UID) bool {
	return slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == uid })
}

func inActiveListByName(cj *batchv1.CronJob, ns, name string) bool {
	return slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.Name == name && r.Namespace == ns })
}

// deleteFromActiveList is the real deleteFromActiveList; like it, it leaves an empty (not
// nil) list.
func deleteFromActiveList(cj *batchv1.CronJob, uid types.UID) {
	kept := []corev1.ObjectReference{}
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			kept = append(kept, r)
		}
	}
	cj.Status.Active = kept
}

// warn records a warning about the CronJob that also reaches the report: the controller
// could not act on it.
func (c *Controller) warn(cj *batchv1.CronJob, reason, msg string) {
	c.m.Warn("CronJob", cj.Namespace, cj.Name, reason, msg)
}
