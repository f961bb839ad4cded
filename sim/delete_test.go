package sim

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/stages"
)

// Deleting again a pod held by a finalizer writes nothing (as etcd3 skips an unchanged write),
// so KWOK's stage-fast pod-delete, which deletes whatever carries a deletionTimestamp, leaves a
// bound pod with a finalizer terminating instead of deleting it again and again (a livelock).
// The recorder notes the deletion request once.
func TestDeleteAgainOfAPodHeldByAFinalizerWritesNothing(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: time.Minute, Stages: stages.Default()})
	held := pod("held")
	held.Finalizers = []string{"example.com/hold"}
	mustCreate(t, s, node("n1"), held)
	s.Clock().AfterDelay(10*time.Second, func() {
		if err := s.API().Delete(kinds["Pod"], "default", "held", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	p := getPod(t, s, "held")
	if p.DeletionTimestamp == nil || p.Spec.NodeName != "n1" {
		t.Fatalf("pod %s: deletionTimestamp %v node %q", p.Name, p.DeletionTimestamp, p.Spec.NodeName)
	}
	before := s.API().Writes()
	if err := s.API().Delete(kinds["Pod"], "default", "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if after := s.API().Writes(); after != before {
		t.Errorf("a repeated delete wrote %d times", after-before)
	}
	rec := s.Recorder().Pods()[0]
	if rec.TerminatingAt == nil || *rec.TerminatingAt != 10*time.Second || rec.DeletedAt != nil {
		t.Errorf("terminatingAt %v deletedAt %v, want 10s and never", rec.TerminatingAt, rec.DeletedAt)
	}
}
