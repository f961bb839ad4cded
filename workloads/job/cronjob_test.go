package job_test

// The CronJob controller (workloads/cronjob) is tested here, with the Job controller that
// runs the Jobs it creates, rather than in a test binary of its own.
//
// Expected timelines follow the real controller's rules (k8s.io/kubernetes
// pkg/controller/cronjob, v1.37): a CronJob created at t=0 (creationTimestamp 00:00:00) first
// fires at the first scheduled time strictly after its creation; every wait for a scheduled
// time ends 100 ms after it (nextScheduleDelta), so the Job of 00:05 is created at
// 00:05:00.100; a Job is named <cronjob>-<scheduled time in minutes since the Unix epoch>.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	jobutil "k8s.io/kubernetes/pkg/controller/job/util"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// epochMinute is sim.Epoch in minutes since the Unix epoch, the base of Job names.
var epochMinute = sim.Epoch.Unix() / 60

// cronJob is a CronJob whose Jobs run one pod for runFor.
func cronJob(name, schedule, runFor string) *batchv1.CronJob {
	job := workloadstest.Job(name, nil, nil, runFor)
	return &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule:    schedule,
			JobTemplate: batchv1.JobTemplateSpec{Spec: job.Spec},
		},
	}
}

// cronRun is what happened to a CronJob's Jobs during a run.
type cronRun struct {
	created  []createdJob
	finished map[string]time.Duration // by Job name: when it got Complete or Failed
	deleted  map[string]time.Duration
	// maxActive is the largest number of unfinished Jobs that existed at once.
	maxActive int
}

type createdJob struct {
	name string
	at   time.Duration
	job  *batchv1.Job
}

func (r *cronRun) names() []string {
	var out []string
	for _, c := range r.created {
		out = append(out, c.name)
	}
	return out
}

func watchCronJobs(s *sim.Simulator) *cronRun {
	r := &cronRun{finished: map[string]time.Duration{}, deleted: map[string]time.Duration{}}
	active := map[string]bool{}
	s.API().Watch(func(ev sim.WatchEvent) {
		j, ok := ev.Object.(*batchv1.Job)
		if !ok {
			return
		}
		switch {
		case ev.Type == watch.Added:
			r.created = append(r.created, createdJob{j.Name, s.Elapsed(), j})
			active[j.Name] = true
		case ev.Type == watch.Deleted:
			r.deleted[j.Name] = s.Elapsed()
			delete(active, j.Name)
		case jobutil.IsJobFinished(j) && !jobutil.IsJobFinished(ev.Old.(*batchv1.Job)):
			r.finished[j.Name] = s.Elapsed()
			delete(active, j.Name)
		}
		r.maxActive = max(r.maxActive, len(active))
	})
	return r
}

// jobAt is the name of the Job of the CronJob scheduled min minutes after the epoch.
func jobAt(cronJob string, min int64) string { return fmt.Sprintf("%s-%d", cronJob, epochMinute+min) }

func cronSim(t *testing.T, until time.Duration, objs ...*batchv1.CronJob) (*sim.Simulator, *cronRun) {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 11, Stages: stages.Default(), Until: until})
	r := watchCronJobs(s)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "8"))
	for _, cj := range objs {
		workloadstest.Create(t, s, cj)
	}
	return s, r
}

