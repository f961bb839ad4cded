package workloads_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// A preemption is an eviction the report counts, and the workload that lost the pod gets a
// recovery time:
//
//   - node a has 2 CPU; Deployment web (priority 10) runs its 2 one-CPU pods there.
//   - at 60 s a pod of priority 1000 asking 1 CPU arrives: the scheduler's DefaultPreemption
//     evicts one web pod, setting its DisruptionTarget condition with reason
//     PreemptionByScheduler before deleting it (prepareCandidate,
//     pkg/scheduler/framework/preemption/preemption.go), in that pod's scheduling cycle at
//     60 s. The ReplicaSet's replacement finds no room (it cannot preempt the higher pod).
//   - at 120 s node b (2 CPU) appears: the replacement is bound there, and web has 2 Ready
//     pods again when the stages make it Ready.
//
// So: evictions = [preemption ×1 at 60 s], summary.evictions 1, and web's one disruption
// episode starts at 60 s, waited for 2 Ready pods, had 1 at worst and recovered when the
// replacement became Ready (its Running time: the stage sets Ready and Running together).
func TestReportCountsPreemptionAndRecovery(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	web := workloadstest.Deployment("web", 2)
	web.Spec.Template.Spec.PriorityClassName = "low"
	workloadstest.Create(t, s, priorityClass("low", 10, false), priorityClass("urgent", 1000, false),
		workloadstest.CPUNode("a", 2), web)
	s.Clock().AfterDelay(time.Minute, func() {
		if _, err := s.API().Create(priorityPod("urgent", "1", "urgent")); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(2*time.Minute, func() {
		if _, err := s.API().Create(workloadstest.CPUNode("b", 2)); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	var victim, replacement *analysis.PodRecord
	for i := range obs.Pods {
		rec := &obs.Pods[i]
		switch {
		case rec.EvictedAt != nil:
			victim = rec
		case rec.CreatedAt != nil && *rec.CreatedAt > 0 && rec.Pod.Name != "urgent":
			replacement = rec
		}
	}
	if victim == nil || replacement == nil {
		t.Fatalf("victim %v, replacement %v", victim, replacement)
	}
	if *victim.EvictedAt != time.Minute || victim.EvictionReason != corev1.PodReasonPreemptionByScheduler {
		t.Errorf("victim %s evicted at %v for %q, want 1m0s for PreemptionByScheduler", victim.Pod.Name, victim.EvictedAt, victim.EvictionReason)
	}
	if replacement.Pod.Spec.NodeName != "b" || replacement.RunningAt == nil {
		t.Fatalf("replacement %s on %q, running at %v", replacement.Pod.Name, replacement.Pod.Spec.NodeName, replacement.RunningAt)
	}
	r := analysis.Build(obs)
	if r.Summary.Evictions != 1 || len(r.Evictions) != 1 {
		t.Fatalf("evictions %+v (summary %d)", r.Evictions, r.Summary.Evictions)
	}
	if e := r.Evictions[0]; e.Reason != "preemption" || e.Count != 1 || e.First != 60 || e.Last != 60 {
		t.Errorf("evictions[0] = %+v", e)
	}
	var ds []analysis.WorkloadDisruption
	for _, w := range r.Workloads {
		if w.Kind == "Deployment" && w.Name == "web" {
			ds = w.Disruptions
		}
	}
	recovered := replacement.RunningAt.Seconds()
	if len(ds) != 1 || ds[0].Start != 60 || ds[0].Pods != 1 || ds[0].Wanted != 2 || ds[0].MinReady != 1 ||
		ds[0].RecoveredAt == nil || *ds[0].RecoveredAt != recovered || *ds[0].RecoverySeconds != recovered-60 {
		b, _ := json.Marshal(ds)
		t.Errorf("web's disruptions %s, want one from 60 s recovered at %v", b, recovered)
	}
	var js, table bytes.Buffer
	if err := analysis.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if err := analysis.WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"evictions": 1`, `"reason": "preemption"`, `"conditionReason": "PreemptionByScheduler"`, `"evictionReason": "PreemptionByScheduler"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	for _, want := range []string{"Evictions (1), by reason:", "preemption  PreemptionByScheduler  1     1.0m   1.0m",
		"Recovery of the workloads that lost pods to disruptions:", "Deployment default/web  1.0m"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}
