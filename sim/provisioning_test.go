package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/stages"
)

const testDriver = "ebs.csi.example.com"

func zonal(name, zone string) *corev1.Node {
	n := node(name)
	n.Labels[corev1.LabelTopologyZone] = zone
	return n
}

func create(t *testing.T, s *Simulator, objs ...runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := s.API().Create(o); err != nil {
			t.Fatal(err)
		}
	}
}

// handedToProvisioner is a claim as the PV controller leaves it for an external provisioner:
// annotated with the class's provisioner (and, for WaitForFirstConsumer, the scheduler's node).
func handedToProvisioner(name, class, selectedNode string) *corev1.PersistentVolumeClaim {
	c := claim(name, class)
	c.Annotations = map[string]string{
		"volume.kubernetes.io/storage-provisioner":      testDriver,
		"volume.beta.kubernetes.io/storage-provisioner": testDriver,
	}
	if selectedNode != "" {
		c.Annotations["volume.kubernetes.io/selected-node"] = selectedNode
	}
	return c
}

func getPV(t *testing.T, s *Simulator, name string) *corev1.PersistentVolume {
	t.Helper()
	pv, err := s.API().Get(kinds["PersistentVolume"], "", name)
	if err != nil {
		t.Fatal(err)
	}
	return pv.(*corev1.PersistentVolume)
}

func zoneOf(t *testing.T, pv *corev1.PersistentVolume) string {
	t.Helper()
	a := pv.Spec.NodeAffinity
	if a == nil || a.Required == nil || len(a.Required.NodeSelectorTerms) != 1 || len(a.Required.NodeSelectorTerms[0].MatchExpressions) != 1 {
		t.Fatalf("PV %s nodeAffinity %+v, want one zone term", pv.Name, a)
	}
	e := a.Required.NodeSelectorTerms[0].MatchExpressions[0]
	if e.Key != corev1.LabelTopologyZone || e.Operator != corev1.NodeSelectorOpIn || len(e.Values) != 1 {
		t.Fatalf("PV %s nodeAffinity %+v, want zone In [one]", pv.Name, e)
	}
	return e.Values[0]
}

