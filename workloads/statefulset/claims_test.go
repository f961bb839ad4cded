package statefulset_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/workloadstest"
)

// withClaims gives a set volumeClaimTemplates of the given names (1Gi, ReadWriteOnce), the
// first one labelled tier: db, and a retention policy (nil: none, which means Retain).
func withClaims(set *appsv1.StatefulSet, policy *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy, names ...string) *appsv1.StatefulSet {
	for i, n := range names {
		t := corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}
		if i == 0 {
			t.Labels = map[string]string{"tier": "db"}
		}
		set.Spec.VolumeClaimTemplates = append(set.Spec.VolumeClaimTemplates, t)
	}
	set.Spec.PersistentVolumeClaimRetentionPolicy = policy
	return set
}

func retention(whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType) *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	return &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: whenDeleted, WhenScaled: whenScaled}
}

// claimsAt lists the stored claims' names at a virtual time.
func claimsAt(t *testing.T, s *sim.Simulator, at time.Duration, into *[]string) {
	s.Clock().AfterDelay(at, func() {
		for _, c := range workloadstest.List[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim") {
			*into = append(*into, c.Name)
		}
	})
}

// A set's claims are <template>-<set>-<ordinal>, labelled with the template's labels and the
// set's selector, created before their pod, in the order of the templates, with the
// control's events; each pod mounts its claims under the templates' names. A deleted pod comes
// back with the same claims, not new ones. Nothing can bind the claims here (no class, no volume), so
// the pods stay Pending: OrderedReady creates web-0 only.
func TestStatefulSetCreatesClaimsBeforePods(t *testing.T) {
	for _, policy := range []appsv1.PodManagementPolicyType{appsv1.ParallelPodManagement, appsv1.OrderedReadyPodManagement} {
		t.Run(string(policy), func(t *testing.T) {
			s := workloadstest.SlowSim(t)
			writes := workloadstest.Record(s)
			workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), withClaims(workloadstest.StatefulSet("web", 3, policy), nil, "data", "logs"))
			podKind, _ := sim.KindNamed("Pod")
			s.Clock().AfterDelay(time.Minute, func() {
				if err := s.API().Delete(podKind, "default", "web-0", metav1.DeleteOptions{}); err != nil {
					t.Error(err)
				}
			})
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			// The order of the creations, and the claims' UIDs.
			var created []string
			uids := map[string]string{}
			for _, w := range *writes {
				m := w.Event.Object.(metav1.Object)
				switch w.Event.Kind.Name() {
				case "Pod", "PersistentVolumeClaim":
					if w.Event.Type == watch.Added {
						created = append(created, fmt.Sprintf("%s %s@%v", w.Event.Kind.Name(), m.GetName(), w.At))
						if w.Event.Kind.Name() == "PersistentVolumeClaim" {
							uids[m.GetName()] = string(m.GetUID())
						}
					}
				}
			}
			want := []string{
				"PersistentVolumeClaim data-web-0@0s", "PersistentVolumeClaim logs-web-0@0s", "Pod web-0@0s",
				"PersistentVolumeClaim data-web-1@0s", "PersistentVolumeClaim logs-web-1@0s", "Pod web-1@0s",
				"PersistentVolumeClaim data-web-2@0s", "PersistentVolumeClaim logs-web-2@0s", "Pod web-2@0s",
				"Pod web-0@1m0s",
			}
			pods := 3
			if policy == appsv1.OrderedReadyPodManagement {
				// web-1 would wait for web-0 to be Running and Ready.
				pods = 1
				want = append(want[:3], want[9:]...)
			}
			if fmt.Sprint(created) != fmt.Sprint(want) {
				t.Errorf("created\n  %v\nwant\n  %v", created, want)
			}
			set := getSet(t, s, "web")
			for i := range pods {
				pod := workloadstest.MustGet[*corev1.Pod](t, s, "Pod", fmt.Sprintf("web-%d", i))
				var vols []string
				for _, v := range pod.Spec.Volumes {
					if v.PersistentVolumeClaim != nil {
						vols = append(vols, v.Name+"="+v.PersistentVolumeClaim.ClaimName)
					}
				}
				if got, want := strings.Join(vols, " "), fmt.Sprintf("data=data-web-%d logs=logs-web-%d", i, i); got != want {
					t.Errorf("web-%d volumes %s, want %s", i, got, want)
				}
				for j, tmpl := range []string{"data", "logs"} {
					name := fmt.Sprintf("%s-web-%d", tmpl, i)
					c := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", name)
					wantLabels := map[string]string{"app": "web"}
					if j == 0 {
						wantLabels["tier"] = "db"
					}
					if fmt.Sprint(c.Labels) != fmt.Sprint(wantLabels) || len(c.OwnerReferences) != 0 || string(c.UID) != uids[name] ||
						c.Spec.Resources.Requests.Storage().String() != "1Gi" {
						t.Errorf("%s labels %v, owners %v, uid %s (created as %s), spec %+v: want labels %v, no owners (Retain), the first UID",
							name, c.Labels, c.OwnerReferences, c.UID, uids[name], c.Spec, wantLabels)
					}
				}
			}
			var events []string
			for _, e := range s.Recorder().Events() {
				if e.Kind == "StatefulSet" && e.Name == "web" && e.At == 0 {
					events = append(events, e.Reason+" "+e.Message)
				}
			}
			wantEvents := []string{
				"SuccessfulCreate Create Claim data-web-0 Pod web-0 in StatefulSet web success",
				"SuccessfulCreate Create Claim logs-web-0 Pod web-0 in StatefulSet web success",
				"SuccessfulCreate Create Pod web-0 in StatefulSet web successful",
			}
			if !slices.Equal(events[:min(3, len(events))], wantEvents) {
				t.Errorf("events at 0s\n  %v\nwant first\n  %v", events, wantEvents)
			}
			if set.Status.Replicas != int32(pods) {
				t.Errorf("status %+v, want %d replicas", set.Status, pods)
			}
		})
	}
}

