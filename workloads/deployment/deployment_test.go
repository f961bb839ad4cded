package deployment_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/input"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// newSim is a simulator with KWOK's default stages (pods Ready as soon as bound, deleted
// pods gone at once) and the workload controllers.
func newSim(t *testing.T, seed uint64, until time.Duration) *sim.Simulator {
	return newSimWith(t, seed, until, stages.Default())
}

func newSimWith(t *testing.T, seed uint64, until time.Duration, set []*stages.Stage) *sim.Simulator {
	t.Helper()
	return workloadstest.Sim(t, sim.Config{Seed: seed, Stages: set, Until: until})
}

// clusterState is the cluster as a replay of the history reached it.
type clusterState struct {
	pods map[types.UID]*corev1.Pod
	rss  map[types.UID]*appsv1.ReplicaSet
}

func (st *clusterState) apply(ev sim.WatchEvent) {
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		if ev.Type == watch.Deleted {
			delete(st.pods, o.UID)
		} else {
			st.pods[o.UID] = o
		}
	case *appsv1.ReplicaSet:
		if ev.Type == watch.Deleted {
			delete(st.rss, o.UID)
		} else {
			st.rss[o.UID] = o
		}
	}
}

// replay replays the history, calling perEvent after every write and perInstant once
// all writes of a virtual instant are in.
func replay(h []workloadstest.Entry, perEvent func(st *clusterState, e workloadstest.Entry), perInstant func(st *clusterState, at time.Duration)) {
	st := &clusterState{pods: map[types.UID]*corev1.Pod{}, rss: map[types.UID]*appsv1.ReplicaSet{}}
	for i, e := range h {
		st.apply(e.Event)
		if perEvent != nil {
			perEvent(st, e)
		}
		if perInstant != nil && (i == len(h)-1 || h[i+1].At != e.At) {
			perInstant(st, e.At)
		}
	}
}

// podCounts counts the pods of the state: active (not being deleted, not terminal),
// terminating, and available at t (Ready for minReadySeconds and not being deleted).
func podCounts(st *clusterState, minReady int32, at time.Duration) (active, terminating, available int) {
	now := metav1.NewTime(sim.Epoch.Add(at))
	for _, p := range st.pods {
		switch {
		case controller.IsPodActive(p):
			active++
			if podutil.IsPodAvailable(p, minReady, now) {
				available++
			}
		case controller.IsPodTerminating(p):
			terminating++
		}
	}
	return
}

func getDeployment(t *testing.T, s *sim.Simulator, name string) *appsv1.Deployment {
	t.Helper()
	return workloadstest.MustGet[*appsv1.Deployment](t, s, "Deployment", name)
}

func conditionOf(d *appsv1.Deployment, ct appsv1.DeploymentConditionType) string {
	c := deploymentutil.GetDeploymentCondition(d.Status, ct)
	if c == nil {
		return "<none>"
	}
	return string(c.Status) + "/" + c.Reason
}

