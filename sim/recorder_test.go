package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/stages"
)

// The change log holds what moves a count or a sum and nothing else: an hour of node
// heartbeats (each performed: KeepRenewals) adds nothing to it, a change of allocatable or a
// deletion does.
func TestRecorderHistory(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: time.Hour, Stages: stages.Default(), KeepRenewals: true})
	mustCreate(t, s, node("n1"), pod("p"))
	s.Clock().AfterDelay(30*time.Minute, func() {
		patch := `{"status":{"allocatable":{"cpu":"8"}}}`
		if _, err := s.API().Patch(kinds["Node"], "", "n1", types.MergePatchType, []byte(patch), "status"); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(40*time.Minute, func() {
		if err := s.API().Delete(kinds["Pod"], "default", "p", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(50*time.Minute, func() {
		if err := s.API().Delete(kinds["Node"], "", "n1", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	writes := s.API().Writes()
	h := s.Recorder().History()
	var nodes []string
	for _, c := range h.Nodes {
		cpu := "-"
		if q, ok := c.Allocatable[corev1.ResourceCPU]; ok {
			cpu = q.String()
		}
		nodes = append(nodes, fmt.Sprintf("%v ready=%v gone=%v cpu=%s", c.At, c.Ready, c.Gone, cpu))
	}
	want := []string{
		"0s ready=false gone=false cpu=4", // created
		"0s ready=true gone=false cpu=-",  // node-initialize
		"30m0s ready=true gone=false cpu=8",
		"50m0s ready=false gone=true cpu=-",
	}
	if strings.Join(nodes, "\n") != strings.Join(want, "\n") {
		t.Errorf("node changes (of %d writes):\n%s\nwant:\n%s", writes, strings.Join(nodes, "\n"), strings.Join(want, "\n"))
	}
	var pods []string
	for _, c := range h.Pods {
		pods = append(pods, fmt.Sprintf("%v pod=%d %s bound=%v terminating=%v gone=%v", c.At, c.Pod, c.Phase, c.Bound, c.Terminating, c.Gone))
	}
	// The deletion of a bound pod is graceful: it first gets a deletionTimestamp, then the
	// pod-delete stage removes it; the log notes both.
	want = []string{
		"0s pod=0 Pending bound=false terminating=false gone=false",
		"0s pod=0 Pending bound=true terminating=false gone=false",
		"0s pod=0 Running bound=true terminating=false gone=false",
		"40m0s pod=0 Running bound=true terminating=true gone=false",
		"40m0s pod=0 Running bound=true terminating=true gone=true",
	}
	if strings.Join(pods, "\n") != strings.Join(want, "\n") {
		t.Errorf("pod changes:\n%s\nwant:\n%s", strings.Join(pods, "\n"), strings.Join(want, "\n"))
	}
	beats := 0
	for _, tr := range s.Transitions() {
		if strings.HasPrefix(tr.Stage, "node-heartbeat") {
			beats++
		}
	}
	if beats < 3 {
		t.Errorf("%d heartbeats in 50 minutes (one every 10 minutes expected): the writes this test is about did not happen", beats)
	}
}

// A pod deleted while it carries a True DisruptionTarget condition was evicted, and the
// recorder notes when and why (the component that evicts sets the condition first, as the
// taint eviction controller does in addConditionAndDeletePod,
// pkg/controller/tainteviction/taint_eviction.go); one deleted without it was only deleted.
// The change log notes the Ready condition, which workload recovery is swept from.
func TestRecorderNotesEvictions(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Stages: stages.Default()})
	mustCreate(t, s, node("n1"), pod("evicted"), pod("deleted"))
	s.Clock().AfterDelay(10*time.Minute, func() {
		patch := `{"status":{"conditions":[{"type":"DisruptionTarget","status":"True","reason":"DeletionByTaintManager","message":"Taint manager: deleting due to NoExecute taint"}]}}`
		if _, err := s.API().Patch(kinds["Pod"], "default", "evicted", types.StrategicMergePatchType, []byte(patch), "status"); err != nil {
			t.Error(err)
		}
		if err := s.API().Delete(kinds["Pod"], "default", "evicted", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(20*time.Minute, func() {
		if err := s.API().Delete(kinds["Pod"], "default", "deleted", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	recs := s.Recorder().Pods()
	ev, del := recs[0], recs[1]
	if ev.EvictedAt == nil || *ev.EvictedAt != 10*time.Minute || ev.EvictionReason != "DeletionByTaintManager" || *ev.TerminatingAt != 10*time.Minute {
		t.Errorf("evicted pod: evictedAt %v reason %q terminatingAt %v", ev.EvictedAt, ev.EvictionReason, ev.TerminatingAt)
	}
	if del.EvictedAt != nil || del.EvictionReason != "" || del.TerminatingAt == nil || *del.TerminatingAt != 20*time.Minute {
		t.Errorf("deleted pod: evictedAt %v reason %q terminatingAt %v", del.EvictedAt, del.EvictionReason, del.TerminatingAt)
	}
	var ready, gone bool
	for _, c := range s.Recorder().History().Pods {
		if c.Pod == 0 && c.Ready && !c.Gone {
			ready = true
		}
		if c.Pod == 0 && c.Gone {
			gone = c.At == 10*time.Minute
		}
	}
	if !ready || !gone {
		t.Errorf("history of the evicted pod: Ready logged %v, deletion logged at 10m %v", ready, gone)
	}
}