// persistentVolumeClaimRetentionPolicy: whenDeleted Delete makes the set the claims' owner,
// whenScaled Delete makes a condemned pod its claims' owner, and the garbage collector deletes
// them with their owner; Retain keeps them (stateful_set_utils.go updateClaimOwnerRefForSetAndPod).
// The set scales from 3 to 2 at 1m and is deleted at 2m.
func TestStatefulSetClaimRetention(t *testing.T) {
	const del, keep = appsv1.DeletePersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	for _, tc := range []struct {
		whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType
		// owner is data-web-2's owner at 30s; scaled and deleted are the claims after the
		// scale-down and after the set's deletion.
		owner, scaled, deleted string
	}{
		{keep, keep, "[]", "[data-web-0 data-web-1 data-web-2]", "[data-web-0 data-web-1 data-web-2]"},
		{keep, del, "[]", "[data-web-0 data-web-1]", "[data-web-0 data-web-1]"},
		{del, keep, "[StatefulSet/web controller]", "[data-web-0 data-web-1 data-web-2]", "[]"},
		{del, del, "[StatefulSet/web controller]", "[data-web-0 data-web-1]", "[]"},
	} {
		t.Run(fmt.Sprintf("whenDeleted=%s,whenScaled=%s", tc.whenDeleted, tc.whenScaled), func(t *testing.T) {
			s := workloadstest.SlowSim(t)
			set := withClaims(workloadstest.StatefulSet("web", 3, appsv1.ParallelPodManagement), retention(tc.whenDeleted, tc.whenScaled), "data")
			workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), set)
			var owner []string
			s.Clock().AfterDelay(30*time.Second, func() {
				c := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", "data-web-2")
				for _, r := range c.OwnerReferences {
					owner = append(owner, fmt.Sprintf("%s/%s", r.Kind, r.Name))
					if r.Controller != nil && *r.Controller {
						owner[len(owner)-1] += " controller"
					}
					if r.UID != getSet(t, s, "web").UID {
						t.Errorf("owner %+v, not the set's UID", r)
					}
				}
			})
			updateSetAt(t, s, time.Minute, "web", func(set *appsv1.StatefulSet) { two := int32(2); set.Spec.Replicas = &two })
			var scaled, deleted []string
			claimsAt(t, s, 90*time.Second, &scaled)
			kind, _ := sim.KindNamed("StatefulSet")
			s.Clock().AfterDelay(2*time.Minute, func() {
				if err := s.API().Delete(kind, "default", "web", metav1.DeleteOptions{}); err != nil {
					t.Error(err)
				}
			})
			claimsAt(t, s, 3*time.Minute, &deleted)
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			workloadstest.NoWarnings(t, s)
			if fmt.Sprint(owner) != tc.owner || fmt.Sprint(scaled) != tc.scaled || fmt.Sprint(deleted) != tc.deleted {
				t.Errorf("data-web-2 owned by %v at 30s, claims %v after the scale-down, %v after the set's deletion; want %s, %s, %s",
					owner, scaled, deleted, tc.owner, tc.scaled, tc.deleted)
			}
			if pods := workloadstest.List[*corev1.Pod](t, s, "Pod"); len(pods) != 0 {
				t.Errorf("%d pods left after the set's deletion", len(pods))
			}
		})
	}
}

