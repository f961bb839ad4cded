package job_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/kubernetes/pkg/controller"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// failStage fails a running pod annotated kwoksim.io/fail-after that long after it started
// running, as a container exiting with code 1 would. Its weight beats KWOK's pod-complete.
const failStage = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-fail-after}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.metadata.annotations["kwoksim.io/fail-after"]', operator: Exists}
  weight: 1
  delay:
    durationMilliseconds: 0
    durationFrom: {expressionFrom: '.metadata.annotations["kwoksim.io/fail-after"]'}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        reason: PodFailed
        status: "False"
        type: Ready
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            reason: Error
      {{ end }}
      phase: Failed
`

// newSim is a simulator with the default stages (and failStage), seed 11, controllers on.
func newSim(t *testing.T) *sim.Simulator {
	t.Helper()
	extra, err := stages.Parse([]byte(failStage), "fail.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return workloadstest.Sim(t, sim.Config{Seed: 11, Stages: append(stages.Default(), extra...)})
}

func int32Ptr(v int32) *int32 { return &v }

// podLog records every pod of a Job as it is created, and the largest number of active
// pods the Job had at any point.
type podLog struct {
	created   []createdPod
	active    map[string]bool
	maxActive int
}

type createdPod struct {
	name string
	at   time.Duration
	pod  *corev1.Pod
}

func watchPods(s *sim.Simulator, jobName string) *podLog {
	l := &podLog{active: map[string]bool{}}
	s.API().Watch(func(ev sim.WatchEvent) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		ref := metav1.GetControllerOf(pod)
		if ref == nil || ref.Kind != "Job" || ref.Name != jobName {
			return
		}
		if ev.Type == watch.Added {
			l.created = append(l.created, createdPod{pod.Name, s.Elapsed(), pod})
		}
		if ev.Type != watch.Deleted && controller.IsPodActive(pod) {
			l.active[pod.Name] = true
		} else {
			delete(l.active, pod.Name)
		}
		l.maxActive = max(l.maxActive, len(l.active))
	})
	return l
}

func (l *podLog) times() []time.Duration {
	var out []time.Duration
	for _, c := range l.created {
		out = append(out, c.at)
	}
	return out
}

func getJob(t *testing.T, s *sim.Simulator, name string) *batchv1.Job {
	t.Helper()
	return workloadstest.MustGet[*batchv1.Job](t, s, "Job", name)
}

func since(tm *metav1.Time) time.Duration {
	if tm == nil {
		return -1
	}
	return tm.Sub(sim.Epoch)
}

// trueConditions lists the Job's true conditions as "Type@time(reason)".
func trueConditions(job *batchv1.Job) []string {
	var out []string
	for _, c := range job.Status.Conditions {
		if c.Status == corev1.ConditionTrue {
			out = append(out, fmt.Sprintf("%s@%v(%s)", c.Type, since(&c.LastTransitionTime), c.Reason))
		}
	}
	return out
}

func warnings(s *sim.Simulator) []string {
	var out []string
	for _, e := range s.Recorder().Events() {
		if e.Reason == "SyncFailed" {
			out = append(out, e.Kind+"/"+e.Name+": "+e.Message)
		}
	}
	return out
}

// A Job of 5 completions, 2 in parallel, whose pods run 30 s: pods are named and labelled as
// the real controller names them, never more than 2 run at once, each wave starts one batch
// period (1 s) after the previous one ended, and the Job completes 1 s after the last pod.
func TestJobCompletionsAndParallelism(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "crunch")
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.Job("crunch", int32Ptr(5), int32Ptr(2), "30s"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if w := warnings(s); len(w) > 0 {
		t.Fatalf("sync warnings: %v", w)
	}
	want := []time.Duration{0, 0, 31 * time.Second, 31 * time.Second, 62 * time.Second}
	if got := log.times(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pods created at %v, want %v", got, want)
	}
	if log.maxActive != 2 {
		t.Errorf("at most %d pods were active at once, want 2 (parallelism)", log.maxActive)
	}
	job := getJob(t, s, "crunch")
	name := regexp.MustCompile(`^crunch-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	for _, c := range log.created {
		p := c.pod
		ref := metav1.GetControllerOf(p)
		if !name.MatchString(p.Name) || p.GenerateName != "crunch-" {
			t.Errorf("pod %s (generateName %q), want crunch-<5 chars>", p.Name, p.GenerateName)
		}
		if ref == nil || ref.Kind != "Job" || ref.APIVersion != "batch/v1" || ref.UID != job.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("pod %s controller %+v, want the Job with blockOwnerDeletion", p.Name, ref)
		}
		for k, v := range map[string]string{
			"batch.kubernetes.io/controller-uid": string(job.UID), "controller-uid": string(job.UID),
			"batch.kubernetes.io/job-name": "crunch", "job-name": "crunch",
		} {
			if p.Labels[k] != v {
				t.Errorf("pod %s label %s=%q, want %q", p.Name, k, p.Labels[k], v)
			}
		}
		if len(p.Finalizers) != 0 {
			t.Errorf("pod %s finalizers %v, want none (tracking finalizer deliberately left out)", p.Name, p.Finalizers)
		}
	}
	st := job.Status
	if st.Succeeded != 5 || st.Failed != 0 || st.Active != 0 || st.Ready == nil || *st.Ready != 0 {
		t.Errorf("status succeeded=%d failed=%d active=%d ready=%v, want 5/0/0/0", st.Succeeded, st.Failed, st.Active, st.Ready)
	}
	if since(st.StartTime) != 0 || since(st.CompletionTime) != 93*time.Second {
		t.Errorf("start %v, completion %v; want 0s and 1m33s (last pod done at 92s + 1s batch)", since(st.StartTime), since(st.CompletionTime))
	}
	wantConds := []string{"SuccessCriteriaMet@1m33s(CompletionsReached)", "Complete@1m33s(CompletionsReached)"}
	if got := trueConditions(job); fmt.Sprint(got) != fmt.Sprint(wantConds) {
		t.Errorf("conditions %v, want %v", got, wantConds)
	}
	// Succeeded pods are kept.
	if obs, _ := s.Observe(); len(obs.Pods) != 5 {
		t.Errorf("%d pods after the run, want the 5 succeeded pods kept", len(obs.Pods))
	}
}

