package job_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"golang.org/x/time/rate"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// jobCreates runs a Job of parallelism 50 on a cluster without nodes and returns when its
// pods were created, sorted.
func jobCreates(t *testing.T, fl controlplane.Flags) []time.Duration {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 2, Stages: stages.Default(), ControlPlane: &fl})
	h := workloadstest.Record(s)
	workloadstest.Create(t, s, workloadstest.Job("batch", ptr.To[int32](50), ptr.To[int32](50), "1m"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for _, e := range *h {
		if _, ok := e.Event.Object.(*corev1.Pod); ok && e.Event.Type == watch.Added {
			out = append(out, e.At)
		}
	}
	slices.Sort(out)
	return out
}

// The Job controller creates its 50 pods in slow-start batches (1, 2, 4, 8, 16, 19) through
// the job-controller's client: each batch reserves its tokens (20/s, burst 30, derived here
// with x/time/rate) when the previous batch's last create has been sent.
func TestJobCreatesArePaced(t *testing.T) {
	got := jobCreates(t, controlplane.Defaults())
	lim := rate.NewLimiter(20, 30)
	var want []time.Duration
	var now time.Duration
	for _, size := range []int{1, 2, 4, 8, 16, 19} {
		var last time.Duration
		for range size {
			t0 := sim.Epoch.Add(now)
			at := now + lim.ReserveN(t0, 1).DelayFrom(t0)
			want = append(want, at)
			last = max(last, at)
		}
		now = last
	}
	if !slices.Equal(got, want) {
		t.Errorf("pods created at\n%v\nwant\n%v", got, want)
	}
	fl := controlplane.Defaults()
	fl.KubeAPIQPS = -1
	if got := jobCreates(t, fl); len(got) != 50 || got[49] != 0 {
		t.Errorf("unpaced: %d pods, the last at %v; want 50 at 0", len(got), got[len(got)-1])
	}
}
