package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/stages"
)

// replicaSet is a ReplicaSet of n controlled by Deployment/web (no controllers run in these
// tests: its status moves only when the test writes it).
func replicaSet(name string, n int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": "web"}
	return &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d1", Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}},
	}
}

func sizesString(w analysis.WorkloadSizeRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s/%s owner=%s created=%v deleted=%v:", w.Kind, w.Namespace, w.Name, w.Owner, durString(w.CreatedAt), durString(w.DeletedAt))
	for _, s := range w.Sizes {
		fmt.Fprintf(&b, " %v/%d/%d/%d", s.At, s.Replicas, s.Current, s.Ready)
	}
	return b.String()
}

func durString(d *time.Duration) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

// The size log takes an entry on creation and on every write that changes replicas, current
// or ready, and none on other writes (a status write that moves no count, an hour of node
// heartbeats); seq is the write's resourceVersion, increasing. A deletion sets deletedAt, and
// an object restored from a snapshot has no creation time.
func TestRecorderSizeLog(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: time.Hour, Stages: stages.Default(), KeepRenewals: true})
	stored := storedNode()
	stored.Name, stored.UID = "old", "44444444-4444-4444-8444-444444444444"
	if err := s.API().Restore([]runtime.Object{stored}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, node("n1"))
	if _, err := s.API().Create(replicaSet("web-1", 3)); err != nil {
		t.Fatal(err)
	}
	status := func(at time.Duration, patch string) {
		s.Clock().AfterDelay(at, func() {
			if _, err := s.API().Patch(kinds["ReplicaSet"], "default", "web-1", types.MergePatchType, []byte(patch), "status"); err != nil {
				t.Error(err)
			}
		})
	}
	status(10*time.Minute, `{"status":{"replicas":3,"readyReplicas":1}}`)
	status(11*time.Minute, `{"status":{"observedGeneration":1}}`) // moves no count
	status(12*time.Minute, `{"status":{"readyReplicas":3}}`)
	s.Clock().AfterDelay(20*time.Minute, func() {
		if _, err := s.API().Patch(kinds["Node"], "", "n1", types.MergePatchType,
			[]byte(`{"spec":{"taints":[{"key":"b","effect":"NoSchedule"},{"key":"a","value":"x","effect":"NoExecute"}]}}`), ""); err != nil {
			t.Error(err)
		}
	})
	s.Clock().AfterDelay(30*time.Minute, func() {
		if err := s.API().Delete(kinds["ReplicaSet"], "default", "web-1", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
		if err := s.API().Delete(kinds["Node"], "", "n1", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.WorkloadSizes) != 1 {
		t.Fatalf("%d workloads logged, want 1", len(o.WorkloadSizes))
	}
	want := "ReplicaSet default/web-1 owner=Deployment/web created=0s deleted=30m0s: 0s/3/0/0 10m0s/3/3/1 12m0s/3/3/3"
	if got := sizesString(o.WorkloadSizes[0]); got != want {
		t.Errorf("sizes:\n got %s\nwant %s", got, want)
	}

	var nodes []string
	seq := int64(0)
	for _, n := range o.NodeHistory {
		line := fmt.Sprintf("%s created=%v deleted=%v:", n.Name, durString(n.CreatedAt), durString(n.DeletedAt))
		for _, c := range n.Changes {
			line += fmt.Sprintf(" %v %q %v;", c.At, c.Ready, c.Taints)
			if n.Name == "n1" {
				if c.Seq <= seq {
					t.Errorf("n1: seq %d after %d", c.Seq, seq)
				}
				seq = c.Seq
			}
		}
		nodes = append(nodes, line)
	}
	// n1: created without conditions; node-initialize makes it Ready; the taints come sorted.
	// No heartbeat of the hour shows.
	wantNodes := []string{
		`old created=nil deleted=nil: 0s "True" [];`,
		`n1 created=0s deleted=30m0s: 0s "" []; 0s "True" []; 20m0s "True" [a=x:NoExecute b:NoSchedule];`,
	}
	if strings.Join(nodes, "\n") != strings.Join(wantNodes, "\n") {
		t.Errorf("node history:\n%s\nwant:\n%s", strings.Join(nodes, "\n"), strings.Join(wantNodes, "\n"))
	}
	beats := 0
	for _, tr := range s.Transitions() {
		if strings.HasPrefix(tr.Stage, "node-heartbeat") {
			beats++
		}
	}
	if beats < 3 {
		t.Errorf("%d heartbeats: the writes this test is about did not happen", beats)
	}
}

// A heartbeat of a tainted node (same Ready status, same taints, a new object) adds no entry
// and allocates nothing: on a long run of many nodes it is most of the writes. Taints written
// in another order are the same set, and add nothing either.
func TestSizeLogHeartbeatIsFree(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	r := s.Recorder()
	n := node("n1", corev1.Taint{Key: "b", Effect: corev1.TaintEffectNoSchedule}, corev1.Taint{Key: "a", Value: "x", Effect: corev1.TaintEffectNoExecute})
	n.UID, n.ResourceVersion = "n1-uid", "7"
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	var l sizeLog
	l.observeNodeState(r, WatchEvent{Kind: kinds["Node"], Type: watch.Added, Object: n}, n)
	beat := n.DeepCopy()
	beat.ResourceVersion = "8"
	beat.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(Epoch.Add(time.Minute))
	ev := WatchEvent{Kind: kinds["Node"], Type: watch.Modified, Old: n, Object: beat}
	if allocs := testing.AllocsPerRun(100, func() { l.observeNodeState(r, ev, beat) }); allocs != 0 {
		t.Errorf("a heartbeat allocates %v times", allocs)
	}
	swapped := beat.DeepCopy()
	swapped.Spec.Taints[0], swapped.Spec.Taints[1] = swapped.Spec.Taints[1], swapped.Spec.Taints[0]
	l.observeNodeState(r, WatchEvent{Kind: kinds["Node"], Type: watch.Modified, Object: swapped}, swapped)
	if got := len(l.nodes[0].Changes); got != 1 {
		t.Errorf("%d entries, want only the creation's: %+v", got, l.nodes[0].Changes)
	}
	if got := l.nodes[0].Changes[0]; got.Seq != 7 || got.Ready != "True" || strings.Join(got.Taints, " ") != "a=x:NoExecute b:NoSchedule" {
		t.Errorf("entry %+v", got)
	}
}

// A workload's status write that moves no count adds no entry and allocates nothing.
func TestSizeLogStatusWriteIsFree(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	r := s.Recorder()
	rs := replicaSet("web-1", 3)
	rs.UID, rs.ResourceVersion = "rs-uid", "5"
	var l sizeLog
	l.observeWorkload(r, WatchEvent{Kind: kinds["ReplicaSet"], Type: watch.Added, Object: rs})
	next := rs.DeepCopy()
	next.ResourceVersion, next.Status.ObservedGeneration = "6", 1
	ev := WatchEvent{Kind: kinds["ReplicaSet"], Type: watch.Modified, Old: rs, Object: next}
	if allocs := testing.AllocsPerRun(100, func() { l.observeWorkload(r, ev) }); allocs != 0 {
		t.Errorf("a status write allocates %v times", allocs)
	}
	if got := l.workloads[0]; len(got.Sizes) != 1 || got.Owner != "Deployment/web" || got.Sizes[0].Seq != 5 {
		t.Errorf("record %+v", got)
	}
}
