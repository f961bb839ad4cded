package replicaset_test

import (
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// refusal is the apiserver's message for a pod over a `pods: 3` quota named "pods"
// (resourcequota.CheckRequest), about a pod the ReplicaSet named web-<hash>-<suffix>.
var refusal = regexp.MustCompile(`^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=3, limited: pods=3$`)

// quotaRun runs a Deployment of 5 under a ResourceQuota of 3 pods created before it; at
// t=60s, at60 is called. It returns the simulator, the FailedCreate warnings and the times
// the Deployment's pods were created.
func quotaRun(t *testing.T, at60 func(s *sim.Simulator)) (*sim.Simulator, []sim.Event, []time.Duration) {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default()})
	var created []time.Duration
	s.API().Watch(func(ev sim.WatchEvent) {
		if _, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
			created = append(created, s.Elapsed())
		}
	})
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods", Namespace: "default"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("3")}}}
	workloadstest.Create(t, s, workloadstest.CPUNode("n", 10), quota, workloadstest.Deployment("web", 5))
	s.Clock().At(sim.Epoch.Add(60*time.Second), func() { at60(s) })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var failed []sim.Event
	for _, e := range s.Recorder().Events() {
		if e.Reason == "FailedCreate" {
			failed = append(failed, e)
		} else if e.Type == corev1.EventTypeWarning && e.Kind != "Pod" {
			t.Errorf("unexpected warning: %+v", e)
		}
	}
	return s, failed, created
}

func usedPods(t *testing.T, s *sim.Simulator) int64 {
	q := workloadstest.MustGet[*corev1.ResourceQuota](t, s, "ResourceQuota", "pods")
	used := q.Status.Used[corev1.ResourcePods]
	return used.Value()
}

// A Deployment of 5 under a quota of 3 pods: the ReplicaSet's first sync creates pods in
// slowStartBatch's batches of 1 and 2, then both pods of the batch of 2 are refused with the
// apiserver's message, each reported as the pod control reports it ("Error creating: …");
// the ReplicaSet's and the Deployment's ReplicaFailure conditions carry the message. The
// failed syncs are retried after the work queue's per-item back-off, 5 ms doubled with each
// failure.
func TestQuotaRefusesPodsOverIt(t *testing.T) {
	s, failed, created := quotaRun(t, func(*sim.Simulator) {})
	if len(created) != 3 {
		t.Errorf("%d pods created, want 3 (the quota)", len(created))
	}
	if used := usedPods(t, s); used != 3 {
		t.Errorf("quota used pods = %d, want 3", used)
	}
	if len(failed) < 2 {
		t.Fatalf("FailedCreate warnings: %+v; want at least the 2 of the first sync", failed)
	}
	for _, e := range failed {
		if e.Kind != "ReplicaSet" || e.Type != corev1.EventTypeWarning || len(e.Message) < len("Error creating: ") ||
			e.Message[:len("Error creating: ")] != "Error creating: " || !refusal.MatchString(e.Message[len("Error creating: "):]) {
			t.Fatalf("FailedCreate warning %+v, want the apiserver's refusal after \"Error creating: \"", e)
		}
	}
	if failed[0].At != 0 || failed[1].At != 0 || failed[0].Message == failed[1].Message {
		t.Errorf("first FailedCreate warnings at %v and %v; want two pods refused at t=0", failed[0].At, failed[1].At)
	}

	// Retries between the first sync and t=60s: the first 5 ms after a failure, then each
	// gap twice the one before.
	var retries []time.Duration
	for _, e := range failed {
		if e.At > 0 && e.At < 60*time.Second {
			retries = append(retries, e.At)
		}
	}
	if len(retries) < 4 || retries[0] != 5*time.Millisecond {
		t.Fatalf("retries at %v; want the first after 5 ms", retries)
	}
	for i := 2; i < len(retries); i++ {
		if gap, prev := retries[i]-retries[i-1], retries[i-1]-retries[i-2]; i > 2 && gap != 2*prev {
			t.Errorf("retry gaps %v then %v (retries %v); want each twice the last", prev, gap, retries)
		}
	}

	rs := workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet")[0]
	var rsCond *appsv1.ReplicaSetCondition
	for i := range rs.Status.Conditions {
		if rs.Status.Conditions[i].Type == appsv1.ReplicaSetReplicaFailure {
			rsCond = &rs.Status.Conditions[i]
		}
	}
	if rsCond == nil || rsCond.Status != corev1.ConditionTrue || rsCond.Reason != "FailedCreate" || !refusal.MatchString(rsCond.Message) {
		t.Errorf("ReplicaSet ReplicaFailure condition = %+v, want True, FailedCreate, the apiserver's message", rsCond)
	}
	d := workloadstest.MustGet[*appsv1.Deployment](t, s, "Deployment", "web")
	var dCond *appsv1.DeploymentCondition
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == appsv1.DeploymentReplicaFailure {
			dCond = &d.Status.Conditions[i]
		}
	}
	if dCond == nil || dCond.Status != corev1.ConditionTrue || dCond.Reason != "FailedCreate" || rsCond == nil || dCond.Message != rsCond.Message {
		t.Errorf("Deployment ReplicaFailure condition = %+v, want the ReplicaSet's", dCond)
	}
}

