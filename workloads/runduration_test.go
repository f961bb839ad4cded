package workloads_test

import (
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/workloads/workloadstest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
)

// The default pod-run-duration stage: a pod annotated with kwoksim.io/run-duration succeeds
// that long after it is Running, when its restartPolicy lets it end; a Job's pod waits for
// its run time instead of completing at once; a pod that restarts Always keeps running.
func TestRunDurationAnnotation(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 5, Stages: stages.Default()})
	isController := true
	job := &metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "batch", UID: types.UID("job-uid"), Controller: &isController}
	annotated := func(name, runFor string, policy corev1.RestartPolicy, owner *metav1.OwnerReference) *corev1.Pod {
		p := barePod(name, "100m", owner)
		p.Annotations = map[string]string{"kwoksim.io/run-duration": runFor}
		p.Spec.RestartPolicy = policy
		return p
	}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"),
		annotated("never", "90s", corev1.RestartPolicyNever, nil),
		annotated("onfailure", "1h30m", corev1.RestartPolicyOnFailure, nil),
		annotated("job-pod", "10m", corev1.RestartPolicyNever, job),
		annotated("always", "90s", corev1.RestartPolicyAlways, nil),
	)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		runs  time.Duration
		phase corev1.PodPhase
	}{
		{"never", 90 * time.Second, corev1.PodSucceeded},
		{"onfailure", 90 * time.Minute, corev1.PodSucceeded},
		{"job-pod", 10 * time.Minute, corev1.PodSucceeded},
		{"always", 0, corev1.PodRunning},
	} {
		rec := podRecord(t, s, tc.name)
		if rec.Pod.Status.Phase != tc.phase {
			t.Errorf("%s: phase %s, want %s", tc.name, rec.Pod.Status.Phase, tc.phase)
			continue
		}
		if rec.RunningAt == nil {
			t.Errorf("%s never ran", tc.name)
			continue
		}
		done, ok := lastTransition(s, tc.name, "pod-run-duration")
		if tc.runs == 0 {
			if ok {
				t.Errorf("%s: pod-run-duration ran on a pod that restarts Always", tc.name)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: pod-run-duration never ran", tc.name)
			continue
		}
		if got := done.At - *rec.RunningAt; got != tc.runs {
			t.Errorf("%s: succeeded %v after it was Running, want %v", tc.name, got, tc.runs)
		}
		if _, ok := lastTransition(s, tc.name, "pod-complete"); ok {
			t.Errorf("%s: KWOK's pod-complete ran too", tc.name)
		}
		for _, cs := range rec.Pod.Status.ContainerStatuses {
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
				t.Errorf("%s: container %s state %+v, want terminated with exit code 0", tc.name, cs.Name, cs.State)
			}
		}
	}
}