// The default provisioning stage acts for the external-provisioner once the PV controller has
// annotated a claim: the PV it creates is accessible from the selected node's zone
// (WaitForFirstConsumer) or an allowed zone (Immediate with allowedTopologies), names the
// claim, the CSI driver and the provisioner. It does not bind the claim: the PV controller does
// (none runs here). A claim whose class is gone is refused with the provisioner's message, and
// a released provisioned volume with reclaim policy Delete is deleted.
func TestDefaultStagesProvisionByTopology(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Stages: stages.Default()})
	create(t, s, zonal("a", "z1"), zonal("b", "z2"), zonal("c", "z3"),
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "wffc"}, Provisioner: testDriver,
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "imm"}, Provisioner: testDriver,
			ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimRetain),
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
			AllowedTopologies: []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
				{Key: corev1.LabelTopologyZone, Values: []string{"z2", "z3"}}}}}},
		handedToProvisioner("delayed", "wffc", "b"),
		handedToProvisioner("waiting", "wffc", ""), // no node chosen yet: the provisioner waits
		handedToProvisioner("orphan", "gone", ""),
	)
	var immediate []*corev1.PersistentVolumeClaim
	for _, n := range []string{"imm-0", "imm-1", "imm-2", "imm-3"} {
		c := handedToProvisioner(n, "imm", "")
		create(t, s, c)
		immediate = append(immediate, c)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}

	delayed := getClaim(t, s, "delayed")
	pv := getPV(t, s, "pvc-"+string(delayed.UID))
	if z := zoneOf(t, pv); z != "z2" {
		t.Errorf("WaitForFirstConsumer volume in %s, want z2 (node b's zone)", z)
	}
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.Kind != "PersistentVolumeClaim" || ref.Namespace != "default" || ref.Name != "delayed" ||
		ref.UID != delayed.UID || ref.ResourceVersion != delayed.ResourceVersion || ref.APIVersion != "v1" {
		t.Errorf("claimRef %+v, want the claim %s (uid %s, rv %s)", ref, delayed.Name, delayed.UID, delayed.ResourceVersion)
	}
	if pv.Spec.CSI == nil || pv.Spec.CSI.Driver != testDriver || pv.Spec.CSI.VolumeHandle != pv.Name {
		t.Errorf("csi %+v, want driver %s, handle %s", pv.Spec.CSI, testDriver, pv.Name)
	}
	if pv.Annotations["pv.kubernetes.io/provisioned-by"] != testDriver || pv.Spec.StorageClassName != "wffc" ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("PV annotations %v, class %q, reclaim %q", pv.Annotations, pv.Spec.StorageClassName, pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if q := pv.Spec.Capacity[corev1.ResourceStorage]; q.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("capacity %s, want the request, 1Gi", q.String())
	}
	if delayed.Spec.VolumeName != "" || delayed.Status.Phase != corev1.ClaimPending { // Pending: defaulted as on read
		t.Errorf("claim volumeName %q phase %s: the stage must leave binding to the PV controller", delayed.Spec.VolumeName, delayed.Status.Phase)
	}

	zones := map[string]bool{}
	for _, c := range immediate {
		pv := getPV(t, s, "pvc-"+string(getClaim(t, s, c.Name).UID))
		z := zoneOf(t, pv)
		if z != "z2" && z != "z3" {
			t.Errorf("%s: Immediate volume in %s, outside the allowed z2, z3", c.Name, z)
		}
		zones[z] = true
		if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
			t.Errorf("%s: reclaim policy %s, want the class's Retain", c.Name, pv.Spec.PersistentVolumeReclaimPolicy)
		}
	}
	// imm-0..3 hash one name ("imm") offset by 0..3: round the two allowed zones.
	if len(zones) != 2 {
		t.Errorf("imm-0..3 in zones %v, want both allowed zones used", zones)
	}

	pvs, err := s.API().List(kinds["PersistentVolume"])
	if err != nil {
		t.Fatal(err)
	}
	if len(pvs) != 5 {
		t.Errorf("%d PVs, want 5 (delayed, imm-0..3; none for waiting or orphan)", len(pvs))
	}
	found := false
	for _, w := range s.Recorder().Events() {
		if w.Name == "orphan" && w.Type == corev1.EventTypeWarning && w.Reason == "ProvisioningFailed" &&
			w.Message == `storageclass.storage.k8s.io "gone" not found` {
			found = true
		}
	}
	if !found {
		t.Errorf("no ProvisioningFailed warning for orphan: %+v", s.Recorder().Events())
	}

	// The claim's deletion releases the volume (the PV controller's doing, by hand here);
	// pv-delete then deletes it, as the provisioner does.
	if _, err := s.API().Patch(kinds["PersistentVolume"], "", pv.Name, types.MergePatchType, []byte(`{"status":{"phase":"Released"}}`), "status"); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	// Admission gave the volume kubernetes.io/pv-protection, which the pv-protection
	// controller (workloads, not in a sim test) takes off once the volume is not Bound: here
	// the volume is left being deleted.
	if got, err := s.API().Get(kinds["PersistentVolume"], "", pv.Name); err == nil && got.(*corev1.PersistentVolume).DeletionTimestamp == nil {
		t.Errorf("released PV %s with reclaim policy Delete was not deleted", pv.Name)
	}
}

// kwokStages parses the stage files of one of KWOK's profiles under testdata/kwok/stages.
func kwokStages(t *testing.T, profile string, files ...string) []*stages.Stage {
	t.Helper()
	var set []*stages.Stage
	for _, f := range files {
		p := filepath.Join("..", "testdata", "kwok", "stages", profile, f)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		st, err := stages.Parse(data, p)
		if err != nil {
			t.Fatal(err)
		}
		set = append(set, st...)
	}
	return set
}

// KWOK's volume/fast stages provision and bind a kwok-volume claim by themselves: the PV
// (hostPath, KWOK's provisioner name) and both Bound. Next to the default set, whose
// pvc-provision waits for the PV controller's annotation, the claim is provisioned once, by
// KWOK's stage, at its creation.
func TestKWOKVolumeStagesBindAClaim(t *testing.T) {
	set := append(stages.Default(), kwokStages(t, "volume/fast", "pv-bind.yaml", "pv-delete.yaml", "pvc-provision.yaml", "pvc-delete.yaml")...)
	s := newSim(t, Config{Seed: 1, Stages: set})
	create(t, s, node("n1"),
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "kwok-volume"}, Provisioner: "kwok.x-k8s.io/volume",
			ReclaimPolicy: ptr.To(corev1.PersistentVolumeReclaimDelete), VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)},
		claim("data", "kwok-volume"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	c := getClaim(t, s, "data")
	pv := getPV(t, s, "pvc-"+string(c.UID))
	if c.Status.Phase != corev1.ClaimBound || c.Spec.VolumeName != pv.Name || pv.Status.Phase != corev1.VolumeBound {
		t.Errorf("claim %s volume %q, PV %s: want both Bound to each other", c.Status.Phase, c.Spec.VolumeName, pv.Status.Phase)
	}
	if pv.Spec.HostPath == nil || pv.Spec.CSI != nil || pv.Annotations["pv.kubernetes.io/provisioned-by"] != "kwok.x-k8s.io/volume" {
		t.Errorf("PV %+v: want KWOK's hostPath volume", pv.Spec.PersistentVolumeSource)
	}
	n := 0
	for _, tr := range s.Transitions() {
		if tr.Kind == "PersistentVolumeClaim" && tr.Stage == "pvc-provision" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d pvc-provision transitions, want 1", n)
	}
}

