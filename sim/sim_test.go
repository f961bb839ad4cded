package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/stages"
)

func newSim(t *testing.T, cfg Config) *Simulator {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func node(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceCPU: resource.MustParse("4"),
		}},
	}
}

func pod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
	}
}

func mustCreate(t *testing.T, s *Simulator, objs ...interface{}) {
	t.Helper()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Node:
			_, err = s.API().Create(o)
		case *corev1.Pod:
			_, err = s.API().Create(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func getPod(t *testing.T, s *Simulator, name string) *corev1.Pod {
	t.Helper()
	obj, err := s.API().Get(kinds["Pod"], "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

// The API layer adds what kube-apiserver adds on create.
func TestCreateAddsWhatTheAPIServerAdds(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	p := getPod(t, s, "p")
	if p.UID == "" || p.ResourceVersion == "" || p.Generation != 1 {
		t.Errorf("uid=%q rv=%q generation=%d; want all set", p.UID, p.ResourceVersion, p.Generation)
	}
	if !p.CreationTimestamp.Time.Equal(Epoch) {
		t.Errorf("creationTimestamp = %v, want the virtual epoch %v", p.CreationTimestamp, Epoch)
	}
	// Defaulting from the real defaulting functions, PrepareForCreate from the real strategy.
	if p.Spec.SchedulerName != corev1.DefaultSchedulerName || p.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("schedulerName=%q restartPolicy=%q; want the defaults", p.Spec.SchedulerName, p.Spec.RestartPolicy)
	}
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("phase=%q qos=%q; want Pending, BestEffort", p.Status.Phase, p.Status.QOSClass)
	}
	if _, err := s.API().Get(kinds["Namespace"], "", "default"); err != nil {
		t.Errorf("namespace default was not created: %v", err)
	}
	if _, err := s.API().Create(pod("p")); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: err = %v, want AlreadyExists", err)
	}
}

func TestCreateValidatesWithTheRealValidation(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	bad := pod("p")
	bad.Spec.Containers[0].Name = "Not_A_DNS_Label"
	_, err := s.API().Create(bad)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.containers[0].name") {
		t.Fatalf("err = %v, want Invalid naming spec.containers[0].name", err)
	}
}

// Generated names and UIDs come from the seed: the same seed gives the same names.
func TestGeneratedNamesFollowTheSeed(t *testing.T) {
	names := func(seed uint64) string {
		s := newSim(t, Config{Seed: seed})
		var out []string
		for i := 0; i < 3; i++ {
			p := pod("")
			p.GenerateName = "web-"
			obj, err := s.API().Create(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, obj.(*corev1.Pod).Name+"="+string(obj.(*corev1.Pod).UID))
		}
		return strings.Join(out, ",")
	}
	a, b, c := names(7), names(7), names(8)
	if a != b {
		t.Errorf("same seed, different names:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same names: %s", a)
	}
	if !strings.HasPrefix(a, "web-") || len(strings.Split(a, ",")[0]) < len("web-xxxxx") {
		t.Errorf("names = %s, want web-<5 chars>", a)
	}
}

func TestUpdateThatChangesNothingIsNotAWrite(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	before := s.API().Writes()
	p := getPod(t, s, "p")
	if _, err := s.API().UpdateStatus(p); err != nil {
		t.Fatal(err)
	}
	if got := s.API().Writes(); got != before {
		t.Errorf("writes went from %d to %d for a no-op update", before, got)
	}
	p.Status.Message = "changed"
	out, err := s.API().UpdateStatus(p)
	if err != nil {
		t.Fatal(err)
	}
	if out.(*corev1.Pod).ResourceVersion == p.ResourceVersion {
		t.Errorf("resourceVersion did not change on a real update")
	}
	// A stale resourceVersion is a conflict, as with optimistic concurrency on the apiserver.
	p.Status.Message = "again"
	if _, err := s.API().UpdateStatus(p); !apierrors.IsConflict(err) {
		t.Errorf("stale update: err = %v, want Conflict", err)
	}
}

