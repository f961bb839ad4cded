package statefulset_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// only keeps the events of one kind, as strings.
func only(log []workloadstest.PodEvent, what string) []string {
	var out []string
	for _, e := range log {
		if e.What == what {
			out = append(out, e.String())
		}
	}
	return out
}

func getSet(t *testing.T, s *sim.Simulator, name string) *appsv1.StatefulSet {
	t.Helper()
	return workloadstest.MustGet[*appsv1.StatefulSet](t, s, "StatefulSet", name)
}

// updateSetAt changes a StatefulSet's spec at a virtual time.
func updateSetAt(t *testing.T, s *sim.Simulator, at time.Duration, name string, change func(*appsv1.StatefulSet)) {
	s.Clock().AfterDelay(at, func() {
		kind, _ := sim.KindNamed("StatefulSet")
		obj, err := s.API().Get(kind, "default", name)
		if err != nil {
			t.Error(err)
			return
		}
		set := obj.(*appsv1.StatefulSet)
		change(set)
		if _, err := s.API().Update(set); err != nil {
			t.Error(err)
		}
	})
}

// OrderedReady (the default) creates web-0, web-1, web-2 strictly in order, each one when the
// previous is Running and Ready, with the identity the real controller gives them.
func TestStatefulSetOrderedReadyCreatesInOrder(t *testing.T) {
	s := workloadstest.SlowSim(t)
	log := workloadstest.WatchPods(s)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.StatefulSet("web", 3, ""))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	want := []string{"web-0 created@0s", "web-0 ready@5s", "web-1 created@5s", "web-1 ready@10s", "web-2 created@10s", "web-2 ready@15s"}
	var got []string
	for _, e := range *log {
		got = append(got, e.String())
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("timeline\n  %v\nwant\n  %v", got, want)
	}
	set := getSet(t, s, "web")
	st := set.Status
	if st.Replicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.CurrentReplicas != 3 || st.UpdatedReplicas != 3 ||
		st.ObservedGeneration != set.Generation || st.CurrentRevision != st.UpdateRevision || !strings.HasPrefix(st.UpdateRevision, "web-") {
		t.Errorf("status %+v", st)
	}
	// The label holds the revision's name, <set>-<hash>, as on a cluster.
	revision := st.UpdateRevision
	podKind, _ := sim.KindNamed("Pod")
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("web-%d", i)
		obj, err := s.API().Get(podKind, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		p := obj.(*corev1.Pod)
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "StatefulSet" || ref.UID != set.UID {
			t.Errorf("%s controller %+v", name, ref)
		}
		for k, v := range map[string]string{
			"app": "web", "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": fmt.Sprint(i),
			"controller-revision-hash": revision,
		} {
			if p.Labels[k] != v {
				t.Errorf("%s label %s=%q, want %q", name, k, p.Labels[k], v)
			}
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web-headless" || p.GenerateName != "web-" || p.Spec.NodeName != "n1" {
			t.Errorf("%s hostname %q subdomain %q generateName %q node %q", name, p.Spec.Hostname, p.Spec.Subdomain, p.GenerateName, p.Spec.NodeName)
		}
	}
}

// Parallel creates every pod at once, and scales down all at once too.
func TestStatefulSetParallelCreatesAtOnce(t *testing.T) {
	s := workloadstest.SlowSim(t)
	log := workloadstest.WatchPods(s)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.StatefulSet("par", 4, appsv1.ParallelPodManagement))
	updateSetAt(t, s, time.Minute, "par", func(set *appsv1.StatefulSet) { set.Spec.Replicas = new(int32) })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	if got, want := only(*log, "created"), []string{"par-0 created@0s", "par-1 created@0s", "par-2 created@0s", "par-3 created@0s"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("created %v, want %v", got, want)
	}
	if got := only(*log, "terminating"); len(got) != 4 || !strings.HasSuffix(got[0], "@1m0s") || !strings.HasSuffix(got[3], "@1m0s") {
		t.Errorf("terminating %v, want all four at 1m0s", got)
	}
	if st := getSet(t, s, "par").Status; st.Replicas != 0 || st.ReadyReplicas != 0 {
		t.Errorf("status after scaling to 0: %+v", st)
	}
}

