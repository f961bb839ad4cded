package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

const noClass = `storageclass.storage.k8s.io "nope" not found`

// claimPod is an unbound pod of the StatefulSet web using the claims, or, with a node, bound.
func claimPod(name, node string, claims ...string) PodRecord {
	p := &corev1.Pod{ObjectMeta: meta(name), Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	p.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "web", Controller: ptr.To(true)}}
	for _, c := range claims {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: c, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c}}})
	}
	return PodRecord{Pod: p, CreatedAt: sec(0)}
}

// volumeObservation has a claim in each state the report tells apart.
func volumeObservation() Observation {
	bound := corev1.ClaimBound
	claims := []ClaimRecord{
		// Immediate: provisionable at creation, bound 4 s later.
		{Namespace: "default", Name: "data-0", StorageClass: "fast", Phase: bound, Volume: "pv-0",
			VolumeAffinity: "topology.kubernetes.io/zone In [a]", CreatedAt: sec(0), ProvisionableAt: sec(0), BoundAt: sec(4)},
		// WaitForFirstConsumer: provisionable when the node was selected at 10 s, bound at 15 s.
		{Namespace: "default", Name: "data-1", StorageClass: "wffc", Phase: bound, Volume: "pv-1", SelectedNode: "n1",
			CreatedAt: sec(0), ProvisionableAt: sec(10), BoundAt: sec(15)},
		// Restored bound: in the counts, in no latency.
		{Namespace: "default", Name: "old", StorageClass: "fast", Phase: bound, Volume: "pv-old", Restored: true, BoundAt: sec(0)},
		// Asked for on n1, not provisioned, with the provisioner's warning.
		{Namespace: "default", Name: "data-2", StorageClass: "wffc", Phase: corev1.ClaimPending, SelectedNode: "n1",
			CreatedAt: sec(2), ProvisionableAt: sec(3), LastWarning: &ClaimEvent{At: time.Duration(5) * time.Second, Reason: "ProvisioningFailed", Message: "quota"}},
		// Immediate, never bound: the PV controller's warning.
		{Namespace: "default", Name: "imm", StorageClass: "fast", CreatedAt: sec(1), ProvisionableAt: sec(1),
			LastWarning: &ClaimEvent{At: time.Duration(1) * time.Second, Reason: "ProvisioningFailed", Message: noClass}},
		{Namespace: "default", Name: "lost", StorageClass: "fast", Phase: corev1.ClaimLost, Terminating: true,
			CreatedAt: sec(0), ProvisionableAt: sec(0), TerminatingAt: sec(30)},
		// Deleted: counted as such, and a pod that uses its name finds no claim.
		{Namespace: "default", Name: "gone", CreatedAt: sec(0), ProvisionableAt: sec(0), TerminatingAt: sec(20), DeletedAt: sec(20)},
	}
	eph := claimPod("eph", "")
	eph.Pod.OwnerReferences = nil
	eph.Pod.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}}
	imm := claimPod("web-1", "", "data-0", "imm")
	imm.Reason = "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	missing := claimPod("web-3", "", "gone")
	missing.Reason = `persistentvolumeclaim "gone" not found`
	deleted := claimPod("web-4", "", "imm")
	deleted.DeletedAt = sec(9)
	// Its claim is bound to a volume in zone a, and VolumeBinding found no node there.
	zoned := claimPod("zoned", "", "data-0")
	zoned.Pod.OwnerReferences = nil
	zoned.Reason = "0/2 nodes are available: 2 node(s) didn't match PersistentVolume's node affinity. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
	zoned.Outcome = &SchedulingOutcome{Code: "UnschedulableAndUnresolvable", Plugins: []string{"VolumeBinding"}, Nodes: 2}
	// Bound claim, rejected for its resources: not a volume wait.
	big := claimPod("big", "", "data-0")
	big.Pod.OwnerReferences = nil
	big.Reason = "0/2 nodes are available: 2 Insufficient cpu."
	big.Outcome = &SchedulingOutcome{Code: "Unschedulable", Plugins: []string{"NodeResourcesFit"}, Nodes: 2}
	pods := []PodRecord{
		zoned,
		big,
		claimPod("web-0", "n1", "data-0"), // bound: not waiting
		imm,
		claimPod("web-2", "", "data-1", "data-2"), // its first claim is bound, its second is not
		missing,
		deleted, // gone: not waiting
		eph,
		claimPod("plain", ""), // no claim: not waiting, whatever keeps it pending
	}
	web := &appsv1.StatefulSet{ObjectMeta: meta("web"), Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](4)}}
	return Observation{Elapsed: time.Minute, Claims: claims, Pods: pods, Workloads: []runtime.Object{web}}
}

