package workloadstest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
)

// KWOKNode is a node labelled type=kwok with the given CPU, 8Gi of memory and 110 pods.
func KWOKNode(name string, cpu string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"type": "kwok"}},
		Status:     corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
}

// PodSpec is one container requesting cpu (none if empty), never restarted.
func PodSpec(cpu string) corev1.PodSpec {
	c := corev1.Container{Name: "app", Image: "app:1"}
	if cpu != "" {
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return corev1.PodSpec{Containers: []corev1.Container{c}, RestartPolicy: corev1.RestartPolicyNever}
}

// Create stores the objects, failing the test on the first error.
func Create(t testing.TB, s *sim.Simulator, objs ...runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := s.API().Create(o); err != nil {
			t.Fatal(err)
		}
	}
}

// CPUNode is a node with room for the given number of the tests' one-CPU pods.
func CPUNode(name string, pods int) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(pods), resource.DecimalSI),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status:     corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
}

// Deployment is a Deployment of one-CPU pods labelled app=name, rolling 25%/25%.
func Deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	quarter := intstr.FromString("25%")
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &quarter, MaxUnavailable: &quarter},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "app:1",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
				}}},
			},
		},
	}
}

// PatchAt applies a strategic merge patch to an object at virtual time at.
func PatchAt(t testing.TB, s *sim.Simulator, at time.Duration, kind, ns, name, patch string) {
	k, err := sim.KindNamed(kind)
	if err != nil {
		t.Fatal(err)
	}
	s.Clock().At(sim.Epoch.Add(at), func() {
		if _, err := s.API().Patch(k, ns, name, types.StrategicMergePatchType, []byte(patch), ""); err != nil {
			t.Errorf("patching %s %s at %v: %v", kind, name, at, err)
		}
	})
}

// Entry is one write of the run, with the virtual time it happened at.
type Entry struct {
	At    time.Duration
	Event sim.WatchEvent
}

// Record records every write from now on. Stored objects are never modified, so the
// entries can keep them.
func Record(s *sim.Simulator) *[]Entry {
	var h []Entry
	s.API().Watch(func(ev sim.WatchEvent) { h = append(h, Entry{s.Elapsed(), ev}) })
	return &h
}

// List returns every stored object of a kind, sorted by namespace and name.
func List[T any](t testing.TB, s *sim.Simulator, kind string) []T {
	t.Helper()
	k, _ := sim.KindNamed(kind)
	objs, err := s.API().List(k)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(T))
	}
	return out
}

// SlowStages make lifecycles take time, so that order shows in time: a pod annotated
// kwoksim.io/ready-after becomes Running and Ready that long after it is bound, and one
// annotated kwoksim.io/delete-after goes away that long after its deletion starts. Their
// weight beats KWOK's pod-ready and pod-delete.
const SlowStages = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-ready-after}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Pending]}
    - {key: '.metadata.annotations["kwoksim.io/ready-after"]', operator: Exists}
  weight: 1
  delay:
    durationMilliseconds: 0
    durationFrom: {expressionFrom: '.metadata.annotations["kwoksim.io/ready-after"]'}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-delete-after}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: Exists}
    - {key: '.metadata.annotations["kwoksim.io/delete-after"]', operator: Exists}
  weight: 1
  delay:
    durationMilliseconds: 0
    durationFrom: {expressionFrom: '.metadata.annotations["kwoksim.io/delete-after"]'}
  next:
    delete: true
`

// SlowSim is a simulator with the default stages and SlowStages, seed 5, controllers on.
func SlowSim(t testing.TB) *sim.Simulator {
	t.Helper()
	extra, err := stages.Parse([]byte(SlowStages), "slow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return Sim(t, sim.Config{Seed: 5, Stages: append(stages.Default(), extra...)})
}

// StatefulSet is a StatefulSet whose pods become ready 5 s after binding and take 3 s to go away.
func StatefulSet(name string, replicas int32, policy appsv1.PodManagementPolicyType) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	spec := PodSpec("100m")
	spec.RestartPolicy = corev1.RestartPolicyAlways
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name + "-headless",
			PodManagementPolicy: policy,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"kwoksim.io/ready-after": "5s", "kwoksim.io/delete-after": "3s"}},
				Spec: spec,
			},
		},
	}
}

// PodEvent is one step in a pod's life, at a virtual time, in the run's order.
type PodEvent struct {
	At   time.Duration
	What string // created, ready, terminating, gone
	Pod  string
	UID  types.UID
	Rev  string
}

// String is "pod what@at".
func (e PodEvent) String() string { return fmt.Sprintf("%s %s@%v", e.Pod, e.What, e.At) }

// WatchPods logs every pod's creation, readiness, termination and removal from now on.
func WatchPods(s *sim.Simulator) *[]PodEvent {
	var log []PodEvent
	s.API().Watch(func(ev sim.WatchEvent) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		add := func(what string) {
			log = append(log, PodEvent{s.Elapsed(), what, pod.Name, pod.UID, pod.Labels[appsv1.ControllerRevisionHashLabelKey]})
		}
		switch {
		case ev.Type == watch.Added:
			add("created")
		case ev.Type == watch.Deleted:
			add("gone")
		default:
			old := ev.Old.(*corev1.Pod)
			if old.DeletionTimestamp == nil && pod.DeletionTimestamp != nil {
				add("terminating")
			}
			if !podutil.IsPodReady(old) && podutil.IsPodReady(pod) {
				add("ready")
			}
		}
	})
	return &log
}

// NoWarnings fails the test for every warning event recorded about an object other than a pod.
func NoWarnings(t testing.TB, s *sim.Simulator) {
	t.Helper()
	for _, e := range s.Recorder().Events() {
		if e.Type == corev1.EventTypeWarning && e.Kind != "Pod" {
			t.Errorf("warning event: %+v", e)
		}
	}
}

// Job is a Job whose pods run for runFor (kwoksim.io/run-duration) on 100m of CPU.
func Job(name string, completions, parallelism *int32, runFor string) *batchv1.Job {
	spec := PodSpec("100m")
	spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.JobSpec{
			Completions: completions,
			Parallelism: parallelism,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"kwoksim.io/run-duration": runFor}},
				Spec:       spec,
			},
		},
	}
}

// Placement is a run's pods as "name node created" lines, sorted.
func Placement(t testing.TB, s *sim.Simulator) string {
	t.Helper()
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, rec := range obs.Pods {
		lines = append(lines, fmt.Sprintf("%s %s %v %v", rec.Pod.Name, rec.Pod.Spec.NodeName, rec.CreatedAt, rec.Pod.Status.Phase))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// DaemonSet is a DaemonSet of small pods that become ready 5 s after binding and take 3 s to go
// away (see SlowStages).
func DaemonSet(name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	spec := PodSpec("50m")
	spec.RestartPolicy = corev1.RestartPolicyAlways
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"kwoksim.io/ready-after": "5s", "kwoksim.io/delete-after": "3s"}},
				Spec: spec,
			},
		},
	}
}

// FirstDifference describes the first line where two texts differ.
func FirstDifference(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  %s\n  %s", i+1, la[i], lb[i])
		}
	}
	return "lengths differ"
}
