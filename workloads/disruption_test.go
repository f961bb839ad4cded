package workloads_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

func pdb(name string, selector map[string]string, minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: selector},
			MinAvailable:   minAvailable,
			MaxUnavailable: maxUnavailable,
		},
	}
}

func intOrPct(v string) *intstr.IntOrString { return ptr.To(intstr.Parse(v)) }

// The budgets' status is what pkg/controller/disruption computes (getExpectedPodCount,
// countHealthyPods, updatePdbStatus): an integer minAvailable expects the pods selected; a
// percentage, or maxUnavailable, expects the summed replicas of their controllers, percentages
// rounded up; only Ready pods are healthy; disruptions allowed are healthy − desired, never
// below 0, and 0 while nothing is expected.
//
// "four" is a Deployment of 4 pods, all Ready. "short" has 4 replicas on a node with room for 3:
// 3 Ready, 1 pending. Two bare pods have no controller; the Job's pods have one without a
// scale subresource.
func TestDisruptionBudgetStatus(t *testing.T) {
	// The run stops at 5 minutes, while the Job's pods still run.
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default(), Until: 5 * time.Minute})
	four := workloadstest.Deployment("four", 4)
	four.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "n1"}
	short := workloadstest.Deployment("short", 4)
	short.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "n2"}
	job := workloadstest.Job("batch", ptr.To[int32](2), ptr.To[int32](2), "10m")
	job.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "n1"}
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 5), workloadstest.CPUNode("n2", 3), four, short, job)
	for i := range 2 {
		p := barePodLabelled(fmt.Sprintf("bare-%d", i), map[string]string{"app": "bare"})
		workloadstest.Create(t, s, p)
	}
	jobPods := map[string]string{"batch.kubernetes.io/job-name": "batch"}
	workloadstest.Create(t, s,
		pdb("min-int", map[string]string{"app": "four"}, intOrPct("3"), nil),
		pdb("min-pct", map[string]string{"app": "four"}, intOrPct("30%"), nil),
		pdb("max-int", map[string]string{"app": "four"}, nil, intOrPct("1")),
		pdb("max-pct", map[string]string{"app": "four"}, nil, intOrPct("30%")),
		pdb("short-min", map[string]string{"app": "short"}, intOrPct("3"), nil),
		pdb("short-max", map[string]string{"app": "short"}, nil, intOrPct("25%")),
		pdb("bare-int", map[string]string{"app": "bare"}, intOrPct("1"), nil),
		pdb("bare-pct", map[string]string{"app": "bare"}, intOrPct("50%"), nil),
		pdb("job", jobPods, nil, intOrPct("1")),
		pdb("none", map[string]string{"app": "nothing"}, intOrPct("1"), nil),
	)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	type status struct {
		healthy, desired, expected, allowed int32
		cond                                string // status/reason of DisruptionAllowed
	}
	want := map[string]status{
		// 4 pods selected, 3 desired.
		"min-int": {4, 3, 4, 1, "True/SufficientPods"},
		// 30% of the Deployment's 4 replicas is 1.2, rounded up: 2.
		"min-pct": {4, 2, 4, 2, "True/SufficientPods"},
		"max-int": {4, 3, 4, 1, "True/SufficientPods"},
		// 30% of 4 rounded up is 2 unavailable: 2 desired.
		"max-pct": {4, 2, 4, 2, "True/SufficientPods"},
		// 4 pods selected (the pending one too), 3 Ready: none may go.
		"short-min": {3, 3, 4, 0, "False/InsufficientPods"},
		// 25% of 4 is 1 unavailable: 3 desired, 3 Ready.
		"short-max": {3, 3, 4, 0, "False/InsufficientPods"},
		"bare-int":  {2, 1, 2, 1, "True/SufficientPods"},
		// Unmanaged pods count for no expected pod: 0% of 0, and nothing allowed.
		"bare-pct": {2, 0, 0, 0, "False/InsufficientPods"},
		// No pod: nothing expected, nothing allowed.
		"none": {0, 1, 0, 0, "False/InsufficientPods"},
	}
	for name, w := range want {
		p := workloadstest.MustGet[*policyv1.PodDisruptionBudget](t, s, "PodDisruptionBudget", name)
		c := condition(p)
		got := status{p.Status.CurrentHealthy, p.Status.DesiredHealthy, p.Status.ExpectedPods, p.Status.DisruptionsAllowed, string(c.Status) + "/" + c.Reason}
		if got != w {
			t.Errorf("%s: status %+v, want %+v", name, got, w)
		}
		if at := c.LastTransitionTime.Time; at.Before(sim.Epoch) || at.After(sim.Epoch.Add(5*time.Minute)) {
			t.Errorf("%s: condition changed at %v, not on the virtual clock", name, at)
		}
		if p.Status.ObservedGeneration != p.Generation {
			t.Errorf("%s: observedGeneration %d, generation %d", name, p.Status.ObservedGeneration, p.Generation)
		}
	}
	// A controller without a scale subresource fails the computation: failSafe.
	j := workloadstest.MustGet[*policyv1.PodDisruptionBudget](t, s, "PodDisruptionBudget", "job")
	if c := condition(j); j.Status.DisruptionsAllowed != 0 || c.Status != metav1.ConditionFalse || c.Reason != policyv1.SyncFailedReason ||
		c.Message != "jobs.batch does not implement the scale subresource" {
		t.Errorf("job: allowed %d, condition %+v, want 0 and SyncFailed", j.Status.DisruptionsAllowed, c)
	}
	warnings := map[string]int{}
	for _, e := range s.Recorder().Events() {
		if e.Kind == "PodDisruptionBudget" {
			warnings[e.Name+" "+e.Reason]++
		}
	}
	if warnings["bare-pct UnmanagedPods"] != 1 || warnings["job CalculateExpectedPodCountFailed"] != 1 || len(warnings) != 2 {
		t.Errorf("warnings %v, want UnmanagedPods on bare-pct and CalculateExpectedPodCountFailed on job, once each", warnings)
	}
}

