package workloads_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// The resource quota controller computes a new quota's status from what already runs, and
// replenishes it when pods end, with the real pod evaluator's rules: "pods" and
// "requests.cpu" count pods that are not terminal, "count/pods" every stored pod.
func TestQuotaControllerRecalculatesUsage(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	var writes, ended []string
	s.API().Watch(func(ev sim.WatchEvent) {
		switch o := ev.Object.(type) {
		case *corev1.ResourceQuota:
			u := o.Status.Used
			writes = append(writes, fmt.Sprintf("%v pods=%s count/pods=%s requests.cpu=%s", s.Elapsed(),
				ptr.To(u[corev1.ResourcePods]).String(), ptr.To(u["count/pods"]).String(), ptr.To(u[corev1.ResourceRequestsCPU]).String()))
		case *corev1.Pod:
			if o.Status.Phase == corev1.PodSucceeded && ev.Old.(*corev1.Pod).Status.Phase != corev1.PodSucceeded {
				ended = append(ended, s.Elapsed().String())
			}
		}
	})
	workloadstest.Create(t, s, workloadstest.CPUNode("n", 10), workloadstest.Job("batch", ptr.To[int32](2), ptr.To[int32](2), "30s"))
	s.Clock().At(sim.Epoch.Add(10*time.Second), func() {
		workloadstest.Create(t, s, &corev1.ResourceQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "compute", Namespace: "default"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				corev1.ResourcePods: resource.MustParse("5"), "count/pods": resource.MustParse("5"), corev1.ResourceRequestsCPU: resource.MustParse("1"),
			}},
		})
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	// The quota as created (no status: the strategy drops it), the controller's first sync at
	// the same instant, then the replenishment when the pods succeed.
	want := []string{
		"10s pods=0 count/pods=0 requests.cpu=0",
		"10s pods=2 count/pods=2 requests.cpu=200m",
		"30s pods=0 count/pods=2 requests.cpu=0",
	}
	if strings.Join(ended, ",") != "30s,30s" {
		t.Fatalf("pods succeeded at %v, want both at 30s", ended)
	}
	if got := strings.Join(writes, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("quota writes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// A pod stuck terminating stops counting once its grace period is over (QuotaV1Pod: after
// deletionTimestamp plus the grace period again), which no watch event says: the periodic
// full resync (every 5 minutes) finds it. The kubelet of its node is stopped, so nothing
// removes the pod (sim's graceful termination waits for a kubelet that can act).
func TestQuotaResyncFindsAnExpiredGracePeriod(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Until: 6 * time.Minute})
	var writes []string
	s.API().Watch(func(ev sim.WatchEvent) {
		if q, ok := ev.Object.(*corev1.ResourceQuota); ok {
			writes = append(writes, fmt.Sprintf("%v pods=%s", s.Elapsed(), ptr.To(q.Status.Used[corev1.ResourcePods]).String()))
		}
	})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: workloadstest.PodSpec("100m")}
	workloadstest.Create(t, s, workloadstest.CPUNode("n", 10), &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "pods", Namespace: "default"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5")}},
	}, pod)
	s.Clock().At(sim.Epoch.Add(10*time.Second), func() {
		if err := s.SetKubelet("n", sim.KubeletStopped); err != nil {
			t.Error(err)
		}
		k, _ := sim.KindNamed("Pod")
		if err := s.API().Delete(k, "default", "p", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "p"); p.DeletionTimestamp == nil {
		t.Fatal("the pod is not terminating")
	}
	// Created with no status (so the pod was not charged), synced at once, then nothing until
	// the resync at 5m, when 10s + 30s + 30s have long passed.
	if got, want := strings.Join(writes, ", "), "0s pods=0, 0s pods=1, 5m0s pods=0"; got != want {
		t.Errorf("quota writes %s, want %s", got, want)
	}
}
