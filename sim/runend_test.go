package sim

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// A pod created by the last foreground event, at an instant where periodic background work
// is also due (a controller's health pass), is still scheduled before the run ends: the
// background event runs, then the scheduler drains, then the run may end.
func TestBackgroundWorkAtTheLastInstantDoesNotSkipScheduling(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	at := Epoch.Add(time.Minute)
	s.Clock().At(at, func() { mustCreate(t, s, pod("p")) })
	s.Clock().Daemon(at, func() {}) // scheduled after the create: due at the same instant
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obj, err := s.API().Get(kinds["Pod"], "default", "p")
	if err != nil {
		t.Fatal(err)
	}
	if n := obj.(*corev1.Pod).Spec.NodeName; n != "n1" {
		t.Errorf("p on %q at the end, want n1", n)
	}
}
