package workloads_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/resourceclaim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// draScenario is testdata/scenarios/dra-claims in install order: three nodes (two with the DRA
// test driver's two devices each, in upstream scheduler_perf's dra/templates shapes) and a Job
// of six 10-minute pods, each claiming one device through upstream's ResourceClaimTemplate.
func draScenario(t *testing.T) (nodes, objs []manifest.Object) {
	t.Helper()
	const dir = "../testdata/scenarios/dra-claims/"
	all, skipped, err := manifest.LoadMixed([]string{dir + "nodes.yaml", dir + "workloads.yaml"}, manifest.LoadOptions{}, workloads.Served)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) > 0 {
		t.Fatalf("skipped: %+v", skipped)
	}
	manifest.SortInstallOrder(all)
	for _, o := range all {
		if _, ok := o.Obj.(*corev1.Node); ok {
			nodes = append(nodes, o)
		} else {
			objs = append(objs, o)
		}
	}
	return nodes, objs
}

// claimLife is one generated claim's history, in virtual time since the start.
type claimLife struct {
	pod                              string
	created, allocated, reserved     time.Duration
	released, deallocated, deletedAt time.Duration
	device                           string
	first                            *resourcev1.ResourceClaim
}

// The Done-when of issue 25: a DeviceClass/ResourceClaimTemplate workload in the shape of
// upstream scheduler_perf's DRA templates schedules every pod, and claims are deallocated when
// their pods end. Four devices, six pods: four run at t=0, each on a device of its own; when
// they succeed at 10m their claims lose the reservation and the allocation and are deleted at
// that instant, and the two waiting pods get the freed devices then.
func TestDRAClaimTemplateJob(t *testing.T) {
	nodes, objs := draScenario(t)
	s := workloadstest.Sim(t, sim.Config{Seed: 3, Stages: stages.Default()})
	h := workloadstest.Record(s)
	for _, o := range append(nodes, objs...) {
		workloadstest.Create(t, s, o.Obj)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err) // also: the run must end by itself
	}

	podCreated := map[string]time.Duration{}
	podBound := map[string]time.Duration{}
	podDone := map[string]time.Duration{}
	podNode := map[string]string{}
	lives := map[string]*claimLife{}
	var order []string
	inUse := map[string]string{} // device → claim holding it
	for _, e := range *h {
		switch obj := e.Event.Object.(type) {
		case *corev1.Pod:
			if e.Event.Type == watch.Added {
				podCreated[obj.Name] = e.At
			}
			if obj.Spec.NodeName != "" {
				if _, ok := podBound[obj.Name]; !ok {
					podBound[obj.Name], podNode[obj.Name] = e.At, obj.Spec.NodeName
				}
			}
			if obj.Status.Phase == corev1.PodSucceeded {
				if _, ok := podDone[obj.Name]; !ok {
					podDone[obj.Name] = e.At
				}
			}
		case *resourcev1.ResourceClaim:
			l := lives[obj.Name]
			if e.Event.Type == watch.Added {
				l = &claimLife{created: e.At, allocated: -1, reserved: -1, released: -1, deallocated: -1, deletedAt: -1, first: obj}
				if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "Pod" {
					l.pod = ref.Name
				}
				lives[obj.Name] = l
				order = append(order, obj.Name)
			}
			if e.Event.Type == watch.Deleted {
				l.deletedAt = e.At
				if obj.Status.Allocation != nil {
					t.Errorf("claim %s removed while allocated", obj.Name)
				}
				continue
			}
			var old *resourcev1.ResourceClaim
			if e.Event.Old != nil {
				old = e.Event.Old.(*resourcev1.ResourceClaim)
			}
			switch {
			case obj.Status.Allocation != nil && (old == nil || old.Status.Allocation == nil):
				l.allocated = e.At
				r := obj.Status.Allocation.Devices.Results
				if len(r) != 1 {
					t.Fatalf("claim %s allocated %d devices, want 1", obj.Name, len(r))
				}
				l.device = r[0].Pool + "/" + r[0].Device
				if holder, ok := inUse[l.device]; ok {
					t.Errorf("t=%v: device %s allocated to %s while %s holds it", e.At, l.device, obj.Name, holder)
				}
				inUse[l.device] = obj.Name
			case obj.Status.Allocation == nil && old != nil && old.Status.Allocation != nil:
				l.deallocated = e.At
				delete(inUse, l.device)
			}
			if len(obj.Status.ReservedFor) > 0 && l.reserved < 0 {
				l.reserved = e.At
				if r := obj.Status.ReservedFor; len(r) != 1 || r[0].Resource != "pods" || r[0].Name != l.pod {
					t.Errorf("claim %s reserved for %+v, want its pod %s alone", obj.Name, r, l.pod)
				}
			}
			if len(obj.Status.ReservedFor) == 0 && old != nil && len(old.Status.ReservedFor) > 0 {
				l.released = e.At
			}
		}
	}

	pods := workloadstest.List[*corev1.Pod](t, s, "Pod")
	if len(pods) != 6 || len(lives) != 6 {
		t.Fatalf("%d pods and %d claims, want 6 of each", len(pods), len(lives))
	}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded || !strings.HasPrefix(podNode[p.Name], "scheduler-perf-dra-") {
			t.Errorf("pod %s: phase %s on %q, want Succeeded on a node with the driver", p.Name, p.Status.Phase, podNode[p.Name])
		}
		if st := p.Status.ResourceClaimStatuses; len(st) != 1 || st[0].Name != "resource" || st[0].ResourceClaimName == nil {
			t.Errorf("pod %s: resourceClaimStatuses %+v", p.Name, st)
		}
	}
	const run = 10 * time.Minute
	var waited int
	for _, name := range order {
		l := lives[name]
		c := l.first
		if !strings.HasPrefix(c.Name, l.pod+"-resource-") || c.Annotations[resourcev1.PodResourceClaimAnnotation] != "resource" ||
			!ptr.Deref(metav1.GetControllerOf(c).Controller, false) || c.Spec.Devices.Requests[0].Exactly.DeviceClassName != "test-class" {
			t.Errorf("claim %s: not generated from the template for its pod %q: %+v", c.Name, l.pod, c.ObjectMeta)
		}
		if l.created != podCreated[l.pod] {
			t.Errorf("claim %s created at %v, its pod at %v", name, l.created, podCreated[l.pod])
		}
		if l.allocated != podBound[l.pod] || l.reserved != podBound[l.pod] {
			t.Errorf("claim %s allocated at %v, reserved at %v, its pod bound at %v", name, l.allocated, l.reserved, podBound[l.pod])
		}
		end := podDone[l.pod]
		if l.released != end || l.deallocated != end || l.deletedAt != end {
			t.Errorf("claim %s: released %v, deallocated %v, deleted %v; its pod succeeded at %v", name, l.released, l.deallocated, l.deletedAt, end)
		}
		switch podBound[l.pod] {
		case 0:
		case run:
			waited++
		default:
			t.Errorf("pod %s bound at %v, want 0 or %v (when the first pods' devices are freed)", l.pod, podBound[l.pod], run)
		}
	}
	if waited != 2 {
		t.Errorf("%d pods waited for a device, want 2", waited)
	}
	if left := workloadstest.List[*resourcev1.ResourceClaim](t, s, "ResourceClaim"); len(left) != 0 {
		t.Errorf("%d claims left", len(left))
	}
	workloadstest.NoWarnings(t, s)
}

