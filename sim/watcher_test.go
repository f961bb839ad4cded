package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// runWithin runs fn in a goroutine and fails the test if it has not returned after 10 s of
// wall time: a Watcher that writes synchronously used to deadlock, and a regression must fail
// the test instead of hanging it. The goroutine is left blocked then.
func runWithin(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end within 10 s: a Watcher's write deadlocked")
		return nil
	}
}

// podCreated and podBound select the watch events a test Watcher writes on: the creation of
// pod p (a write by the simulation loop) and its binding (a write by the scheduler's binding
// goroutine, through the fake clientset).
func podCreated(ev WatchEvent) bool {
	p, ok := ev.Object.(*corev1.Pod)
	return ok && ev.Type == watch.Added && p.Name == "p"
}

func podBound(ev WatchEvent) bool {
	p, ok := ev.Object.(*corev1.Pod)
	return ok && ev.Type == watch.Modified && p.Name == "p" && p.Spec.NodeName != ""
}

// A Watcher that writes synchronously breaks the Watcher rule: the write fails with an error
// naming the rule, whichever entry point it takes and whoever made the write being delivered,
// and the run ends with that error instead of deadlocking or going on without the write.
func TestWatcherWritingSynchronouslyFailsTheRun(t *testing.T) {
	pods := kinds["Pod"]
	ctx := context.Background()
	labelPatch := []byte(`{"metadata":{"labels":{"a":"b"}}}`)
	for _, tc := range []struct {
		name  string
		when  func(WatchEvent) bool
		write func(s *Simulator, ev WatchEvent) error
		want  string // what the message says was written
	}{
		{"Create during a create", podCreated, func(s *Simulator, _ WatchEvent) error {
			_, err := s.API().Create(pod("x"))
			return err
		}, "Create Pod default/x"},
		{"Create during the scheduler's bind", podBound, func(s *Simulator, _ WatchEvent) error {
			_, err := s.API().Create(pod("x"))
			return err
		}, "Create Pod default/x"},
		{"Update", podBound, func(s *Simulator, ev WatchEvent) error {
			p := ev.Object.(*corev1.Pod).DeepCopy()
			p.Labels = map[string]string{"a": "b"}
			_, err := s.API().Update(p)
			return err
		}, "Update Pod default/p"},
		{"UpdateStatus", podBound, func(s *Simulator, ev WatchEvent) error {
			p := ev.Object.(*corev1.Pod).DeepCopy()
			p.Status.Phase = corev1.PodRunning
			_, err := s.API().UpdateStatus(p)
			return err
		}, "UpdateStatus Pod default/p"},
		{"Patch", podBound, func(s *Simulator, _ WatchEvent) error {
			_, err := s.API().Patch(pods, "default", "p", types.MergePatchType, labelPatch, "")
			return err
		}, "Patch Pod default/p"},
		{"Delete", podBound, func(s *Simulator, _ WatchEvent) error {
			return s.API().Delete(pods, "default", "p", metav1.DeleteOptions{})
		}, "Delete Pod default/p"},
		{"Bind", podCreated, func(s *Simulator, _ WatchEvent) error {
			return s.API().Bind(&corev1.Binding{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p"},
				Target: corev1.ObjectReference{Kind: "Node", Name: "n1"}})
		}, "Bind Pod default/p"},
		{"Create through the clientset", podCreated, func(s *Simulator, _ WatchEvent) error {
			_, err := s.API().Client().CoreV1().Pods("default").Create(ctx, pod("x"), metav1.CreateOptions{})
			return err
		}, "Create Pod default/x"},
		{"Update through the clientset", podCreated, func(s *Simulator, ev WatchEvent) error {
			p := ev.Object.(*corev1.Pod).DeepCopy()
			p.Labels = map[string]string{"a": "b"}
			_, err := s.API().Client().CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{})
			return err
		}, "Update Pod default/p"},
		{"Patch through the clientset", podCreated, func(s *Simulator, _ WatchEvent) error {
			_, err := s.API().Client().CoreV1().Pods("default").Patch(ctx, "p", types.MergePatchType, labelPatch, metav1.PatchOptions{})
			return err
		}, "Patch Pod default/p"},
		{"Delete through the clientset", podCreated, func(s *Simulator, _ WatchEvent) error {
			return s.API().Client().CoreV1().Pods("default").Delete(ctx, "p", metav1.DeleteOptions{})
		}, "Delete Pod default/p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Config{Seed: 1})
			wrote, writeErr := false, error(nil)
			s.API().Watch(func(ev WatchEvent) {
				if !wrote && tc.when(ev) {
					wrote = true
					writeErr = tc.write(s, ev)
				}
			})
			runErr := runWithin(t, func() error {
				if _, err := s.API().Create(node("n1")); err != nil {
					return err
				}
				s.Clock().AfterDelay(0, func() {
					if _, err := s.API().Create(pod("p")); err != nil {
						s.Abort(err)
					}
				})
				return s.Run()
			})
			want := "sim: a Watcher wrote to the API synchronously (" + tc.want + "); " +
				"a Watcher must schedule writes on the clock instead (the Watcher rule, see API.Watch)"
			var f *Failure
			if !wrote || !errors.As(writeErr, &f) || f.Msg != want {
				t.Fatalf("the Watcher's write: %v (made: %t), want a *Failure %q", writeErr, wrote, want)
			}
			if !errors.As(runErr, &f) || f.Msg != want {
				t.Errorf("Run = %v, want the Watcher's error %q", runErr, want)
			}
			if _, err := s.API().Get(pods, "default", "x"); !apierrors.IsNotFound(err) {
				t.Errorf("the refused create stored pod x: %v", err)
			}
		})
	}
}

// The control: a Watcher that schedules its write on the clock follows the rule, and the write
// happens in the same virtual instant.
func TestWatcherSchedulingItsWriteOnTheClock(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	var writeErr error
	s.API().Watch(func(ev WatchEvent) {
		if podCreated(ev) {
			s.Clock().AfterDelay(0, func() { _, writeErr = s.API().Create(pod("x")) })
		}
	})
	err := runWithin(t, func() error {
		if _, err := s.API().Create(node("n1")); err != nil {
			return err
		}
		if _, err := s.API().Create(pod("p")); err != nil {
			return err
		}
		return s.Run()
	})
	if err != nil || writeErr != nil {
		t.Fatalf("Run = %v, the Watcher's write = %v", err, writeErr)
	}
	x := getPod(t, s, "x")
	if x.Spec.NodeName != "n1" || !x.CreationTimestamp.Time.Equal(Epoch) {
		t.Errorf("pod x: node %q, created at %v; want bound to n1, created at the start", x.Spec.NodeName, x.CreationTimestamp)
	}
}