// Deleting a pod frees its place: the resource quota controller recalculates the usage when
// the pod is gone (replenishment), and the ReplicaSet, resynced by its own status update,
// creates a replacement at that instant. The quota is full again afterwards.
func TestQuotaFreedByADeletedPod(t *testing.T) {
	var usage []int64
	s, _, created := quotaRun(t, func(s *sim.Simulator) {
		pods := workloadstest.List[*corev1.Pod](t, s, "Pod")
		k, _ := sim.KindNamed("Pod")
		if err := s.API().Delete(k, "default", pods[0].Name, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
		s.API().Watch(func(ev sim.WatchEvent) {
			if q, ok := ev.Object.(*corev1.ResourceQuota); ok {
				used := q.Status.Used[corev1.ResourcePods]
				usage = append(usage, used.Value())
			}
		})
	})
	if len(created) != 4 || created[3] != 60*time.Second {
		t.Errorf("pods created at %v; want 3 at t=0 and a replacement at 60s", created)
	}
	if len(usage) != 2 || usage[0] != 2 || usage[1] != 3 {
		t.Errorf("quota usage after the deletion: %v, want 2 (replenished), then 3 (the replacement charged)", usage)
	}
	if n := len(workloadstest.List[*corev1.Pod](t, s, "Pod")); n != 3 {
		t.Errorf("%d pods left, want 3", n)
	}
}

// Raising the quota changes nothing the ReplicaSet controller watches: the fourth pod is
// created by its waiting rate-limited retry, at the time the back-off set, not when the
// quota changed — and the retry runs although nothing else keeps the run going until then.
func TestQuotaRaisedWaitsForTheRetry(t *testing.T) {
	_, failed, created := quotaRun(t, func(s *sim.Simulator) {
		k, _ := sim.KindNamed("ResourceQuota")
		q, err := s.API().Get(k, "default", "pods")
		if err != nil {
			t.Fatal(err)
		}
		raised := q.(*corev1.ResourceQuota).DeepCopy()
		raised.Spec.Hard[corev1.ResourcePods] = resource.MustParse("4")
		if _, err := s.API().Update(raised); err != nil {
			t.Error(err)
		}
	})
	var retries []time.Duration
	for _, e := range failed {
		if e.At > 0 && e.At < 60*time.Second {
			retries = append(retries, e.At)
		}
	}
	if len(retries) < 2 {
		t.Fatalf("retries at %v", retries)
	}
	last, gap := retries[len(retries)-1], retries[len(retries)-1]-retries[len(retries)-2]
	if want := last + 2*gap; len(created) != 4 || created[3] != want {
		t.Errorf("pods created at %v; want the fourth at the next retry, %v (last retry %v + 2×%v)", created, want, last, gap)
	}
}
