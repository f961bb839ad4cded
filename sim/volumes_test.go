package sim

import (
	"fmt"
	"reflect"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
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
//     rejects every node with ErrReasonBindConflict;
//   - a claim of a class with a real provisioner passes Filter, and PreBind asks for
//     provisioning on the chosen node (the claim's selected-node annotation), then waits for
//     it: the pod is assumed on n1, not bound, and listed by ParkedPods.
//
// No PV controller runs in these tests: in a real cluster the Immediate claim would be bound by
// kube-controller-manager (or provisioned) and the pod then scheduled; the WaitForFirstConsumer
// one stays unschedulable there too until a matching PV exists. The wait's deadline is
// background work, so the run ends at once with the pod still waiting.
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
	create(csiClass())
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
	if s.Elapsed() != 0 {
		t.Errorf("the run ended at t=%s, want 0: a volume wait must not keep a run going", s.Elapsed())
	}
	want := map[string]string{
		"missing":   `persistentvolumeclaim "nope" not found`,
		"delayed":   "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.",
		"immediate": "pod has unbound immediate PersistentVolumeClaims",
		// Filter passes (the class can provision); PreBind asks for provisioning on n1 and
		// waits: no failure yet.
		"provisioned": "",
	}
	if n := selectedNode(t, s, "csi-claim"); n != "n1" {
		t.Errorf("csi-claim selected node %q, want n1", n)
	}
	for _, rec := range s.Recorder().Pods() {
		w, ok := want[rec.Pod.Name]
		if !ok {
			continue
		}
		if rec.Pod.Spec.NodeName != "" {
			t.Errorf("%s scheduled on %s, want it pending", rec.Pod.Name, rec.Pod.Spec.NodeName)
		}
		if w == "" && rec.Reason != "" || !strings.Contains(rec.Reason, w) {
			t.Errorf("%s: reason %q, want it to contain %q", rec.Pod.Name, rec.Reason, w)
		}
		delete(want, rec.Pod.Name)
	}
	if len(want) > 0 {
		t.Errorf("no record of %v", want)
	}
	wantParked := []ParkedPod{{Namespace: "default", Name: "provisioned", Node: "n1", Since: 0, Deadline: 600 * time.Second,
		Claims: []string{"default/csi-claim"}}}
	if got := withoutUIDs(s.ParkedPods()); !reflect.DeepEqual(got, wantParked) {
		t.Errorf("parked pods %+v, want %+v", got, wantParked)
	}
	// The report says why the pod is pending.
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(o.Warnings); n != 1 || o.Warnings[0].Name != "provisioned" || o.Warnings[0].Reason != "WaitingForVolumeBinding" ||
		!strings.Contains(o.Warnings[0].Message, "node n1") || !strings.Contains(o.Warnings[0].Message, "default/csi-claim") {
		t.Errorf("warnings %+v, want one saying provisioned waits on n1 for default/csi-claim", o.Warnings)
	}
	if n := len(s.Recorder().warnings); n != 0 {
		t.Errorf("Observe added %d warnings to the recorder", n)
	}
}

func csiClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "csi"}, Provisioner: "example.com/csi",
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)}
}

func withoutUIDs(ps []ParkedPod) []ParkedPod {
	for i := range ps {
		ps[i].UID = ""
	}
	return ps
}

func getClaim(t *testing.T, s *Simulator, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	c, err := s.API().Get(kinds["PersistentVolumeClaim"], "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*corev1.PersistentVolumeClaim).DeepCopy()
}

func selectedNode(t *testing.T, s *Simulator, claimName string) string {
	t.Helper()
	return getClaim(t, s, claimName).Annotations["volume.kubernetes.io/selected-node"]
}

// localPV is a PersistentVolume of class class on node; claimRef set when claim is not nil.
func localPV(name, class, node string, claim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: "csi.example.com", VolumeHandle: name}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
		},
		Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeAvailable},
	}
	if claim != nil {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
			Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID}
		pv.Status.Phase = corev1.VolumeBound
	}
	return pv
}

// createPV stores a PV and sets its phase as the PV controller would (the apiserver's strategy
// stores a new PV as Pending).
func createPV(s *Simulator, pv *corev1.PersistentVolume) error {
	phase := pv.Status.Phase
	obj, err := s.API().Create(pv)
	if err != nil {
		return err
	}
	pv = obj.(*corev1.PersistentVolume).DeepCopy()
	pv.Status.Phase = phase
	_, err = s.API().UpdateStatus(pv)
	return err
}

