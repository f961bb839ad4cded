package replicaset_test

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// rsSpreadDeployment runs a Deployment of 6 one-CPU pods on nodes with room for exactly 3, 2
// and 1 of them, so the pods land 3 on "crowded", 2 on "pair" and 1 on "single"; before is
// called at t=30s, and at t=60s the Deployment is scaled to 2. It returns the nodes of the
// pods deleted and of those left.
func rsSpreadDeployment(t *testing.T, before func(s *sim.Simulator)) (deleted, left []string) {
	t.Helper()
	s := workloadstest.Sim(t, sim.Config{Seed: 11, Stages: stages.Default()})
	h := workloadstest.Record(s)
	workloadstest.Create(t, s, workloadstest.CPUNode("crowded", 3), workloadstest.CPUNode("pair", 2), workloadstest.CPUNode("single", 1), workloadstest.Deployment("spread", 6))
	s.Clock().At(sim.Epoch.Add(30*time.Second), func() { before(s) })
	workloadstest.PatchAt(t, s, 60*time.Second, "Deployment", "default", "spread", `{"spec":{"replicas":2}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	for _, e := range *h {
		if p, ok := e.Event.Object.(*corev1.Pod); ok && e.Event.Type == watch.Modified && p.DeletionTimestamp != nil && e.Event.Old.(*corev1.Pod).DeletionTimestamp == nil {
			deleted = append(deleted, p.Spec.NodeName)
		}
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s left in phase %s", p.Name, p.Status.Phase)
		}
		left = append(left, p.Spec.NodeName)
	}
	slices.Sort(deleted)
	slices.Sort(left)
	return deleted, left
}

// Scaling down, the ReplicaSet controller deletes first the pods with the most related pods
// (of the Deployment's ReplicaSets) on their node: everything else ties here (all Running
// and Ready since the same second, no deletion cost), so co-location decides. The pods on
// "crowded" (3 there) go, then one of "pair" (2); one pod is left on "pair" and "single".
func TestReplicaSetScaleDownRanksByColocatedPods(t *testing.T) {
	deleted, left := rsSpreadDeployment(t, func(*sim.Simulator) {})
	if !slices.Equal(deleted, []string{"crowded", "crowded", "crowded", "pair"}) || !slices.Equal(left, []string{"pair", "single"}) {
		t.Errorf("deleted pods on %v, left on %v; want the 3 on crowded and 1 on pair deleted", deleted, left)
	}
}

// The pod-deletion-cost annotation ranks before co-location: two pods on the crowded node
// that cost more to delete are the ones kept.
func TestReplicaSetScaleDownHonorsDeletionCost(t *testing.T) {
	var kept []string
	deleted, left := rsSpreadDeployment(t, func(s *sim.Simulator) {
		podKind, _ := sim.KindNamed("Pod")
		for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
			if p.Spec.NodeName == "crowded" && len(kept) < 2 {
				kept = append(kept, p.Name)
				patch := `{"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"100"}}}`
				if _, err := s.API().Patch(podKind, "default", p.Name, "application/strategic-merge-patch+json", []byte(patch), ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	if !slices.Equal(deleted, []string{"crowded", "pair", "pair", "single"}) || !slices.Equal(left, []string{"crowded", "crowded"}) {
		t.Errorf("deleted pods on %v, left on %v; want the two costly pods on crowded kept (%v)", deleted, left, kept)
	}
}

// A ReplicaSet reports its pods as the real controller does (replicas, fullyLabeled, ready,
// available after minReadySeconds, terminating, observedGeneration), and scaling down deletes
// unscheduled pods before scheduled ones.
func TestReplicaSetStatusAndScaleDown(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 12, Stages: stages.Default()})
	h := workloadstest.Record(s)
	d := workloadstest.Deployment("batch", 4) // only its template is used
	replicas := int32(4)
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "batch", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas, MinReadySeconds: 10,
			Selector: d.Spec.Selector, Template: d.Spec.Template,
		},
	}
	workloadstest.Create(t, s, workloadstest.CPUNode("small", 2), rs)
	workloadstest.PatchAt(t, s, 20*time.Second, "ReplicaSet", "default", "batch", `{"spec":{"replicas":2}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}

	type snapshot struct {
		at time.Duration
		st appsv1.ReplicaSetStatus
	}
	var statuses []snapshot
	var deletedOn []string
	for _, e := range *h {
		switch o := e.Event.Object.(type) {
		case *appsv1.ReplicaSet:
			if e.Event.Type == watch.Modified && !equalRSStatus(o.Status, e.Event.Old.(*appsv1.ReplicaSet).Status) {
				statuses = append(statuses, snapshot{e.At, o.Status})
			}
		case *corev1.Pod:
			if e.Event.Type == watch.Deleted {
				deletedOn = append(deletedOn, o.Spec.NodeName)
			}
		}
	}
	want := []struct {
		at                                          time.Duration
		replicas, labeled, ready, available, obsGen int32
	}{
		{0, 4, 4, 2, 0, 1},                // 2 pods bound and Ready, 2 unschedulable
		{10 * time.Second, 4, 4, 2, 2, 1}, // Ready for minReadySeconds
		{20 * time.Second, 2, 2, 2, 2, 2}, // scaled to 2
	}
	last := map[time.Duration]appsv1.ReplicaSetStatus{}
	for _, sn := range statuses {
		last[sn.at] = sn.st
	}
	for _, w := range want {
		st, ok := last[w.at]
		if !ok {
			t.Errorf("no status written at %v; written: %+v", w.at, statuses)
			continue
		}
		if st.Replicas != w.replicas || st.FullyLabeledReplicas != w.labeled || st.ReadyReplicas != w.ready ||
			st.AvailableReplicas != w.available || st.ObservedGeneration != int64(w.obsGen) || st.TerminatingReplicas == nil || *st.TerminatingReplicas != 0 {
			t.Errorf("status at %v: %+v, want %+v", w.at, st, w)
		}
	}
	if len(last) != len(want) {
		t.Errorf("status written at %d instants, want %d: %+v", len(last), len(want), statuses)
	}
	if !slices.Equal(deletedOn, []string{"", ""}) {
		t.Errorf("deleted pods were on nodes %q, want the two unscheduled ones", deletedOn)
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Spec.NodeName != "small" || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s left on %q in phase %s", p.Name, p.Spec.NodeName, p.Status.Phase)
		}
	}
}

func equalRSStatus(a, b appsv1.ReplicaSetStatus) bool {
	return a.Replicas == b.Replicas && a.FullyLabeledReplicas == b.FullyLabeledReplicas && a.ReadyReplicas == b.ReadyReplicas &&
		a.AvailableReplicas == b.AvailableReplicas && a.ObservedGeneration == b.ObservedGeneration &&
		ptr.Equal(a.TerminatingReplicas, b.TerminatingReplicas)
}

// A ReplicationController is run as the ReplicaSet controller runs a ReplicaSet, as the real
// ReplicationManager does: 3 pods controlled by it (apiVersion v1), scaled to 5 at 30 s and to
// 2 at 60 s, and a pod deleted at 90 s replaced at that instant. Its status counts the pods
// as a ReplicaSet's does, without terminatingReplicas, which ReplicationControllers lack.
func TestReplicationController(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 13, Stages: stages.Default()})
	log := workloadstest.WatchPods(s)
	d := workloadstest.Deployment("legacy", 3) // only its template is used
	rc := &corev1.ReplicationController{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr.To[int32](3),
			Selector: map[string]string{"app": "legacy"},
			Template: &d.Spec.Template,
		},
	}
	workloadstest.Create(t, s, workloadstest.CPUNode("big", 8), rc)
	workloadstest.PatchAt(t, s, 30*time.Second, "ReplicationController", "default", "legacy", `{"spec":{"replicas":5}}`)
	workloadstest.PatchAt(t, s, 60*time.Second, "ReplicationController", "default", "legacy", `{"spec":{"replicas":2}}`)
	var victim string
	s.Clock().At(sim.Epoch.Add(90*time.Second), func() {
		podKind, _ := sim.KindNamed("Pod")
		victim = workloadstest.List[*corev1.Pod](t, s, "Pod")[0].Name
		if err := s.API().Delete(podKind, "default", victim, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)

	created := map[time.Duration]int{}
	terminating := map[time.Duration]int{}
	for _, e := range *log {
		switch e.What {
		case "created":
			created[e.At]++
		case "terminating":
			terminating[e.At]++
		}
	}
	wantCreated := map[time.Duration]int{0: 3, 30 * time.Second: 2, 90 * time.Second: 1}
	wantTerminating := map[time.Duration]int{60 * time.Second: 3, 90 * time.Second: 1}
	if !maps.Equal(created, wantCreated) || !maps.Equal(terminating, wantTerminating) {
		t.Errorf("pods created %v and deleted %v, want %v and %v", created, terminating, wantCreated, wantTerminating)
	}
	cur := workloadstest.MustGet[*corev1.ReplicationController](t, s, "ReplicationController", "legacy")
	pods := workloadstest.List[*corev1.Pod](t, s, "Pod")
	if len(pods) != 2 {
		t.Fatalf("%d pods left, want 2", len(pods))
	}
	for _, p := range pods {
		ref := metav1.GetControllerOf(p)
		if p.Name == victim || ref == nil || ref.APIVersion != "v1" || ref.Kind != "ReplicationController" || ref.UID != cur.UID || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s (phase %s) controlled by %+v, want a running pod of the ReplicationController, not %s", p.Name, p.Status.Phase, ref, victim)
		}
	}
	st := cur.Status
	if st.Replicas != 2 || st.FullyLabeledReplicas != 2 || st.ReadyReplicas != 2 || st.AvailableReplicas != 2 || st.ObservedGeneration != cur.Generation || cur.Generation != 3 {
		t.Errorf("status %+v (generation %d), want 2 replicas, all labeled, ready and available, generation 3 observed", st, cur.Generation)
	}
}

// A ReplicaSet whose pods the apiserver refuses (their PriorityClass does not exist yet) is
// failing, as a real cluster shows it: its ReplicaFailure condition True with reason
// FailedCreate and the apiserver's error (calculateStatus,
// pkg/controller/replicaset/replica_set_utils.go), carried by its Deployment. Once the class
// exists and a sync succeeds, the condition goes and the workload is no longer failing.
func TestReplicaFailureUntilTheSyncSucceeds(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 3})
	d := workloadstest.Deployment("web", 2)
	d.Spec.Template.Spec.PriorityClassName = "late"
	workloadstest.Create(t, s, workloadstest.CPUNode("n", 4), d)
	var before []analysis.WorkloadReport
	s.Clock().At(sim.Epoch.Add(10*time.Second), func() {
		o, err := s.Observe()
		if err != nil {
			t.Fatal(err)
		}
		before = analysis.Build(o).Workloads
		workloadstest.Create(t, s, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "late"}, Value: 10})
	})
	// The real controller would retry on its own, rate limited; here a scale makes it sync.
	workloadstest.PatchAt(t, s, 20*time.Second, "Deployment", "default", "web", `{"spec":{"replicas":3}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := `pods "web-`
	if len(before) != 1 || !before[0].Failing || len(analysis.FailingConditions(before[0])) != 1 ||
		!strings.HasPrefix(analysis.FailingConditions(before[0])[0], "ReplicaFailure (FailedCreate): "+want) ||
		!strings.HasSuffix(analysis.FailingConditions(before[0])[0], `-" is forbidden: no PriorityClass with name late was found`) {
		t.Fatalf("at 10s: %+v", before)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	after := analysis.Build(o)
	if len(o.SyncFailures) != 0 || after.Summary.Workloads != (analysis.WorkloadSummary{Total: 1, Failing: 0}) {
		t.Errorf("at the end: sync failures %+v, workloads %+v", o.SyncFailures, after.Workloads)
	}
	rs := workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet")
	if len(rs) != 1 || len(rs[0].Status.Conditions) != 0 || rs[0].Status.Replicas != 3 {
		t.Errorf("ReplicaSet status %+v, want 3 replicas and no condition", rs[0].Status)
	}
}
