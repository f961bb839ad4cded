package daemonset_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"golang.org/x/time/rate"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// dsCreates runs a DaemonSet on 60 nodes and returns when its pods were created, sorted.
func dsCreates(t *testing.T, fl controlplane.Flags) []time.Duration {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 4, Stages: stages.Default(), ControlPlane: &fl})
	for i := range 60 {
		workloadstest.Create(t, s, workloadstest.CPUNode(fmt.Sprintf("node-%02d", i), 4))
	}
	h := workloadstest.Record(s)
	workloadstest.Create(t, s, workloadstest.DaemonSet("agent"))
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

// The DaemonSet controller creates its 60 pods in slow-start batches (1, 2, 4, 8, 16, 29)
// through the daemon-set-controller's client: each batch reserves its tokens (20/s, burst 30,
// derived here with x/time/rate) when the previous batch's last create has been sent.
func TestDaemonSetCreatesArePaced(t *testing.T) {
	got := dsCreates(t, controlplane.Defaults())
	lim := rate.NewLimiter(20, 30)
	var want []time.Duration
	var now time.Duration
	for _, size := range []int{1, 2, 4, 8, 16, 29} {
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
	if got := dsCreates(t, fl); len(got) != 60 || got[59] != 0 {
		t.Errorf("unpaced: %d pods, the last at %v; want 60 at 0", len(got), got[len(got)-1])
	}
}
