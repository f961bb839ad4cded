package workloads_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// The scenarios for volumes, end to end: the StatefulSet controller creates the claims,
// the scheduler's VolumeBinding picks the node and asks for provisioning (WaitForFirstConsumer),
// the PV controller marks the claim for the class's provisioner, the default pvc-provision stage
// creates the volume in the chosen node's zone, the PV controller binds it, and the pod binds.
// What a real cluster does here, and what is checked:
//   - every claim is provisioned in the zone of its pod's node (external-provisioner takes the
//     topology of the selected node: GenerateAccessibilityRequirements);
//   - a pod recreated later keeps its claim (the StatefulSet controller reuses
//     <template>-<set>-<ordinal>) and can only go where the volume is (VolumeBinding's
//     FindPodVolumes checks a bound PV's node affinity);
//   - when the volume's zone is gone, the pod stays Pending with VolumeBinding's reason
//     ErrReasonNodeConflict, "node(s) didn't match PersistentVolume's node affinity".

const zonalDriver = "ebs.csi.aws.com"

// zonalClass is a WaitForFirstConsumer class of a zonal CSI driver, as EBS's gp3 class is.
func zonalClass(name string, isDefault bool) *storagev1.StorageClass {
	c := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: name},
		Provisioner:       zonalDriver,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}
	if isDefault {
		c.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	}
	return c
}

// statefulSetWithClaims is workloadstest.StatefulSet with a volumeClaimTemplate "data" of the
// class (nil: no class named), mounted by its pods.
func statefulSetWithClaims(name string, replicas int32, class *string) *appsv1.StatefulSet {
	set := workloadstest.StatefulSet(name, replicas, appsv1.OrderedReadyPodManagement)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("10Gi")}},
		},
	}}
	c := &set.Spec.Template.Spec.Containers[0]
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	return set
}

// threeZones is two nodes in each of zones a, b and c.
func threeZones() []*corev1.Node {
	var nodes []*corev1.Node
	for _, z := range []string{"a", "b", "c"} {
		for i := 1; i <= 2; i++ {
			nodes = append(nodes, zoneNode(fmt.Sprintf("node-%s%d", z, i), "zone-"+z, 4))
		}
	}
	return nodes
}

func createNodes(t *testing.T, s *sim.Simulator, nodes []*corev1.Node) {
	t.Helper()
	for _, n := range nodes {
		workloadstest.Create(t, s, n)
	}
}

