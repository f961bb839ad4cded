package cronjob

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// The schedule arithmetic of k8s.io/kubernetes/pkg/controller/cronjob/utils.go (v1.37):
// which scheduled time a sync acts on, when the next sync is due, and how many starts were
// missed. The cron grammar is robfig/cron's standard one, parsed by the same helper upstream
// uses (parsers.ParseCronScheduleWithPanicRecovery, i.e. cron.ParseStandard).

// nextScheduleDelta is the padding the real controller adds to every requeue
// (cronjob_controllerv2.go, nextScheduleDelta): a CronJob due at 00:05 is synced, and its
// Job created, at 00:05:00.100.
const nextScheduleDelta = 100 * time.Millisecond

// tooManyMissed is the number of missed start times above which the real controller warns
// (mostRecentScheduleTime: "I've somewhat arbitrarily picked 100").
const tooManyMissed = 100

// missed says how many start times a CronJob missed: utils.go's missedSchedulesType.
type missed int

const (
	noneMissed missed = iota
	fewMissed
	manyMissed
)

// formatSchedule is the real formatSchedule: the schedule with its time zone as a TZ= prefix,
// and a TZ or CRON_TZ written in the schedule itself kept as it is (with a warning, upstream;
// the apiserver refuses such schedules on new CronJobs anyway). unsupported reports that case.
//
// A schedule without a time zone is read in UTC. Upstream leaves it to robfig/cron, which
// reads it in the zone of the times it is given: kube-controller-manager's local zone, as its
// informers decode times into time.Local (UTC in the official images, which carry no
// /etc/localtime). kwoksim's times come from the virtual clock in UTC, so this only says so
// explicitly: a run never depends on the host's TZ.
func formatSchedule(cj *batchv1.CronJob) (spec string, unsupported bool) {
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		return cj.Spec.Schedule, true
	}
	if cj.Spec.TimeZone != nil {
		if _, err := time.LoadLocation(*cj.Spec.TimeZone); err == nil {
			return fmt.Sprintf("TZ=%s %s", *cj.Spec.TimeZone, cj.Spec.Schedule), false
		}
	}
	return "TZ=UTC " + cj.Spec.Schedule, false
}

// parseSchedule parses the CronJob's schedule as the real controller does, on the wall clock
// of the cluster: shift is how far a snapshot's times were moved onto the virtual clock (see
// sim.API.WallShift), so that a restored CronJob's next run comes when the real cluster's
// would, not at the shifted time's schedule.
func parseSchedule(cj *batchv1.CronJob, shift time.Duration) (cron.Schedule, error) {
	spec, _ := formatSchedule(cj)
	sched, err := parsers.ParseCronScheduleWithPanicRecovery(spec)
	if err != nil || shift == 0 {
		return sched, err
	}
	return shiftedSchedule{sched, shift}, nil
}

// shiftedSchedule reads a schedule on the cluster's wall clock from virtual times.
type shiftedSchedule struct {
	cron.Schedule
	shift time.Duration
}

func (s shiftedSchedule) Next(t time.Time) time.Time {
	return s.Schedule.Next(t.Add(-s.shift)).Add(s.shift)
}

// mostRecentScheduleTime is the real mostRecentScheduleTime: from the last scheduled time
// (or the creation time; with includeDeadline, no earlier than now − startingDeadlineSeconds)
// it returns that earliest time, the most recent scheduled time not after now (nil if none),
// how many were missed, and an error for a schedule whose consecutive times are less than a
// second apart (such as "59 23 31 2 *", which never comes).
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, includeDeadline bool) (time.Time, *time.Time, missed, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if includeDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		if deadline := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); deadline.After(earliest) {
			earliest = deadline
		}
	}
	t1 := sched.Next(earliest)
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return earliest, nil, noneMissed, nil
	}
	if now.Before(t2) {
		return earliest, &t1, noneMissed, nil
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return earliest, nil, noneMissed, fmt.Errorf("time difference between two schedules is less than 1 second")
	}
	// The real controller estimates the number of missed times from the first interval, then
	// walks the schedule from one interval before the estimated last one.
	n := int64(now.Sub(t1).Seconds())/between + 1
	var recent time.Time
	from := t1.Add(time.Duration((n-2)*between) * time.Second)
	for t := sched.Next(from); !t.After(now); t = sched.Next(t) {
		recent = t
	}
	how := fewMissed
	if n > tooManyMissed {
		how = manyMissed
	}
	if recent.IsZero() {
		return earliest, nil, how, nil
	}
	return earliest, &recent, how, nil
}

// nextScheduleTimeDuration is the real nextScheduleTimeDuration: how long from now until the
// sync after the next scheduled time, nextScheduleDelta included.
func nextScheduleTimeDuration(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) time.Duration {
	earliest, recent, how, err := mostRecentScheduleTime(cj, now, sched, false)
	switch {
	case err != nil:
		recent = &now
	case recent == nil && how == noneMissed:
		recent = &earliest
	case recent == nil:
		recent = &now
	}
	return sched.Next(*recent).Add(nextScheduleDelta).Sub(now)
}

// nextScheduleTime is the real nextScheduleTime: the scheduled time a sync at now should
// start a Job for (nil if none), and whether more than tooManyMissed were missed.
func nextScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (*time.Time, bool, error) {
	_, recent, how, err := mostRecentScheduleTime(cj, now, sched, true)
	if recent == nil || recent.After(now) {
		return nil, false, err
	}
	return recent, how == manyMissed, err
}

// jobName is the real getJobName: the CronJob's name and the scheduled time in minutes since
// the Unix epoch, so that one scheduled time can only ever make one Job.
// scheduled is a virtual time; the name is that of the cluster's wall clock (see
// parseSchedule), so a restored CronJob's Jobs go on with the names the real one gives.
func jobName(cj *batchv1.CronJob, scheduled time.Time, shift time.Duration) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Add(-shift).Unix()/60)
}