// Pods that fail 5 s after they start are replaced after the real backoff, 10 s × 2^(n-1)
// from the last failure; the failure beyond backoffLimit=2 fails the Job one batch period
// after it happened, with FailureTarget and Failed (BackoffLimitExceeded).
func TestJobBackoffLimitExceeded(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "flaky")
	job := workloadstest.Job("flaky", nil, nil, "1h")
	job.Spec.BackoffLimit = int32Ptr(2)
	job.Spec.Template.Annotations = map[string]string{"kwoksim.io/fail-after": "5s"}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), job)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if w := warnings(s); len(w) > 0 {
		t.Fatalf("sync warnings: %v", w)
	}
	// Failures at 5 s, 20 s, 45 s; replacements at 5+10 s and 20+20 s.
	want := []time.Duration{0, 15 * time.Second, 40 * time.Second}
	if got := log.times(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pods created at %v, want %v", got, want)
	}
	got := getJob(t, s, "flaky")
	wantConds := []string{"FailureTarget@46s(BackoffLimitExceeded)", "Failed@46s(BackoffLimitExceeded)"}
	if c := trueConditions(got); fmt.Sprint(c) != fmt.Sprint(wantConds) {
		t.Errorf("conditions %v, want %v", c, wantConds)
	}
	if got.Status.Failed != 3 || got.Status.Active != 0 || got.Status.Succeeded != 0 || got.Status.CompletionTime != nil {
		t.Errorf("status failed=%d active=%d succeeded=%d completion=%v, want 3/0/0/none", got.Status.Failed, got.Status.Active, got.Status.Succeeded, got.Status.CompletionTime)
	}
	var reasons []string
	for _, e := range s.Recorder().Events() {
		if e.Kind == "Job" && e.Name == "flaky" {
			reasons = append(reasons, fmt.Sprintf("%s@%v", e.Reason, e.At))
		}
	}
	if fmt.Sprint(reasons) != "[BackoffLimitExceeded@46s]" {
		t.Errorf("Job events %v, want [BackoffLimitExceeded@46s]", reasons)
	}
}