func condition(p *policyv1.PodDisruptionBudget) metav1.Condition {
	for _, c := range p.Status.Conditions {
		if c.Type == policyv1.DisruptionAllowedCondition {
			return c
		}
	}
	return metav1.Condition{}
}

func barePodLabelled(name string, labels map[string]string) *corev1.Pod {
	p := barePod(name, "", nil)
	p.Labels = labels
	return p
}

// DefaultPreemption prefers victims whose eviction violates no PodDisruptionBudget
// (pickOneNodeForPreemption's first criterion, fed by filterPodsWithPDBViolation, which reads
// status.disruptionsAllowed). "old" (started at 0 s on node a) has a budget with minAvailable 0:
// one disruption allowed. "young" (started at 30 s on node b) has one with minAvailable 1: none
// allowed. The preemptor evicts "old". Without the budgets' status both would allow none, both
// nodes would tie on violations, and the next criteria (same priorities, one victim each) would
// come down to the latest start time: "young" would go.
func TestPreemptionRespectsDisruptionBudgets(t *testing.T) {
	s, deleted := preemptionSim(t, 1)
	workloadstest.Create(t, s,
		priorityClass("low", 10, false), priorityClass("urgent", 1000, false),
		hostNode("a", "2"), hostNode("b", "2"),
		pdb("spare-old", map[string]string{"app": "old"}, intOrPct("0"), nil),
		pdb("keep-young", map[string]string{"app": "young"}, intOrPct("1"), nil))
	place := func(p *corev1.Pod, node, app string) *corev1.Pod {
		p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": node}
		p.Labels = map[string]string{"app": app}
		return p
	}
	workloadstest.Create(t, s, place(priorityPod("old", "2", "low"), "a", "old"))
	s.Clock().AfterDelay(30*time.Second, func() {
		if _, err := s.API().Create(place(priorityPod("young", "2", "low"), "b", "young")); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(2*time.Minute, func() {
		for name, allowed := range map[string]int32{"spare-old": 1, "keep-young": 0} {
			p := workloadstest.MustGet[*policyv1.PodDisruptionBudget](t, s, "PodDisruptionBudget", name)
			if p.Status.DisruptionsAllowed != allowed {
				t.Errorf("%s allows %d disruptions before the preemption, want %d", name, p.Status.DisruptionsAllowed, allowed)
			}
		}
		if _, err := s.API().Create(priorityPod("urgent", "2", "urgent")); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if len(*deleted) != 1 || (*deleted)[0] != "old" {
		t.Errorf("deleted %v, want [old]", *deleted)
	}
	if urgent := podRecord(t, s, "urgent"); urgent.Pod.Spec.NodeName != "a" {
		t.Errorf("preemptor on %q, want a", urgent.Pod.Spec.NodeName)
	}
}
