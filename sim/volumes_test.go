package sim

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func claim(name, class string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To(class),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("1Gi"),
			}},
		},
	}
}

func podWithClaim(name, claimName string) *corev1.Pod {
	p := pod(name)
	p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName},
	}}}
	return p
}

// The scheduler's VolumeBinding plugin reads the stored claims and classes, and says what the
// real scheduler says (pkg/scheduler/framework/plugins/volumebinding):
//   - a missing claim: PreFilter fails with the lister's not-found error;
//   - an unbound claim of an Immediate class: PreFilter waits for the PV controller
//     ("pod has unbound immediate PersistentVolumeClaims");
//   - an unbound claim of a WaitForFirstConsumer class whose provisioner cannot provision
//     (kubernetes.io/no-provisioner, local volumes) and no PersistentVolume to match: Filter
//     rejects every node with ErrReasonBindConflict.
//
// kwoksim has no PV controller yet: in a real cluster the Immediate claim would be bound by
// kube-controller-manager (or provisioned) and the pod then scheduled; the
// WaitForFirstConsumer one stays unschedulable there too until a matching PV exists. A claim of
// a class with a real provisioner passes Filter, and PreBind asks for provisioning on the
// chosen node (the claim's selected-node annotation); in a real cluster the provisioner then
// creates and binds a volume and the pod starts, here nothing does and the pod stays pending
// (the volumes issue adds provisioning).
func TestVolumeBindingReadsClaims(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	create := func(obj runtime.Object) {
		t.Helper()
		if _, err := s.API().Create(obj); err != nil {
			t.Fatal(err)
		}
	}
	create(node("n1"))
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "kubernetes.io/no-provisioner",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)})
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "immediate"}, Provisioner: "example.com/csi",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)})
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "csi"}, Provisioner: "example.com/csi",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)})
	create(claim("local-claim", "local"))
	create(claim("immediate-claim", "immediate"))
	create(claim("csi-claim", "csi"))
	create(podWithClaim("missing", "nope"))
	create(podWithClaim("delayed", "local-claim"))
	create(podWithClaim("immediate", "immediate-claim"))
	create(podWithClaim("provisioned", "csi-claim"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"missing":   `persistentvolumeclaim "nope" not found`,
		"delayed":   "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.",
		"immediate": "pod has unbound immediate PersistentVolumeClaims",
		// Filter passes (the class can provision); PreBind asks for provisioning on n1, then
		// gives up at once rather than poll the wall clock for ten minutes (noVolumeBindWait).
		"provisioned": "binding volumes: context deadline exceeded",
	}
	c, err := s.API().Get(kinds["PersistentVolumeClaim"], "default", "csi-claim")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.(*corev1.PersistentVolumeClaim).Annotations["volume.kubernetes.io/selected-node"]; n != "n1" {
		t.Errorf("csi-claim selected node %q, want n1", n)
	}
	for _, rec := range s.Recorder().Pods() {
		w, ok := want[rec.Pod.Name]
		if !ok {
			continue
		}
		if rec.Pod.Spec.NodeName != "" {
			t.Errorf("%s scheduled on %s, want it unschedulable", rec.Pod.Name, rec.Pod.Spec.NodeName)
		}
		if !strings.Contains(rec.Reason, w) {
			t.Errorf("%s: reason %q, want it to contain %q", rec.Pod.Name, rec.Reason, w)
		}
		delete(want, rec.Pod.Name)
	}
	if len(want) > 0 {
		t.Errorf("no record of %v", want)
	}
}

// DefaultStorageClass and StorageObjectInUseProtection (sim/storageadmission.go): a claim
// created without a class gets the newest default class (util.GetDefaultClass: creation time,
// newest first), one asking for "" keeps none, one naming a class keeps it; every claim gets
// kubernetes.io/pvc-protection and every volume kubernetes.io/pv-protection.
func TestStorageAdmission(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	create := func(obj runtime.Object) runtime.Object {
		t.Helper()
		out, err := s.API().Create(obj)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	def := func(name string) *storagev1.StorageClass {
		return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name,
			Annotations: map[string]string{IsDefaultStorageClassAnnotation: "true"}}, Provisioner: "example.com/csi"}
	}
	create(def("older"))
	s.Clock().At(Epoch.Add(2*time.Second), func() { create(def("newer")) })
	s.Clock().At(Epoch.Add(3*time.Second), func() {
		none := claim("none", "")
		none.Spec.StorageClassName = nil
		got := map[string]*corev1.PersistentVolumeClaim{
			"none":  create(none).(*corev1.PersistentVolumeClaim),
			"empty": create(claim("empty", "")).(*corev1.PersistentVolumeClaim),
			"named": create(claim("named", "older")).(*corev1.PersistentVolumeClaim),
		}
		for name, want := range map[string]string{"none": "newer", "empty": "", "named": "older"} {
			c := got[name]
			if c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != want {
				t.Errorf("claim %s: storageClassName %v, want %q", name, c.Spec.StorageClassName, want)
			}
			if !slices.Equal(c.Finalizers, []string{PVCProtectionFinalizer}) {
				t.Errorf("claim %s: finalizers %v, want [%s]", name, c.Finalizers, PVCProtectionFinalizer)
			}
		}
		pv := create(&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}, Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
		}}).(*corev1.PersistentVolume)
		if !slices.Equal(pv.Finalizers, []string{PVProtectionFinalizer}) {
			t.Errorf("volume finalizers %v, want [%s]", pv.Finalizers, PVProtectionFinalizer)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
}
