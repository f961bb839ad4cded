package workloads_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// snapshotPath is a kubectl dump of a KWOK cluster at rest: 3 nodes, the DaemonSet agent with
// a pod on each, the Deployment web with its ReplicaSet and 2 pods, listed before the
// ReplicaSet.
const snapshotPath = "../testdata/snapshot/cluster.yaml"

func loadSnapshot(t *testing.T, path string) []manifest.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.LoadBytes(path, data, manifest.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// writeLog records every write after the snapshot is loaded, as "TYPE Kind ns/name".
type writeLog []string

func (l *writeLog) watch(ev sim.WatchEvent) {
	m := ev.Object.(metav1.Object)
	*l = append(*l, fmt.Sprintf("%s %s %s/%s", ev.Type, ev.Kind.Name(), m.GetNamespace(), m.GetName()))
}

func (l writeLog) count(typ watch.EventType, kind string) int {
	n := 0
	prefix := fmt.Sprintf("%s %s ", typ, kind)
	for _, w := range l {
		if len(w) > len(prefix) && w[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// restoreAndRun loads stored objects with the controllers and default stages running, then
// creates fresh ones on top, runs to the end and returns the simulator and the writes made
// after the restore.
func restoreAndRun(t *testing.T, stored []manifest.Object, fresh ...runtime.Object) (*sim.Simulator, writeLog) {
	t.Helper()
	s, err := sim.New(context.Background(), sim.Config{Seed: 1, Stages: stages.Default()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	workloads.Install(s)
	objs := make([]runtime.Object, 0, len(stored))
	for _, o := range stored {
		if !sim.IsStored(o.Obj) {
			t.Fatalf("%s has no uid: not stored state", o.Source)
		}
		objs = append(objs, o.Obj)
	}
	if err := s.API().Restore(objs); err != nil {
		t.Fatalf("restore: %v", err)
	}
	var log writeLog
	s.API().Watch(log.watch)
	for _, o := range fresh {
		if _, err := s.API().Create(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	return s, log
}

// placements maps each live pod to its node and phase.
func placements(t *testing.T, s *sim.Simulator) map[string]string {
	t.Helper()
	podKind, _ := sim.KindNamed("Pod")
	pods, err := s.API().List(podKind)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range pods {
		p := o.(*corev1.Pod)
		out[p.Namespace+"/"+p.Name] = p.Spec.NodeName + " " + string(p.Status.Phase) + " " + string(p.UID)
	}
	return out
}

// A cluster at rest loads as it is: the controllers find every pod they own (the DaemonSet's
// by controller-revision-hash, the ReplicaSet's by ownerReferences, the ReplicaSet by the
// Deployment's template) and write nothing, the garbage collector keeps the pods listed
// before their ReplicaSet, and the stages do not run again what the pods and nodes passed.
func TestSnapshotAtRestWritesNothing(t *testing.T) {
	stored := loadSnapshot(t, snapshotPath)
	s, log := restoreAndRun(t, stored)
	if len(log) != 0 {
		t.Errorf("a cluster at rest was written to %d times, want 0:\n%v", len(log), log)
	}
	got := placements(t, s)
	want := map[string]string{}
	for _, o := range stored {
		if p, ok := o.Obj.(*corev1.Pod); ok {
			want[p.Namespace+"/"+p.Name] = p.Spec.NodeName + " Running " + string(p.UID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pods after the run:\n%v\nwant the snapshot's, unchanged:\n%v", got, want)
	}
	// Kept as stored: the ReplicaSet's generation and status, the pods' revision labels.
	rsKind, _ := sim.KindNamed("ReplicaSet")
	obj, err := s.API().Get(rsKind, "default", "web-bfdd7c745")
	if err != nil {
		t.Fatal(err)
	}
	rs := obj.(*appsv1.ReplicaSet)
	if rs.UID != "00000000-0000-4000-8000-00000000101f" || rs.Status.ReadyReplicas != 2 || rs.Status.ObservedGeneration != 1 || rs.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("ReplicaSet web-bfdd7c745 uid %s status %+v annotations %v; want the snapshot's", rs.UID, rs.Status, rs.Annotations)
	}
	if rs.ResourceVersion == "9031" || rs.ManagedFields != nil {
		t.Errorf("resourceVersion %q managedFields %v: the dump's should be dropped", rs.ResourceVersion, rs.ManagedFields)
	}
	// Times keep their distances and end at the start of the run: the nodes' last heartbeat
	// (10:14:32 in the dump, the latest time in it) is sim.Epoch; the Deployment was created
	// 1h09m32s before it.
	dKind, _ := sim.KindNamed("Deployment")
	obj, err = s.API().Get(dKind, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	created := sim.Epoch.Add(-(69*time.Minute + 32*time.Second))
	if d := obj.(*appsv1.Deployment); !d.CreationTimestamp.Time.Equal(created) {
		t.Errorf("Deployment created at %v, want %v", d.CreationTimestamp, created)
	}
}

// A Deployment applied on top of a snapshot places only its own pods; what was there stays.
func TestSnapshotPlusDeploymentPlacesOnlyItsPods(t *testing.T) {
	stored := loadSnapshot(t, snapshotPath)
	extra := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "extra", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](4),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "extra"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "extra"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "extra",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
			},
		},
	}
	s, log := restoreAndRun(t, stored, extra)
	if n := log.count(watch.Added, "Pod"); n != 4 {
		t.Errorf("%d pods created, want the new Deployment's 4", n)
	}
	if n := log.count(watch.Deleted, "Pod"); n != 0 {
		t.Errorf("%d pods deleted, want 0", n)
	}
	got := placements(t, s)
	for _, o := range stored {
		if p, ok := o.Obj.(*corev1.Pod); ok {
			if w := p.Spec.NodeName + " Running " + string(p.UID); got[p.Namespace+"/"+p.Name] != w {
				t.Errorf("restored pod %s: %q, want %q", p.Name, got[p.Namespace+"/"+p.Name], w)
			}
		}
	}
	for _, w := range []string{"MODIFIED Deployment default/web", "MODIFIED ReplicaSet default/web-bfdd7c745", "MODIFIED DaemonSet default/agent"} {
		if slices.Contains(log, w) {
			t.Errorf("a restored object was written: %s", w)
		}
	}
	running := 0
	for name, v := range got {
		if len(name) > len("default/extra-") && name[:len("default/extra-")] == "default/extra-" && bytes.Contains([]byte(v), []byte(" Running ")) {
			running++
		}
	}
	if running != 4 {
		t.Errorf("%d of the new Deployment's pods Running, want 4: %v", running, got)
	}
}