// A pod whose ResourceClaimTemplate does not exist stays pending: the controller records
// upstream's FailedResourceClaimCreation warning on it, with the lookup's error, and its
// failing sync, and the scheduler's PreEnqueue says what it waits for. Run through
// workloads.Run, as kwoksim run does, with the scenario's manifests in install order.
func TestDRAMissingTemplateIsReported(t *testing.T) {
	nodes, objs := draScenario(t)
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers:     []corev1.Container{{Name: "pause", Image: "pause", Resources: corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "gpu"}}}}},
			ResourceClaims: []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr.To("missing")}},
		},
	}
	objs = append(objs, manifest.Object{Obj: pod})
	var state []runtime.Object
	r, err := workloads.Run(context.Background(), workloads.Scenario{
		Config: sim.Config{Seed: 1}, Nodes: nodes, Workloads: objs,
		WriteState: func(objs []runtime.Object) error { state = objs; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Summary.Pods; p.Total != 7 || p.Scheduled != 6 || p.Succeeded != 6 || p.Pending != 1 {
		t.Errorf("pods %+v, want the Job's 6 scheduled and succeeded and the orphan pending", p)
	}
	want := `PodResourceClaim gpu: resource claim template "missing": resourceclaimtemplates.resource.k8s.io "missing" not found`
	var warned, failed bool
	for _, w := range r.Warnings {
		if w.Kind == "Pod" && w.Name == "orphan" {
			warned = warned || w.Reason == resourceclaim.ReasonFailedResourceClaimCreation && w.Message == want
			failed = failed || w.Reason == "SyncFailed" && strings.Contains(w.Message, want)
		}
	}
	if !warned || !failed {
		t.Errorf("want a %s warning and a SyncFailed on pod orphan saying %q; warnings: %+v", resourceclaim.ReasonFailedResourceClaimCreation, want, r.Warnings)
	}
	for _, p := range r.Pods {
		if p.Name == "orphan" && !strings.Contains(p.GatedReason, "DynamicResources") {
			t.Errorf("orphan: gatedReason %q, want the DynamicResources plugin's", p.GatedReason)
		}
	}
	for _, o := range state {
		if c, ok := o.(*resourcev1.ResourceClaim); ok {
			t.Errorf("claim %s left at the end", c.Name)
		}
	}
}

// ResourceClaims are charged to ResourceQuotas by upstream's evaluator: with room for three
// test-class devices in the namespace, three of the Job's claims are created at t=0 and the
// others are refused ("exceeded quota", reported as FailedResourceClaimCreation on their pods)
// until claims are deleted and the quota controller replenishes the quota; the retries, at
// their back-off, then create them, and every pod ends up running once.
func TestDRAClaimsAreChargedToQuota(t *testing.T) {
	nodes, objs := draScenario(t)
	s := workloadstest.Sim(t, sim.Config{Seed: 1, Stages: stages.Default()})
	live, most := 0, 0
	s.API().Watch(func(ev sim.WatchEvent) {
		if _, ok := ev.Object.(*resourcev1.ResourceClaim); ok {
			switch ev.Type {
			case watch.Added:
				live++
				most = max(most, live)
			case watch.Deleted:
				live--
			}
		}
	})
	for _, o := range nodes {
		workloadstest.Create(t, s, o.Obj)
	}
	workloadstest.Create(t, s, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "devices", Namespace: "default"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"test-class.deviceclass.resource.k8s.io/devices": resource.MustParse("3")}},
	})
	// The quota controller fills in the status at t=0, before the claims are created.
	s.Clock().At(sim.Epoch.Add(time.Second), func() {
		for _, o := range objs {
			workloadstest.Create(t, s, o.Obj)
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if most != 3 {
		t.Errorf("at most %d claims at once, want the quota's 3", most)
	}
	for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
		if p.Status.Phase != corev1.PodSucceeded {
			t.Errorf("pod %s %s, want Succeeded", p.Name, p.Status.Phase)
		}
	}
	refused := 0
	for _, e := range s.Recorder().Events() {
		if e.Reason == resourceclaim.ReasonFailedResourceClaimCreation && strings.Contains(e.Message, "exceeded quota: devices") {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no claim was refused by the quota")
	}
}

// A deleted pod's claim goes with it: the garbage collector deletes the claim its pod owned,
// the delete-protection finalizer holds it until the controller has dropped the gone pod from
// status.reservedFor and cleared the allocation, and the pod waiting for a device gets the
// freed one at that instant.
func TestDRAClaimOfDeletedPodIsReleased(t *testing.T) {
	nodes, objs := draScenario(t)
	s := workloadstest.Sim(t, sim.Config{Seed: 2, Stages: stages.Default()})
	for _, o := range nodes {
		workloadstest.Create(t, s, o.Obj)
	}
	for _, o := range objs {
		if _, isJob := o.Obj.(*batchv1.Job); !isJob {
			workloadstest.Create(t, s, o.Obj)
		}
	}
	for i := range 5 {
		workloadstest.Create(t, s, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: "default"},
			Spec: corev1.PodSpec{
				Containers:     []corev1.Container{{Name: "pause", Image: "pause", Resources: corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "resource"}}}}},
				ResourceClaims: []corev1.PodResourceClaim{{Name: "resource", ResourceClaimTemplateName: ptr.To("test-claim-template")}},
			},
		})
	}
	h := workloadstest.Record(s)
	podKind, _ := sim.KindNamed("Pod")
	s.Clock().At(sim.Epoch.Add(time.Minute), func() {
		for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
			if p.Spec.NodeName != "" {
				if err := s.API().Delete(podKind, p.Namespace, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
					t.Error(err)
				}
				return
			}
		}
	})
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	var deleted string
	var claimGone, waiterBound time.Duration = -1, -1
	for _, e := range *h {
		switch obj := e.Event.Object.(type) {
		case *corev1.Pod:
			if e.Event.Type == watch.Deleted {
				deleted = obj.Name
			} else if old, ok := e.Event.Old.(*corev1.Pod); ok && old.Spec.NodeName == "" && obj.Spec.NodeName != "" {
				waiterBound = e.At
			}
		case *resourcev1.ResourceClaim:
			if e.Event.Type == watch.Deleted {
				if obj.Status.Allocation != nil || len(obj.Status.ReservedFor) > 0 || metav1.GetControllerOf(obj).Name != deleted {
					t.Errorf("claim %s removed allocated or reserved, or not the deleted pod's (%s)", obj.Name, deleted)
				}
				claimGone = e.At
			}
		}
	}
	if claimGone != time.Minute || waiterBound != time.Minute {
		t.Errorf("deleted pod's claim removed at %v, waiting pod bound at %v; want both at 1m", claimGone, waiterBound)
	}
	claims := workloadstest.List[*resourcev1.ResourceClaim](t, s, "ResourceClaim")
	if len(claims) != 4 {
		t.Fatalf("%d claims, want 4", len(claims))
	}
	for _, c := range claims {
		if c.Status.Allocation == nil || len(c.Status.ReservedFor) != 1 || c.Status.ReservedFor[0].Name != metav1.GetControllerOf(c).Name {
			t.Errorf("claim %s: allocated %v, reservedFor %+v", c.Name, c.Status.Allocation != nil, c.Status.ReservedFor)
		}
	}
}