// When the limit is exceeded while other pods still run, the Job deletes them, counts them as
// failed, and is Failed only once they are gone.
func TestJobFailureDeletesActivePods(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "mixed")
	job := workloadstest.Job("mixed", int32Ptr(3), int32Ptr(3), "1h")
	job.Spec.BackoffLimit = int32Ptr(0)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), job)
	podKind, _ := sim.KindNamed("Pod")
	s.Clock().AfterDelay(10*time.Second, func() {
		// Fail one of the three running pods from outside.
		name := log.created[0].name
		patch := `{"status":{"phase":"Failed","conditions":[{"type":"Ready","status":"False","lastTransitionTime":"2026-01-01T00:00:10Z"}]}}`
		if _, err := s.API().Patch(podKind, "default", name, types.StrategicMergePatchType, []byte(patch), "status"); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	got := getJob(t, s, "mixed")
	wantConds := []string{"FailureTarget@11s(BackoffLimitExceeded)", "Failed@12s(BackoffLimitExceeded)"}
	if c := trueConditions(got); fmt.Sprint(c) != fmt.Sprint(wantConds) {
		t.Errorf("conditions %v, want %v", c, wantConds)
	}
	if got.Status.Failed != 3 || got.Status.Active != 0 || *got.Status.Terminating != 0 {
		t.Errorf("status failed=%d active=%d terminating=%d, want 3/0/0", got.Status.Failed, got.Status.Active, *got.Status.Terminating)
	}
	obs, _ := s.Observe()
	deleted := 0
	for _, rec := range obs.Pods {
		if rec.DeletedAt != nil {
			deleted++
		}
	}
	if len(log.created) != 3 || deleted != 2 {
		t.Errorf("%d pods created, %d deleted; want 3 created and the 2 running ones deleted", len(log.created), deleted)
	}
}

// An Indexed Job runs each index once, lowest pending indexes first, with the index in the
// pod's name, annotation, label, hostname and environment, and reports completedIndexes.
func TestJobIndexedCompletion(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "shard")
	job := workloadstest.Job("shard", int32Ptr(5), int32Ptr(2), "20s")
	mode := batchv1.IndexedCompletion
	job.Spec.CompletionMode = &mode
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), job)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if w := warnings(s); len(w) > 0 {
		t.Fatalf("sync warnings: %v", w)
	}
	var got []string
	for _, c := range log.created {
		p := c.pod
		ix := p.Annotations["batch.kubernetes.io/job-completion-index"]
		got = append(got, fmt.Sprintf("%s@%v", ix, c.at))
		if !strings.HasPrefix(p.Name, "shard-"+ix+"-") || p.GenerateName != "shard-"+ix+"-" {
			t.Errorf("pod %s (generateName %q) for index %s, want shard-%s-<5 chars>", p.Name, p.GenerateName, ix, ix)
		}
		if p.Labels["batch.kubernetes.io/job-completion-index"] != ix || p.Spec.Hostname != "shard-"+ix {
			t.Errorf("pod %s: index label %q, hostname %q; want %s and shard-%s", p.Name, p.Labels["batch.kubernetes.io/job-completion-index"], p.Spec.Hostname, ix, ix)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom == nil ||
			env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("pod %s env %+v, want JOB_COMPLETION_INDEX from the index label", p.Name, env)
		}
	}
	want := []string{"0@0s", "1@0s", "2@21s", "3@21s", "4@42s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("indexes created %v, want %v", got, want)
	}
	j := getJob(t, s, "shard")
	if j.Status.CompletedIndexes != "0-4" || j.Status.Succeeded != 5 || since(j.Status.CompletionTime) != 63*time.Second {
		t.Errorf("completedIndexes %q, succeeded %d, completion %v; want 0-4, 5, 1m3s", j.Status.CompletedIndexes, j.Status.Succeeded, since(j.Status.CompletionTime))
	}
}

