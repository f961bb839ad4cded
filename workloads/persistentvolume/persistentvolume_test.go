package persistentvolume_test

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

func class(name, provisioner string, mode storagev1.VolumeBindingMode) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner, VolumeBindingMode: &mode}
}

func claim(name string, class *string, size string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}},
		},
	}
}

func volume(name, class, size string, policy corev1.PersistentVolumeReclaimPolicy) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName:              class,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: policy,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com", VolumeHandle: name}},
		},
	}
}

// at runs fn at a virtual time.
func at(s *sim.Simulator, d time.Duration, fn func()) { s.Clock().At(sim.Epoch.Add(d), fn) }

func run(t *testing.T, s *sim.Simulator) {
	t.Helper()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
}

func getClaim(t *testing.T, s *sim.Simulator, name string) *corev1.PersistentVolumeClaim {
	return workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", name)
}

func getVolume(t *testing.T, s *sim.Simulator, name string) *corev1.PersistentVolume {
	return workloadstest.MustGet[*corev1.PersistentVolume](t, s, "PersistentVolume", name)
}

// claimEvents lists a claim's events as "t reason: message".
func claimEvents(s *sim.Simulator, name string) []string {
	var out []string
	for _, e := range s.Recorder().Events() {
		if e.Kind == "PersistentVolumeClaim" && e.Name == name {
			out = append(out, e.At.String()+" "+e.Reason+": "+e.Message)
		}
	}
	return out
}

// wantBound checks what pv_controller.go's bind() writes on both sides.
func wantBound(t *testing.T, s *sim.Simulator, claimName, volumeName, capacity string) {
	t.Helper()
	c, v := getClaim(t, s, claimName), getVolume(t, s, volumeName)
	if c.Spec.VolumeName != volumeName || c.Status.Phase != corev1.ClaimBound {
		t.Fatalf("claim %s: volumeName %q phase %s, want %s Bound", claimName, c.Spec.VolumeName, c.Status.Phase, volumeName)
	}
	for _, a := range []string{storagehelpers.AnnBindCompleted, storagehelpers.AnnBoundByController} {
		if c.Annotations[a] != "yes" {
			t.Errorf("claim annotation %s = %q, want yes", a, c.Annotations[a])
		}
	}
	if got := c.Status.Capacity[corev1.ResourceStorage]; got.String() != capacity {
		t.Errorf("claim capacity %s, want the volume's %s", got.String(), capacity)
	}
	if !slices.Equal(c.Status.AccessModes, v.Spec.AccessModes) {
		t.Errorf("claim accessModes %v, want %v", c.Status.AccessModes, v.Spec.AccessModes)
	}
	if ref := v.Spec.ClaimRef; ref == nil || ref.Name != claimName || ref.Namespace != "default" || ref.UID != c.UID {
		t.Fatalf("volume claimRef %+v, want default/%s uid %s", v.Spec.ClaimRef, claimName, c.UID)
	}
	if v.Status.Phase != corev1.VolumeBound {
		t.Errorf("volume phase %s, want Bound", v.Status.Phase)
	}
}

// An Immediate claim binds at once to the smallest Available volume of its class that fits
// (FindMatchingVolume), and both objects carry the finalizers admission adds.
func TestStaticBindingOfAnImmediateClaim(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s,
		class("manual", "kubernetes.io/no-provisioner", storagev1.VolumeBindingImmediate),
		volume("big", "manual", "10Gi", corev1.PersistentVolumeReclaimRetain),
		volume("small", "manual", "2Gi", corev1.PersistentVolumeReclaimRetain),
		volume("tiny", "manual", "512Mi", corev1.PersistentVolumeReclaimRetain),
		claim("data", ptr.To("manual"), "1Gi"))
	run(t, s)
	wantBound(t, s, "data", "small", "2Gi")
	if v := getVolume(t, s, "small"); v.Annotations[storagehelpers.AnnBoundByController] != "yes" {
		t.Errorf("volume annotations %v, want %s", v.Annotations, storagehelpers.AnnBoundByController)
	}
	if v := getVolume(t, s, "big"); v.Status.Phase != corev1.VolumeAvailable || v.Spec.ClaimRef != nil {
		t.Errorf("unused volume: phase %s claimRef %v, want Available and unbound", v.Status.Phase, v.Spec.ClaimRef)
	}
	if c := getClaim(t, s, "data"); !slices.Contains(c.Finalizers, sim.PVCProtectionFinalizer) {
		t.Errorf("claim finalizers %v, want %s", c.Finalizers, sim.PVCProtectionFinalizer)
	}
	if v := getVolume(t, s, "small"); !slices.Contains(v.Finalizers, sim.PVProtectionFinalizer) {
		t.Errorf("volume finalizers %v, want %s", v.Finalizers, sim.PVProtectionFinalizer)
	}
	workloadstest.NoWarnings(t, s)
}