// The example: "*/5 * * * *" from t=0. Created at 00:00:00, the CronJob's first
// scheduled time is 00:05 (00:00 is not after its creation); the Job of a scheduled time is
// created 100 ms after it. So `--until 1h` sees the 11 Jobs of 00:05 … 00:55, and the 12th,
// of 01:00, comes at 01:00:00.100, just past the hour: the 12 Jobs are the schedule
// times 00:05 … 01:00, which a run until 1h0m0.1s (or longer) shows.
//
// Each Job runs one pod for 1 m, so they never overlap; the default history limit keeps the
// 3 latest successful Jobs, each older one deleted at the instant the fourth later one
// finishes.
func TestCronJobEveryFiveMinutes(t *testing.T) {
	for _, tc := range []struct {
		until time.Duration
		jobs  int64
	}{
		{time.Hour, 11},
		{time.Hour + 100*time.Millisecond, 12},
	} {
		t.Run(tc.until.String(), func(t *testing.T) {
			s, r := cronSim(t, tc.until, cronJob("tick", "*/5 * * * *", "1m"))
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			var want []string
			for k := int64(1); k <= tc.jobs; k++ {
				want = append(want, jobAt("tick", 5*k))
			}
			if !slices.Equal(r.names(), want) {
				t.Fatalf("Jobs created %v, want %v", r.names(), want)
			}
			cj := workloadstest.MustGet[*batchv1.CronJob](t, s, "CronJob", "tick")
			for k, c := range r.created {
				scheduled := time.Duration(5*(k+1)) * time.Minute
				if c.at != scheduled+100*time.Millisecond {
					t.Errorf("Job %s created at %v, want %v", c.name, c.at, scheduled+100*time.Millisecond)
				}
				if got, want := c.job.Annotations[batchv1.CronJobScheduledTimestampAnnotation], sim.Epoch.Add(scheduled).Format(time.RFC3339); got != want {
					t.Errorf("Job %s scheduled-timestamp annotation %q, want %q", c.name, got, want)
				}
				ref := metav1.GetControllerOf(c.job)
				if ref == nil || ref.Kind != "CronJob" || ref.APIVersion != "batch/v1" || ref.UID != cj.UID {
					t.Errorf("Job %s controller %+v, want the CronJob", c.name, ref)
				}
				if k >= 3 {
					if older := r.created[k-3].name; r.deleted[older] != r.finished[c.name] {
						t.Errorf("Job %s deleted at %v, want when %s finished (%v)", older, r.deleted[older], c.name, r.finished[c.name])
					}
				}
			}
			// Stored: the 3 latest successful Jobs, and the Job of 01:00 if it started.
			var stored []string
			for _, j := range workloadstest.List[*batchv1.Job](t, s, "Job") {
				stored = append(stored, j.Name)
			}
			wantStored := []string{jobAt("tick", 45), jobAt("tick", 50), jobAt("tick", 55)}
			var wantActive []string
			if tc.jobs == 12 {
				wantStored = append(wantStored, jobAt("tick", 60))
				wantActive = []string{jobAt("tick", 60)}
			}
			if !slices.Equal(stored, wantStored) {
				t.Errorf("Jobs left %v, want %v", stored, wantStored)
			}
			var active []string
			for _, a := range cj.Status.Active {
				active = append(active, a.Name)
			}
			if !slices.Equal(active, wantActive) {
				t.Errorf("status.active %v, want %v", active, wantActive)
			}
			last := time.Duration(5*tc.jobs) * time.Minute
			if since(cj.Status.LastScheduleTime) != last {
				t.Errorf("status.lastScheduleTime %v, want %v", since(cj.Status.LastScheduleTime), last)
			}
			if got, want := cj.Status.LastSuccessfulTime, getJob(t, s, jobAt("tick", 55)).Status.CompletionTime; got == nil || !got.Equal(want) {
				t.Errorf("status.lastSuccessfulTime %v, want the completion of the 00:55 Job (%v)", got, want)
			}
		})
	}
}

