package sim

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// The store holds each object once: the very object the scheduler's informer holds, while
// readers, through the API layer and through the clientset alike, get copies.
func TestStoreSharesTheInformersObject(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	mustCreate(t, s, node("n"), pod("a"), pod("b"))
	a := s.API()
	k := kinds["Pod"]
	stored, err := a.tracker.shared(k.GVR, "default", "a")
	if err != nil {
		t.Fatal(err)
	}
	held, _, _ := a.informers["Pod"].indexer.GetByKey("default/a")
	if stored != held.(runtime.Object) {
		t.Fatal("the store and the informer hold different objects for one pod")
	}

	got := getPod(t, s, "a")
	if got == stored {
		t.Fatal("Get returned the stored object, not a copy")
	}
	got.Spec.Containers[0].Image = "changed"
	viaClient, err := a.Client().CoreV1().Pods("default").Get(context.Background(), "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if viaClient == stored {
		t.Fatal("the clientset returned the stored object, not a copy")
	}
	viaClient.Spec.Containers[0].Image = "changed too"
	if img := stored.(*corev1.Pod).Spec.Containers[0].Image; img != "i" {
		t.Fatalf("changing copies changed the stored pod: image %q", img)
	}

	// Lists through the clientset come from the store, sorted, with their label selector.
	list, err := a.Client().CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || list.Items[0].Name != "a" || list.Items[1].Name != "b" {
		t.Fatalf("listed %d pods %v, want a and b", len(list.Items), podNames(list.Items))
	}
	list, err = a.Client().CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=none"})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("a selector matching nothing listed %d pods (err %v)", len(list.Items), err)
	}

	// A write replaces the stored object; the informer holds the new one, the store too.
	if _, err := a.Patch(k, "default", "a", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), ""); err != nil {
		t.Fatal(err)
	}
	next, _ := a.tracker.shared(k.GVR, "default", "a")
	held, _, _ = a.informers["Pod"].indexer.GetByKey("default/a")
	if next == stored || next != held.(runtime.Object) {
		t.Fatal("after a patch, the store does not hold the informer's new object")
	}
	if stored.(*corev1.Pod).Labels["x"] != "" {
		t.Fatal("the patch changed the object stored before it")
	}

	// A delete removes it from both.
	if err := a.Delete(k, "default", "b", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.tracker.shared(k.GVR, "default", "b"); !apierrors.IsNotFound(err) {
		t.Fatalf("deleted pod: %v, want NotFound", err)
	}
	if _, err := a.Client().CoreV1().Pods("default").Get(context.Background(), "b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("deleted pod through the clientset: %v, want NotFound", err)
	}
}

// Writes that would go around the API layer are refused for the kinds it serves; kinds it does
// not serve keep client-go's tracker.
func TestStoreRefusesWritesAroundTheAPILayer(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	a := s.API()
	if err := a.tracker.Add(pod("p")); err == nil {
		t.Error("Add of a pod straight into the tracker was accepted")
	}
	if err := a.tracker.Patch(kinds["Pod"].GVR, pod("p"), "default"); err == nil {
		t.Error("Patch of a pod straight into the tracker was accepted")
	}
	if err := a.tracker.Apply(kinds["Pod"].GVR, pod("p"), "default"); err == nil {
		t.Error("Apply of a pod straight into the tracker was accepted")
	}
	if err := a.tracker.Create(kinds["Pod"].GVR, pod("p"), "other"); err == nil {
		t.Error("a pod created under another namespace than its own was accepted")
	}

	policy := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "default"}}
	if _, err := a.Client().NetworkingV1().NetworkPolicies("default").Create(context.Background(), policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Client().NetworkingV1().NetworkPolicies("default").Get(context.Background(), "deny", metav1.GetOptions{})
	if err != nil || got.Name != "deny" {
		t.Fatalf("a kind the API layer does not serve: got %v, %v", got, err)
	}
}

func podNames(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

// Pods of one controller share the equal parts of their specs; a pod whose spec differs keeps
// its own, and exactly what it was given.
func TestStoredPodsOfOneControllerShareTheirSpec(t *testing.T) {
	s := newSim(t, Config{Seed: 1})
	owned := func(name, cpu string) *corev1.Pod {
		p := pod(name)
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid", Controller: ptr.To(true)}}
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		return p
	}
	mustCreate(t, s, owned("a", "100m"), owned("b", "100m"), owned("c", "1"), owned("d", "1000m"))
	stored := func(name string) *corev1.Pod {
		o, err := s.api.tracker.shared(kinds["Pod"].GVR, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		return o.(*corev1.Pod)
	}
	a, b, c, d := stored("a"), stored("b"), stored("c"), stored("d")
	if &a.Spec.Containers[0] != &b.Spec.Containers[0] || &a.OwnerReferences[0] != &b.OwnerReferences[0] || a.Spec.Tolerations == nil || &a.Spec.Tolerations[0] != &b.Spec.Tolerations[0] {
		t.Error("two pods of one ReplicaSet with equal specs do not share their containers, owner references and tolerations")
	}
	if &a.Spec.Containers[0] == &c.Spec.Containers[0] {
		t.Error("pods with different containers share them")
	}
	// 1 and 1000m are semantically equal but held differently: each keeps its own.
	if &c.Spec.Containers[0] == &d.Spec.Containers[0] {
		t.Error("a request of 1 and one of 1000m share one container")
	}
	// Writes and copies leave the others alone.
	cp := getPod(t, s, "a")
	cp.Spec.Containers[0].Image = "changed"
	if b.Spec.Containers[0].Image != "i" {
		t.Fatal("changing a copy of one pod changed another's shared container")
	}
	if err := s.API().Delete(kinds["Pod"], "default", "a", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	if b.Spec.Containers[0].Image != "i" || len(b.Spec.Containers) != 1 {
		t.Fatal("deleting a pod changed another's shared container")
	}
}