// bindClaim does what the PV controller does last when it binds a claim to a volume
// (pkg/controller/volume/persistentvolume: bindClaimToVolume, then updateClaimStatus): the
// volume name and pv.kubernetes.io/bind-completed, then the Bound phase.
func bindClaim(s *Simulator, name, pvName string) error {
	obj, err := s.API().Get(kinds["PersistentVolumeClaim"], "default", name)
	if err != nil {
		return err
	}
	c := obj.(*corev1.PersistentVolumeClaim).DeepCopy()
	c.Spec.VolumeName = pvName
	metav1.SetMetaDataAnnotation(&c.ObjectMeta, "pv.kubernetes.io/bind-completed", "yes")
	obj, err = s.API().Update(c)
	if err != nil {
		return err
	}
	c = obj.(*corev1.PersistentVolumeClaim).DeepCopy()
	c.Status.Phase = corev1.ClaimBound
	c.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}
	_, err = s.API().UpdateStatus(c)
	return err
}

// at runs fn at virtual time d as a clock event, failing the run on error.
func at(t *testing.T, s *Simulator, d time.Duration, fn func() error) {
	s.Clock().At(Epoch.Add(d), func() {
		if err := fn(); err != nil {
			t.Errorf("at t=%s: %v", d, err)
		}
	})
}

// provisionAt does, at d, what an external provisioner and the PV controller do for a claim
// whose selected node is set: a PV on that node bound to the claim, then the claim bound.
func provisionAt(t *testing.T, s *Simulator, d time.Duration, claimName, pvName string) {
	at(t, s, d, func() error {
		c := getClaim(t, s, claimName)
		node := c.Annotations["volume.kubernetes.io/selected-node"]
		if node == "" {
			return fmt.Errorf("claim %s has no selected node", claimName)
		}
		if err := createPV(s, localPV(pvName, *c.Spec.StorageClassName, node, c)); err != nil {
			return err
		}
		return bindClaim(s, claimName, pvName)
	})
}

func cpuPod(p *corev1.Pod, cpu string) *corev1.Pod {
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	return p
}

func recordOf(t *testing.T, s *Simulator, name string) analysis.PodRecord {
	t.Helper()
	for _, r := range s.Recorder().Pods() {
		if r.Pod.Name == name {
			return r
		}
	}
	t.Fatalf("no record of pod %s", name)
	return analysis.PodRecord{}
}

// schedulerEvent is the first event the scheduler recorded for a pod with the given reason.
func schedulerEvent(s *Simulator, pod, reason string) (Event, bool) {
	for _, e := range s.Recorder().Events() {
		if e.Kind == "Pod" && e.Name == pod && e.Reason == reason {
			return e, true
		}
	}
	return Event{}, false
}

// A claim of a WaitForFirstConsumer class with a provisioner: PreBind sets the selected node
// and waits (volumebinding binder.go BindPodVolumes). The provisioner and the PV controller,
// simulated by hand here, bind the claim at t=30s; the wait notices, and the real framework
// binds the pod then, on the node chosen at t=0. Meanwhile other pods are scheduled, and the
// waiting pod's resources count on its node (it is assumed there): a pod that does not fit
// beside it is unschedulable.
func TestVolumeWaitEndsWhenProvisioned(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), cpuPod(podWithClaim("app", "data"), "3"),
		cpuPod(pod("big"), "3"), cpuPod(pod("small"), "500m"))
	var parked []ParkedPod
	at(t, s, 10*time.Second, func() error { parked = withoutUIDs(s.ParkedPods()); return nil })
	provisionAt(t, s, 30*time.Second, "data", "pv-data")
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	want := []ParkedPod{{Namespace: "default", Name: "app", Node: "n1", Since: 0, Deadline: 600 * time.Second, Claims: []string{"default/data"}}}
	if !reflect.DeepEqual(parked, want) {
		t.Errorf("parked at t=10s: %+v, want %+v", parked, want)
	}
	app := recordOf(t, s, "app")
	if app.Pod.Spec.NodeName != "n1" || app.ScheduledAt == nil || *app.ScheduledAt != 30*time.Second {
		t.Errorf("app: node %q, scheduled at %v; want n1 at 30s", app.Pod.Spec.NodeName, app.ScheduledAt)
	}
	if app.Attempts != 1 || app.Reason != "" {
		t.Errorf("app: %d attempts, reason %q; want 1 attempt and no failure", app.Attempts, app.Reason)
	}
	if small := recordOf(t, s, "small"); small.ScheduledAt == nil || *small.ScheduledAt != 0 {
		t.Errorf("small scheduled at %v, want 0 while app waits", small.ScheduledAt)
	}
	if big := recordOf(t, s, "big"); big.Pod.Spec.NodeName != "" || !strings.Contains(big.Reason, "Insufficient cpu") {
		t.Errorf("big: node %q, reason %q; want it pending for cpu, app's 3 CPUs counted on n1", big.Pod.Spec.NodeName, big.Reason)
	}
	if got := s.ParkedPods(); len(got) != 0 {
		t.Errorf("still parked: %+v", got)
	}
}