// Jobs that last 12 minutes on a 5-minute schedule, over an hour, under each concurrency
// policy.
//
//   - Allow: a Job at every scheduled time, 00:05 … 00:55, up to 3 running at once.
//   - Forbid: no Job starts while one runs. When the running one finishes, the sync it
//     causes starts at once the Job of the most recent scheduled time it missed (no
//     startingDeadlineSeconds: a late start is allowed), and the times in between are
//     skipped: 00:05 (runs to ~00:17), 00:15 (started ~00:17, to ~00:29), 00:25 (~00:41),
//     00:40 (~00:53), 00:50.
//   - Replace: a Job at every scheduled time, each deleting the one still running; none
//     ever finishes.
func TestCronJobConcurrencyPolicy(t *testing.T) {
	every := func(from, to int64) []string {
		var out []string
		for m := from; m <= to; m += 5 {
			out = append(out, jobAt("slow", m))
		}
		return out
	}
	for _, tc := range []struct {
		policy    batchv1.ConcurrencyPolicy
		jobs      []string
		maxActive int
	}{
		{batchv1.AllowConcurrent, every(5, 55), 3},
		{batchv1.ForbidConcurrent, []string{jobAt("slow", 5), jobAt("slow", 15), jobAt("slow", 25), jobAt("slow", 40), jobAt("slow", 50)}, 1},
		{batchv1.ReplaceConcurrent, every(5, 55), 1},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			cj := cronJob("slow", "*/5 * * * *", "12m")
			cj.Spec.ConcurrencyPolicy = tc.policy
			s, r := cronSim(t, time.Hour, cj)
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			if !slices.Equal(r.names(), tc.jobs) {
				t.Fatalf("Jobs created %v, want %v", r.names(), tc.jobs)
			}
			if r.maxActive != tc.maxActive {
				t.Errorf("at most %d Jobs ran at once, want %d", r.maxActive, tc.maxActive)
			}
			for k, c := range r.created {
				switch {
				case tc.policy == batchv1.ForbidConcurrent && k > 0:
					// Started by the sync of the previous Job's end.
					if prev := r.created[k-1].name; c.at != r.finished[prev] {
						t.Errorf("Job %s created at %v, want when %s finished (%v)", c.name, c.at, prev, r.finished[prev])
					}
				case tc.policy == batchv1.ReplaceConcurrent && k > 0:
					if prev := r.created[k-1].name; r.deleted[prev] != c.at {
						t.Errorf("Job %s deleted at %v, want when %s replaced it (%v)", prev, r.deleted[prev], c.name, c.at)
					}
				}
			}
			if tc.policy == batchv1.ReplaceConcurrent {
				if len(r.finished) != 0 {
					t.Errorf("replaced Jobs finished: %v", r.finished)
				}
				// The pods of the replaced Jobs go with them.
				for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
					if ref := metav1.GetControllerOf(p); ref == nil || ref.Name != jobAt("slow", 55) {
						t.Errorf("pod %s of %+v left, want only the pod of the last Job", p.Name, ref)
					}
				}
			}
		})
	}
}

// failedJobsHistoryLimit (defaulted to 1) keeps only the latest failed Job: each Job here
// fails on its 30 s activeDeadlineSeconds.
func TestCronJobFailedJobsHistory(t *testing.T) {
	cj := cronJob("flaky", "*/5 * * * *", "1m")
	cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
	s, r := cronSim(t, 30*time.Minute, cj)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if len(r.created) != 5 || len(r.finished) != 5 {
		t.Fatalf("%d Jobs created and %d finished, want 5 and 5 (00:05 … 00:25)", len(r.created), len(r.finished))
	}
	var stored []string
	for _, j := range workloadstest.List[*batchv1.Job](t, s, "Job") {
		stored = append(stored, j.Name)
		if c := finishedCondition(j); c != batchv1.JobFailed {
			t.Errorf("Job %s finished as %q, want Failed", j.Name, c)
		}
	}
	if want := []string{jobAt("flaky", 25)}; !slices.Equal(stored, want) {
		t.Errorf("Jobs left %v, want %v", stored, want)
	}
	for k := 1; k < len(r.created); k++ {
		older, c := r.created[k-1].name, r.created[k].name
		if r.deleted[older] != r.finished[c] {
			t.Errorf("Job %s deleted at %v, want when %s failed (%v)", older, r.deleted[older], c, r.finished[c])
		}
	}
	if cj := workloadstest.MustGet[*batchv1.CronJob](t, s, "CronJob", "flaky"); cj.Status.LastSuccessfulTime != nil {
		t.Errorf("status.lastSuccessfulTime %v, want none", cj.Status.LastSuccessfulTime)
	}
}

func finishedCondition(j *batchv1.Job) batchv1.JobConditionType {
	_, c := jobutil.FinishedCondition(j)
	return c
}

// A suspended CronJob starts nothing. Resumed (at 00:32, by the update's immediate sync), it
// starts the Job of the most recent scheduled time it missed, 00:30, at once, unless
// startingDeadlineSeconds (60 s) says 00:30 is too late: then its first Job is the one of 00:35.
func TestCronJobSuspendAndStartingDeadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline *int64
		jobs     []string
		first    time.Duration
	}{
		{"no deadline", nil, []string{jobAt("nap", 30), jobAt("nap", 35), jobAt("nap", 40), jobAt("nap", 45), jobAt("nap", 50), jobAt("nap", 55)}, 32 * time.Minute},
		{"deadline 60s", ptr.To[int64](60), []string{jobAt("nap", 35), jobAt("nap", 40), jobAt("nap", 45), jobAt("nap", 50), jobAt("nap", 55)}, 35*time.Minute + 100*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := cronJob("nap", "*/5 * * * *", "1m")
			cj.Spec.Suspend = ptr.To(true)
			cj.Spec.StartingDeadlineSeconds = tc.deadline
			s, r := cronSim(t, time.Hour, cj)
			workloadstest.PatchAt(t, s, 32*time.Minute, "CronJob", "default", "nap", `{"spec":{"suspend":false}}`)
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			if !slices.Equal(r.names(), tc.jobs) {
				t.Fatalf("Jobs created %v, want %v", r.names(), tc.jobs)
			}
			if r.created[0].at != tc.first {
				t.Errorf("first Job created at %v, want %v", r.created[0].at, tc.first)
			}
		})
	}
}