// volumeZone is the zone a PersistentVolume's node affinity requires ("" when it has none).
func volumeZone(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range term.MatchExpressions {
			if e.Key == corev1.LabelTopologyZone && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// claimsAndPods checks that every pod of web is Running on a node, its claim data-<pod> Bound
// to a volume in the node's zone, and returns each pod's node and its claim's UID.
func claimsAndPods(t *testing.T, s *sim.Simulator, replicas int) (nodes map[string]string, claims map[string]string) {
	t.Helper()
	zones := map[string]string{}
	for _, n := range workloadstest.List[*corev1.Node](t, s, "Node") {
		zones[n.Name] = n.Labels[corev1.LabelTopologyZone]
	}
	nodes, claims = map[string]string{}, map[string]string{}
	for i := 0; i < replicas; i++ {
		name := fmt.Sprintf("web-%d", i)
		pod := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", name)
		if pod.Status.Phase != corev1.PodRunning || pod.Spec.NodeName == "" {
			t.Errorf("%s: phase %s on %q, want Running on a node", name, pod.Status.Phase, pod.Spec.NodeName)
			continue
		}
		pvc := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", "data-"+name)
		if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
			t.Errorf("claim data-%s: phase %s volume %q, want Bound", name, pvc.Status.Phase, pvc.Spec.VolumeName)
			continue
		}
		pv := workloadstest.MustGet[*corev1.PersistentVolume](t, s, "PersistentVolume", pvc.Spec.VolumeName)
		if got, want := volumeZone(pv), zones[pod.Spec.NodeName]; got != want || want == "" {
			t.Errorf("%s on %s (zone %q): its volume %s is in zone %q", name, pod.Spec.NodeName, want, pv.Name, got)
		}
		if pv.Status.Phase != corev1.VolumeBound || pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID != pvc.UID {
			t.Errorf("volume %s: phase %s claimRef %+v, want Bound to data-%s", pv.Name, pv.Status.Phase, pv.Spec.ClaimRef, name)
		}
		nodes[name], claims[name] = pod.Spec.NodeName, string(pvc.UID)
	}
	return nodes, claims
}

func TestStatefulSetClaimsFollowTheirPodsZone(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), Until: 10 * time.Minute})
	createNodes(t, s, threeZones())
	workloadstest.Create(t, s, zonalClass("gp3", false), statefulSetWithClaims("web", 3, ptr.To("gp3")))
	var nodes, claims map[string]string
	podKind, _ := sim.KindNamed("Pod")
	// At 5 minutes every pod runs; pod 1 is then deleted, and the StatefulSet recreates it
	// with the same claim, in the same zone.
	s.Clock().At(sim.Epoch.Add(5*time.Minute), func() {
		nodes, claims = claimsAndPods(t, s, 3)
		if err := s.API().Delete(podKind, "default", "web-1", metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	// The default spreading puts the three pods in three zones.
	seen := map[string]bool{}
	for _, n := range nodes {
		seen[n[:len("node-a")]] = true
	}
	if len(seen) != 3 {
		t.Errorf("pods on %v, want one per zone", nodes)
	}
	again, claimsAgain := claimsAndPods(t, s, 3)
	if zone := nodes["web-1"][:len("node-a")]; !strings.HasPrefix(again["web-1"], zone) {
		t.Errorf("web-1 recreated on %s, want a node of %s", again["web-1"], zone)
	}
	if claimsAgain["web-1"] != claims["web-1"] {
		t.Errorf("web-1's claim is a new one (uid %s, was %s)", claimsAgain["web-1"], claims["web-1"])
	}
	if n := len(workloadstest.List[*corev1.PersistentVolume](t, s, "PersistentVolume")); n != 3 {
		t.Errorf("%d volumes, want 3", n)
	}
}

// A zone whose nodes are gone (their VMs deleted: the Node objects go, and the pod garbage
// collector deletes their pods): the StatefulSet recreates its pod there, and the pod cannot
// follow its volume. A real cluster leaves it Pending with VolumeBinding's
// "node(s) didn't match PersistentVolume's node affinity" (ErrReasonNodeConflict) for every node left; the other pods keep running.
func TestStatefulSetPodStaysPendingWhenItsVolumeZoneIsGone(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), Until: 15 * time.Minute})
	createNodes(t, s, threeZones())
	workloadstest.Create(t, s, zonalClass("gp3", false), statefulSetWithClaims("web", 3, ptr.To("gp3")))
	nodeKind, _ := sim.KindNamed("Node")
	var lost string // the pod whose zone goes
	s.Clock().At(sim.Epoch.Add(5*time.Minute), func() {
		nodes, _ := claimsAndPods(t, s, 3)
		lost = "web-2"
		zone := nodes[lost][:len("node-a")]
		for i := 1; i <= 2; i++ {
			if err := s.API().Delete(nodeKind, "", fmt.Sprintf("%s%d", zone, i), metav1.DeleteOptions{}); err != nil {
				t.Error(err)
			}
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if t.Failed() {
		return
	}
	pod := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", lost)
	if pod.Spec.NodeName != "" || pod.Status.Phase != corev1.PodPending {
		t.Fatalf("%s: on %q phase %s, want Pending and not bound", lost, pod.Spec.NodeName, pod.Status.Phase)
	}
	var reason string
	for _, r := range s.Recorder().Pods() {
		if r.Pod.Name == lost && r.DeletedAt == nil {
			reason = r.Reason
		}
	}
	if want := "0/4 nodes are available: 4 node(s) didn't match PersistentVolume's node affinity."; !strings.HasPrefix(reason, want) {
		t.Errorf("%s's reason %q, want it to start with %q", lost, reason, want)
	}
	for _, name := range []string{"web-0", "web-1"} {
		if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", name); p.Status.Phase != corev1.PodRunning {
			t.Errorf("%s: %s, want Running", name, p.Status.Phase)
		}
	}
}

// NodeVolumeLimits (CSILimits) reads the node's CSINode: a driver allocatable count of 2 lets
// two pods with the driver's volumes on the node, and the third cannot go there. A claim not yet
// bound counts by its class's provisioner (csi.go, getCSIDriverInfoFromSC), so the limit holds
// before any volume exists.
func TestCSINodeLimitCapsVolumesPerNode(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), Until: 5 * time.Minute})
	n := zoneNode("node-a1", "zone-a", 8)
	createNodes(t, s, []*corev1.Node{n})
	workloadstest.Create(t, s, &storagev1.CSINode{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name},
		Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{
			Name: zonalDriver, NodeID: n.Name, TopologyKeys: []string{corev1.LabelTopologyZone},
			Allocatable: &storagev1.VolumeNodeResources{Count: ptr.To[int32](2)},
		}}},
	})
	set := statefulSetWithClaims("web", 3, ptr.To("gp3"))
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	workloadstest.Create(t, s, zonalClass("gp3", false), set)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	running, pending := 0, map[string]string{}
	for _, r := range s.Recorder().Pods() {
		if r.DeletedAt != nil {
			continue
		}
		switch r.Pod.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			pending[r.Pod.Name] = r.Reason
		}
	}
	if running != 2 || len(pending) != 1 {
		t.Fatalf("%d running, pending %v; want 2 running and 1 pending", running, pending)
	}
	for name, reason := range pending {
		if want := "0/1 nodes are available: 1 node(s) exceed max volume count."; !strings.HasPrefix(reason, want) {
			t.Errorf("%s: reason %q, want it to start with %q", name, reason, want)
		}
	}
}

