// Package cronjob is the CronJob controller on virtual time, after
// k8s.io/kubernetes/pkg/controller/cronjob (v1.37, cronjob_controllerv2.go and utils.go): the
// same schedule parser, Job names, missed-start and starting-deadline rules, concurrency
// policies, history limits and status, so that a day of a schedule runs in milliseconds.
//
// Deliberate deviations:
//   - A schedule without a time zone is read in UTC, the zone of the virtual clock, where a
//     real controller reads it in its host's local zone (formatSchedule). Time zone names are
//     looked up with time.LoadLocation, which uses the host's zoneinfo and otherwise the copy
//     embedded in the binary (tzdata.go).
//   - The wait for the next scheduled time is background work (manager.Queue's
//     AddAfterInBackground): a CronJob never finishes, so a run of CronJobs alone would never
//     end. Jobs fire while something else keeps the run going, normally --until.
//   - A sync that fails is reported as a warning (SyncFailed) and not retried with the real
//     work queue's exponential backoff; the next change of the CronJob or of its Jobs syncs it
//     again. Nothing in the simulated apiserver fails transiently.
//   - The real controller re-reads a CronJob or Job from the apiserver where its informer cache
//     may be stale; here every read is fresh, so those second reads are not needed.
package cronjob

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

var controllerKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// Controller is the CronJob controller.
type Controller struct {
	m       *manager.Manager
	queue   *manager.Queue
	jobKind *sim.Kind
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
)

// New registers a CronJob controller with m.
func New(m *manager.Manager) *Controller {
	jobKind, _ := sim.KindNamed("Job")
	c := &Controller{m: m, jobKind: jobKind}
	c.queue = m.Register(c)
	return c
}

// Kind is "CronJob".
func (c *Controller) Kind() string { return "CronJob" }

// ObjectChanged is the real informer handlers for CronJobs: a new CronJob is synced at once;
// an update that changes the schedule or the time zone waits for the next scheduled time
// (updateCronJob), any other update is synced at once. Every change of a Job the CronJob
// controls syncs it at once too (addJob, updateJob, deleteJob), which is the manager's
// default.
func (c *Controller) ObjectChanged(ev sim.WatchEvent) bool {
	if ev.Old == nil {
		return true
	}
	old, cur := ev.Old.(*batchv1.CronJob), ev.Object.(*batchv1.CronJob)
	if old.Spec.Schedule == cur.Spec.Schedule && ptr.Equal(old.Spec.TimeZone, cur.Spec.TimeZone) {
		return true
	}
	sched, err := parseSchedule(cur, c.m.API().WallShift())
	if err != nil {
		c.event(cur, corev1.EventTypeWarning, "UnParseableCronJobSchedule", "unparseable schedule for cronjob: "+cur.Spec.Schedule)
		return false
	}
	now := c.m.Clock().Now()
	c.queue.AddAfterInBackground(cur.Namespace, cur.Name, nextScheduleTimeDuration(cur, now, sched))
	return false
}

// Observe forgets the wait of a deleted CronJob for its next scheduled time.
func (c *Controller) Observe(ev sim.WatchEvent) {
	if ev.Kind.Name() != "CronJob" || ev.Type != watch.Deleted {
		return
	}
	m := ev.Object.(metav1.Object)
	c.queue.Forget(m.GetNamespace(), m.GetName())
}

// Sync is the real sync: clean up finished Jobs beyond the history limits, reconcile the
// CronJob with its Jobs and start the one due, write the status once if anything changed,
// and wait for the next scheduled time.
func (c *Controller) Sync(ns, name string) error {
	obj, err := c.m.Get("CronJob", ns, name)
	if err != nil {
		return nil // deleted since
	}
	cj := obj.(*batchv1.CronJob)
	var jobs []*batchv1.Job
	for _, o := range c.m.OwnedBy(cj.UID, "Job") {
		jobs = append(jobs, o.(*batchv1.Job))
	}
	cleaned := c.cleanupFinishedJobs(cj, jobs)
	requeueAfter, updated, syncErr := c.syncCronJob(cj, jobs)
	if cleaned || updated {
		if _, err := c.m.API().UpdateStatus(cj); err != nil {
			return err
		}
	}
	if requeueAfter != nil {
		c.queue.AddAfterInBackground(ns, name, *requeueAfter)
		return nil
	}
	return syncErr
}

// event records an event about a CronJob, as the controller's event recorder does.
func (c *Controller) event(cj runtime.Object, eventType, reason, msg string) {
	c.m.Simulator().Recorder().Event(cj, eventType, reason, msg)
}
