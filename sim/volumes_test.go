package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/analysis"
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

// The report's volumes section follows the claims through the API as the PV controller, a
// provisioner and the scheduler change them, on virtual time:
//   - a: Immediate class, bound at 5s to a volume with zone affinity: provisionable at
//     creation, so provisioning and binding both take 5s; its pod is then scheduled;
//   - b: WaitForFirstConsumer, selected node set at 8s (as the scheduler's PreBind does),
//     bound at 20s: provisioning 12s (from the selected node), binding 20s;
//   - c: Immediate, never bound, with a ProvisioningFailed warning: its pod waits with the
//     scheduler's message and the warning;
//   - d: WaitForFirstConsumer with a pod: the real scheduler's PreBind sets the selected
//     node, nothing provisions it, and the pod waits for it on n1;
//   - e: deleted at 30s; f: deleted at 30s but held by a finalizer, so terminating;
//   - z: Immediate, bound at 5s to a volume in zone-b, where no node is: its pod waits
//     with VolumeBinding's node affinity conflict and the volume's affinity;
//   - a pod using a claim that does not exist waits with the lister's message.
func TestVolumesReport(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	api := s.API()
	create := func(obj runtime.Object) {
		t.Helper()
		if _, err := api.Create(obj); err != nil {
			t.Fatal(err)
		}
	}
	at := func(d time.Duration, fn func() error) {
		s.Clock().AfterDelay(d, func() {
			if err := fn(); err != nil {
				t.Error(err)
			}
		})
	}
	n := node("n1")
	n.Labels["topology.kubernetes.io/zone"] = "zone-a"
	create(n)
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "example.com/csi",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)})
	create(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "example.com/csi",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)})
	for _, c := range []struct{ name, class string }{{"a", "fast"}, {"b", "local"}, {"c", "fast"}, {"d", "local"}, {"e", "fast"}, {"z", "fast"}} {
		create(claim(c.name, c.class))
	}
	f := claim("f", "fast")
	f.Finalizers = []string{"example.com/keep"}
	create(f)
	create(podWithClaim("pa", "a"))
	create(podWithClaim("pc", "c"))
	create(podWithClaim("pd", "d"))
	create(podWithClaim("pm", "nope"))
	create(podWithClaim("pz", "z"))
	// bind does what the PV controller does once a volume exists: the volume's claimRef and
	// phase, then the claim's volumeName and phase (pv_controller.go bind).
	bind := func(claimName string, affinity *corev1.VolumeNodeAffinity) func() error {
		return func() error {
			pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + claimName},
				Spec: corev1.PersistentVolumeSpec{
					Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
					StorageClassName:              map[string]string{"a": "fast", "b": "local", "z": "fast"}[claimName],
					NodeAffinity:                  affinity,
					ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "default", Name: claimName},
					PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "csi.example.com", VolumeHandle: claimName}},
				}}
			if _, err := api.Create(pv); err != nil {
				return err
			}
			if _, err := api.Patch(kinds["PersistentVolume"], "", pv.Name, types.MergePatchType, []byte(`{"status":{"phase":"Bound"}}`), "status"); err != nil {
				return err
			}
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"pv.kubernetes.io/bind-completed":"yes"}},"spec":{"volumeName":%q}}`, pv.Name)
			if _, err := api.Patch(kinds["PersistentVolumeClaim"], "default", claimName, types.MergePatchType, []byte(patch), ""); err != nil {
				return err
			}
			_, err := api.Patch(kinds["PersistentVolumeClaim"], "default", claimName, types.MergePatchType, []byte(`{"status":{"phase":"Bound"}}`), "status")
			return err
		}
	}
	zoneA := &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"zone-a"}}},
	}}}}
	zoneB := zoneA.DeepCopy()
	zoneB.Required.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"zone-b"}
	at(3*time.Second, func() error {
		s.Recorder().Warn("PersistentVolumeClaim", "default", "c", "ProvisioningFailed", `storageclass.storage.k8s.io "nope" not found`)
		return nil
	})
	at(5*time.Second, bind("a", zoneA))
	at(5*time.Second, bind("z", zoneB))
	at(8*time.Second, func() error {
		_, err := api.Patch(kinds["PersistentVolumeClaim"], "default", "b", types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"volume.kubernetes.io/selected-node":"n1"}}}`), "")
		return err
	})
	at(20*time.Second, bind("b", nil))
	at(30*time.Second, func() error {
		if err := api.Delete(kinds["PersistentVolumeClaim"], "default", "e", metav1.DeleteOptions{}); err != nil {
			return err
		}
		// No pod uses e: the pvc-protection controller (workloads, not in a sim test) would
		// take the finalizer admission gave it off at once.
		if _, err := api.Patch(kinds["PersistentVolumeClaim"], "default", "e", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), ""); err != nil {
			return err
		}
		return api.Delete(kinds["PersistentVolumeClaim"], "default", "f", metav1.DeleteOptions{})
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	r := analysis.Build(o)
	v := r.Volumes
	if v == nil {
		t.Fatal("no volumes section")
	}
	if want := (analysis.ClaimCounts{Total: 7, Pending: 3, Bound: 3, Terminating: 1, Deleted: 1}); v.Claims != want {
		t.Errorf("claims %+v, want %+v", v.Claims, want)
	}
	if want := (analysis.Distribution{P50: 5, P90: 12, P99: 12, Max: 12, Count: 3}); v.Provisioning != want {
		t.Errorf("provisioning %+v, want %+v", v.Provisioning, want)
	}
	if want := (analysis.Distribution{P50: 5, P90: 20, P99: 20, Max: 20, Count: 3}); v.Binding != want {
		t.Errorf("binding %+v, want %+v", v.Binding, want)
	}
	wantClasses := []analysis.StorageClassClaims{
		{StorageClass: "fast", Claims: analysis.ClaimCounts{Total: 5, Pending: 2, Bound: 2, Terminating: 1, Deleted: 1}},
		{StorageClass: "local", Claims: analysis.ClaimCounts{Total: 2, Pending: 1, Bound: 1}},
	}
	if fmt.Sprint(v.StorageClasses) != fmt.Sprint(wantClasses) {
		t.Errorf("storage classes %+v, want %+v", v.StorageClasses, wantClasses)
	}
	claims := map[string]analysis.ClaimReport{}
	for _, c := range v.PersistentVolumeClaims {
		claims[c.Name] = c
	}
	if a := claims["a"]; a.Volume != "pv-a" || a.VolumeAffinity != "topology.kubernetes.io/zone In [zone-a]" {
		t.Errorf("claim a: volume %q affinity %q", a.Volume, a.VolumeAffinity)
	}
	if d := claims["d"]; d.SelectedNode != "n1" || d.ProvisionableAt == nil {
		t.Errorf("claim d: selected node %q, provisionable at %v: want n1, set", d.SelectedNode, d.ProvisionableAt)
	}
	var waiting []string
	for _, p := range v.PodsWaiting {
		waiting = append(waiting, p.Name+" "+p.Claim+" "+p.ClaimPhase)
	}
	if want := []string{"pc c Pending", "pd d Pending", "pm nope Missing", "pz z Bound"}; fmt.Sprint(waiting) != fmt.Sprint(want) {
		t.Errorf("pods waiting %q, want %q", waiting, want)
	}
	if len(v.PodsWaiting) == 4 {
		pc, pd, pm, pz := v.PodsWaiting[0], v.PodsWaiting[1], v.PodsWaiting[2], v.PodsWaiting[3]
		if !strings.Contains(pz.Reason, "node(s) didn't match PersistentVolume's node affinity") ||
			!strings.HasSuffix(pz.Reason, "(claim z: volume pv-z requires topology.kubernetes.io/zone In [zone-b])") {
			t.Errorf("pz reason %q", pz.Reason)
		}
		if !strings.Contains(pc.Reason, "pod has unbound immediate PersistentVolumeClaims") ||
			!strings.HasSuffix(pc.Reason, `(claim c: ProvisioningFailed: storageclass.storage.k8s.io "nope" not found)`) {
			t.Errorf("pc reason %q", pc.Reason)
		}
		if pd.Reason != "waiting for the volume of claim d to be provisioned on node n1" {
			t.Errorf("pd reason %q", pd.Reason)
		}
		if !strings.Contains(pm.Reason, `persistentvolumeclaim "nope" not found`) {
			t.Errorf("pm reason %q", pm.Reason)
		}
	}
	for _, p := range r.Pods {
		if p.Name == "pa" && p.Node != "n1" {
			t.Errorf("pa on %q after its claim bound, want n1", p.Node)
		}
	}
}