// The garbage collector deletes a dependent when its last owner is gone, whatever its
// references (controller or not), and drops the references to the owners gone from one that
// keeps another (attemptToDeleteItem, pkg/controller/garbagecollector).
func TestGarbageCollectorWaitsForEveryOwner(t *testing.T) {
	s := workloadstest.SlowSim(t)
	owner := func(name string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: workloadstest.PodSpec("100m")}
		workloadstest.Create(t, s, p)
		return workloadstest.MustGet[*corev1.Pod](t, s, "Pod", name)
	}
	a, b := owner("a"), owner("b")
	ref := func(p *corev1.Pod, controller bool) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID, Controller: &controller}
	}
	claim := func(name string, refs ...metav1.OwnerReference) *corev1.PersistentVolumeClaim {
		c := withClaims(&appsv1.StatefulSet{}, nil, name).Spec.VolumeClaimTemplates[0]
		c.Namespace, c.OwnerReferences = "default", refs
		return &c
	}
	// both: owned by a (not as controller) and b; of-a: by a alone, not as controller;
	// ctrl-a: controlled by a and owned by b.
	// moved: controlled by a, then by b (as a claim moves from its set to its condemned pod).
	workloadstest.Create(t, s, claim("both", ref(a, false), ref(b, false)), claim("of-a", ref(a, false)),
		claim("ctrl-a", ref(a, true), ref(b, false)), claim("moved", ref(a, true)))
	s.Clock().AfterDelay(30*time.Second, func() {
		c := workloadstest.MustGet[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim", "moved")
		c.OwnerReferences = []metav1.OwnerReference{ref(b, true)}
		if _, err := s.API().Update(c); err != nil {
			t.Error(err)
		}
	})
	podKind, _ := sim.KindNamed("Pod")
	var afterA, refsAfterA, afterB []string
	s.Clock().AfterDelay(time.Minute, func() {
		if err := s.API().Delete(podKind, "default", "a", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Error(err)
		}
	})
	claimsAt(t, s, 2*time.Minute, &afterA)
	s.Clock().AfterDelay(2*time.Minute, func() {
		for _, c := range workloadstest.List[*corev1.PersistentVolumeClaim](t, s, "PersistentVolumeClaim") {
			for _, r := range c.OwnerReferences {
				refsAfterA = append(refsAfterA, c.Name+":"+r.Name)
			}
		}
		if err := s.API().Delete(podKind, "default", "b", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Error(err)
		}
	})
	claimsAt(t, s, 3*time.Minute, &afterB)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(afterA, refsAfterA, afterB), "[both ctrl-a moved] [both:b ctrl-a:b moved:b] []"; got != want {
		t.Errorf("claims after a's deletion, their owners, claims after b's: %s, want %s", got, want)
	}
}