// The scheduler's NodeVolumeLimits plugin reads the node's CSINode: with an allocatable count
// of 2 for driver D, two pods each using a bound claim on a D volume fit, the third is
// unschedulable with the plugin's reason (nodevolumelimits/csi.go ErrReasonMaxVolumeCountExceeded).
func TestNodeVolumeLimitsReadCSINode(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	create(t, s, node("n1"),
		&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: testDriver}},
		&storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{
			{Name: testDriver, NodeID: "n1", Allocatable: &storagev1.VolumeNodeResources{Count: ptr.To[int32](2)}}}}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "csi"}, Provisioner: testDriver})
	for _, n := range []string{"v1", "v2", "v3"} {
		pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + n}, Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:       "csi",
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: testDriver, VolumeHandle: n}},
			ClaimRef:               &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "default", Name: "claim-" + n},
		}}
		c := claim("claim-"+n, "csi")
		c.Spec.VolumeName = pv.Name
		c.Annotations = map[string]string{"pv.kubernetes.io/bind-completed": "yes"}
		create(t, s, pv, c)
		if _, err := s.API().Patch(kinds["PersistentVolume"], "", pv.Name, types.MergePatchType, []byte(`{"status":{"phase":"Bound"}}`), "status"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.API().Patch(kinds["PersistentVolumeClaim"], "default", c.Name, types.MergePatchType, []byte(`{"status":{"phase":"Bound"}}`), "status"); err != nil {
			t.Fatal(err)
		}
	}
	create(t, s, podWithClaim("p1", "claim-v1"), podWithClaim("p2", "claim-v2"), podWithClaim("p3", "claim-v3"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	bound := map[string]string{}
	for _, rec := range s.Recorder().Pods() {
		bound[rec.Pod.Name] = rec.Pod.Spec.NodeName
		if rec.Pod.Name == "p3" && !strings.Contains(rec.Reason, "node(s) exceed max volume count") {
			t.Errorf("p3: reason %q, want the volume limit", rec.Reason)
		}
	}
	if bound["p1"] != "n1" || bound["p2"] != "n1" || bound["p3"] != "" {
		t.Errorf("bound %v, want p1 and p2 on n1, p3 unschedulable", bound)
	}
}

// VolumeBinding reads CSIDriver and CSIStorageCapacity: for a driver that publishes its
// capacity (storageCapacity: true), a WaitForFirstConsumer claim is provisioned only where a
// CSIStorageCapacity of the class reaches the node with room enough (binder.go
// hasEnoughCapacity). Node b has none, so the scheduler picks a and asks for provisioning there.
func TestVolumeBindingReadsStorageCapacity(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	create(t, s, zonal("b", "z2"), zonal("a", "z1"),
		&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: testDriver}, Spec: storagev1.CSIDriverSpec{StorageCapacity: ptr.To(true)}},
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "cap"}, Provisioner: testDriver,
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)},
		&storagev1.CSIStorageCapacity{ObjectMeta: metav1.ObjectMeta{Name: "z1", Namespace: "default"}, StorageClassName: "cap",
			NodeTopology: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelTopologyZone: "z1"}},
			Capacity:     ptr.To(resource.MustParse("10Gi"))},
		claim("data", "cap"), podWithClaim("p", "data"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if n := getClaim(t, s, "data").Annotations["volume.kubernetes.io/selected-node"]; n != "a" {
		t.Errorf("selected node %q, want a, the only node with storage capacity", n)
	}
}

// A copy of pvc-provision with a delay models provisioning time: the volume appears that long
// after the claim was handed over, and the wait keeps the run going (the stage is not periodic).
func TestProvisioningDelay(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "stages", "default", "pvc-provision.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	slow := strings.Replace(string(data), "\n  steps:\n", "\n  delay:\n    durationMilliseconds: 5000\n  steps:\n", 1)
	set, err := stages.Parse([]byte(slow), "slow-pvc-provision.yaml")
	if err != nil || len(set) != 1 {
		t.Fatalf("%d stages, %v", len(set), err)
	}
	s := newSim(t, Config{Seed: 1, Stages: set})
	create(t, s, zonal("a", "z1"),
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "wffc"}, Provisioner: testDriver,
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)},
		handedToProvisioner("data", "wffc", "a"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	pv := getPV(t, s, "pvc-"+string(getClaim(t, s, "data").UID))
	if at := pv.CreationTimestamp.Sub(Epoch); at != 5*time.Second {
		t.Errorf("PV created at t=%s, want 5s", at)
	}
}