// BindPodVolumes polls on a one-second ticker started by its writes, the first check a second
// after them (wait.PollUntilContextTimeout, immediate false): a claim bound just after it is
// asked for binds its pod at 1 s, one bound at 4.5 s binds it at the 5 s poll.
func TestVolumeWaitPollsEverySecond(t *testing.T) {
	for _, c := range []struct{ bound, want time.Duration }{{time.Millisecond, time.Second}, {4500 * time.Millisecond, 5 * time.Second}} {
		s := newSim(t, Config{Seed: 1})
		mustCreate(t, s, node("n1"))
		createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
		provisionAt(t, s, c.bound, "data", "pv-data")
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		if app := recordOf(t, s, "app"); app.ScheduledAt == nil || *app.ScheduledAt != c.want {
			t.Errorf("claim bound at %v: app scheduled at %v, want %v", c.bound, app.ScheduledAt, c.want)
		}
	}
}

// Nothing ever provisions the claim: the wait times out after bindTimeoutSeconds (600 s) of
// virtual time with the real message, and the pod goes to the error backoff and is retried,
// waiting again. The deadline is background work: the run ends at --until.
func TestVolumeWaitTimesOut(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: 700 * time.Second})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ev, ok := schedulerEvent(s, "app", "FailedScheduling")
	if !ok {
		t.Fatalf("no FailedScheduling event; events: %+v", s.Recorder().Events())
	}
	const msg = "binding volumes: context deadline exceeded"
	if ev.At != 600*time.Second || !strings.Contains(ev.Message, msg) {
		t.Errorf("FailedScheduling at %s: %q; want at 600s, containing %q", ev.At, ev.Message, msg)
	}
	app := recordOf(t, s, "app")
	if app.Attempts != 2 || !strings.Contains(app.Reason, msg) || app.Pod.Spec.NodeName != "" {
		t.Errorf("app: %d attempts, reason %q, node %q; want 2 attempts, the timeout, pending", app.Attempts, app.Reason, app.Pod.Spec.NodeName)
	}
	parked := s.ParkedPods()
	if len(parked) != 1 || parked[0].Since <= 600*time.Second || parked[0].Since > 610*time.Second ||
		parked[0].Deadline != parked[0].Since+600*time.Second {
		t.Errorf("parked after the retry: %+v, want app waiting again from just after 600s", parked)
	}
	if s.Elapsed() != 700*time.Second {
		t.Errorf("the run ended at %s, want 700s", s.Elapsed())
	}
}

// A configured bindTimeoutSeconds is the virtual timeout.
func TestVolumeWaitConfiguredTimeout(t *testing.T) {
	cfg, err := ParseSchedulerConfig("config.yaml", []byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: VolumeBinding
    args:
      bindTimeoutSeconds: 45
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, Config{Seed: 1, Until: 50 * time.Second, SchedulerConfig: cfg})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ev, ok := schedulerEvent(s, "app", "FailedScheduling")
	if !ok || ev.At != 45*time.Second || !strings.Contains(ev.Message, "binding volumes: context deadline exceeded") {
		t.Errorf("FailedScheduling %+v (found %v), want the timeout at 45s", ev, ok)
	}
}