// Resumed after 2 hours, an every-minute CronJob has missed 120 start times, more than the
// real controller's 100: it warns (TooManyMissedTimes) and starts only the most recent.
func TestCronJobTooManyMissedStarts(t *testing.T) {
	cj := cronJob("minutely", "* * * * *", "10s")
	cj.Spec.Suspend = ptr.To(true)
	s, r := cronSim(t, 2*time.Hour+30*time.Second, cj)
	workloadstest.PatchAt(t, s, 2*time.Hour, "CronJob", "default", "minutely", `{"spec":{"suspend":false}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if want := []string{jobAt("minutely", 120)}; !slices.Equal(r.names(), want) || r.created[0].at != 2*time.Hour {
		t.Fatalf("Jobs created %v (first at %v), want %v at 2h", r.names(), r.created, want)
	}
	var warned []time.Duration
	for _, e := range s.Recorder().Events() {
		if e.Reason == "TooManyMissedTimes" && e.Name == "minutely" {
			warned = append(warned, e.At)
		}
	}
	if len(warned) == 0 || warned[0] != 2*time.Hour {
		t.Errorf("TooManyMissedTimes warnings at %v, want one at 2h", warned)
	}
}

// timeZone places the schedule in that zone: "0 9 * * *" in Asia/Tokyo (UTC+9, no daylight
// saving) is 00:00 UTC, and the CronJob, created at exactly 09:00 Tokyo time, first fires the
// next day. Without a time zone the schedule is read in UTC, the simulated controller's zone,
// whatever the host's time.Local says: 09:00 UTC.
func TestCronJobTimeZone(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	t.Cleanup(func() { time.Local = local })
	tokyo := cronJob("tokyo", "0 9 * * *", "1m")
	tokyo.Spec.TimeZone = ptr.To("Asia/Tokyo")
	utc := cronJob("utc", "0 9 * * *", "1m")
	s, r := cronSim(t, 24*time.Hour+time.Second, tokyo, utc)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	want := []struct {
		name       string
		at         time.Duration
		annotation string
	}{
		{jobAt("utc", 9*60), 9*time.Hour + 100*time.Millisecond, "2026-01-01T09:00:00Z"},
		{jobAt("tokyo", 24*60), 24*time.Hour + 100*time.Millisecond, "2026-01-02T09:00:00+09:00"},
	}
	if len(r.created) != len(want) {
		t.Fatalf("Jobs created %v, want %v", r.names(), want)
	}
	for i, w := range want {
		c := r.created[i]
		if c.name != w.name || c.at != w.at || c.job.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != w.annotation {
			t.Errorf("Job %s created at %v annotated %q, want %s at %v annotated %q",
				c.name, c.at, c.job.Annotations[batchv1.CronJobScheduledTimestampAnnotation], w.name, w.at, w.annotation)
		}
	}
}

// A schedule changed mid-run takes effect from the last scheduled time, as the real
// updateCronJob requeues the CronJob for the new schedule's next time: "*/5" fires at 00:05,
// then becomes "*/10" at 00:07, so the next Jobs are 00:10's and 00:20's (00:30's comes at
// 00:30:00.100, past the end). The change is seen by the controller inside the write that
// made it, which must not take the API's lock again.
func TestCronJobScheduleChanged(t *testing.T) {
	s, r := cronSim(t, 30*time.Minute, cronJob("tick", "*/5 * * * *", "1m"))
	workloadstest.PatchAt(t, s, 7*time.Minute, "CronJob", "default", "tick", `{"spec":{"schedule":"*/10 * * * *"}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	if want := []string{jobAt("tick", 5), jobAt("tick", 10), jobAt("tick", 20)}; !slices.Equal(r.names(), want) {
		t.Errorf("Jobs created %v, want %v", r.names(), want)
	}
}
