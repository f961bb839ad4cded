package workloads_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
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

// newDeployment is a fresh Deployment (a request, no uid) of n pods of 1 CPU.
func newDeployment(name string, n int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(n),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: name,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
			},
		},
	}
}

// run → WriteState → run: the second run loads the first's final state, places every pod
// where the first did, and no controller or stage writes anything.
func TestSnapshotStateRoundTrip(t *testing.T) {
	sc := workloads.Scenario{Workloads: loadSnapshot(t, snapshotPath)}
	sc.Workloads = append(sc.Workloads, manifest.Object{Obj: newDeployment("extra", 4)})
	var state bytes.Buffer
	sc.WriteState = func(objs []runtime.Object) error { return sim.WriteState(&state, objs) }
	first, err := workloads.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	stored := loadSnapshot(t, writeTemp(t, state.Bytes()))
	s, log := restoreAndRun(t, stored)
	if len(log) != 0 {
		t.Errorf("the run from the state written %d times, want 0:\n%v", len(log), log)
	}
	want := map[string]string{}
	for _, p := range first.Pods {
		if p.DeletedAt == nil {
			want[p.Namespace+"/"+p.Name] = p.Node + " " + p.Phase
		}
	}
	got := map[string]string{}
	for name, v := range placements(t, s) {
		got[name] = v[:len(v)-len(" 00000000-0000-4000-8000-000000000000")]
	}
	if len(want) != 9 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("placements from the state:\n%v\nwant the first run's 9:\n%v", got, want)
	}
	// The state of the second run is the first's: the same objects, UIDs and contents, but
	// for resourceVersions and times, which a restore re-assigns and shifts.
	var again bytes.Buffer
	state2, err := s.API().State()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WriteState(&again, state2); err != nil {
		t.Fatal(err)
	}
	if a, b := normalizeState(state.String()), normalizeState(again.String()); a != b {
		t.Errorf("the state changed across a round trip:\n%s", lineDiffs(a, b))
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := t.TempDir() + "/state.yaml"
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var volatile = regexp.MustCompile(`(resourceVersion: "\d*"|"?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"?)`)

func normalizeState(s string) string { return volatile.ReplaceAllString(s, "…") }

func lineDiffs(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)) && len(out) < 20; i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, fmt.Sprintf("line %d: %q != %q", i+1, x, y))
		}
	}
	return strings.Join(out, "\n")
}