// The Parallel policy's claim work (creations before each pod, ownerReferences for the
// retention policy, from the control's goroutines) is made in ordinal and template order, so
// a run gives the same claims, UIDs and events whatever the number of OS threads.
func TestStatefulSetParallelClaimsAreDeterministic(t *testing.T) {
	run := func(procs int) string {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		s := workloadstest.SlowSim(t)
		writes := workloadstest.Record(s)
		const del = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
		set := withClaims(workloadstest.StatefulSet("par", 20, appsv1.ParallelPodManagement), retention(del, del), "data", "logs", "wal")
		workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "8"), set)
		updateSetAt(t, s, time.Minute, "par", func(set *appsv1.StatefulSet) { r := int32(24); set.Spec.Replicas = &r })
		updateSetAt(t, s, 2*time.Minute, "par", func(set *appsv1.StatefulSet) { r := int32(5); set.Spec.Replicas = &r })
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		workloadstest.NoWarnings(t, s)
		var b strings.Builder
		for _, w := range *writes {
			if k := w.Event.Kind.Name(); k == "Pod" || k == "PersistentVolumeClaim" {
				m := w.Event.Object.(metav1.Object)
				fmt.Fprintf(&b, "%v %s %s %s %s", w.At, w.Event.Type, k, m.GetName(), m.GetUID())
				for _, r := range m.GetOwnerReferences() {
					fmt.Fprintf(&b, " %s/%s/%s/%v", r.Kind, r.Name, r.UID, *r.Controller)
				}
				b.WriteString("\n")
			}
		}
		for _, e := range s.Recorder().Events() {
			if e.Kind == "StatefulSet" {
				fmt.Fprintf(&b, "%v %s %s\n", e.At, e.Reason, e.Message)
			}
		}
		return b.String()
	}
	first := run(1)
	for i, want := range []string{
		"0s SuccessfulCreate Create Claim data-par-0 Pod par-0 in StatefulSet par success\n0s SuccessfulCreate Create Claim logs-par-0 Pod par-0 in StatefulSet par success\n" +
			"0s SuccessfulCreate Create Claim wal-par-0 Pod par-0 in StatefulSet par success\n0s SuccessfulCreate Create Pod par-0 in StatefulSet par successful\n",
		"1m0s SuccessfulCreate Create Claim wal-par-23 Pod par-23 in StatefulSet par success",
		"DELETED PersistentVolumeClaim wal-par-5 ",
	} {
		if !strings.Contains(first, want) {
			t.Fatalf("%d: no %q in\n%s", i, want, first)
		}
	}
	if strings.Contains(first, "DELETED PersistentVolumeClaim data-par-4 ") {
		t.Errorf("data-par-4 deleted; the set keeps 5 replicas")
	}
	for _, procs := range []int{4, 2} {
		if again := run(procs); again != first {
			t.Fatalf("GOMAXPROCS=%d differs:\n%s", procs, workloadstest.FirstDifference([]byte(first), []byte(again)))
		}
	}
}

// A claim the apiserver refuses (here: over a ResourceQuota's count of claims) stops its pod's
// creation, with the control's events for the claim and for the pod (createPersistentVolumeClaims,
// recordClaimEvent, recordPodEvent), and the sync fails: no pod runs without its claims.
func TestStatefulSetClaimRefusedStopsThePod(t *testing.T) {
	for _, tc := range []struct {
		policy appsv1.PodManagementPolicyType
		// claims is the quota; refused, the pod whose claim goes over it.
		claims, refused string
	}{
		{appsv1.OrderedReadyPodManagement, "0", "web-0"},
		{appsv1.ParallelPodManagement, "1", "web-1"},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			s := workloadstest.SlowSim(t)
			quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "claims", Namespace: "default"},
				Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: resource.MustParse(tc.claims)}}}
			workloadstest.Create(t, s, workloadstest.KWOKNode("n1", "4"), quota)
			// Once the quota controller has counted (quota admission needs status.hard).
			s.Clock().AfterDelay(time.Second, func() {
				workloadstest.Create(t, s, withClaims(workloadstest.StatefulSet("web", 2, tc.policy), nil, "data"))
			})
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			claim := "data-" + tc.refused
			refusal := fmt.Sprintf(`persistentvolumeclaims %q is forbidden: exceeded quota: claims, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=%s, limited: persistentvolumeclaims=%s`,
				claim, tc.claims, tc.claims)
			want := []string{
				fmt.Sprintf("FailedCreate: Create Claim %s for Pod %s in StatefulSet web failed error: %s", claim, tc.refused, refusal),
				fmt.Sprintf("FailedCreate: Create Pod %s in StatefulSet web failed error: failed to create PVC %s: %s", tc.refused, claim, refusal),
				fmt.Sprintf("SyncFailed: failed to create PVC %s: %s", claim, refusal),
			}
			var events []string
			for _, e := range s.Recorder().Events() {
				if e.Kind == "StatefulSet" && e.Type == corev1.EventTypeWarning {
					events = append(events, e.Reason+": "+e.Message)
				}
			}
			if len(events) < 3 || !slices.Equal(events[:3], want) {
				t.Errorf("warnings\n  %q\nwant first\n  %q", events, want)
			}
			for _, p := range workloadstest.List[*corev1.Pod](t, s, "Pod") {
				if p.Name == tc.refused {
					t.Errorf("pod %s created without its claim", p.Name)
				}
			}
		})
	}
}