// A WaitForFirstConsumer claim with no pod gets the WaitForFirstConsumer event and stays
// Pending; once the scheduler's selected-node annotation is on it, the controller asks the
// external provisioner (both provisioner annotations, ExternalProvisioning); a volume then
// created for it with a claimRef, as a provisioner does, gets both bound at that instant.
func TestDelayedBindingAndExternalProvisioning(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s,
		class("csi", "example.com/csi", storagev1.VolumeBindingWaitForFirstConsumer),
		claim("data", ptr.To("csi"), "1Gi"))
	at(s, 5*time.Second, func() {
		c := getClaim(t, s, "data")
		if c.Status.Phase != corev1.ClaimPending || c.Annotations[storagehelpers.AnnStorageProvisioner] != "" {
			t.Errorf("before a node is selected: phase %s annotations %v, want Pending and none", c.Status.Phase, c.Annotations)
		}
		metav1.SetMetaDataAnnotation(&c.ObjectMeta, storagehelpers.AnnSelectedNode, "n1")
		if _, err := s.API().Update(c); err != nil {
			t.Error(err)
		}
	})
	at(s, 10*time.Second, func() {
		c := getClaim(t, s, "data")
		for _, a := range []string{storagehelpers.AnnStorageProvisioner, storagehelpers.AnnBetaStorageProvisioner} {
			if c.Annotations[a] != "example.com/csi" {
				t.Errorf("claim annotation %s = %q, want example.com/csi", a, c.Annotations[a])
			}
		}
		pv := volume("pvc-"+string(c.UID), "csi", "1Gi", corev1.PersistentVolumeReclaimDelete)
		pv.Annotations = map[string]string{storagehelpers.AnnDynamicallyProvisioned: "example.com/csi"}
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "default", Name: "data", UID: c.UID}
		if _, err := s.API().Create(pv); err != nil {
			t.Error(err)
		}
	})
	run(t, s)
	c := getClaim(t, s, "data")
	wantBound(t, s, "data", "pvc-"+string(c.UID), "1Gi")
	want := []string{
		"0s WaitForFirstConsumer: waiting for first consumer to be created before binding",
		"5s ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'example.com/csi' " +
			"or manually by the system administrator. If volume creation is delayed, please verify that the provisioner " +
			"is running and correctly registered.",
	}
	if got := claimEvents(s, "data"); !slices.Equal(got, want) {
		t.Errorf("claim events:\n got %q\nwant %q", got, want)
	}
	if got := s.Clock().Now().Sub(sim.Epoch); got != 10*time.Second {
		t.Errorf("run ended at %v, want 10s (bound at once, the resyncs are background)", got)
	}
}

// Without a matching volume: an unknown class fails provisioning with the class lister's
// error, a claim asking for no class ("") gets FailedBinding, kubernetes.io/no-provisioner
// with Immediate binding finds no volume plugin; all stay Pending and none is annotated.
func TestClaimsThatCannotBind(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s,
		class("local", "kubernetes.io/no-provisioner", storagev1.VolumeBindingImmediate),
		claim("unknown", ptr.To("nope"), "1Gi"),
		claim("classless", ptr.To(""), "1Gi"),
		claim("local", ptr.To("local"), "1Gi"))
	run(t, s)
	want := map[string]string{
		"unknown":   `0s ProvisioningFailed: storageclass.storage.k8s.io "nope" not found`,
		"classless": "0s FailedBinding: no persistent volumes available for this claim and no storage class is set",
		"local":     "0s ProvisioningFailed: no volume plugin matched name: kubernetes.io/no-provisioner",
	}
	for name, w := range want {
		if got := claimEvents(s, name); !slices.Equal(got, []string{w}) {
			t.Errorf("%s: events %q, want %q", name, got, w)
		}
		// provisionClaim returns before the claim's status is written, so its phase is the
		// created one: "" as stored here, Pending as a real apiserver's read defaults it.
		c := getClaim(t, s, name)
		if (c.Status.Phase != corev1.ClaimPending && c.Status.Phase != "") || c.Annotations[storagehelpers.AnnStorageProvisioner] != "" {
			t.Errorf("%s: phase %s annotations %v, want Pending, not annotated", name, c.Status.Phase, c.Annotations)
		}
	}
}

// A claim created with no class while no default class exists keeps none; a default class
// created later is assigned by the controller at its next resync (assignDefaultStorageClass,
// every 15 s from its start), which then provisions.
func TestDefaultClassAssignedAtResync(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s, claim("data", nil, "1Gi"))
	at(s, 20*time.Second, func() {
		sc := class("standard", "example.com/csi", storagev1.VolumeBindingImmediate)
		sc.Annotations = map[string]string{sim.IsDefaultStorageClassAnnotation: "true"}
		workloadstest.Create(t, s, sc)
	})
	run(t, s)
	c := getClaim(t, s, "data")
	if got := ptr.Deref(c.Spec.StorageClassName, "<nil>"); got != "standard" {
		t.Fatalf("storageClassName %s, want standard", got)
	}
	events := claimEvents(s, "data")
	if len(events) != 2 || events[0] != "0s FailedBinding: no persistent volumes available for this claim and no storage class is set" ||
		events[1][:len("30s ExternalProvisioning")] != "30s ExternalProvisioning" {
		t.Errorf("claim events %q, want FailedBinding at 0s then ExternalProvisioning at the 30s resync", events)
	}
}