// The claim log keeps one record per claim whatever the number of writes; a claim deleted and
// created again under its name is a second record, and an event on that name goes to the one
// that exists.
func TestClaimLogOneRecordPerClaim(t *testing.T) {
	var l claimLog
	c := claim("data", "fast")
	c.Namespace, c.UID = "default", "uid-1"
	for i := range 100 {
		c.Annotations = map[string]string{"n": fmt.Sprint(i)}
		l.observeClaim(watch.Modified, c, false, time.Duration(i)*time.Second)
	}
	l.observeClaim(watch.Deleted, c, false, 100*time.Second)
	again := c.DeepCopy()
	again.UID = "uid-2"
	l.observeClaim(watch.Added, again, false, 101*time.Second)
	l.warn(Event{At: 102 * time.Second, Namespace: "default", Name: "data", Reason: "ProvisioningFailed", Message: "m"})
	recs := l.records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	if recs[0].DeletedAt == nil || *recs[0].DeletedAt != 100*time.Second || recs[0].LastWarning != nil {
		t.Errorf("first claim: deleted at %v, warning %+v; want 100s, none", recs[0].DeletedAt, recs[0].LastWarning)
	}
	if *recs[0].CreatedAt != 0 || *recs[1].CreatedAt != 101*time.Second || recs[1].LastWarning == nil || recs[1].LastWarning.Reason != "ProvisioningFailed" {
		t.Errorf("records %+v", recs)
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
