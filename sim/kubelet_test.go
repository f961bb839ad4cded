package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kwoksim/kwoksim/stages"
)

func readyCondition(t *testing.T, s *Simulator, name string) string {
	t.Helper()
	obj, err := s.API().Get(kinds["Node"], "", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range obj.(*corev1.Node).Status.Conditions {
		if c.Type == corev1.NodeReady {
			return fmt.Sprintf("%s/%s", c.Status, c.Reason)
		}
	}
	return "none"
}

// podState is the pod's phase, "terminating" while it is being deleted, or "gone".
func podState(s *Simulator, name string) string {
	obj, err := s.API().Get(kinds["Pod"], "default", name)
	if err != nil {
		return "gone"
	}
	if p := obj.(*corev1.Pod); p.DeletionTimestamp != nil {
		return "terminating"
	} else {
		return string(p.Status.Phase)
	}
}

// A kubelet's state under stage-fast (Simulator.SetKubelet):
//   - 10 s NotReady: Ready=False (KubeletNotReady) at once, and it stays so although
//     node-initialize and the heartbeat would report Ready: the node's stages are suspended.
//     Its pods' stages run: a pod bound at 20 s becomes Running.
//   - 60 s stopped: a pod deleted at 70 s stays Terminating past its 30 s grace period (no
//     stage, no kubelet to end it); a pod bound at 80 s stays Pending.
//   - 200 s running: node-initialize sets Ready=True (KWOK's NodeConditions: KubeletReady) again, pod-delete removes the
//     terminating pod, pod-ready runs the pending one, all at 200 s.
func TestKubeletStatesSuspendAndResumeStages(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Stages: stages.Default(), Until: 300 * time.Second})
	mustCreate(t, s, node("n1"))
	bound := func(name string) *corev1.Pod {
		p := pod(name)
		p.Spec.NodeName = "n1"
		p.Spec.TerminationGracePeriodSeconds = new(int64(30))
		return p
	}
	mustCreate(t, s, bound("a"))
	var log []string
	at := func(d time.Duration, f func()) { s.Clock().At(Epoch.Add(d), f) }
	note := func() {
		log = append(log, fmt.Sprintf("%v node=%s a=%s b=%s c=%s", s.Elapsed(), readyCondition(t, s, "n1"),
			podState(s, "a"), podState(s, "b"), podState(s, "c")))
	}
	set := func(st KubeletState) {
		if err := s.SetKubelet("n1", st); err != nil {
			t.Error(err)
		}
	}
	at(10*time.Second, func() { set(KubeletNotReady) })
	at(20*time.Second, func() { mustCreate(t, s, bound("b")) })
	at(50*time.Second, note)
	at(60*time.Second, func() { set(KubeletStopped) })
	at(70*time.Second, func() {
		if err := s.API().Delete(kinds["Pod"], "default", "a", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	at(80*time.Second, func() { mustCreate(t, s, bound("c")) })
	at(150*time.Second, note)
	at(200*time.Second, func() { set(KubeletRunning) })
	at(200*time.Second+time.Millisecond, note)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"50s node=False/KubeletNotReady a=Running b=Running c=gone",
		"2m30s node=False/KubeletNotReady a=terminating b=Running c=Pending",
		"3m20.001s node=True/KubeletReady a=gone b=Running c=Running",
	}
	if got := strings.Join(log, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if err := s.SetKubelet("nowhere", KubeletStopped); err == nil {
		t.Error("SetKubelet of an unknown node: no error")
	}
}

// Without stages, NotReady still writes Ready=False and running again writes Ready=True
// (KubeletReady) over it; a stopped kubelet holds graceful deletions.
func TestKubeletStatesWithoutStages(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	if err := s.SetKubelet("n1", KubeletNotReady); err != nil {
		t.Fatal(err)
	}
	if got := readyCondition(t, s, "n1"); got != "False/KubeletNotReady" {
		t.Errorf("not ready: %s", got)
	}
	if err := s.SetKubelet("n1", KubeletRunning); err != nil {
		t.Fatal(err)
	}
	if got := readyCondition(t, s, "n1"); got != "True/KubeletReady" {
		t.Errorf("running again: %s", got)
	}
}