// Scaling down OrderedReady removes the highest ordinal first, one at a time, each after the
// previous one is gone.
func TestStatefulSetScaleDownHighestFirst(t *testing.T) {
	s := workloadstest.SlowSim(t)
	log := workloadstest.WatchPods(s)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.StatefulSet("db", 4, ""))
	updateSetAt(t, s, time.Minute, "db", func(set *appsv1.StatefulSet) { one := int32(1); set.Spec.Replicas = &one })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	var got []string
	for _, e := range *log {
		if e.At >= time.Minute {
			got = append(got, e.String())
		}
	}
	want := []string{"db-3 terminating@1m0s", "db-3 gone@1m3s", "db-2 terminating@1m3s", "db-2 gone@1m6s", "db-1 terminating@1m6s", "db-1 gone@1m9s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after scale-down\n  %v\nwant\n  %v", got, want)
	}
	if st := getSet(t, s, "db").Status; st.Replicas != 1 || st.ReadyReplicas != 1 {
		t.Errorf("status %+v, want 1 replica ready", st)
	}
}

// A template change rolls out from the highest ordinal down: each pod is deleted, recreated
// under the same name at the new revision, and the next one waits until it is Running and
// Ready. Pods below the partitionOf keep the old revision.
func TestStatefulSetRollingUpdateHighestFirst(t *testing.T) {
	for _, tc := range []struct {
		name        string
		partitionOf int32
		want        []string
	}{
		{"all", 0, []string{
			"ru-2 terminating@1m0s", "ru-2 gone@1m3s", "ru-2 created@1m3s", "ru-2 ready@1m8s",
			"ru-1 terminating@1m8s", "ru-1 gone@1m11s", "ru-1 created@1m11s", "ru-1 ready@1m16s",
			"ru-0 terminating@1m16s", "ru-0 gone@1m19s", "ru-0 created@1m19s", "ru-0 ready@1m24s"}},
		{"partitionOf", 2, []string{"ru-2 terminating@1m0s", "ru-2 gone@1m3s", "ru-2 created@1m3s", "ru-2 ready@1m8s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := workloadstest.SlowSim(t)
			log := workloadstest.WatchPods(s)
			set := workloadstest.StatefulSet("ru", 3, "")
			set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: &tc.partitionOf}
			workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), set)
			updateSetAt(t, s, time.Minute, "ru", func(set *appsv1.StatefulSet) { set.Spec.Template.Spec.Containers[0].Image = "app:2" })
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			var got []string
			var oldRev string
			for _, e := range *log {
				if e.At < time.Minute {
					oldRev = e.Rev
					continue
				}
				got = append(got, e.String())
				if e.What == "created" && (e.Rev == oldRev || e.Rev == "") {
					t.Errorf("%s recreated at revision %q, the old one", e.Pod, e.Rev)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("rollout\n  %v\nwant\n  %v", got, tc.want)
			}
			st := getSet(t, s, "ru").Status
			updated := int32(3 - tc.partitionOf)
			if st.UpdatedReplicas != updated || st.Replicas != 3 || st.ReadyReplicas != 3 || st.UpdateRevision == oldRev {
				t.Errorf("status %+v, want %d updated of 3 ready", st, updated)
			}
			if (st.CurrentRevision == st.UpdateRevision) != (tc.partitionOf == 0) {
				t.Errorf("currentRevision %s, updateRevision %s: the rollout is complete only without a partitionOf", st.CurrentRevision, st.UpdateRevision)
			}
		})
	}
}