// The figures come from the claims' times and phases as defined in VolumesReport: the
// restored claim counts but has no latency; provisioning starts at provisionableAt, binding
// at createdAt; deleted claims count apart from the phases.
func TestVolumesFigures(t *testing.T) {
	v := Build(volumeObservation()).Volumes
	if v == nil {
		t.Fatal("no volumes section")
	}
	if want := (ClaimCounts{Total: 7, Pending: 2, Bound: 3, Lost: 1, Terminating: 1, Deleted: 1}); v.Claims != want {
		t.Errorf("claims %+v, want %+v", v.Claims, want)
	}
	// provisioning: 4 and 5 s; binding: 4 and 15 s. Empirical quantiles of two values: p50
	// is the smaller, p90 and p99 the larger.
	if want := (Distribution{P50: 4, P90: 5, P99: 5, Max: 5, Count: 2}); v.Provisioning != want {
		t.Errorf("provisioning %+v, want %+v", v.Provisioning, want)
	}
	if want := (Distribution{P50: 4, P90: 15, P99: 15, Max: 15, Count: 2}); v.Binding != want {
		t.Errorf("binding %+v, want %+v", v.Binding, want)
	}
	wantClasses := []StorageClassClaims{
		{"", ClaimCounts{Total: 1, Deleted: 1}},
		{"fast", ClaimCounts{Total: 4, Pending: 1, Bound: 2, Lost: 1, Terminating: 1}},
		{"wffc", ClaimCounts{Total: 2, Pending: 1, Bound: 1}},
	}
	if fmt.Sprint(v.StorageClasses) != fmt.Sprint(wantClasses) {
		t.Errorf("storage classes\n got %+v\nwant %+v", v.StorageClasses, wantClasses)
	}
	zoned := pods(volumeObservation(), "zoned").Reason
	want := []PodVolumeWait{
		{Namespace: "default", Name: "eph", Claim: "eph-scratch", ClaimPhase: ClaimMissing, Reason: "claim eph-scratch does not exist"},
		{Namespace: "default", Name: "web-1", Claim: "imm", ClaimPhase: "Pending", SchedulerMessage: pods(volumeObservation(), "web-1").Reason,
			ClaimWarning: "ProvisioningFailed: " + noClass,
			Reason:       pods(volumeObservation(), "web-1").Reason + " (claim imm: ProvisioningFailed: " + noClass + ")"},
		{Namespace: "default", Name: "web-2", Claim: "data-2", ClaimPhase: "Pending", ClaimWarning: "ProvisioningFailed: quota",
			Provisioning: "waiting for the volume of claim data-2 to be provisioned on node n1",
			Reason:       "waiting for the volume of claim data-2 to be provisioned on node n1 (claim data-2: ProvisioningFailed: quota)"},
		{Namespace: "default", Name: "web-3", Claim: "gone", ClaimPhase: ClaimMissing, SchedulerMessage: `persistentvolumeclaim "gone" not found`,
			Reason: `persistentvolumeclaim "gone" not found`},
		{Namespace: "default", Name: "zoned", Claim: "data-0", ClaimPhase: "Bound", VolumeAffinity: "topology.kubernetes.io/zone In [a]",
			SchedulerMessage: zoned, Reason: zoned + " (claim data-0: volume pv-0 requires topology.kubernetes.io/zone In [a])"},
	}
	if fmt.Sprintf("%+v", v.PodsWaiting) != fmt.Sprintf("%+v", want) {
		t.Errorf("pods waiting\n got %+v\nwant %+v", v.PodsWaiting, want)
	}
	var names []string
	for _, c := range v.PersistentVolumeClaims {
		names = append(names, c.Name+":"+c.Phase)
	}
	if got, want := strings.Join(names, " "), "data-0:Bound data-1:Bound data-2:Pending gone:Pending imm:Pending lost:Lost old:Bound"; got != want {
		t.Errorf("claims %s, want %s", got, want)
	}
}

func pods(o Observation, name string) PodRecord {
	for _, p := range o.Pods {
		if p.Pod.Name == name {
			return p
		}
	}
	return PodRecord{}
}

// A run without claims has no volumes section, and its table none either; assertions still
// read zero counts and empty lists from it.
func TestNoVolumesSection(t *testing.T) {
	r := Build(Observation{Elapsed: time.Minute, Pods: []PodRecord{claimPod("plain", "")}})
	if r.Volumes != nil {
		t.Errorf("volumes section %+v for a run without claims", r.Volumes)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Volumes") || strings.Contains(buf.String(), "waiting for volumes") {
		t.Errorf("volumes in the table of a run without claims:\n%s", buf.String())
	}
	for _, expr := range []string{"volumes.claims.pending == 0", "volumes.provisioning.p99 <= 60.0",
		"size(volumes.podsWaiting) == 0 && size(volumes.persistentVolumeClaims) == 0"} {
		if res := checkOne(t, expr, r); !res.Passed || res.Err != nil {
			t.Errorf("%s on a run without claims: passed %v, error %v", expr, res.Passed, res.Err)
		}
	}
}