// The provisioner gives up: it removes the selected-node annotation (the external
// provisioner's signal to reschedule), and the wait fails with checkBindings' message. The PV
// controller set volume.kubernetes.io/storage-provisioner before, so annotations remain. The
// retry on the error backoff is background work: --until lets the run reach it.
func TestVolumeWaitProvisioningFailed(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: 30 * time.Second})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
	at(t, s, 10*time.Second, func() error {
		c := getClaim(t, s, "data")
		if c.Annotations["volume.kubernetes.io/selected-node"] != "n1" {
			return fmt.Errorf("selected node %q, want n1", c.Annotations["volume.kubernetes.io/selected-node"])
		}
		c.Annotations["volume.kubernetes.io/storage-provisioner"] = "example.com/csi"
		delete(c.Annotations, "volume.kubernetes.io/selected-node")
		_, err := s.API().Update(c)
		return err
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ev, ok := schedulerEvent(s, "app", "FailedScheduling")
	const msg = `binding volumes: provisioning failed for PVC "data"`
	if !ok || ev.At != 10*time.Second || !strings.Contains(ev.Message, msg) {
		t.Errorf("FailedScheduling %+v (found %v), want at 10s containing %q", ev, ok, msg)
	}
	// Retried after the backoff: it asks again, on the only node.
	if n := selectedNode(t, s, "data"); n != "n1" {
		t.Errorf("selected node after the retry %q, want n1", n)
	}
}

// The pod is deleted while it waits: checkBindings' "pod does not exist any more".
func TestVolumeWaitPodDeleted(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
	at(t, s, 5*time.Second, func() error {
		return s.API().Delete(kinds["Pod"], "default", "app", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ev, ok := schedulerEvent(s, "app", "FailedScheduling")
	if !ok || ev.At != 5*time.Second || !strings.Contains(ev.Message, "binding volumes: pod does not exist any more") {
		t.Errorf("FailedScheduling %+v (found %v), want at 5s: pod does not exist any more", ev, ok)
	}
	if got := s.ParkedPods(); len(got) != 0 {
		t.Errorf("still parked: %+v", got)
	}
}

// A static PV matches the claim (no provisioner, WaitForFirstConsumer): PreBind writes the
// PV's claimRef (AssumePodVolumes, then bindAPIUpdate) and waits for the PV controller, here
// the test, to bind the claim at t=5s; then the pod is bound.
func TestVolumeWaitStaticBinding(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n1"), node("n2"))
	createAll(t, s,
		&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "kubernetes.io/no-provisioner",
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer)},
		claim("data", "local"), podWithClaim("app", "data"))
	if err := createPV(s, localPV("pv-n2", "local", "n2", nil)); err != nil {
		t.Fatal(err)
	}
	var ref *corev1.ObjectReference
	at(t, s, 5*time.Second, func() error {
		obj, err := s.API().Get(kinds["PersistentVolume"], "", "pv-n2")
		if err != nil {
			return err
		}
		ref = obj.(*corev1.PersistentVolume).Spec.ClaimRef
		return bindClaim(s, "data", "pv-n2")
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if ref == nil || ref.Namespace != "default" || ref.Name != "data" || ref.UID == "" {
		t.Errorf("pv-n2's claimRef at t=5s: %+v, want the claim default/data with its UID", ref)
	}
	app := recordOf(t, s, "app")
	if app.Pod.Spec.NodeName != "n2" || app.ScheduledAt == nil || *app.ScheduledAt != 5*time.Second {
		t.Errorf("app: node %q at %v, want n2 (the PV's node) at 5s", app.Pod.Spec.NodeName, app.ScheduledAt)
	}
}

// A waiting pod is a preemption victim like a bound one: the real executor cancels its
// binding cycle (PreemptPod: CancelPod on a pod in PreBind) instead of deleting it; the wait
// ends with the cancellation, the victim goes back to the queue, and the preemptor takes
// its place.
func TestVolumeWaitPreempted(t *testing.T) {
	s := newSim(t, Config{Seed: 1, Until: 20 * time.Second})
	mustCreate(t, s, node("n1"))
	vip := cpuPod(pod("vip"), "3")
	vip.Spec.PriorityClassName = "high"
	createAll(t, s, csiClass(), claim("data", "csi"), cpuPod(podWithClaim("victim", "data"), "3"),
		&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000})
	at(t, s, 5*time.Second, func() error { _, err := s.API().Create(vip); return err })
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	ev, ok := schedulerEvent(s, "victim", "FailedScheduling")
	if !ok || ev.At != 5*time.Second || !strings.Contains(ev.Message, "preempted") {
		t.Errorf("victim's FailedScheduling %+v (found %v), want at 5s, preempted", ev, ok)
	}
	if v := recordOf(t, s, "vip"); v.Pod.Spec.NodeName != "n1" {
		t.Errorf("vip on %q (reason %q), want n1", v.Pod.Spec.NodeName, v.Reason)
	}
	if v := recordOf(t, s, "victim"); v.Pod.Spec.NodeName != "" {
		t.Errorf("victim bound to %q, want it pending", v.Pod.Spec.NodeName)
	}
}

// A configuration that disables VolumeBinding keeps it disabled: the scheduler then ignores
// claims, and the pod is bound at once (kubelet would wait for the volume).
func TestVolumeBindingDisabled(t *testing.T) {
	cfg, err := ParseSchedulerConfig("config.yaml", []byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      disabled:
      - name: VolumeBinding
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(t, Config{Seed: 1, SchedulerConfig: cfg})
	mustCreate(t, s, node("n1"))
	createAll(t, s, csiClass(), claim("data", "csi"), podWithClaim("app", "data"))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if app := recordOf(t, s, "app"); app.Pod.Spec.NodeName != "n1" {
		t.Errorf("app on %q (reason %q), want n1", app.Pod.Spec.NodeName, app.Reason)
	}
	if n := selectedNode(t, s, "data"); n != "" {
		t.Errorf("claim's selected node %q, want none", n)
	}
}

// volumeWaitFingerprint runs a scenario of many waits (provisioned at several instants, some
// failing, some timing out) and returns what the run recorded.
func volumeWaitFingerprint(t *testing.T) string {
	s := newSim(t, Config{Seed: 7, Until: 1300 * time.Second})
	mustCreate(t, s, node("n1"), node("n2"), node("n3"))
	if _, err := s.API().Create(csiClass()); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		c, p := fmt.Sprintf("data-%d", i), fmt.Sprintf("app-%d", i)
		createAll(t, s, claim(c, "csi"), cpuPod(podWithClaim(p, c), "1"))
		switch i % 4 {
		case 0, 1: // all provisioned at the same instant
			provisionAt(t, s, 20*time.Second, c, "pv-"+c)
		case 2: // provisioning fails, then succeeds after the retry
			at(t, s, 7*time.Second, func() error {
				cl := getClaim(t, s, c)
				cl.Annotations["volume.kubernetes.io/storage-provisioner"] = "example.com/csi"
				delete(cl.Annotations, "volume.kubernetes.io/selected-node")
				_, err := s.API().Update(cl)
				return err
			})
			provisionAt(t, s, 40*time.Second, c, "pv-"+c)
		} // 3: never; times out at 600s and waits again
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range s.Recorder().Pods() {
		fmt.Fprintf(&b, "%s node=%s at=%v attempts=%d reason=%q\n", r.Pod.Name, r.Pod.Spec.NodeName, fmtDur(r.ScheduledAt), r.Attempts, r.Reason)
	}
	for _, e := range s.Recorder().Events() {
		fmt.Fprintf(&b, "%s %s %s %s %q\n", e.At, e.Kind, e.Name, e.Reason, e.Message)
	}
	for _, p := range s.ParkedPods() {
		fmt.Fprintf(&b, "parked %s %s %s %s %v\n", p.Name, p.Node, p.Since, p.Deadline, p.Claims)
	}
	return b.String()
}

func fmtDur(d *time.Duration) string {
	if d == nil {
		return "-"
	}
	return d.String()
}

// Waits are woken on the simulation goroutine, one at a time in park order: the same seed
// gives the same run, twice and at GOMAXPROCS 1 and 2.
func TestVolumeWaitIsDeterministic(t *testing.T) {
	var first string
	for i, procs := range []int{1, 1, 2, 2} {
		prev := goruntime.GOMAXPROCS(procs)
		got := volumeWaitFingerprint(t)
		goruntime.GOMAXPROCS(prev)
		if i == 0 {
			first = got
			// The scenario did what it is meant to: bound after provisioning at 20s and
			// 40s, a provisioning failure, timeouts, and waits left at the end.
			for _, want := range []string{"at=20s", "at=40s", `provisioning failed for PVC \"data-2\"`, "context deadline exceeded", "parked app-3"} {
				if !strings.Contains(got, want) {
					t.Fatalf("scenario did not run as expected (no %q):\n%s", want, got)
				}
			}
			continue
		}
		if got != first {
			t.Fatalf("run %d (GOMAXPROCS=%d) differs from run 0:\n%s\n---\n%s", i, procs, first, got)
		}
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

// createAll stores the objects, failing the test on the first error.
func createAll(t *testing.T, s *Simulator, objs ...runtime.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := s.API().Create(o); err != nil {
			t.Fatal(err)
		}
	}
}