// Updates made through the clientset are served by the API layer, like its own: the update
// keeps the status, the status update keeps the spec, and both are writes.
func TestClientsetUpdatesGoThroughTheAPI(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	pods := s.API().Client().CoreV1().Pods("default")
	ctx := context.Background()
	before := s.API().Writes()
	p := getPod(t, s, "p")
	p.Labels = map[string]string{"a": "b"}
	p.Status.Message = "ignored by an update"
	if _, err := pods.Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
	p = getPod(t, s, "p")
	if p.Labels["a"] != "b" || p.Status.Message != "" {
		t.Errorf("after the update: labels %v, status message %q; want a=b and no message", p.Labels, p.Status.Message)
	}
	p.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	p.Status.Message = "set by the status update"
	if _, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("status update: %v", err)
	}
	p = getPod(t, s, "p")
	if p.Spec.ActiveDeadlineSeconds != nil || p.Status.Message != "set by the status update" {
		t.Errorf("after the status update: activeDeadlineSeconds %v, status message %q; want no deadline and the message", p.Spec.ActiveDeadlineSeconds, p.Status.Message)
	}
	if got := s.API().Writes(); got != before+2 {
		t.Errorf("writes went from %d to %d for two updates through the clientset, want 2 more", before, got)
	}
}

func TestBindingSubresource(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}}
	if err := s.API().Bind(b); err != nil {
		t.Fatal(err)
	}
	p := getPod(t, s, "p")
	if p.Spec.NodeName != "n1" {
		t.Errorf("nodeName = %q, want n1", p.Spec.NodeName)
	}
	var scheduled *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			scheduled = &p.Status.Conditions[i]
		}
	}
	if scheduled == nil || scheduled.Status != corev1.ConditionTrue {
		t.Errorf("PodScheduled condition = %+v, want True", scheduled)
	}
	if err := s.API().Bind(b); !apierrors.IsConflict(err) {
		t.Errorf("second bind: err = %v, want Conflict", err)
	}
}

