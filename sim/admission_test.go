package sim

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// limitRange defaults every container's CPU request in the default namespace, as an
// administrator's LimitRange does.
func limitRange(defaultRequest string) *corev1.LimitRange {
	return &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults", Namespace: "default"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(defaultRequest)},
		}}},
	}
}

// A LimitRange's default request is applied by the real LimitRanger plugin, and the
// scheduler places the pod by it: a pod that prefers a one-CPU node lands there without
// requests, and on the bigger node once LimitRanger has given it a two-CPU request
// (NodeResourcesFit filters on requests; the preference only scores).
func TestLimitRangeDefaultRequestChangesPlacement(t *testing.T) {
	place := func(withLimitRange bool) *corev1.Pod {
		s := newSim(t, Config{Seed: 1})
		small, big := node("small"), node("big")
		small.Labels["size"] = "small"
		small.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1")
		mustCreate(t, s, small, big)
		if withLimitRange {
			if _, err := s.API().Create(limitRange("2")); err != nil {
				t.Fatal(err)
			}
		}
		p := pod("p")
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
				Weight: 100,
				Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "size", Operator: corev1.NodeSelectorOpIn, Values: []string{"small"},
				}}},
			}},
		}}
		mustCreate(t, s, p)
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		return getPod(t, s, "p")
	}
	without, with := place(false), place(true)
	if without.Spec.NodeName != "small" {
		t.Errorf("without a LimitRange: pod on %q, want small (its preferred node)", without.Spec.NodeName)
	}
	if got := with.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]; got.Cmp(resource.MustParse("2")) != 0 {
		t.Errorf("with a LimitRange: cpu request %v, want the default request 2", got.String())
	}
	// mergePodResourceRequirements's annotation says what the plugin set.
	if a := with.Annotations["kubernetes.io/limit-ranger"]; a != "LimitRanger plugin set: cpu request for container c" {
		t.Errorf("limit-ranger annotation = %q", a)
	}
	if with.Spec.NodeName != "big" {
		t.Errorf("with a LimitRange: pod on %q, want big (2 CPUs do not fit on small)", with.Spec.NodeName)
	}
}

// LimitRanger's validation refuses a pod over a LimitRange's max, with the plugin's message.
func TestLimitRangeMaxRefusesAPod(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	lr := limitRange("1")
	lr.Spec.Limits[0].Max = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	if _, err := s.API().Create(lr); err != nil {
		t.Fatal(err)
	}
	p := pod("p")
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
	p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
	_, err := s.API().Create(p)
	if !apierrors.IsForbidden(err) || err.Error() != `pods "p" is forbidden: maximum cpu usage per Container is 2, but limit is 3` {
		t.Fatalf("err = %v, want LimitRanger's refusal", err)
	}
}

func resourceQuota(name string, hard corev1.ResourceList) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.ResourceQuotaSpec{Hard: hard}}
}

func getQuota(t *testing.T, s *Simulator, name string) *corev1.ResourceQuota {
	t.Helper()
	obj, err := s.API().Get(kinds["ResourceQuota"], "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.ResourceQuota)
}

// Quota admission follows CheckRequest: a quota whose status nobody has computed yet
// (status.hard empty, as the strategy leaves a new quota) constrains nothing; once status.hard
// names a resource with no usage the request waits for the controller ("status unknown");
// with usage, the pod is charged (status.used stored before the pod) or refused with the
// apiserver's message.
func TestQuotaAdmissionChargesAndRefuses(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	hard := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	if _, err := s.API().Create(resourceQuota("q", hard)); err != nil {
		t.Fatal(err)
	}
	if q := getQuota(t, s, "q"); q.Status.Hard != nil {
		t.Fatalf("a new quota's status = %+v, want empty (PrepareForCreate drops it)", q.Status)
	}
	mustCreate(t, s, pod("free"))

	q := getQuota(t, s, "q")
	q.Status.Hard = hard
	if _, err := s.API().UpdateStatus(q); err != nil {
		t.Fatal(err)
	}
	_, err := s.API().Create(pod("unknown"))
	if !apierrors.IsForbidden(err) || !strings.HasSuffix(err.Error(), "status unknown for quota: q, resources: pods") {
		t.Fatalf("err = %v, want the status-unknown refusal", err)
	}

	q = getQuota(t, s, "q")
	q.Status.Used = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}
	if _, err := s.API().UpdateStatus(q); err != nil {
		t.Fatal(err)
	}
	var order []string
	s.API().Watch(func(ev WatchEvent) { order = append(order, ev.Kind.Name()) })
	mustCreate(t, s, pod("charged"))
	if used := getQuota(t, s, "q").Status.Used[corev1.ResourcePods]; used.Value() != 1 {
		t.Errorf("used pods = %v after one admitted pod, want 1", used.String())
	}
	if strings.Join(order, ",") != "ResourceQuota,Pod" {
		t.Errorf("writes %v, want the quota's status stored before the pod", order)
	}
	_, err = s.API().Create(pod("over"))
	want := `pods "over" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if _, err := s.API().Get(kinds["Pod"], "default", "over"); !apierrors.IsNotFound(err) {
		t.Errorf("the refused pod was stored (err %v)", err)
	}
}
