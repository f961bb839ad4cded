package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/stages"
)

// dumpTime is a wall time of the dumped cluster: after Epoch, so that a time left unshifted
// would lie in the run's future.
func dumpTime(hms string) metav1.Time {
	t, err := time.Parse(time.RFC3339, "2027-03-04T"+hms+"Z")
	if err != nil {
		panic(err)
	}
	return metav1.NewTime(t)
}

// storedNode is a Ready node as KWOK keeps it, with the pod CIDR 10.1.0.0/24.
func storedNode() *corev1.Node {
	n := node("n1")
	n.UID = "11111111-1111-4111-8111-111111111111"
	n.ResourceVersion = "812"
	n.CreationTimestamp = dumpTime("09:00:00")
	n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.1.0.0/24", []string{"10.1.0.0/24"}
	n.Status.Phase = corev1.NodeRunning
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: dumpTime("10:00:00"), LastTransitionTime: dumpTime("09:00:00")}}
	return n
}

// storedPod is a pod bound to n1 and Running there, with the address 10.1.0.1, the first a
// new pod on n1 would otherwise be given.
func storedPod() *corev1.Pod {
	p := pod("old")
	p.Namespace = "team"
	p.UID = "22222222-2222-4222-8222-222222222222"
	p.ResourceVersion = "900"
	p.Generation = 3
	p.CreationTimestamp = dumpTime("09:30:00")
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}}
	p.Spec.NodeName = "n1"
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, StartTime: ptr.To(dumpTime("09:30:01")),
		PodIP: "10.1.0.1", PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}}, HostIP: "192.168.0.1",
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: dumpTime("09:30:00")},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: dumpTime("09:30:01")},
		},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Image: "i", Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: dumpTime("09:30:01")}}}},
	}
	return p
}

// A restored pod keeps what the cluster stored (UID, generation, binding, status), its times
// move so that the dump's latest (the node's heartbeat, 10:00:00) is Epoch, and the stages do
// not run again what it and its node passed; the recorder has it bound and Running from the
// start, without a creation time. It is listed before its node and its namespace.
func TestRestoreKeepsStoredState(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Stages: stages.Default()})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team", UID: "33333333-3333-4333-8333-333333333333",
		Labels: map[string]string{"tier": "gold"}, CreationTimestamp: dumpTime("08:00:00")}}
	if err := s.API().Restore([]runtime.Object{storedPod(), storedNode(), ns}); err != nil {
		t.Fatal(err)
	}
	fresh := []*corev1.Pod{pod("new-a"), pod("new-b")}
	for _, p := range fresh {
		p.Namespace = "team"
		p.Spec.NodeName = "n1"
		if _, err := s.API().Create(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}

	p := getPodIn(t, s, "team", "old")
	if p.UID != "22222222-2222-4222-8222-222222222222" || p.Generation != 3 || p.Spec.NodeName != "n1" || p.Status.PodIP != "10.1.0.1" || p.Status.Phase != corev1.PodRunning {
		t.Errorf("restored pod: uid %s generation %d node %q IP %s phase %s; want the dump's", p.UID, p.Generation, p.Spec.NodeName, p.Status.PodIP, p.Status.Phase)
	}
	if p.ResourceVersion == "900" || p.ManagedFields != nil {
		t.Errorf("resourceVersion %q managedFields %v: the dump's must be dropped", p.ResourceVersion, p.ManagedFields)
	}
	if want := Epoch.Add(-30 * time.Minute); !p.CreationTimestamp.Time.Equal(want) || !p.Status.StartTime.Time.Equal(want.Add(time.Second)) {
		t.Errorf("restored pod created %v started %v, want %v and a second later", p.CreationTimestamp, p.Status.StartTime, want)
	}
	nsObj, err := s.API().Get(kinds["Namespace"], "", "team")
	if err != nil {
		t.Fatal(err)
	}
	if got := nsObj.(*corev1.Namespace); got.UID != ns.UID || got.Labels["tier"] != "gold" {
		t.Errorf("namespace team: uid %s labels %v; want the dump's, replacing the one made for the pod", got.UID, got.Labels)
	}
	for _, tr := range s.Transitions() {
		if tr.Name == "old" || tr.Kind == "Node" {
			t.Errorf("stage %s ran on %s %s, which had passed it", tr.Stage, tr.Kind, tr.Name)
		}
	}
	for _, name := range []string{"new-a", "new-b"} {
		if ip := getPodIn(t, s, "team", name).Status.PodIP; ip == "10.1.0.1" || !strings.HasPrefix(ip, "10.1.0.") {
			t.Errorf("new pod %s got IP %q: want one of n1's pod CIDR that the restored pod does not hold", name, ip)
		}
	}
	obs, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range obs.Pods {
		restored := rec.Pod.Name == "old"
		if rec.Restored != restored {
			t.Errorf("pod %s: Restored = %v", rec.Pod.Name, rec.Restored)
		}
		if restored && (rec.CreatedAt != nil || rec.ScheduledAt == nil || *rec.ScheduledAt != 0 || rec.RunningAt == nil || *rec.RunningAt != 0) {
			t.Errorf("restored pod record: created %v scheduled %v running %v; want none, 0, 0", rec.CreatedAt, rec.ScheduledAt, rec.RunningAt)
		}
	}
}

func getPodIn(t *testing.T, s *Simulator, ns, name string) *corev1.Pod {
	t.Helper()
	obj, err := s.API().Get(kinds["Pod"], ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

// A stored object is validated as kube-apiserver validated it, and the error names the object
// by its position in the snapshot.
func TestRestoreRefusesWhatTheAPIServerWouldNot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bad   func() runtime.Object
		index int
		want  string
	}{
		{"invalid spec", func() runtime.Object {
			p := storedPod()
			p.Spec.Containers[0].Name = "Not_A_Name"
			return p
		}, 1, "spec.containers[0].name"},
		{"invalid status", func() runtime.Object {
			p := storedPod()
			p.Status.PodIP, p.Status.PodIPs = "10.1.0.300", []corev1.PodIP{{IP: "10.1.0.300"}}
			return p
		}, 1, "status.podIPs"},
		{"no name", func() runtime.Object {
			p := storedPod()
			p.Name = ""
			return p
		}, 1, "metadata.name"},
		{"kind not served", func() runtime.Object {
			return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", UID: "44444444-4444-4444-8444-444444444444"}}
		}, 1, "not supported"},
		{"twice", func() runtime.Object { return storedNode() }, 1, "already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, Config{Seed: 1})
			err := s.API().Restore([]runtime.Object{storedNode(), tc.bad()})
			var re *RestoreError
			if !errors.As(err, &re) || re.Index != tc.index || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a RestoreError of object %d mentioning %q", err, tc.index, tc.want)
			}
		})
	}
}

// IsStored tells a dump's object (with a uid) from a request.
func TestIsStored(t *testing.T) {
	if IsStored(pod("p")) || !IsStored(storedPod()) {
		t.Error("IsStored: want false for a manifest, true for a stored pod")
	}
}

// The shift brings the dump's latest time to now; a terminating pod's deletionTimestamp,
// a grace period ahead of the dump, does not count.
func TestRestoreShift(t *testing.T) {
	p := storedPod()
	p.DeletionTimestamp = ptr.To(dumpTime("10:00:30"))
	if got, want := restoreShift([]runtime.Object{p, storedNode()}, Epoch), Epoch.Sub(dumpTime("10:00:00").Time); got != want {
		t.Errorf("shift %v, want %v (the node's heartbeat at 10:00:00 to Epoch)", got, want)
	}
}