// A failed pod is deleted and replaced by a pod of the same name; with OnDelete, a template
// change replaces nothing until a pod is deleted, and the replacement has the new revision.
func TestStatefulSetReplacesFailedPodAndOnDelete(t *testing.T) {
	s := workloadstest.SlowSim(t)
	log := workloadstest.WatchPods(s)
	set := workloadstest.StatefulSet("od", 2, "")
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), set)
	podKind, _ := sim.KindNamed("Pod")
	s.Clock().AfterDelay(30*time.Second, func() {
		patch := `{"status":{"phase":"Failed"}}`
		if _, err := s.API().Patch(podKind, "default", "od-0", types.StrategicMergePatchType, []byte(patch), "status"); err != nil {
			t.Error(err)
		}
	})
	updateSetAt(t, s, time.Minute, "od", func(set *appsv1.StatefulSet) { set.Spec.Template.Spec.Containers[0].Image = "app:2" })
	s.Clock().AfterDelay(2*time.Minute, func() {
		if err := s.API().Delete(podKind, "default", "od-1", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	var got []string
	revs := map[string]string{}
	uids := map[string]int{}
	for _, e := range *log {
		if e.What == "created" {
			got = append(got, e.String())
			revs[e.String()] = e.Rev
			uids[string(e.UID)]++
		}
	}
	// A pod that ended is deleted at once (the apiserver gives terminal pods no grace period),
	// so its replacement comes at the same instant; a running pod takes its 3 s to go.
	want := []string{"od-0 created@0s", "od-1 created@5s", "od-0 created@30s", "od-1 created@2m3s"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("created %v, want %v", got, want)
	}
	if len(uids) != 4 {
		t.Errorf("%d distinct pod UIDs, want 4", len(uids))
	}
	if revs["od-0 created@30s"] != revs["od-0 created@0s"] || revs["od-1 created@2m3s"] == revs["od-0 created@0s"] {
		t.Errorf("revisions %v: the failed pod's replacement (before the change) keeps the old one, the deleted pod's (after) gets the new one", revs)
	}
	for _, e := range *log {
		if e.What == "terminating" && e.At >= time.Minute && e.At < 2*time.Minute {
			t.Errorf("deletion %s: OnDelete deletes nothing on a template change", e)
		}
	}
}

// The Parallel policy's control creates, and deletes, pods from goroutines of its own
// (slowStartBatch); the writes are made in ordinal order all the same, so a run gives the same
// UIDs, times and events whatever the number of OS threads. 40 pods make batches of 1, 2, 4,
// 8, 16 and 9 goroutines.
func TestStatefulSetParallelIsDeterministic(t *testing.T) {
	run := func(procs int) string {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		s := workloadstest.SlowSim(t)
		log := workloadstest.WatchPods(s)
		workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "8"), workloadstest.StatefulSet("par", 40, appsv1.ParallelPodManagement))
		updateSetAt(t, s, time.Minute, "par", func(set *appsv1.StatefulSet) {
			r, unavailable := int32(45), intstr.FromInt32(10)
			set.Spec.Replicas = &r
			set.Spec.Template.Spec.Containers[0].Image = "app:2"
			set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{MaxUnavailable: &unavailable}
		})
		updateSetAt(t, s, 5*time.Minute, "par", func(set *appsv1.StatefulSet) { set.Spec.Replicas = new(int32) })
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		workloadstest.NoWarnings(t, s)
		var b strings.Builder
		for _, e := range *log {
			fmt.Fprintf(&b, "%s %s %s\n", e, e.UID, e.Rev)
		}
		for _, e := range s.Recorder().Events() {
			if e.Kind == "StatefulSet" {
				fmt.Fprintf(&b, "%v %s %s\n", e.At, e.Reason, e.Message)
			}
		}
		return b.String()
	}
	first := run(1)
	for i, want := range []string{
		"0s SuccessfulCreate Create Pod par-0 in StatefulSet par successful\n0s SuccessfulCreate Create Pod par-1 in StatefulSet par successful\n",
		"par-39 created@0s", "par-44 created@1m0s", "SuccessfulDelete Delete Pod par-44 in StatefulSet par successful",
	} {
		if !strings.Contains(first, want) {
			t.Fatalf("%d: no %q in\n%s", i, want, first)
		}
	}
	for _, procs := range []int{4, 2, 1} {
		if again := run(procs); again != first {
			t.Fatalf("GOMAXPROCS=%d differs:\n%s", procs, workloadstest.FirstDifference([]byte(first), []byte(again)))
		}
	}
}

// Going back to an earlier template goes back to its revision (the control renumbers the
// stored ControllerRevision instead of creating one), so the pods get their first hash again.
func TestStatefulSetRollbackReusesRevision(t *testing.T) {
	s := workloadstest.SlowSim(t)
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), workloadstest.StatefulSet("rb", 2, ""))
	var first, second string
	s.Clock().AfterDelay(59*time.Second, func() { first = getSet(t, s, "rb").Status.UpdateRevision })
	updateSetAt(t, s, time.Minute, "rb", func(set *appsv1.StatefulSet) { set.Spec.Template.Spec.Containers[0].Image = "app:2" })
	s.Clock().AfterDelay(3*time.Minute-time.Second, func() { second = getSet(t, s, "rb").Status.UpdateRevision })
	updateSetAt(t, s, 3*time.Minute, "rb", func(set *appsv1.StatefulSet) { set.Spec.Template.Spec.Containers[0].Image = "app:1" })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	workloadstest.NoWarnings(t, s)
	st := getSet(t, s, "rb").Status
	if first == "" || second == first || st.UpdateRevision != first || st.CurrentRevision != first || st.UpdatedReplicas != 2 || *st.CollisionCount != 0 {
		t.Errorf("revisions %s, then %s, then status %+v: want the first again, all pods updated", first, second, st)
	}
	podKind, _ := sim.KindNamed("Pod")
	for _, name := range []string{"rb-0", "rb-1"} {
		obj, err := s.API().Get(podKind, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if p := obj.(*corev1.Pod); p.Labels[appsv1.ControllerRevisionHashLabelKey] != first || p.Spec.Containers[0].Image != "app:1" {
			t.Errorf("%s at revision %s with image %s, want %s and app:1", name, p.Labels[appsv1.ControllerRevisionHashLabelKey], p.Spec.Containers[0].Image, first)
		}
	}
}
