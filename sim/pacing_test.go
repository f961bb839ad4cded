package sim

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/watch"

	"golang.org/x/time/rate"
)

// bindings creates n pods at t=0 on a node with room for all, runs, and returns the instants
// the pods were bound, in order.
func bindings(t *testing.T, cfg Config, n int) []time.Duration {
	t.Helper()
	s := newSim(t, cfg)
	var bound []time.Duration
	s.API().Watch(func(ev WatchEvent) {
		if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Modified && p.Spec.NodeName != "" && ev.Old.(*corev1.Pod).Spec.NodeName == "" {
			bound = append(bound, s.Elapsed())
		}
	})
	big := node("big")
	big.Status.Allocatable[corev1.ResourcePods] = resource.MustParse("500")
	mustCreate(t, s, big)
	for i := range n {
		mustCreate(t, s, pod(fmt.Sprintf("p%03d", i)))
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if len(bound) != n {
		t.Fatalf("%d pods bound, want %d", len(bound), n)
	}
	return bound
}

// The scheduler's client has kube-scheduler's default clientConnection (qps 50, burst 100,
// pkg/scheduler/apis/config/v1/defaults.go): 130 pending pods are bound 100 at once, then one
// every 20 ms, each at the instant x/time/rate's limiter lets its binding go.
func TestSchedulerBindingsArePaced(t *testing.T) {
	got := bindings(t, Config{}, 130)
	// Each binding goes at the first instant a token is free: what x/time/rate reserves for
	// requests made as soon as the previous one went.
	lim := rate.NewLimiter(50, 100)
	var now time.Duration
	for i, at := range got {
		t0 := Epoch.Add(now)
		now += lim.ReserveN(t0, 1).DelayFrom(t0)
		if at != now {
			t.Fatalf("binding %d at %v, want %v", i+1, at, now)
		}
	}
	if got[99] != 0 || got[100] != 20*time.Millisecond || got[129] != 600*time.Millisecond {
		t.Errorf("bindings 100, 101 and 130 at %v, %v, %v; want 0, 20ms, 600ms", got[99], got[100], got[129])
	}
}

// UnpacedScheduler (kwoksim run --pacing instant), or a negative clientConnection.qps, binds
// every pod at once.
func TestUnpacedSchedulerBindsAtOnce(t *testing.T) {
	got := bindings(t, Config{UnpacedScheduler: true}, 130)
	if got[129] != 0 {
		t.Errorf("the last binding at %v, want 0", got[129])
	}
	cfg, err := DefaultSchedulerConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientConnection.QPS = -1
	if got := bindings(t, Config{SchedulerConfig: cfg}, 130); got[129] != 0 {
		t.Errorf("with qps -1, the last binding at %v, want 0", got[129])
	}
}