// generalStages are KWOK's general node and pod stages: pods are created, then Ready,
// each 1–5 s after the previous step, and a deleted pod goes 1 s or more later (up to its
// deletionTimestamp).
func generalStages(t *testing.T) []*stages.Stage {
	t.Helper()
	set, err := input.LoadStages([]string{"../../testdata/kwok/stages/node/fast", "../../testdata/kwok/stages/pod/general"})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// rollout is the scenario of the issue: 5 nodes with room for 15 one-CPU pods, a
// Deployment of 10 (maxSurge 25% = 3, maxUnavailable 25% = 2, minReadySeconds 5 so that
// availability takes time and the rollout spans several instants), its image patched at t=60s.
func rollout(t *testing.T, seed uint64, set []*stages.Stage) (*sim.Simulator, []workloadstest.Entry) {
	s := newSimWith(t, seed, 0, set)
	h := workloadstest.Record(s)
	for i := range 5 {
		workloadstest.Create(t, s, workloadstest.CPUNode(fmt.Sprintf("node-%d", i), 3))
	}
	d := workloadstest.Deployment("web", 10)
	d.Spec.MinReadySeconds = 5
	workloadstest.Create(t, s, d)
	workloadstest.PatchAt(t, s, 60*time.Second, "Deployment", "default", "web",
		`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2"}]}}}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	return s, *h
}

// The "Done when": a Deployment of 10 (maxSurge 25%, maxUnavailable 25%) whose
// template is patched rolls out to 10 Running pods of the new template, and the recorded
// history shows the bounds held at every instant.
//
// What the real controller guarantees, and so what is asserted:
//   - it bounds what it writes: the sum of the ReplicaSets' .spec.replicas never exceeds
//     replicas+maxSurge = 13. That holds after every single write.
//   - it scales old ReplicaSets down only by as many replicas as the ReplicaSets' reported
//     available pods exceed replicas-maxUnavailable = 8, and the ReplicaSet controller deletes
//     the least available pods first. So once every controller has acted on a change (after
//     all writes of an instant), at least 8 pods are available: Ready for minReadySeconds and
//     not being deleted. Within an instant the ReplicaSet controller may not have caught up.
//   - each ReplicaSet keeps as many active pods as its .spec.replicas, so after all writes
//     of an instant at most 13 pods are active (not being deleted, not terminal).
//   - terminating pods are not counted by the controller (v1.37 has no podReplacementPolicy
//     in the Deployment controller): with a grace period they would add on top of the surge.
//     Here KWOK's pod-delete stage removes them at once, so none is left after an instant;
//     the test asserts that too, and reports how many overlapped within an instant.
//
// Availability only grows with time alone, and a bound on active pods only changes with a
// write, so checking at the instants of writes checks every instant.
//
// The scenario runs with KWOK's default stages, and again with its general stages, where pods
// take seconds to become Ready and terminating pods linger: the same bounds hold there, except
// that terminating pods do come on top of the surge.
func TestDeploymentRollingUpdateKeepsBounds(t *testing.T) {
	t.Run("default stages", func(t *testing.T) { checkRollout(t, stages.Default(), true) })
	t.Run("general stages", func(t *testing.T) { checkRollout(t, generalStages(t), false) })
}

// checkRollout runs the rollout scenario and checks its history; instantDeletion says
// terminating pods are gone by the end of each instant.
func checkRollout(t *testing.T, set []*stages.Stage, instantDeletion bool) {
	s, h := rollout(t, 1, set)
	const replicas, surge, unavailable, minReady = 10, 3, 2, 5

	d := getDeployment(t, s, "web")
	newHash := controller.ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	pods := workloadstest.List[*corev1.Pod](t, s, "Pod")
	running := 0
	for _, p := range pods {
		if h := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; h != newHash {
			t.Errorf("pod %s of template %s remains, want only %s", p.Name, h, newHash)
		}
		if p.Status.Phase == corev1.PodRunning && p.Spec.Containers[0].Image == "app:2" {
			running++
		}
	}
	if running != replicas || len(pods) != replicas {
		t.Errorf("%d pods, %d Running with app:2; want %d", len(pods), running, replicas)
	}
	st := d.Status
	if st.Replicas != replicas || st.UpdatedReplicas != replicas || st.ReadyReplicas != replicas || st.AvailableReplicas != replicas ||
		st.UnavailableReplicas != 0 || st.ObservedGeneration != d.Generation || d.Generation != 2 {
		t.Errorf("status %+v (generation %d)", st, d.Generation)
	}
	if got := conditionOf(d, appsv1.DeploymentAvailable); got != "True/MinimumReplicasAvailable" {
		t.Errorf("Available = %s", got)
	}
	if got := conditionOf(d, appsv1.DeploymentProgressing); got != "True/NewReplicaSetAvailable" {
		t.Errorf("Progressing = %s", got)
	}
	if d.Annotations[deploymentutil.RevisionAnnotation] != "2" {
		t.Errorf("revision %q, want 2", d.Annotations[deploymentutil.RevisionAnnotation])
	}
	rss := workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet")
	if len(rss) != 2 {
		t.Fatalf("%d ReplicaSets, want the old one kept at 0 and the new one", len(rss))
	}
	for _, rs := range rss {
		want := int32(0)
		if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == newHash {
			want = replicas
		}
		if *rs.Spec.Replicas != want || rs.Status.Replicas != want || rs.Status.AvailableReplicas != want {
			t.Errorf("ReplicaSet %s: spec %d status %+v, want %d", rs.Name, *rs.Spec.Replicas, rs.Status, want)
		}
	}

	var maxSpec, maxActive, maxExisting, maxExistingInInstant, minAvailable int32 = 0, 0, 0, 0, replicas
	var done time.Duration
	replay(h, func(st *clusterState, e workloadstest.Entry) {
		sum := int32(0)
		for _, rs := range st.rss {
			sum += *rs.Spec.Replicas
		}
		maxSpec = max(maxSpec, sum)
		if sum > replicas+surge {
			t.Errorf("t=%v after %s %s %s: ReplicaSets' replicas sum to %d > %d", e.At, e.Event.Type, e.Event.Kind.Name(), e.Event.Object.(metav1.Object).GetName(), sum, replicas+surge)
		}
		if e.At >= 60*time.Second {
			active, terminating, _ := podCounts(st, minReady, e.At)
			maxExistingInInstant = max(maxExistingInInstant, int32(active+terminating))
		}
	}, func(st *clusterState, at time.Duration) {
		if at < 60*time.Second {
			return
		}
		active, terminating, available := podCounts(st, minReady, at)
		maxActive, maxExisting = max(maxActive, int32(active)), max(maxExisting, int32(active+terminating))
		minAvailable = min(minAvailable, int32(available))
		if active > replicas+surge || available < replicas-unavailable {
			t.Errorf("t=%v: %d active, %d available; want ≤ %d, ≥ %d", at, active, available, replicas+surge, replicas-unavailable)
		}
		if instantDeletion && terminating > 0 {
			t.Errorf("t=%v: %d terminating pods left after the instant", at, terminating)
		}
		if available == replicas && active == replicas && terminating == 0 && done == 0 {
			for _, p := range st.pods {
				if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != newHash {
					return
				}
			}
			done = at
		}
	})
	rolloutWrites := 0
	for _, e := range h {
		if e.At >= 60*time.Second {
			rolloutWrites++
		}
	}
	t.Logf("rollout from t=60s to t=%v: %d writes (%d in all, %d clock events); at most %d replicas in ReplicaSet specs, %d active pods and %d existing after an instant (%d within one), at least %d available",
		done, rolloutWrites, len(h), s.Clock().Processed(), maxSpec, maxActive, maxExisting, maxExistingInInstant, minAvailable)
	if maxSpec != replicas+surge || minAvailable != replicas-unavailable {
		t.Errorf("the rollout never used its budget: max spec sum %d, min available %d", maxSpec, minAvailable)
	}
	if done == 0 {
		t.Error("the rollout never completed")
	}
}

// Two runs of the same scenario and seed give the same history, write for write.
func TestDeploymentRolloutIsDeterministic(t *testing.T) {
	digest := func(seed uint64) []string {
		s, h := rollout(t, seed, stages.Default())
		out := make([]string, 0, len(h)+len(s.Recorder().Events()))
		for _, e := range h {
			m := e.Event.Object.(metav1.Object)
			line := fmt.Sprintf("%v %s %s %s rv=%s", e.At, e.Event.Type, e.Event.Kind.Name(), m.GetName(), m.GetResourceVersion())
			switch o := e.Event.Object.(type) {
			case *corev1.Pod:
				line += fmt.Sprintf(" node=%s phase=%s ready=%v deleting=%v", o.Spec.NodeName, o.Status.Phase, podutil.IsPodReady(o), o.DeletionTimestamp != nil)
			case *appsv1.ReplicaSet:
				line += fmt.Sprintf(" spec=%d status=%d/%d/%d", *o.Spec.Replicas, o.Status.Replicas, o.Status.ReadyReplicas, o.Status.AvailableReplicas)
			}
			out = append(out, line)
		}
		for _, ev := range s.Recorder().Events() {
			out = append(out, fmt.Sprintf("%v %s %s %s", ev.At, ev.Name, ev.Reason, ev.Message))
		}
		return out
	}
	a, b := digest(5), digest(5)
	if len(a) != len(b) {
		t.Fatalf("%d and %d history lines", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("line %d differs:\n  %s\n  %s", i, a[i], b[i])
		}
	}
	if c := digest(6); strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("seeds 5 and 6 gave the same history; the seed should at least name pods differently")
	}
}

// A Recreate rollout scales the old ReplicaSet to 0 and creates no pod of the new template
// while any old pod that is not terminal (terminating included) exists.
func TestDeploymentRecreate(t *testing.T) {
	s := newSim(t, 2, 0)
	h := workloadstest.Record(s)
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 4), workloadstest.CPUNode("n2", 4))
	d := workloadstest.Deployment("db", 4)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	workloadstest.Create(t, s, d)
	workloadstest.PatchAt(t, s, 30*time.Second, "Deployment", "default", "db",
		`{"spec":{"template":{"metadata":{"labels":{"version":"2"}}}}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	newHash := func(p *corev1.Pod) bool { return p.Labels["version"] == "2" }
	sawNew := false
	replay(*h, func(st *clusterState, e workloadstest.Entry) {
		old, fresh := 0, 0
		for _, p := range st.pods {
			switch {
			case newHash(p):
				fresh++
			case !podutil.IsPodTerminal(p):
				old++
			}
		}
		if fresh > 0 && old > 0 {
			t.Errorf("t=%v: %d new pods exist while %d old ones may run", e.At, fresh, old)
		}
		sawNew = sawNew || fresh > 0
	}, nil)
	pods := workloadstest.List[*corev1.Pod](t, s, "Pod")
	if !sawNew || len(pods) != 4 {
		t.Fatalf("%d pods at the end, want the 4 new ones", len(pods))
	}
	for _, p := range pods {
		if !newHash(p) || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: labels %v phase %s", p.Name, p.Labels, p.Status.Phase)
		}
	}
	if got := conditionOf(getDeployment(t, s, "db"), appsv1.DeploymentProgressing); got != "True/NewReplicaSetAvailable" {
		t.Errorf("Progressing = %s", got)
	}
}

// Scaling a Deployment in the middle of a rollout shares the change between its ReplicaSets
// in proportion to their sizes (sync.go scale()). The new template cannot be scheduled, so the
// rollout stops with the old ReplicaSet at 8 and the new one at 5 (13 = 10 + maxSurge 3).
// Scaled to 20, the ReplicaSets may hold 25 (20 + 25%): each grows by round(size·25/13) - size,
// old 8 → 15 and new 5 → 10, with no leftover. The stuck rollout then times out: with the run
// going on, Progressing turns False a second after progressDeadlineSeconds without progress.
func TestDeploymentProportionalScalingDuringRollout(t *testing.T) {
	s := newSim(t, 3, 10*time.Minute)
	for i := range 4 {
		workloadstest.Create(t, s, workloadstest.CPUNode(fmt.Sprintf("n%d", i), 5))
	}
	d := workloadstest.Deployment("api", 10)
	d.Spec.ProgressDeadlineSeconds = ptr.To(int32(120))
	workloadstest.Create(t, s, d)
	workloadstest.PatchAt(t, s, 30*time.Second, "Deployment", "default", "api",
		`{"spec":{"template":{"spec":{"nodeSelector":{"pool":"missing"}}}}}`)
	sizes := func() map[string]int32 {
		out := map[string]int32{}
		for _, rs := range workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet") {
			key := "old"
			if rs.Spec.Template.Spec.NodeSelector != nil {
				key = "new"
			}
			out[key] = *rs.Spec.Replicas
		}
		return out
	}
	var before map[string]int32
	var beforeCond string
	s.Clock().At(sim.Epoch.Add(59*time.Second), func() {
		before = sizes()
		beforeCond = conditionOf(getDeployment(t, s, "api"), appsv1.DeploymentProgressing)
	})
	workloadstest.PatchAt(t, s, 60*time.Second, "Deployment", "default", "api", `{"spec":{"replicas":20}}`)
	var after map[string]int32
	s.Clock().At(sim.Epoch.Add(61*time.Second), func() { after = sizes() })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if before["old"] != 8 || before["new"] != 5 || beforeCond != "True/ReplicaSetUpdated" {
		t.Errorf("stuck rollout: ReplicaSets %v, Progressing %s; want old 8, new 5, True/ReplicaSetUpdated", before, beforeCond)
	}
	if after["old"] != 15 || after["new"] != 10 {
		t.Errorf("after scaling to 20: %v, want old 15, new 10", after)
	}
	var scaled []string
	for _, e := range s.Recorder().Events() {
		if e.Reason == "ScalingReplicaSet" && e.At == 60*time.Second {
			scaled = append(scaled, strings.Split(e.Message, " replica set ")[0])
		}
	}
	if strings.Join(scaled, ",") != "Scaled up,Scaled up" {
		t.Errorf("ScalingReplicaSet events at 60s: %v", scaled)
	}
	dep := getDeployment(t, s, "api")
	cond := deploymentutil.GetDeploymentCondition(dep.Status, appsv1.DeploymentProgressing)
	if cond == nil || cond.Reason != deploymentutil.TimedOutReason || cond.Status != corev1.ConditionFalse {
		t.Fatalf("Progressing = %+v, want False/ProgressDeadlineExceeded", cond)
	}
	// The last progress was the old ReplicaSet's new pods becoming available at t=60s.
	if got := cond.LastUpdateTime.Sub(sim.Epoch); got != 181*time.Second {
		t.Errorf("timed out at %v, want 181s (60s + 120s + 1s)", got)
	}
	// The pending pods of the new template are active, so they count in replicas.
	if dep.Status.Replicas != 25 || dep.Status.UpdatedReplicas != 10 || dep.Status.AvailableReplicas != 15 || dep.Status.UnavailableReplicas != 10 {
		t.Errorf("status %+v", dep.Status)
	}
	if got := conditionOf(dep, appsv1.DeploymentAvailable); got != "True/MinimumReplicasAvailable" {
		t.Errorf("Available = %s", got)
	}
}

// A paused Deployment scales but does not roll out; resumed, it rolls out. Old ReplicaSets
// beyond revisionHistoryLimit are deleted once they have no pods.
func TestDeploymentPauseAndRevisionHistory(t *testing.T) {
	s := newSim(t, 4, 0)
	workloadstest.Create(t, s, workloadstest.CPUNode("n1", 8), workloadstest.CPUNode("n2", 8))
	d := workloadstest.Deployment("svc", 2)
	d.Spec.RevisionHistoryLimit = ptr.To(int32(1))
	workloadstest.Create(t, s, d)
	for i, img := range []string{"app:2", "app:3"} {
		workloadstest.PatchAt(t, s, time.Duration(10+10*i)*time.Second, "Deployment", "default", "svc",
			`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"`+img+`"}]}}}}`)
	}
	workloadstest.PatchAt(t, s, 30*time.Second, "Deployment", "default", "svc", `{"spec":{"paused":true}}`)
	workloadstest.PatchAt(t, s, 40*time.Second, "Deployment", "default", "svc",
		`{"spec":{"replicas":4,"template":{"spec":{"containers":[{"name":"app","image":"app:4"}]}}}}`)
	var paused []string
	var pausedCond string
	s.Clock().At(sim.Epoch.Add(50*time.Second), func() {
		for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
			paused = append(paused, p.Spec.Containers[0].Image)
		}
		pausedCond = conditionOf(getDeployment(t, s, "svc"), appsv1.DeploymentProgressing)
	})
	workloadstest.PatchAt(t, s, 60*time.Second, "Deployment", "default", "svc", `{"spec":{"paused":false}}`)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(paused, ",") != "app:3,app:3,app:3,app:3" || pausedCond != "Unknown/DeploymentPaused" {
		t.Errorf("while paused: pods %v, Progressing %s; want 4 of app:3, Unknown/DeploymentPaused", paused, pausedCond)
	}
	var images []string
	for _, rs := range workloadstest.List[*appsv1.ReplicaSet](t, s, "ReplicaSet") {
		images = append(images, fmt.Sprintf("%s=%d", rs.Spec.Template.Spec.Containers[0].Image, *rs.Spec.Replicas))
	}
	// Revisions 1 (app:1) and 2 (app:2) went; 3 (app:3) is the one old ReplicaSet kept.
	if strings.Join(images, ",") != "app:3=0,app:4=4" && strings.Join(images, ",") != "app:4=4,app:3=0" {
		t.Errorf("ReplicaSets %v, want app:3 kept at 0 and app:4 at 4", images)
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Spec.Containers[0].Image != "app:4" || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: %s %s", p.Name, p.Spec.Containers[0].Image, p.Status.Phase)
		}
	}
	if got := conditionOf(getDeployment(t, s, "svc"), appsv1.DeploymentProgressing); got != "True/NewReplicaSetAvailable" {
		t.Errorf("Progressing = %s", got)
	}
}
