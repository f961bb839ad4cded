package workloads_test

import (
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/workloads/workloadstest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// Scenario tests of KWOK's own stage files (testdata/kwok/stages, copied unchanged) running
// in the simulator.

const kwokStages = "../testdata/kwok/stages/"

func stageSim(t *testing.T, until time.Duration, dirs ...string) *sim.Simulator {
	t.Helper()
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = kwokStages + d
	}
	set, err := input.LoadStages(paths)
	if err != nil {
		t.Fatal(err)
	}
	return workloadstest.Sim(t, sim.Config{Seed: 7, Stages: set, Until: until})
}

// defaultPlusStages is a simulator with the default stages and the stages in doc.
func defaultPlusStages(t *testing.T, doc string) *sim.Simulator {
	t.Helper()
	set, err := stages.Parse([]byte(doc), "inline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return workloadstest.Sim(t, sim.Config{Seed: 1, Stages: append(stages.Default(), set...)})
}

// kwokDeployment is a Deployment of long-running pods labelled app=name.
func kwokDeployment(name string, replicas int32, cpu string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	spec := workloadstest.PodSpec(cpu)
	spec.RestartPolicy = corev1.RestartPolicyAlways
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

// With KWOK's general pod stages every pod of a Deployment walks pod-create, then pod-ready,
// each after a delay inside the stage's range (1s plus up to 4s of jitter: KWOK draws the
// delay from [durationMilliseconds, jitterDurationMilliseconds]).
func TestGeneralStagesWalkDeploymentPodsToReady(t *testing.T) {
	s := stageSim(t, 0, "node/fast", "pod/general")
	replicas := int32(8)
	d := kwokDeployment("web", replicas, "100m")
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), d)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	type walk struct {
		stages []string
		at     []time.Duration
	}
	walks := map[string]*walk{}
	for _, tr := range s.Transitions() {
		if tr.Kind != "Pod" {
			continue
		}
		w := walks[tr.Name]
		if w == nil {
			w = &walk{}
			walks[tr.Name] = w
		}
		w.stages = append(w.stages, tr.Stage)
		w.at = append(w.at, tr.At)
		if tr.Delay < time.Second || tr.Delay > 5*time.Second {
			t.Errorf("%s: %s after %v, outside KWOK's range [1s, 5s]", tr.Name, tr.Stage, tr.Delay)
		}
	}
	if len(walks) != int(replicas) {
		t.Fatalf("%d pods had transitions, want %d", len(walks), replicas)
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range obs.Pods {
		w := walks[rec.Pod.Name]
		if w == nil || len(w.stages) != 2 || w.stages[0] != "pod-create" || w.stages[1] != "pod-ready" {
			t.Errorf("%s walked %v, want [pod-create pod-ready]", rec.Pod.Name, w)
			continue
		}
		if rec.Pod.Status.Phase != corev1.PodRunning || rec.RunningAt == nil || *rec.RunningAt != w.at[1] {
			t.Errorf("%s: phase %s, running at %v; want Running at %v (pod-ready)", rec.Pod.Name, rec.Pod.Status.Phase, rec.RunningAt, w.at[1])
		}
	}
}

func barePod(name, cpu string, owner *metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       workloadstest.PodSpec(cpu),
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func podRecord(t *testing.T, s *sim.Simulator, name string) analysis.PodRecord {
	t.Helper()
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range obs.Pods {
		if rec.Pod.Name == name {
			return rec
		}
	}
	t.Fatalf("no pod %s", name)
	return analysis.PodRecord{}
}

func lastTransition(s *sim.Simulator, name, stage string) (sim.Transition, bool) {
	var found sim.Transition
	ok := false
	for _, tr := range s.Transitions() {
		if tr.Name == name && tr.Stage == stage {
			found, ok = tr, true
		}
	}
	return found, ok
}

// A pod owned by a Job completes (KWOK's pod-complete stage) and frees its CPU, so a pod the
// scheduler could not place is then scheduled on the node.
func TestJobPodCompletesAndFreesCapacity(t *testing.T) {
	s := stageSim(t, 0, "node/fast", "pod/general")
	isController := true
	job := &metav1.OwnerReference{APIVersion: "batch/v1", Kind: "Job", Name: "batch", UID: types.UID("job-uid"), Controller: &isController}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "1"), barePod("worker", "1", job))
	s.Clock().AfterDelay(500*time.Millisecond, func() {
		if _, err := s.API().Create(barePod("waiting", "1", nil)); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	worker, waiting := podRecord(t, s, "worker"), podRecord(t, s, "waiting")
	if worker.Pod.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("worker phase %s, want Succeeded", worker.Pod.Status.Phase)
	}
	done, ok := lastTransition(s, "worker", "pod-complete")
	if !ok {
		t.Fatal("pod-complete never ran on the Job's pod")
	}
	if waiting.Attempts < 2 || waiting.ScheduledAt == nil || *waiting.ScheduledAt != done.At {
		t.Errorf("waiting pod: %d attempts, scheduled at %v; want it rejected first, then scheduled when the worker completed at %v",
			waiting.Attempts, waiting.ScheduledAt, done.At)
	}
	if waiting.Pod.Spec.NodeName != "n1" || waiting.Pod.Status.Phase != corev1.PodRunning {
		t.Errorf("waiting pod on %q in phase %s, want Running on n1", waiting.Pod.Spec.NodeName, waiting.Pod.Status.Phase)
	}
}

// Deleting a pod that carries a finalizer only marks it. KWOK's general pod-delete stage
// waits until the finalizer is gone, which a stage of the project's testdata removes ten
// seconds after the deletion, as the controller owning the finalizer would.
func TestDeletingPodWithFinalizerWaitsForStage(t *testing.T) {
	s := stageSim(t, 0, "node/fast", "pod/general", "../../stages/release-finalizers.yaml")
	p := barePod("guarded", "", nil)
	p.Finalizers = []string{"example.com/keep"}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "1"), p)
	podKind, _ := sim.KindNamed("Pod")
	const deleteAt = 60 * time.Second
	s.Clock().AfterDelay(deleteAt, func() {
		if err := s.API().Delete(podKind, "default", "guarded", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
		obj, err := s.API().Get(podKind, "default", "guarded")
		if err != nil {
			t.Errorf("right after delete: %v; want the pod kept by its finalizer", err)
			return
		}
		if obj.(*corev1.Pod).DeletionTimestamp == nil {
			t.Error("right after delete: no deletionTimestamp")
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.API().Get(podKind, "default", "guarded"); !apierrors.IsNotFound(err) {
		t.Fatalf("after the run: %v; want the pod gone", err)
	}
	released, ok := lastTransition(s, "guarded", "pod-release-finalizer")
	if !ok || released.At != deleteAt+10*time.Second {
		t.Fatalf("finalizer released: %v at %v; want at %v", ok, released.At, deleteAt+10*time.Second)
	}
	deleted, ok := lastTransition(s, "guarded", "pod-delete")
	// pod-delete waits 1s up to the deletionTimestamp (deletion + the 30s grace period).
	if !ok || deleted.At < released.At+time.Second || deleted.At > deleteAt+30*time.Second {
		t.Errorf("pod-delete ran: %v at %v; want between %v and %v", ok, deleted.At, released.At+time.Second, deleteAt+30*time.Second)
	}
	if rec := podRecord(t, s, "guarded"); rec.DeletedAt == nil || *rec.DeletedAt != deleted.At {
		t.Errorf("the pod's record says deleted at %v, want %v", rec.DeletedAt, deleted.At)
	}
	// The stage's event is kept, at the time the stage ran.
	var events []string
	for _, e := range s.Recorder().Events() {
		if e.Name == "guarded" && e.Reason == "FinalizerReleased" && e.At == released.At {
			events = append(events, e.Message)
		}
	}
	if len(events) != 1 || events[0] != "example.com/keep removed" {
		t.Errorf("FinalizerReleased events at %v: %q, want one", released.At, events)
	}
}

// Stages apply to any kind the simulation stores, not only Pods and Nodes: a Deployment stage
// (JSON merge patch, the default for kinds KWOK handles as unstructured objects) annotates
// every Deployment of two or more replicas, 30 virtual seconds after it appears.
func TestStageOnDeployment(t *testing.T) {
	s := defaultPlusStages(t, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: deployment-reviewed}
spec:
  resourceRef: {apiGroup: apps/v1, kind: Deployment}
  selector:
    matchExpressions:
    - {key: '.metadata.annotations.reviewed', operator: DoesNotExist}
    - cel: {expression: 'self.spec.replicas >= 2'}
  delay: {durationMilliseconds: 30000}
  next:
    patches:
    - template: '{"metadata": {"annotations": {"reviewed": "{{ Now }}"}}}'
`)
	d := kwokDeployment("api", 2, "")
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "1"), d)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	kind, _ := sim.KindNamed("Deployment")
	obj, err := s.API().Get(kind, "default", "api")
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*appsv1.Deployment).Annotations["reviewed"]; got != "2026-01-01T00:00:30Z" {
		t.Errorf("reviewed annotation = %q, want the virtual time 30s into the run", got)
	}
}

// KWOK's chaos labels, set on a running node and a running pod, make the node NotReady and
// the pod Failed.
func TestChaosLabels(t *testing.T) {
	s := stageSim(t, 10*time.Minute, "node/fast", "node/chaos", "pod/general", "pod/chaos")
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "2"), workloadstest.KWOKNode("n2", "2"), barePod("victim", "", nil), barePod("bystander", "", nil))
	nodeKind, _ := sim.KindNamed("Node")
	podKind, _ := sim.KindNamed("Pod")
	label := func(k *sim.Kind, ns, name, l string) {
		patch := []byte(`{"metadata":{"labels":{"` + l + `":"true"}}}`)
		if _, err := s.API().Patch(k, ns, name, types.StrategicMergePatchType, patch, ""); err != nil {
			t.Error(err)
		}
	}
	s.Clock().AfterDelay(time.Minute, func() {
		label(nodeKind, "", "n2", "node-not-ready.stage.kwok.x-k8s.io")
		label(podKind, "default", "victim", "pod-container-running-failed.stage.kwok.x-k8s.io")
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ready := map[string]corev1.ConditionStatus{}
	for _, name := range []string{"n1", "n2"} {
		obj, err := s.API().Get(nodeKind, "", name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range obj.(*corev1.Node).Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready[name] = c.Status
			}
		}
	}
	if ready["n1"] != corev1.ConditionTrue || ready["n2"] == corev1.ConditionTrue {
		t.Errorf("node Ready conditions %v; want n1 True and n2 not True", ready)
	}
	if p := podRecord(t, s, "victim").Pod; p.Status.Phase != corev1.PodFailed {
		t.Errorf("victim phase %s, want Failed", p.Status.Phase)
	}
	if p := podRecord(t, s, "bystander").Pod; p.Status.Phase != corev1.PodRunning {
		t.Errorf("bystander phase %s, want Running", p.Status.Phase)
	}
}

// An apply step creates the object it renders, in the namespace of the object the stage runs
// on when the template names none; a second apply of an existing object patches it.
func TestApplyStep(t *testing.T) {
	s := defaultPlusStages(t, `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-sidecar-config}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.labels.role', operator: In, values: [app]}
    - {key: '.metadata.annotations.applied', operator: DoesNotExist}
  delay: {durationMilliseconds: 5000}
  steps:
  - apply:
      template: |
        apiVersion: v1
        kind: Pod
        metadata:
          name: helper
          labels: {role: helper, for: {{ .metadata.name }}}
        spec:
          nodeName: {{ .spec.nodeName }}
          containers: [{name: helper, image: busybox}]
  - patch:
      type: merge
      template: '{"metadata": {"annotations": {"applied": "yes"}}}'
`)
	first, second := barePod("first", "", nil), barePod("second", "", nil)
	first.Labels = map[string]string{"role": "app"}
	second.Labels = map[string]string{"role": "app"}
	first.Namespace, second.Namespace = "team", "team"
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "1"), first)
	s.Clock().AfterDelay(time.Minute, func() { workloadstest.Create(t, s, second) })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	podKind, _ := sim.KindNamed("Pod")
	obj, err := s.API().Get(podKind, "team", "helper")
	if err != nil {
		t.Fatalf("the applied pod: %v", err)
	}
	helper := obj.(*corev1.Pod)
	if helper.Labels["for"] != "second" || helper.Spec.NodeName != "n1" || helper.Status.Phase != corev1.PodRunning {
		t.Errorf("helper: labels %v, node %q, phase %s; want it applied for first, patched for second, running on n1",
			helper.Labels, helper.Spec.NodeName, helper.Status.Phase)
	}
	for _, e := range s.Recorder().Events() {
		if e.Reason == "StageFailed" {
			t.Errorf("stage failed: %s", e.Message)
		}
	}
}