func TestGracefulDeletionAndFinalizers(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	podKind := kinds["Pod"]

	// An unbound pod is deleted at once, whatever its grace period.
	mustCreate(t, s, pod("unbound"))
	if err := s.API().Delete(podKind, "default", "unbound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API().Get(podKind, "default", "unbound"); !apierrors.IsNotFound(err) {
		t.Errorf("unbound pod: err = %v, want NotFound", err)
	}

	// A bound pod gets deletionTimestamp = now + grace period on virtual time, and stays.
	bound := pod("bound")
	bound.Spec.NodeName = "n1"
	bound.Spec.TerminationGracePeriodSeconds = ptr.To[int64](30)
	bound.Finalizers = []string{"example.com/keep"}
	mustCreate(t, s, bound)
	if err := s.API().Delete(podKind, "default", "bound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p := getPod(t, s, "bound")
	if p.DeletionTimestamp == nil || !p.DeletionTimestamp.Time.Equal(Epoch.Add(30*time.Second)) {
		t.Fatalf("deletionTimestamp = %v, want epoch+30s", p.DeletionTimestamp)
	}
	// A final delete with no grace period waits for the finalizer…
	if err := s.API().Delete(podKind, "default", "bound", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	p = getPod(t, s, "bound")
	if p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("deletionGracePeriodSeconds = %v, want 0", p.DeletionGracePeriodSeconds)
	}
	// …and removing it deletes the pod.
	patch := []byte(`[{"op":"remove","path":"/metadata/finalizers"}]`)
	if _, err := s.API().Patch(podKind, "default", "bound", types.JSONPatchType, patch, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API().Get(podKind, "default", "bound"); !apierrors.IsNotFound(err) {
		t.Errorf("after removing the finalizer: err = %v, want NotFound", err)
	}
}

// A pod that is unschedulable and sees no cluster event is retried when it has been
// unschedulable for longer than the queue's maximum (5 minutes), checked on the queue's
// 30-second cadence: at 330 s, then 660 s.
func TestUnschedulablePodIsRetriedAfterMaxDuration(t *testing.T) {
	for _, tc := range []struct {
		until    time.Duration
		attempts int
	}{
		{5 * time.Minute, 1},
		{330*time.Second - time.Nanosecond, 1},
		{330 * time.Second, 2},
		{11 * time.Minute, 3},
	} {
		t.Run(tc.until.String(), func(t *testing.T) {
			s := newSim(t, Config{Seed: 1, Until: tc.until})
			mustCreate(t, s, node("n1", corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), pod("p"))
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			var times []string
			for _, ev := range s.Recorder().Events() {
				if ev.Reason == "FailedScheduling" {
					times = append(times, ev.At.String())
				}
			}
			if len(times) != tc.attempts {
				t.Errorf("FailedScheduling at %v, want %d attempts", times, tc.attempts)
			}
			recs := s.Recorder().Pods()
			if len(recs) != 1 || recs[0].Attempts != tc.attempts || !strings.Contains(recs[0].Reason, "untolerated taint") {
				t.Errorf("records = %+v", recs)
			}
			if s.Elapsed() != tc.until {
				t.Errorf("elapsed = %v, want %v", s.Elapsed(), tc.until)
			}
		})
	}
}

// The condition the scheduler writes on an unschedulable pod carries the virtual time of the
// attempt that changed it, not the wall clock its client code stamps, and keeps it while
// later attempts fail the same way; the binding then moves it, again on virtual time.
func TestSchedulerConditionTimesAreVirtual(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: 20 * time.Minute})
	mustCreate(t, s, node("n1", corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), pod("p"))
	s.Clock().At(Epoch.Add(7*time.Minute+30*time.Second), func() {
		mustCreate(t, s, node("n2"))
	})
	condition := func() corev1.PodCondition {
		for _, c := range getPod(t, s, "p").Status.Conditions {
			if c.Type == corev1.PodScheduled {
				return c
			}
		}
		t.Fatal("no PodScheduled condition")
		return corev1.PodCondition{}
	}
	s.Clock().At(Epoch.Add(6*time.Minute), func() {
		if c := condition(); c.Status != corev1.ConditionFalse || !c.LastTransitionTime.Time.Equal(Epoch) {
			t.Errorf("after two failed attempts: %s since %v, want False since %v", c.Status, c.LastTransitionTime, Epoch)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if c, want := condition(), Epoch.Add(7*time.Minute+30*time.Second); c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Time.Equal(want) {
		t.Errorf("after the binding: %s since %v, want True since %v", c.Status, c.LastTransitionTime, want)
	}
}

// A cluster event (here a node that fits) moves an unschedulable pod through the queueing
// hints at once, without waiting for the flush.
func TestNodeAddedSchedulesWaitingPod(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: time.Hour})
	mustCreate(t, s, node("tainted", corev1.Taint{Key: "k", Effect: corev1.TaintEffectNoSchedule}), pod("p"))
	s.Clock().AfterDelay(100*time.Second, func() {
		if _, err := s.API().Create(node("free")); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	recs := s.Recorder().Pods()
	if recs[0].ScheduledAt == nil || *recs[0].ScheduledAt != 100*time.Second || recs[0].Pod.Spec.NodeName != "free" {
		t.Errorf("scheduledAt = %v on %q, want 100s on free", recs[0].ScheduledAt, recs[0].Pod.Spec.NodeName)
	}
}

// With no node at all the scheduler fails with an error, not a rejection, and the pod waits in
// the queue's error backoff, which only the queue's flush empties. Its retries follow the
// queue's backoff: 1 s doubling to 10 s, expiries truncated to the 1 s window, each moved by
// the first flush after it — attempts at 0, 2, 5, 10, 19, 30, 41, 52 s. A node added at 25 s
// is used at the next retry (30 s), as in a real scheduler. Without --until the retries are
// background work and the run ends at once.
func TestNoNodesRetriesOnTheErrorBackoff(t *testing.T) {
	attempts := func(s *Simulator) []time.Duration {
		var at []time.Duration
		for _, ev := range s.Recorder().Events() {
			if ev.Reason == "FailedScheduling" || ev.Reason == "Scheduled" {
				at = append(at, ev.At)
			}
		}
		return at
	}
	s := newSim(t, Config{Seed: 1, Until: time.Minute})
	mustCreate(t, s, pod("p"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, 2 * time.Second, 5 * time.Second, 10 * time.Second, 19 * time.Second, 30 * time.Second, 41 * time.Second, 52 * time.Second}
	if got := attempts(s); !slices.Equal(got, want) {
		t.Errorf("attempts at %v, want %v", got, want)
	}
	if recs := s.Recorder().Pods(); recs[0].Reason != "no nodes available to schedule pods" {
		t.Errorf("reason = %q", recs[0].Reason)
	}

	s = newSim(t, Config{Seed: 1, Until: time.Minute})
	mustCreate(t, s, pod("p"))
	s.Clock().AfterDelay(25*time.Second, func() {
		if _, err := s.API().Create(node("late")); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if recs := s.Recorder().Pods(); recs[0].ScheduledAt == nil || *recs[0].ScheduledAt != 30*time.Second {
		t.Errorf("scheduledAt = %v, want 30s (the retry after the node came)", recs[0].ScheduledAt)
	}

	s = newSim(t, Config{Seed: 1})
	mustCreate(t, s, pod("p"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if s.Elapsed() != 0 || len(attempts(s)) != 1 {
		t.Errorf("without --until: ended at %v after %d attempts, want 0s and 1", s.Elapsed(), len(attempts(s)))
	}
}

// Without --until the run ends when only periodic work is left; with nothing at all it costs
// almost nothing, even over a day.
func TestIdleDayIsCheap(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: 24 * time.Hour})
	mustCreate(t, s, node("n1"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if n := s.Clock().Processed(); n > 0 {
		t.Errorf("an idle day without stages processed %d events, want 0", n)
	}
	if s.Elapsed() != 24*time.Hour {
		t.Errorf("elapsed = %v", s.Elapsed())
	}
}

// Progress is called every ProgressEvery events with the virtual time and the count reached,
// from the loop itself: what it reports follows the run, not the wall clock.
func TestProgressEveryNEvents(t *testing.T) {
	type call struct {
		elapsed time.Duration
		events  int64
	}
	var calls []call
	s := newSim(t, Config{Seed: 1, Progress: func(e time.Duration, n int64) { calls = append(calls, call{e, n}) }})
	left := 3*ProgressEvery + 5
	var tick func()
	tick = func() {
		if left--; left > 0 {
			s.Clock().AfterDelay(time.Second, tick)
		}
	}
	s.Clock().AfterDelay(time.Second, tick) // event k runs at k seconds
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []call{
		{ProgressEvery * time.Second, ProgressEvery},
		{2 * ProgressEvery * time.Second, 2 * ProgressEvery},
		{3 * ProgressEvery * time.Second, 3 * ProgressEvery},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("progress calls = %v, want %v", calls, want)
	}
}

func TestLivelockIsAFailure(t *testing.T) {
	s := newSim(t, Config{Seed: 1, MaxEventsPerInstant: 50})
	var loop func()
	n := 0
	loop = func() { n++; s.Clock().AfterDelay(0, loop) }
	s.Clock().AfterDelay(time.Second, loop)
	err := s.Run()
	f, ok := err.(*Failure)
	if !ok || !strings.Contains(f.Msg, "livelock") || !strings.Contains(f.Msg, "t=1s") {
		t.Fatalf("err = %v, want a livelock Failure at t=1s", err)
	}
	if n > 51 {
		t.Errorf("ran %d events at one instant, limit 50", n)
	}
}

// A stage that fails while the scheduler binds a pod (the last thing the run does) still fails
// the run, naming the stage's problem.
func TestStageErrorDuringBindingFailsTheRun(t *testing.T) {
	set, err := stages.Parse([]byte(`
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: broken-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - cel: {expression: 'self.metadata.annotations["team"] == "a"'}
  next:
    statusTemplate: 'phase: Running'
`), "broken.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, Config{Seed: 1, Stages: set})
	mustCreate(t, s, node("n1"), pod("p"))
	err = s.Run()
	var se *StageError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "broken-ready") {
		t.Fatalf("err = %v, want a StageError naming broken-ready", err)
	}
}

// The object limit counts what is stored: a delete frees room, and the create past the
// limit fails the run with a *Failure naming the object and the flag.
func TestObjectLimit(t *testing.T) {
	s := newSim(t, Config{MaxObjects: 1_000})
	base := s.api.objects.stored // the system PriorityClasses and namespaces
	s = newSim(t, Config{MaxObjects: base + 2})
	mustCreate(t, s, node("a"), node("b"))
	nodes, err := KindNamed("Node")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.API().Delete(nodes, "", "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, node("c")) // in the room node a left
	_, err = s.API().Create(node("d"))
	var f *Failure
	if !errors.As(err, &f) || !strings.Contains(f.Msg, "creating Node d would store more than") || !strings.Contains(f.Msg, MaxObjectsFlag) {
		t.Fatalf("create past the limit: %v", err)
	}
	if err := s.Run(); !errors.As(err, &f) {
		t.Errorf("the run goes on after the limit: %v", err)
	}
	if _, err := New(context.Background(), Config{MaxObjects: -1}); err == nil {
		t.Error("a negative limit is accepted")
	}
}