// A claim without a class takes the default class at creation (the DefaultStorageClass
// admission plugin); one naming a class that does not exist stays Pending, and so does its pod.
func TestDefaultStorageClassAndMissingClass(t *testing.T) {
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default(), Until: 5 * time.Minute})
	createNodes(t, s, threeZones())
	workloadstest.Create(t, s, zonalClass("gp3", true),
		statefulSetWithClaims("web", 1, nil), statefulSetWithClaims("db", 1, ptr.To("nope")))
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	web := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", "data-web-0")
	if c := ptr.Deref(web.Spec.StorageClassName, "<nil>"); c != "gp3" || web.Status.Phase != corev1.ClaimBound {
		t.Errorf("data-web-0: class %s, phase %s; want gp3, Bound", c, web.Status.Phase)
	}
	db := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", "data-db-0")
	if db.Status.Phase == corev1.ClaimBound || db.Spec.VolumeName != "" {
		t.Errorf("data-db-0 of a missing class: phase %s volume %q, want Pending", db.Status.Phase, db.Spec.VolumeName)
	}
	if p := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", "db-0"); p.Spec.NodeName != "" {
		t.Errorf("db-0 bound to %s, want Pending", p.Spec.NodeName)
	}
	var events []string
	for _, e := range s.Recorder().Events() {
		if e.Name == "data-db-0" {
			events = append(events, e.Reason+": "+e.Message)
		}
	}
	if want := `ProvisioningFailed: storageclass.storage.k8s.io "nope" not found`; !slices.Contains(events, want) {
		t.Errorf("events of data-db-0: %q, want %q", events, want)
	}
	// The workload says why its pod waits: the scheduler's message and the claim's warning.
	o, err := s.Observe()
	if err != nil {
		t.Fatal(err)
	}
	var wait *analysis.WorkloadVolumeWait
	for _, w := range analysis.Build(o).Workloads {
		if w.Kind == "StatefulSet" && w.Name == "db" {
			wait = w.VolumeWait
		}
	}
	if wait == nil || wait.Pods != 1 || !strings.Contains(wait.Reason, "pod has unbound immediate PersistentVolumeClaims") ||
		!strings.Contains(wait.Reason, `storageclass.storage.k8s.io "nope" not found`) {
		t.Errorf("StatefulSet db's volume wait %+v, want 1 pod, the scheduler's message and the claim's warning", wait)
	}
}

// The volumes scenario of the README — claims provisioned by a stage with random delays, the
// scheduler's waits, a zone lost — gives byte-identical reports run after run and whatever the
// number of OS threads; another seed draws other delays.
func TestVolumesReportIsDeterministic(t *testing.T) {
	const dir = "../testdata/scenarios/statefulset-zones/"
	objs, _, err := manifest.LoadMixed([]string{dir + "nodes.yaml", dir + "workloads.yaml"}, manifest.LoadOptions{}, workloads.Served)
	if err != nil {
		t.Fatal(err)
	}
	manifest.SortInstallOrder(objs)
	var sc workloads.Scenario
	for _, o := range objs {
		if _, ok := o.Obj.(*corev1.Node); ok {
			sc.Nodes = append(sc.Nodes, o)
		} else {
			sc.Workloads = append(sc.Workloads, o)
		}
	}
	data, err := os.ReadFile(dir + "pvc-provision-ebs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	slow, err := stages.Parse(data, "pvc-provision-ebs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages.Default() {
		if s.Name != "pvc-provision" {
			sc.Stages = append(sc.Stages, s)
		}
	}
	sc.Stages = append(sc.Stages, slow...)
	sc.Traces = []string{dir + "zone-outage.yaml"}
	sc.Seed = 7
	var first []byte
	for i, procs := range []int{1, 2, 1} {
		prev := runtime.GOMAXPROCS(procs)
		got, r := reportJSON(t, sc)
		runtime.GOMAXPROCS(prev)
		if i == 0 {
			first = got
			if v := r.Volumes; v == nil || v.Claims.Bound != 3 || v.Provisioning.Count != 3 || v.Provisioning.Max <= 5 || len(v.PodsWaiting) != 1 {
				t.Fatalf("scenario did not run as expected: volumes %+v", r.Volumes)
			}
			continue
		}
		if !bytes.Equal(first, got) {
			t.Fatalf("run %d (GOMAXPROCS=%d) differs from run 0:\n%s", i, procs, workloadstest.FirstDifference(first, got))
		}
	}
	sc.Seed = 8
	if other, _ := reportJSON(t, sc); bytes.Equal(first, other) {
		t.Errorf("seeds 7 and 8 gave identical reports")
	}
}
