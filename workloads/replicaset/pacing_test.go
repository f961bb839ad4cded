package replicaset_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"golang.org/x/time/rate"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// fourDeployments creates four Deployments of 52 pods at t=0 on a cluster without nodes (the
// pods stay Pending, so nothing but the creates and the ReplicaSets' own status writes goes
// through the replicaset-controller's client), runs until idle and returns, per Deployment,
// the instants its pods were created, sorted, and the pod writes in order.
func fourDeployments(t *testing.T, fl controlplane.Flags) (map[string][]time.Duration, []string) {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), ControlPlane: &fl})
	h := workloadstest.Record(s)
	for i := range 4 {
		workloadstest.Create(t, s, workloadstest.Deployment(fmt.Sprintf("d%d", i), 52))
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	rsOwner := map[string]string{}
	for _, rs := range workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet") {
		rsOwner[rs.Name] = metav1.GetControllerOf(rs).Name
	}
	created := map[string][]time.Duration{}
	var writes []string
	for _, e := range *h {
		p, ok := e.Event.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		writes = append(writes, fmt.Sprintf("%v %s %s", e.At, e.Event.Type, p.Name))
		if e.Event.Type == watch.Added {
			d := rsOwner[metav1.GetControllerOf(p).Name]
			created[d] = append(created[d], e.At)
		}
	}
	for d := range created {
		slices.Sort(created[d])
	}
	return created, writes
}

// expectedCreates derives when each Deployment's pods are created from the mechanism alone,
// with golang.org/x/time/rate's limiter (what client-go's token bucket is) at 20/s, burst 30:
// four ReplicaSets synced at t=0 in order, each creating 52 pods in slowStartBatch batches of
// 1, 2, 4, 8, 16 and 21, each batch reserving its tokens when the previous batch's last create
// was sent; then the ReplicaSet's status update (observedGeneration, replicas 0: the status
// counts the pods as they were before the sync), and, in the one sync its pods' events
// collapsed into, a second status update (replicas 52). Events due at the same instant run in
// the order they were scheduled.
func expectedCreates() map[string][]time.Duration {
	type event struct {
		at  time.Duration
		seq int
		fn  func()
	}
	var queue []event
	seq := 0
	schedule := func(at time.Duration, fn func()) {
		seq++
		queue = append(queue, event{at, seq, fn})
	}
	lim := rate.NewLimiter(20, 30)
	reserve := func(now time.Duration) time.Duration {
		t := sim.Epoch.Add(now)
		return now + lim.ReserveN(t, 1).DelayFrom(t)
	}
	created := map[string][]time.Duration{}
	var status func(now time.Duration, again bool)
	status = func(now time.Duration, again bool) {
		at := reserve(now)
		schedule(at, func() {
			if again {
				// The ReplicaSet's worker is free: the sync asked for meanwhile runs.
				schedule(at, func() { status(at, false) })
			}
		})
	}
	var batch func(d string, now time.Duration, size, remaining int)
	batch = func(d string, now time.Duration, size, remaining int) {
		left := size
		for range size {
			at := reserve(now)
			schedule(at, func() {
				created[d] = append(created[d], at)
				if left--; left > 0 {
					return
				}
				if remaining -= size; remaining == 0 {
					status(at, true)
				} else {
					batch(d, at, min(2*size, remaining), remaining)
				}
			})
		}
	}
	for i := range 4 {
		batch(fmt.Sprintf("d%d", i), 0, 1, 52)
	}
	for len(queue) > 0 {
		next := 0
		for i, e := range queue {
			if e.at < queue[next].at || e.at == queue[next].at && e.seq < queue[next].seq {
				next = i
			}
		}
		e := queue[next]
		queue = slices.Delete(queue, next, next+1)
		e.fn()
	}
	return created
}