// The report counts restored pods as bound and Running from the start, on their nodes, and
// leaves them out of the latencies: only the pods the run created have one.
func TestSnapshotReport(t *testing.T) {
	sc := workloads.Scenario{Workloads: loadSnapshot(t, snapshotPath)}
	sc.Workloads = append(sc.Workloads, manifest.Object{Obj: newDeployment("extra", 2)})
	r, err := workloads.Run(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Summary.Pods; s.Total != 7 || s.Scheduled != 7 || s.Running != 7 || s.Deleted != 0 {
		t.Errorf("summary.pods = %+v, want 7 scheduled and Running", s)
	}
	if r.Latency.Startup.Count != 2 || r.Latency.Scheduling.Count != 2 {
		t.Errorf("latency counts scheduling %d startup %d, want the 2 new pods only", r.Latency.Scheduling.Count, r.Latency.Startup.Count)
	}
	restored := 0
	for _, p := range r.Pods {
		fresh := strings.HasPrefix(p.Name, "extra-")
		if p.Restored == fresh {
			t.Errorf("pod %s restored = %v", p.Name, p.Restored)
		}
		if p.Restored {
			restored++
			if p.CreatedAt != nil || p.ScheduledAt == nil || *p.ScheduledAt != 0 || p.RunningAt == nil || *p.RunningAt != 0 || p.Attempts != 0 {
				t.Errorf("restored pod %s: createdAt %v scheduledAt %v runningAt %v attempts %d; want none, 0, 0, 0",
					p.Name, p.CreatedAt, p.ScheduledAt, p.RunningAt, p.Attempts)
			}
		}
	}
	if restored != 5 {
		t.Errorf("%d restored pods, want 5", restored)
	}
	for _, n := range r.Nodes {
		// Each node has its agent pod; web's 2 are on nodes 0 and 1 (500m each).
		want := map[string]int{"kwok-node-0": 2, "kwok-node-1": 2, "kwok-node-2": 1}[n.Name]
		if n.Pods < want {
			t.Errorf("node %s holds %d pods, want at least the snapshot's %d", n.Name, n.Pods, want)
		}
	}
	if ts := r.Timeseries; len(ts.T) == 0 || ts.T[0] != 0 || ts.Running[0] < 5 || ts.ReadyNodes[0] != 3 {
		t.Errorf("time series starts at %v with %v Running and %v Ready nodes, want the 5 restored pods Running and 3 nodes Ready at 0", ts.T, ts.Running, ts.ReadyNodes)
	}
}

// A StatefulSet at rest keeps its pods: the revision its controller computes from the
// template is the one a real cluster named (db-8b55bc699), so no pod is rolled, and the
// status it computes is the stored one.
func TestSnapshotStatefulSetAtRest(t *testing.T) {
	stored := append(loadSnapshot(t, snapshotPath), loadSnapshot(t, "../testdata/snapshot/statefulset.yaml")...)
	s, log := restoreAndRun(t, stored)
	if len(log) != 0 {
		t.Errorf("a cluster at rest was written to %d times, want 0:\n%v", len(log), log)
	}
	got := placements(t, s)
	for _, p := range []string{"db-0", "db-1"} {
		if !strings.HasPrefix(got["default/"+p], "kwok-node-") {
			t.Errorf("pod %s: %q, want the snapshot's", p, got["default/"+p])
		}
	}
}

// The garbage collector knows the restored owners of restored dependents, listed before or
// after them: deleting the Deployment takes its ReplicaSet and that ReplicaSet's pods, and
// nothing else.
func TestSnapshotDeletedOwnerCollectsRestoredDependents(t *testing.T) {
	s, err := sim.New(context.Background(), sim.Config{Seed: 1, Stages: stages.Default()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	workloads.Install(s)
	var objs []runtime.Object
	for _, o := range loadSnapshot(t, snapshotPath) {
		objs = append(objs, o.Obj)
	}
	if err := s.API().Restore(objs); err != nil {
		t.Fatal(err)
	}
	var log writeLog
	s.API().Watch(log.watch)
	dKind, _ := sim.KindNamed("Deployment")
	if err := s.API().Delete(dKind, "default", "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, w := range log {
		if strings.HasPrefix(w, "DELETED ") {
			deleted = append(deleted, w)
		}
	}
	slices.Sort(deleted)
	want := []string{"DELETED Deployment default/web", "DELETED Pod default/web-bfdd7c745-5xk2p",
		"DELETED Pod default/web-bfdd7c745-m8wqd", "DELETED ReplicaSet default/web-bfdd7c745"}
	if !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}
	if n := log.count(watch.Added, "Pod"); n != 0 {
		t.Errorf("%d pods created, want 0", n)
	}
}

// A restored CronJob keeps the real cluster's schedule: the dump's times move so that its
// latest (the last success at 10:07) is t=0, and a schedule is read on the cluster's wall
// clock, not on the moved times. Its next Job is 10:15's, 8 minutes (and upstream's 100 ms
// delta) into the run, named after 10:15 as the real controller names it; 10:30's is past
// the end. Read on the moved times, a Job would start at once (the 00:00 of the virtual
// clock looks due since the last scheduled time) and be misnamed.
func TestSnapshotCronJobKeepsTheClusterSchedule(t *testing.T) {
	wall := func(h, m int) metav1.Time { return metav1.NewTime(time.Date(2025, 6, 1, h, m, 0, 0, time.UTC)) }
	last, success := wall(10, 0), wall(10, 7)
	cj := &batchv1.CronJob{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "default", UID: "4b6c1f1e-2d1a-4c55-9d7e-0a1b2c3d4e5f",
			CreationTimestamp: wall(9, 0)},
		Spec: batchv1.CronJobSpec{Schedule: "*/15 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
		Status: batchv1.CronJobStatus{LastScheduleTime: &last, LastSuccessfulTime: &success},
	}
	s, err := sim.New(context.Background(), sim.Config{Seed: 1, Stages: stages.Default(), Until: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	workloads.Install(s)
	var created []string
	s.API().Watch(func(ev sim.WatchEvent) {
		if ev.Type == watch.Added && ev.Kind.Name() == "Job" {
			created = append(created, fmt.Sprintf("%s at %v", ev.Object.(metav1.Object).GetName(), s.Elapsed()))
		}
	})
	if err := s.API().Restore([]runtime.Object{cj}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("report-%d at 8m0.1s", wall(10, 15).Unix()/60)}
	if !slices.Equal(created, want) {
		t.Errorf("Jobs created %v, want %v", created, want)
	}
}
