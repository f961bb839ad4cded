package sim

import (
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
)

// sharedTracker is the object tracker behind the fake clientset: for the kinds the API layer
// serves it holds each object once, the very object the API layer stored and delivered to the
// informers, instead of the deep copy client-go's tracker keeps of every write
// (k8s.io/client-go/testing/fixture.go, tracker.add: "we always store the deep copy").
//
// Why: that copy was a third of a large run's live heap (a pod is about 3.5 KB once defaulted,
// bound and Running; 100,000 pods are 350 MB more to hold, and at the binary's GC setting the
// heap peaks at five times what is live). Holding the stored object is safe because stored
// objects are immutable (see labelSets): the API layer builds a new object for every write and
// never changes one it has stored; readers get deep copies from Get and List, as before.
//
// Kinds the API layer does not serve (those only the scheduler's informer factory lists, and
// nobody writes) stay in client-go's tracker, which also serves every watch.
type sharedTracker struct {
	inner k8stesting.ObjectTracker
	// served are the resources the API layer stores.
	served map[schema.GroupVersionResource]bool

	mu      sync.RWMutex
	objects map[schema.GroupVersionResource]map[types.NamespacedName]runtime.Object
}

var _ k8stesting.ObjectTracker = (*sharedTracker)(nil)

func newSharedTracker(inner k8stesting.ObjectTracker) *sharedTracker {
	t := &sharedTracker{inner: inner, served: map[schema.GroupVersionResource]bool{},
		objects: map[schema.GroupVersionResource]map[types.NamespacedName]runtime.Object{}}
	for _, k := range kinds {
		t.served[k.GVR] = true
		t.objects[k.GVR] = map[types.NamespacedName]runtime.Object{}
	}
	return t
}

// shared returns the stored object itself, not a copy: it must not be modified.
func (t *sharedTracker) shared(gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if obj, ok := t.objects[gvr][types.NamespacedName{Namespace: ns, Name: name}]; ok {
		return obj, nil
	}
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

// Get returns a deep copy of the stored object, as client-go's tracker does.
func (t *sharedTracker) Get(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.GetOptions) (runtime.Object, error) {
	if !t.served[gvr] {
		return t.inner.Get(gvr, ns, name, opts...)
	}
	obj, err := t.shared(gvr, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.DeepCopyObject(), nil
}

// Create stores obj itself; the caller hands it over and must not modify it afterwards.
func (t *sharedTracker) Create(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.CreateOptions) error {
	if !t.served[gvr] {
		return t.inner.Create(gvr, obj, ns, opts...)
	}
	return t.put(gvr, obj, ns, false)
}

// Update replaces the stored object with obj itself (see Create).
func (t *sharedTracker) Update(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.UpdateOptions) error {
	if !t.served[gvr] {
		return t.inner.Update(gvr, obj, ns, opts...)
	}
	return t.put(gvr, obj, ns, true)
}

// put follows tracker.add's checks: the namespace of the request must be the object's, a
// create must not find the object and an update must.
func (t *sharedTracker) put(gvr schema.GroupVersionResource, obj runtime.Object, ns string, replace bool) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if ns != m.GetNamespace() {
		return apierrors.NewBadRequest("request namespace does not match object namespace, request: \"" + ns + "\" object: \"" + m.GetNamespace() + "\"")
	}
	key := types.NamespacedName{Namespace: ns, Name: m.GetName()}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, exists := t.objects[gvr][key]
	switch {
	case exists && !replace:
		return apierrors.NewAlreadyExists(gvr.GroupResource(), m.GetName())
	case !exists && replace:
		return apierrors.NewNotFound(gvr.GroupResource(), m.GetName())
	}
	t.objects[gvr][key] = obj
	return nil
}

// Delete removes the stored object.
func (t *sharedTracker) Delete(gvr schema.GroupVersionResource, ns, name string, opts ...metav1.DeleteOptions) error {
	if !t.served[gvr] {
		return t.inner.Delete(gvr, ns, name, opts...)
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.objects[gvr][key]; !ok {
		return apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	delete(t.objects[gvr], key)
	return nil
}

// List returns deep copies of the objects of a namespace (every namespace for ""), in a list
// of the kind's List type, sorted by namespace and name (client-go's tracker leaves the order
// to its map).
func (t *sharedTracker) List(gvr schema.GroupVersionResource, gvk schema.GroupVersionKind, ns string, opts ...metav1.ListOptions) (runtime.Object, error) {
	if !t.served[gvr] {
		return t.inner.List(gvr, gvk, ns, opts...)
	}
	listGVK := gvk
	listGVK.Kind = strings.TrimSuffix(listGVK.Kind, "List") + "List"
	list, err := legacyscheme.Scheme.New(listGVK)
	if err != nil {
		return nil, err
	}
	if err := meta.SetList(list, t.copies(gvr, ns)); err != nil {
		return nil, err
	}
	return list, nil
}

// copies returns deep copies of a served resource's objects in a namespace (every namespace
// for ""), sorted by namespace and name.
func (t *sharedTracker) copies(gvr schema.GroupVersionResource, ns string) []runtime.Object {
	t.mu.RLock()
	defer t.mu.RUnlock()
	keys := make([]types.NamespacedName, 0, len(t.objects[gvr]))
	for k := range t.objects[gvr] {
		if ns == "" || k.Namespace == ns {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b types.NamespacedName) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	items := make([]runtime.Object, len(keys))
	for i, k := range keys {
		items[i] = t.objects[gvr][k].DeepCopyObject()
	}
	return items
}

// Add, Patch and Apply are client-go's tracker's own ways in; the API layer serves its kinds'
// writes through the fake clientset's reactor (API.react) before they could reach here, so
// for those kinds they are refused rather than stored behind the API layer's back.
func (t *sharedTracker) Add(obj runtime.Object) error {
	if k, err := KindOf(obj); err == nil && t.served[k.GVR] {
		return apierrors.NewBadRequest("sim: objects of the kinds the simulator serves are written through its API layer")
	}
	return t.inner.Add(obj)
}

func (t *sharedTracker) Patch(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	if t.served[gvr] {
		return apierrors.NewBadRequest("sim: patches of " + gvr.Resource + " are served by the simulator's API layer")
	}
	return t.inner.Patch(gvr, obj, ns, opts...)
}

func (t *sharedTracker) Apply(gvr schema.GroupVersionResource, obj runtime.Object, ns string, opts ...metav1.PatchOptions) error {
	if t.served[gvr] {
		return apierrors.NewBadRequest("sim: server-side apply of " + gvr.Resource + " is not supported; the simulator's API layer serves its writes")
	}
	return t.inner.Apply(gvr, obj, ns, opts...)
}

// Watch is client-go's: the served kinds' informers are the API layer's synchronous ones
// (syncInformer), so nothing watches them through the clientset.
func (t *sharedTracker) Watch(gvr schema.GroupVersionResource, ns string, opts ...metav1.ListOptions) (watch.Interface, error) {
	return t.inner.Watch(gvr, ns, opts...)
}