// Four Deployments of 52 pods created at once are created at the pace of the
// replicaset-controller's client, interleaved, each pod at the instant the token bucket and
// the slow-start batches give it.
func TestPacedCreatesFollowTheTokenBucket(t *testing.T) {
	got, _ := fourDeployments(t, controlplane.Defaults())
	want := expectedCreates()
	for i := range 4 {
		d := fmt.Sprintf("d%d", i)
		if len(got[d]) != 52 {
			t.Fatalf("%s: %d pods created, want 52", d, len(got[d]))
		}
		if !slices.Equal(got[d], want[d]) {
			t.Errorf("%s: pods created at\n%v\nwant\n%v", d, got[d], want[d])
		}
	}
	// Independently of the batch order: 208 creates, of which the bucket lets 30 go at once
	// and the rest at 20 a second, cannot end before (208−30)/20 = 8.9 s; every Deployment
	// starts at 0 and is still creating pods when another one ends, so they interleave.
	var end time.Duration
	for i := range 4 {
		d := fmt.Sprintf("d%d", i)
		if got[d][0] != 0 {
			t.Errorf("%s: first pod created at %v, want 0", d, got[d][0])
		}
		end = max(end, got[d][51])
	}
	if min := time.Duration(float64(208-30) / 20 * float64(time.Second)); end < min {
		t.Errorf("the last pod was created at %v, before %v", end, min)
	}
	for i := range 3 {
		a, b := got[fmt.Sprintf("d%d", i)], got[fmt.Sprintf("d%d", i+1)]
		if a[51] <= b[0] {
			t.Errorf("d%d ends (%v) before d%d starts (%v)", i, a[51], i+1, b[0])
		}
	}
}

// Without a limiter (--kube-api-qps negative, --pacing instant) every pod is created at t=0.
func TestUnpacedCreatesAreInstant(t *testing.T) {
	fl := controlplane.Defaults()
	fl.KubeAPIQPS = -1
	got, _ := fourDeployments(t, fl)
	for d, at := range got {
		if len(at) != 52 || at[len(at)-1] != 0 {
			t.Errorf("%s: %d pods, the last created at %v; want 52 at 0", d, len(at), at[len(at)-1])
		}
	}
}

// The same inputs give the same paced run: the same pods, written in the same order at the
// same instants.
func TestPacedRunIsDeterministic(t *testing.T) {
	_, a := fourDeployments(t, controlplane.Defaults())
	_, b := fourDeployments(t, controlplane.Defaults())
	if !slices.Equal(a, b) {
		t.Errorf("two runs differ:\n%s", workloadstest.FirstDifference([]byte(strings.Join(a, "\n")), []byte(strings.Join(b, "\n"))))
	}
}

// rollingReplicas runs a rolling update of 10 pods at 25%/25% with KWOK's default stages and
// returns the ReplicaSets' spec.replicas, in the order they were written ("old 10", "new 3",
// …).
func rollingReplicas(t *testing.T, fl controlplane.Flags) []string {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 7, Stages: stages.Default(), ControlPlane: &fl})
	h := workloadstest.Record(s)
	workloadstest.Create(t, s, workloadstest.CPUNode("node", 20), workloadstest.Deployment("web", 10))
	workloadstest.PatchAt(t, s, 60*time.Second, "Deployment", "default", "web", `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"}]}}}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var out []string
	first := ""
	for _, e := range *h {
		rs, ok := e.Event.Object.(*appsv1.ReplicaSet)
		if !ok || e.Event.Type == watch.Deleted {
			continue
		}
		if e.Event.Type == watch.Modified && *e.Event.Old.(*appsv1.ReplicaSet).Spec.Replicas == *rs.Spec.Replicas {
			continue
		}
		if first == "" {
			first = rs.Name
		}
		which := "new"
		if rs.Name == first {
			which = "old"
		}
		out = append(out, fmt.Sprintf("%s %d", which, *rs.Spec.Replicas))
	}
	return out
}

// Pacing changes when a rolling update's steps happen, not what they are: the ReplicaSets
// are resized in the same sequence as without a limiter.
func TestPacingKeepsTheRolloutSteps(t *testing.T) {
	instant := controlplane.Defaults()
	instant.KubeAPIQPS = -1
	want := rollingReplicas(t, instant)
	got := rollingReplicas(t, controlplane.Defaults())
	if !slices.Equal(got, want) {
		t.Errorf("paced rollout steps\n%v\nwant (unpaced)\n%v", got, want)
	}
	if len(want) < 6 || want[0] != "old 10" || want[len(want)-1] != "old 0" {
		t.Errorf("the rollout did not run: %v", want)
	}
}