// Deleting a claim that no pod uses removes it (pvc-protection lets it go), and its Retain
// volume becomes Released and stays so, still naming the claim.
func TestClaimDeletionReleasesTheVolume(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s, volume("pv", "manual", "1Gi", corev1.PersistentVolumeReclaimRetain), claim("data", ptr.To("manual"), "1Gi"))
	deleteAt(t, s, 5*time.Second, "PersistentVolumeClaim", "data")
	run(t, s)
	if _, err := s.API().Get(kind(t, "PersistentVolumeClaim"), "default", "data"); !apierrors.IsNotFound(err) {
		t.Fatalf("claim after deletion: %v, want not found", err)
	}
	v := getVolume(t, s, "pv")
	if v.Status.Phase != corev1.VolumeReleased || v.Spec.ClaimRef == nil || v.Spec.ClaimRef.Name != "data" {
		t.Errorf("volume phase %s claimRef %v, want Released, still naming data", v.Status.Phase, v.Spec.ClaimRef)
	}
}

// A claim used by a running pod stays Terminating when deleted, until the pod is gone; then
// it goes, and its volume is Released.
func TestPVCProtectionKeepsAUsedClaim(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default"}, Spec: workloadstest.PodSpec("100m")}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"),
		volume("pv", "manual", "1Gi", corev1.PersistentVolumeReclaimRetain), claim("data", ptr.To("manual"), "1Gi"), pod)
	deleteAt(t, s, 5*time.Second, "PersistentVolumeClaim", "data")
	at(s, 10*time.Second, func() {
		c := getClaim(t, s, "data")
		if c.DeletionTimestamp == nil || !slices.Contains(c.Finalizers, sim.PVCProtectionFinalizer) {
			t.Errorf("used claim at 10s: deletionTimestamp %v finalizers %v, want Terminating with the finalizer", c.DeletionTimestamp, c.Finalizers)
		}
		if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "app"); p.Spec.NodeName != "n1" {
			t.Errorf("pod on %q, want n1", p.Spec.NodeName)
		}
	})
	deleteAt(t, s, 20*time.Second, "Pod", "app")
	run(t, s)
	if _, err := s.API().Get(kind(t, "PersistentVolumeClaim"), "default", "data"); !apierrors.IsNotFound(err) {
		t.Fatalf("claim after its pod went: %v, want not found", err)
	}
	if v := getVolume(t, s, "pv"); v.Status.Phase != corev1.VolumeReleased {
		t.Errorf("volume phase %s, want Released", v.Status.Phase)
	}
}

func kind(t *testing.T, name string) *sim.Kind {
	k, err := sim.KindNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func deleteAt(t *testing.T, s *sim.Simulator, d time.Duration, kindName, name string) {
	at(s, d, func() {
		if err := s.API().Delete(kind(t, kindName), "default", name, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
}

// pv-protection: a Bound volume deleted stays (Terminating) and keeps its claim Bound; once its
// claim is deleted the volume is Released, loses its finalizer and goes.
func TestPVProtectionKeepsABoundVolume(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s, volume("pv", "manual", "1Gi", corev1.PersistentVolumeReclaimDelete), claim("data", ptr.To("manual"), "1Gi"))
	at(s, 5*time.Second, func() {
		if err := s.API().Delete(kind(t, "PersistentVolume"), "", "pv", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	at(s, 8*time.Second, func() {
		v := getVolume(t, s, "pv")
		if v.DeletionTimestamp == nil || v.Status.Phase != corev1.VolumeBound {
			t.Errorf("deleted Bound volume at 8s: deletionTimestamp %v phase %s, want Terminating and Bound", v.DeletionTimestamp, v.Status.Phase)
		}
		if c := getClaim(t, s, "data"); c.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim phase %s, want Bound", c.Status.Phase)
		}
	})
	deleteAt(t, s, 10*time.Second, "PersistentVolumeClaim", "data")
	run(t, s)
	if _, err := s.API().Get(kind(t, "PersistentVolume"), "", "pv"); !apierrors.IsNotFound(err) {
		t.Fatalf("volume after its claim went: %v, want not found", err)
	}
}

// An in-tree provisioner migrated to CSI (kubernetes.io/aws-ebs) is asked for by its CSI
// driver's name, as provisionClaimOperationExternal does after GetCSINameFromInTreeName.
func TestMigratedInTreeProvisionerIsExternal(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 1})
	workloadstest.Create(t, s, class("gp2", "kubernetes.io/aws-ebs", storagev1.VolumeBindingImmediate), claim("data", ptr.To("gp2"), "1Gi"))
	run(t, s)
	c := getClaim(t, s, "data")
	for _, a := range []string{storagehelpers.AnnStorageProvisioner, storagehelpers.AnnBetaStorageProvisioner} {
		if c.Annotations[a] != "ebs.csi.aws.com" {
			t.Errorf("claim annotation %s = %q, want ebs.csi.aws.com", a, c.Annotations[a])
		}
	}
}