// Deleting a running pod of an Indexed Job counts as a failure and recreates the same index
// after the backoff.
func TestJobIndexedReplacesDeletedPod(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "idx")
	job := workloadstest.Job("idx", int32Ptr(2), int32Ptr(2), "1m")
	mode := batchv1.IndexedCompletion
	job.Spec.CompletionMode = &mode
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), job)
	podKind, _ := sim.KindNamed("Pod")
	s.Clock().AfterDelay(20*time.Second, func() {
		var victim string
		for _, c := range log.created {
			if c.pod.Annotations["batch.kubernetes.io/job-completion-index"] == "1" {
				victim = c.name
			}
		}
		if err := s.API().Delete(podKind, "default", victim, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range log.created {
		got = append(got, fmt.Sprintf("%s@%v", c.pod.Annotations["batch.kubernetes.io/job-completion-index"], c.at))
	}
	// Deleted at 20 s: a failure at 20 s, so the replacement waits 10 s.
	if want := []string{"0@0s", "1@0s", "1@30s"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pods created %v, want %v", got, want)
	}
	j := getJob(t, s, "idx")
	if j.Status.Failed != 1 || j.Status.Succeeded != 2 || j.Status.CompletedIndexes != "0,1" {
		t.Errorf("failed %d, succeeded %d, completedIndexes %q; want 1, 2, \"0,1\"", j.Status.Failed, j.Status.Succeeded, j.Status.CompletedIndexes)
	}
}

// A Job with parallelism and no completions ("work queue") starts parallelism pods, starts no
// more once one has succeeded, and completes when none is left running.
func TestJobWorkQueue(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "queue")
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.Job("queue", nil, int32Ptr(3), "30s"))
	podKind, _ := sim.KindNamed("Pod")
	s.Clock().AfterDelay(10*time.Second, func() {
		// One worker gets more work: it now ends 50 s after this change, at 60 s.
		patch := `{"metadata":{"annotations":{"kwoksim.io/run-duration":"50s"}}}`
		if _, err := s.API().Patch(podKind, "default", log.created[2].name, types.StrategicMergePatchType, []byte(patch), ""); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	j := getJob(t, s, "queue")
	if len(log.created) != 3 || j.Status.Succeeded != 3 || since(j.Status.CompletionTime) != 61*time.Second {
		t.Errorf("%d pods, succeeded %d, completion %v; want 3, 3, 1m1s", len(log.created), j.Status.Succeeded, since(j.Status.CompletionTime))
	}
}

// activeDeadlineSeconds fails the Job at startTime + deadline, on the virtual clock: the running
// pods are deleted (and counted as failed) and the Job is Failed once they are gone.
func TestJobActiveDeadline(t *testing.T) {
	s := newSim(t)
	log := watchPods(s, "slow")
	job := workloadstest.Job("slow", int32Ptr(4), int32Ptr(2), "1h")
	deadline := int64(90)
	job.Spec.ActiveDeadlineSeconds = &deadline
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), job)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	j := getJob(t, s, "slow")
	want := []string{"FailureTarget@1m30s(DeadlineExceeded)", "Failed@1m31s(DeadlineExceeded)"}
	if got := trueConditions(j); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("conditions %v, want %v", got, want)
	}
	if len(log.created) != 2 || j.Status.Failed != 2 || j.Status.Active != 0 {
		t.Errorf("%d pods, failed %d, active %d; want 2 pods, both failed, none active", len(log.created), j.Status.Failed, j.Status.Active)
	}
}
