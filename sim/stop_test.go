package sim

import (
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Closing Config.Stop ends the run between two scheduling cycles: the pods bound so far stay
// bound, none is half done, and the simulator can still be observed.
func TestStopBetweenSchedulingCycles(t *testing.T) {
	stop := make(chan struct{})
	s := newSim(t, Config{Seed: 1, Stop: stop})
	mustCreate(t, s, node("n1"))
	for i := 0; i < 20; i++ {
		mustCreate(t, s, pod(fmt.Sprintf("p%02d", i)))
	}
	bound := 0
	s.API().Watch(func(ev WatchEvent) {
		if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Modified && p.Spec.NodeName != "" && p.ResourceVersion != "" {
			if bound++; bound == 5 {
				close(stop)
			}
		}
	})
	if err := s.Run(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	scheduled := 0
	for _, p := range o.Pods {
		if p.ScheduledAt != nil {
			scheduled++
		}
	}
	if scheduled != 5 {
		t.Errorf("%d pods scheduled when the run stopped after the fifth bind, want 5", scheduled)
	}
}

// Between two events: a stop at t=100s leaves the events after it undone.
func TestStopBetweenEvents(t *testing.T) {
	stop := make(chan struct{})
	s := newSim(t, Config{Seed: 1, Stop: stop})
	ran := 0
	for i := 1; i <= 10; i++ {
		s.Clock().At(Epoch.Add(time.Duration(i)*50*time.Second), func() { ran++ })
	}
	s.Clock().At(Epoch.Add(100*time.Second), func() { close(stop) })
	if err := s.Run(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	if ran != 2 || s.Elapsed() != 100*time.Second {
		t.Errorf("stopped at t=%v after %d events, want t=100s after the events at 50s and 100s", s.Elapsed(), ran)
	}
}