// The workload whose pods wait for volumes says so, with the first pod's reason; it is not
// failing for it.
func TestWorkloadVolumeWait(t *testing.T) {
	r := Build(volumeObservation())
	if len(r.Workloads) != 1 {
		t.Fatalf("workloads %+v", r.Workloads)
	}
	w := r.Workloads[0]
	want := &WorkloadVolumeWait{Pods: 3, Reason: r.Volumes.PodsWaiting[1].Reason} // web-1, web-2, web-3; eph is no pod of web
	if w.VolumeWait == nil || *w.VolumeWait != *want || w.Failing {
		t.Errorf("web: volume wait %+v failing %v, want %+v, not failing", w.VolumeWait, w.Failing, want)
	}
}

// The table shows the volumes block and the workload's wait; assertions and the comparison
// read the figures.
func TestVolumesTableAssertCompare(t *testing.T) {
	r := Build(volumeObservation())
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Volumes: 7 claims: 3 bound, 2 pending, 1 lost (1 terminating), 1 deleted",
		"provisioning (provisionable → Bound)  2       4s   5s   5s   5s",
		"binding (created → Bound)             2       4s   15s  15s  15s",
		"(none)         1       0      0        0     1",
		"fast           4       2      1        1     0",
		"Pods waiting for volumes (5):",
		"default/zoned (claim data-0, Bound): 0/2 nodes are available: 2 node(s) didn't match PersistentVolume's node affinity.",
		"default/web-2 (claim data-2, Pending): waiting for the volume of claim data-2 to be provisioned on node n1 (claim data-2: ProvisioningFailed: quota)",
		"default/web-3 (claim gone, Missing): persistentvolumeclaim \"gone\" not found",
		"StatefulSet  default/web  4        0        0      3 pod(s) waiting for volumes: 0/1 nodes are available: pod has unbound immediate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		expr string
		pass bool
	}{
		{"volumes.claims.pending == 0", false},
		{"volumes.claims.bound == 3 && volumes.claims.lost == 1", true},
		{"volumes.provisioning.p99 <= 60.0 && volumes.binding.max == 15", true},
		{`volumes.podsWaiting.exists(p, p.claimPhase == "Missing" && p.claim == "gone")`, true},
		{`volumes.storageClasses.all(c, c.claims.lost == 0)`, false},
		{`workloads.exists(w, has(w.volumeWait) && w.volumeWait.pods == 3)`, true},
	} {
		res := checkOne(t, tc.expr, r)
		if res.Err != nil || res.Passed != tc.pass {
			t.Errorf("%s: passed %v (error %v), want %v", tc.expr, res.Passed, res.Err, tc.pass)
		}
	}
	// Compared with a run without claims: the figures are there, null on that side.
	c := Compare(Build(Observation{Elapsed: time.Minute}), r, "a.json", "b.json")
	figures := map[string]FigureDiff{}
	for _, f := range c.Figures {
		figures[f.Name] = f
	}
	for name, b := range map[string]float64{"volumes.claims.pending": 2, "volumes.podsWaiting": 5, "volumes.binding.p90": 15} {
		f, ok := figures[name]
		if !ok || f.A != nil || f.B == nil || *f.B != b {
			t.Errorf("figure %s: %+v, want a null, b %v", name, f, b)
		}
	}
	c = Compare(Build(Observation{Elapsed: time.Minute}), Build(Observation{Elapsed: time.Minute}), "a.json", "b.json")
	for _, f := range c.Figures {
		if strings.HasPrefix(f.Name, "volumes.") {
			t.Errorf("figure %s compared between runs without claims", f.Name)
		}
	}
}

// NodeAffinitySummary writes a volume's required terms as kubectl describe does, terms
// joined by "or".
func TestNodeAffinitySummary(t *testing.T) {
	a := &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
		{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}},
			{Key: "disk", Operator: corev1.NodeSelectorOpExists}}},
		{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}},
	}}}
	if got, want := NodeAffinitySummary(a), "topology.kubernetes.io/zone In [a, b], disk Exists [] or metadata.name In [n1]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := NodeAffinitySummary(nil); got != "" {
		t.Errorf("no affinity: %q", got)
	}
}

// The report with a volumes section and a workload's volume wait validates against the
// schema, which is closed there too.
func TestVolumesSchema(t *testing.T) {
	sch := compileSchema(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Build(volumeObservation())); err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, buf.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for _, tc := range []struct {
		name   string
		mutate func(v map[string]any)
		want   string
	}{
		{"a claim phase that is none", func(v map[string]any) {
			v["podsWaiting"].([]any)[0].(map[string]any)["claimPhase"] = "Unknown"
		}, "/volumes/podsWaiting/0/claimPhase"},
		{"counts without deleted", func(v map[string]any) { delete(v["claims"].(map[string]any), "deleted") }, "missing property 'deleted'"},
		{"an unknown claim field", func(v map[string]any) {
			v["persistentVolumeClaims"].([]any)[0].(map[string]any)["size"] = "1Gi"
		}, "/volumes/persistentVolumeClaims/0"},
	} {
		var r map[string]any
		if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		tc.mutate(r["volumes"].(map[string]any))
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to name %q", tc.name, err, tc.want)
		}
	}
}
