package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/admission"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/kubernetes/pkg/api/legacyscheme"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/clock"
)

// WatchEvent is one change the API layer made, as a watch would report it.
type WatchEvent struct {
	Kind *Kind
	Type watch.EventType
	// Old is nil for Added; Object is the object as stored (for Deleted: its last state).
	Old, Object runtime.Object
	// Restored marks the Added event of an object loaded as stored state (API.Restore): it
	// existed before the run, in the state it has.
	Restored bool
}

// Watcher observes every write after the informers have.
//
// The Watcher rule: a Watcher must not write synchronously; it schedules follow-up work on the
// clock instead (Clock().AfterDelay(0, …)), which keeps writes from nesting. Watchers are
// called while the API holds its write lock, so a nested write could only deadlock: instead
// the API refuses it (Create, Update, UpdateStatus, Patch, Delete, Bind, and writes through
// Client) with an error naming the rule, and aborts the run with that error (see API.Watch).
//
// A Watcher reads through Get and List, and does not call Client at all: the scheduler's own
// writes come through client-go's fake clientset, which holds a lock of its own while it
// serves them, so a Watcher's call into the clientset during one of them blocks inside
// client-go, before the API can refuse it.
type Watcher func(WatchEvent)

// API is the simulated apiserver: a store behind client-go's fake clientset (sharedTracker),
// plus what a real apiserver adds on every write — defaulting, system metadata from the
// virtual clock and the seeded RNG, the real registry strategies (validation, status/spec
// separation, generation), resourceVersion, the binding subresource and graceful deletion
// with finalizers.
type API struct {
	// wallShift is how far Restore moved a snapshot's times (see WallShift), in nanoseconds.
	// Atomic, not under mu: controllers read it from Watchers, which run while a write holds
	// mu.
	wallShift atomic.Int64
	clock     *clock.Virtual
	client    *fake.Clientset
	tracker   *sharedTracker

	// mu serializes writes: the scheduler's binding cycle writes from its own goroutine.
	mu        sync.Mutex
	rng       *rand.Rand
	rv        uint64
	informers map[string]*syncInformer
	admission *admissionChain
	watchers  []Watcher
	// watching is set while deliver calls the watchers; every write checks it before taking
	// mu (see watcherWrote).
	watching atomic.Bool
	// abort stops the run when a Watcher breaks its rule (nil: an API built without a
	// Simulator, in tests).
	abort     func(error)
	writes    atomic.Int64
	objects   objectLimit
	labels    labelSets
	specs     podSpecs
	layout    nodeLayout
	podLayout podLayout
	// relaid are told every stored object a relayout replaced with a copy (OnRelaid).
	relaid []func(k *Kind, old, cur runtime.Object)
	// clientWrite is set, under mu, while a write made through the fake clientset (by the
	// scheduler) is being served.
	clientWrite bool
	// restoring is set, under mu, while API.Restore loads a snapshot.
	restoring bool
	// kubelets are the nodes whose simulated kubelet is not running (kubelet.go).
	kubelets kubelets
	// evictionRefused is told every eviction a budget refuses (Recorder.EvictionRefused, set
	// by New; nil for an API built without a Simulator).
	evictionRefused func(analysis.RefusedEvictionRecord)
}

func newAPI(c *clock.Virtual, seed uint64) *API {
	client := fake.NewSimpleClientset()
	// The clientset's reads (and writes of kinds the API layer does not serve) go to a tracker
	// that shares the API layer's stored objects instead of holding a copy (see sharedTracker).
	tracker := newSharedTracker(client.Tracker())
	client.ReactionChain = []k8stesting.Reactor{&k8stesting.SimpleReactor{Verb: "*", Resource: "*", Reaction: k8stesting.ObjectReaction(tracker)}}
	a := &API{
		clock:     c,
		client:    client,
		tracker:   tracker,
		rng:       rand.New(rand.NewPCG(seed, streamAPI)),
		informers: map[string]*syncInformer{},
	}
	client.PrependReactor("*", "*", a.react)
	return a
}

// Client is the clientset the scheduler talks to; its writes come back through the API layer.
func (a *API) Client() *fake.Clientset { return a.client }

// Watch registers w for every later write. w must follow the Watcher rule (see Watcher): a
// write it makes synchronously fails with a *Failure naming the rule, and the run is aborted
// with that error, so Simulator.Run returns it.
func (a *API) Watch(w Watcher) { a.watchers = append(a.watchers, w) }

// OnRelaid registers f for every stored object a relayout replaces with an identical copy laid
// out elsewhere in memory (see podLayout), for those that index stored objects: no Watcher is
// told, as nothing changed, and an index that kept the old object would keep it alive. f runs
// under the rule of a Watcher.
func (a *API) OnRelaid(f func(k *Kind, old, cur runtime.Object)) { a.relaid = append(a.relaid, f) }

// tellRelaid tells OnRelaid's functions that a relayout replaced old with cur. Under mu, as
// for the watchers, a write they made would be refused, not wait for mu forever.
func (a *API) tellRelaid(k *Kind, old, cur runtime.Object) {
	a.watching.Store(true)
	defer a.watching.Store(false)
	for _, f := range a.relaid {
		f(k, old, cur)
	}
}

// watcherWrote refuses a write made while the watchers are being called: every write checks
// the watching flag before it takes mu, which the write being delivered holds, and calls this
// when it is set. Such a write can only come from a Watcher: writes come from the simulation
// loop's goroutine and from the scheduler's binding goroutine, but never overlap in time,
// because the driver waits for each binding cycle to end before doing anything else (see
// driver.drain; a cycle waiting for its volumes parks, and is woken only from the simulation
// loop, which then waits for it: volumewait.go). So the write whose watchers are running is the only one in flight, and a
// write arriving meanwhile is made from inside one of them, on the same goroutine: taking mu
// would deadlock. The check is one atomic load per write; the message is built only here.
func (a *API) watcherWrote(verb string, k *Kind, ns, name string) error {
	err := &Failure{Msg: fmt.Sprintf("sim: a Watcher wrote to the API synchronously (%s %s %s); "+
		"a Watcher must schedule writes on the clock instead (the Watcher rule, see API.Watch)",
		verb, k.Name(), key(ns, name))}
	if a.abort != nil {
		// The Watcher may drop the error; the run must not go on without the write.
		a.abort(err)
	}
	return err
}

// Writes is the number of writes stored so far.
func (a *API) Writes() int64 { return a.writes.Load() }

// requestContext carries what kube-apiserver's handler chain puts in a request's context; the
// strategies (declarative validation in particular) read it.
func (a *API) requestContext(k *Kind, verb, ns, name, subresource string) context.Context {
	ctx := genericapirequest.WithNamespace(context.Background(), ns)
	return genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true,
		Verb:              verb,
		APIPrefix:         "apis",
		APIGroup:          k.GVR.Group,
		APIVersion:        k.GVR.Version,
		Resource:          k.GVR.Resource,
		Subresource:       subresource,
		Namespace:         ns,
		Name:              name,
	})
}

// Get returns a copy of the stored object.
func (a *API) Get(k *Kind, ns, name string) (runtime.Object, error) {
	return a.tracker.Get(k.GVR, ns, name)
}

// List returns copies of every stored object of a kind, sorted by namespace and name.
func (a *API) List(k *Kind) ([]runtime.Object, error) {
	return a.tracker.copies(k.GVR, ""), nil
}

// ListShared returns the stored objects of a kind as the scheduler's informer holds them,
// sorted by namespace and name, without copying them: they are shared and must not be
// modified. Terminal pods are left out, as the scheduler's pod informer leaves them out
// (visibleToScheduler). For readers that list often (the node autoscaler's simulations),
// where List's deep copy of every object would dominate.
func (a *API) ListShared(k *Kind) ([]runtime.Object, error) {
	inf := a.informers[k.Name()]
	if inf == nil {
		return a.List(k)
	}
	objs := inf.indexer.List()
	items := make([]runtime.Object, 0, len(objs))
	for _, o := range objs {
		items = append(items, o.(runtime.Object))
	}
	sort.Slice(items, func(i, j int) bool {
		mi, mj := items[i].(metav1.Object), items[j].(metav1.Object)
		if mi.GetNamespace() != mj.GetNamespace() {
			return mi.GetNamespace() < mj.GetNamespace()
		}
		return mi.GetName() < mj.GetName()
	})
	return items, nil
}

// Create stores a new object as kube-apiserver would: defaulted, named, stamped and validated.
func (a *API) Create(obj runtime.Object) (runtime.Object, error) {
	k, err := KindOf(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if a.watching.Load() {
		ns, name := "", ""
		if m, err := meta.Accessor(obj); err == nil {
			ns, name = m.GetNamespace(), m.GetName()
			if name == "" {
				name = m.GetGenerateName()
			}
		}
		if k.Namespaced && ns == "" {
			ns = metav1.NamespaceDefault
		}
		return nil, a.watcherWrote("Create", k, ns, name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.create(k, obj.DeepCopyObject())
}

func (a *API) create(k *Kind, obj runtime.Object) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if !k.Namespaced {
		m.SetNamespace("")
	} else if m.GetNamespace() == "" {
		m.SetNamespace(metav1.NamespaceDefault)
	}
	ns := m.GetNamespace()
	if k.Namespaced {
		if err := a.ensureNamespace(ns); err != nil {
			return nil, err
		}
	}
	// The name is drawn here, so that the seeded stream is read in the same order as ever, but
	// set only after mutating admission: kube-apiserver admits an object before it generates
	// its name (createHandler, then Store.Create's rest.BeforeCreate), so an admission error
	// names the generateName prefix (admission.NewForbidden: "pods \"web-5d4f8-\" is
	// forbidden"), the same for every retry of a controller's create.
	generated := ""
	if m.GetName() == "" && m.GetGenerateName() != "" {
		generated = a.generateName(k, ns, m.GetGenerateName())
	}
	legacyscheme.Scheme.Default(obj)
	m.SetUID(a.newUID())
	m.SetCreationTimestamp(metaTime(a.clock.Now()))
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)

	internal := k.newInternal()
	if err := legacyscheme.Scheme.Convert(obj, internal, nil); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if m.GetName() == "" && generated == "" {
		return nil, apierrors.NewInvalid(k.GVK.GroupKind(), "", field.ErrorList{
			field.Required(field.NewPath("metadata", "name"), "name or generateName is required")})
	}
	ctx := a.requestContext(k, "create", ns, m.GetName(), "")
	if err := a.admission.admit(ctx, k, admission.Create, internal, nil, ns, m.GetName(), ""); err != nil {
		return nil, err
	}
	if k.beginCreate != nil {
		if err := k.beginCreate(a, k, internal); err != nil {
			return nil, err
		}
	}
	if generated != "" {
		m.SetName(generated)
		internalMeta, err := meta.Accessor(internal)
		if err != nil {
			return nil, err
		}
		internalMeta.SetName(generated)
		ctx = a.requestContext(k, "create", ns, generated, "")
	}
	if err := rest.BeforeCreate(k.strategy, ctx, internal); err != nil {
		return nil, err
	}
	if err := a.admission.validate(ctx, k, admission.Create, internal, nil, ns, m.GetName(), ""); err != nil {
		return nil, err
	}
	out, err := a.external(k, internal)
	if err != nil {
		return nil, err
	}
	if k.defaultOnRead {
		legacyscheme.Scheme.Default(out)
	}
	if err := a.store(k, nil, out); err != nil {
		return nil, err
	}
	return out.DeepCopyObject(), nil
}

// ensureNamespace creates a namespace the first time an object names it. kube-apiserver would
// reject the object instead; a simulator fed partial manifests is more useful this way.
func (a *API) ensureNamespace(ns string) error {
	k := kinds["Namespace"]
	if _, err := a.tracker.Get(k.GVR, "", ns); err == nil {
		return nil
	}
	_, err := a.create(k, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	return err
}

// external converts an internal object back to its versioned form.
func (a *API) external(k *Kind, internal runtime.Object) (runtime.Object, error) {
	out, err := legacyscheme.Scheme.New(k.GVK)
	if err != nil {
		return nil, err
	}
	if err := legacyscheme.Scheme.Convert(internal, out, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// Update replaces an object's spec and metadata (its status is kept, as on kube-apiserver).
func (a *API) Update(obj runtime.Object) (runtime.Object, error) {
	return a.updateObject("Update", obj, "")
}

// UpdateStatus replaces an object's status through the status subresource.
func (a *API) UpdateStatus(obj runtime.Object) (runtime.Object, error) {
	return a.updateObject("UpdateStatus", obj, "status")
}

func (a *API) updateObject(verb string, obj runtime.Object, subresource string) (runtime.Object, error) {
	k, err := KindOf(obj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if a.watching.Load() {
		return nil, a.watcherWrote(verb, k, m.GetNamespace(), m.GetName())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.updateLocked(k, m, obj, subresource)
}

func (a *API) updateLocked(k *Kind, m metav1.Object, obj runtime.Object, subresource string) (runtime.Object, error) {
	cur, err := a.tracker.Get(k.GVR, m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, err
	}
	return a.update(k, cur, obj.DeepCopyObject(), subresource)
}

// update validates next against cur with the kind's strategy and stores it. An update that
// changes nothing is not stored and produces no event, as on kube-apiserver.
func (a *API) update(k *Kind, cur, next runtime.Object, subresource string) (runtime.Object, error) {
	strategy := rest.RESTUpdateStrategy(k.strategy)
	if subresource == "status" {
		if k.status == nil {
			return nil, apierrors.NewNotFound(k.GVR.GroupResource(), subresource)
		}
		strategy = k.status
	} else if subresource != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("subresource %q of %s is not supported", subresource, k.GVR.Resource))
	}
	curMeta, _ := meta.Accessor(cur)
	nextMeta, err := meta.Accessor(next)
	if err != nil {
		return nil, err
	}
	if rv := nextMeta.GetResourceVersion(); rv != "" && rv != curMeta.GetResourceVersion() {
		return nil, apierrors.NewConflict(k.GVR.GroupResource(), curMeta.GetName(),
			fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if a.clientWrite {
		virtualizeConditionTimes(cur, next, metaTime(a.clock.Now()))
	}
	legacyscheme.Scheme.Default(next)
	nextInt, curInt := k.newInternal(), k.newInternal()
	if err := legacyscheme.Scheme.Convert(next, nextInt, nil); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if err := legacyscheme.Scheme.Convert(cur, curInt, nil); err != nil {
		return nil, err
	}
	ctx := a.requestContext(k, "update", curMeta.GetNamespace(), curMeta.GetName(), subresource)
	if err := a.admission.admit(ctx, k, admission.Update, nextInt, curInt, curMeta.GetNamespace(), curMeta.GetName(), subresource); err != nil {
		return nil, err
	}
	if k.beginUpdate != nil && subresource == "" {
		if err := k.beginUpdate(a, k, nextInt, curInt); err != nil {
			return nil, err
		}
	}
	if err := rest.BeforeUpdate(strategy, ctx, nextInt, curInt); err != nil {
		return nil, err
	}
	if err := a.admission.validate(ctx, k, admission.Update, nextInt, curInt, curMeta.GetNamespace(), curMeta.GetName(), subresource); err != nil {
		return nil, err
	}
	out, err := a.external(k, nextInt)
	if err != nil {
		return nil, err
	}
	outMeta, _ := meta.Accessor(out)
	outMeta.SetResourceVersion(curMeta.GetResourceVersion())
	if apiequality.Semantic.DeepEqual(cur, out) {
		return cur, nil
	}
	if shouldDeleteDuringUpdate(out, cur) {
		return out, a.remove(k, cur)
	}
	shareUnchangedMetadata(outMeta, curMeta)
	if err := a.store(k, cur, out); err != nil {
		return nil, err
	}
	return out.DeepCopyObject(), nil
}

// shareUnchangedMetadata lets an updated object share the metadata its previous version had
// when an update left it unchanged. A patch is decoded from JSON, which allocates every string
// anew; stored objects are immutable, so sharing is safe and saves memory. Labels and the
// namespace are shared more widely, across objects, when stored (see labelSets).
func shareUnchangedMetadata(out, cur metav1.Object) {
	if out.GetName() == cur.GetName() {
		out.SetName(cur.GetName())
	}
	if maps.Equal(out.GetAnnotations(), cur.GetAnnotations()) {
		out.SetAnnotations(cur.GetAnnotations())
	}
	if apiequality.Semantic.DeepEqual(out.GetOwnerReferences(), cur.GetOwnerReferences()) {
		out.SetOwnerReferences(cur.GetOwnerReferences())
	}
}

// shouldDeleteDuringUpdate mirrors the generic registry: an object already being deleted with
// no grace period left goes away once its last finalizer is removed.
func shouldDeleteDuringUpdate(next, cur runtime.Object) bool {
	nm, cm := next.(metav1.Object), cur.(metav1.Object)
	if len(nm.GetFinalizers()) > 0 || cm.GetDeletionTimestamp() == nil {
		return false
	}
	g := cm.GetDeletionGracePeriodSeconds()
	return g == nil || *g == 0
}

// store writes an object with the next resourceVersion and delivers the change.
func (a *API) store(k *Kind, old, obj runtime.Object) error {
	m, _ := meta.Accessor(obj)
	a.labels.share(m)
	if p, ok := obj.(*corev1.Pod); ok {
		a.specs.share(p)
	}
	a.rv++
	m.SetResourceVersion(fmt.Sprint(a.rv))
	var err error
	if old == nil {
		if err := a.objects.admit(k, m.GetNamespace(), m.GetName()); err != nil {
			return err
		}
		if err = a.tracker.Create(k.GVR, obj, m.GetNamespace()); err == nil {
			a.objects.stored++
			if k.Name() == "Node" {
				a.layout.nodes++
			} else if k.Name() == "Pod" {
				a.podLayout.pods++
			}
		}
	} else {
		err = a.tracker.Update(k.GVR, obj, m.GetNamespace())
	}
	if err != nil {
		return err
	}
	a.writes.Add(1)
	if k.Name() == "Node" {
		a.layout.noteWrite()
	} else if k.Name() == "Pod" {
		a.podLayout.writes++
	}
	t := watch.Added
	if old != nil {
		t = watch.Modified
	}
	a.deliver(WatchEvent{Kind: k, Type: t, Old: old, Object: obj, Restored: a.restoring && old == nil})
	return nil
}

func (a *API) remove(k *Kind, cur runtime.Object) error {
	m, _ := meta.Accessor(cur)
	if err := a.tracker.Delete(k.GVR, m.GetNamespace(), m.GetName()); err != nil {
		return err
	}
	a.objects.stored--
	if k.Name() == "Node" {
		a.layout.nodes--
	} else if k.Name() == "Pod" {
		a.podLayout.pods--
	}
	a.writes.Add(1)
	a.deliver(WatchEvent{Kind: k, Type: watch.Deleted, Old: cur, Object: cur})
	return nil
}

func (a *API) deliver(ev WatchEvent) {
	if inf := a.informers[ev.Kind.Name()]; inf != nil {
		switch ev.Type {
		case watch.Added:
			inf.deliver(nil, ev.Object)
		case watch.Modified:
			inf.deliver(ev.Old, ev.Object)
		case watch.Deleted:
			inf.deliver(ev.Old, nil)
		}
	}
	a.watching.Store(true)
	defer a.watching.Store(false)
	for _, w := range a.watchers {
		w(ev)
	}
}

// relayoutNodes lays the scheduler's nodes out afresh when enough were written (see nodeLayout).
func (a *API) relayoutNodes() {
	a.mu.Lock()
	defer a.mu.Unlock()
	gvr := kinds["Node"].GVR
	a.layout.relayout(a.informers["Node"], func(old, n *corev1.Node) {
		// Where the store holds the informer's object, it takes the copy too, so that the old
		// one can go.
		if cur, err := a.tracker.shared(gvr, "", n.Name); err == nil && cur == runtime.Object(old) {
			_ = a.tracker.Update(gvr, n, "")
		}
		a.tellRelaid(kinds["Node"], old, n)
	})
}

// Patch applies a JSON, merge or strategic merge patch to an object or its status.
func (a *API) Patch(k *Kind, ns, name string, pt types.PatchType, data []byte, subresource string) (runtime.Object, error) {
	if a.watching.Load() {
		return nil, a.watcherWrote("Patch", k, ns, name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.patchLocked(k, ns, name, pt, data, subresource)
}

func (a *API) patchLocked(k *Kind, ns, name string, pt types.PatchType, data []byte, subresource string) (runtime.Object, error) {
	cur, err := a.tracker.Get(k.GVR, ns, name)
	if err != nil {
		return nil, err
	}
	curJSON, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	patched, err := applyPatch(curJSON, pt, data, cur)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s %s/%s: %v", k.Name(), ns, name, err))
	}
	next, err := legacyscheme.Scheme.New(k.GVK)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patched, next); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s %s/%s: patched object does not decode: %v", k.Name(), ns, name, err))
	}
	return a.update(k, cur, next, subresource)
}

// Delete deletes an object as the generic registry does: graceful deletion sets
// deletionTimestamp and waits for a final delete with no grace period; finalizers keep an
// object until the last one is removed.
func (a *API) Delete(k *Kind, ns, name string, opts metav1.DeleteOptions) error {
	if a.watching.Load() {
		return a.watcherWrote("Delete", k, ns, name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cur, err := a.tracker.Get(k.GVR, ns, name)
	if err != nil {
		return err
	}
	return a.delete(k, cur, &opts)
}

func (a *API) delete(k *Kind, cur runtime.Object, opts *metav1.DeleteOptions) error {
	internal := k.newInternal()
	if err := legacyscheme.Scheme.Convert(cur, internal, nil); err != nil {
		return err
	}
	im, _ := meta.Accessor(internal)
	wasDeleting := im.GetDeletionTimestamp() != nil
	oldGrace := im.GetDeletionGracePeriodSeconds()
	var oldDeletion *metav1.Time
	if wasDeleting {
		t := *im.GetDeletionTimestamp()
		oldDeletion = &t
	}
	graceful, pending, err := rest.BeforeDelete(k.strategy, a.requestContext(k, "delete", im.GetNamespace(), im.GetName(), ""), internal, opts)
	if err != nil {
		return err
	}
	if pending {
		return nil
	}
	now := a.clock.Now()
	if graceful {
		// BeforeDelete stamps deletionTimestamp from the wall clock; restate it on virtual time.
		grace := *im.GetDeletionGracePeriodSeconds()
		ts := now.Add(secondsDuration(grace))
		if wasDeleting && oldGrace != nil && oldDeletion != nil {
			ts = oldDeletion.Add(-secondsDuration(*oldGrace)).Add(secondsDuration(grace))
			if ts.Before(now) {
				ts = now
			}
		}
		mt := metaTime(ts)
		im.SetDeletionTimestamp(&mt)
	}
	pendingFinalizers := len(im.GetFinalizers()) != 0
	if !graceful && !pendingFinalizers {
		return a.remove(k, cur)
	}
	if !graceful {
		// Finalizers are pending: mark as deleting with no grace period left.
		if im.GetDeletionTimestamp() == nil && im.GetGeneration() > 0 {
			im.SetGeneration(im.GetGeneration() + 1)
		}
		if ts := im.GetDeletionTimestamp(); ts == nil || ts.After(now) {
			mt := metaTime(now)
			im.SetDeletionTimestamp(&mt)
		}
		zero := int64(0)
		im.SetDeletionGracePeriodSeconds(&zero)
	}
	out, err := a.external(k, internal)
	if err != nil {
		return err
	}
	removeNow := !pendingFinalizers && *im.GetDeletionGracePeriodSeconds() == 0
	if !removeNow && apiequality.Semantic.DeepEqual(cur, out) {
		// Deleting again an object already being deleted, held by its finalizers or its grace
		// period, changes nothing, and etcd3's GuaranteedUpdate
		// (k8s.io/apiserver/pkg/storage/etcd3/store.go) skips a write whose data is unchanged:
		// no new resourceVersion, no watch event. Without this, KWOK's stage-fast pod-delete
		// (delete: true) would match its own no-op write again and again on a pod with a
		// finalizer, and the run would stop as a livelock.
		return nil
	}
	if err := a.store(k, cur, out); err != nil {
		return err
	}
	if removeNow {
		return a.remove(k, out)
	}
	return nil
}

// Bind assigns a pod to a node through the binding subresource, as kube-apiserver's
// BindingREST does: only an unassigned, live pod can be bound, and PodScheduled becomes True.
func (a *API) Bind(b *corev1.Binding) error {
	k := kinds["Pod"]
	if a.watching.Load() {
		return a.watcherWrote("Bind", k, b.Namespace, b.Name)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// The stored pod itself, read only: the bound pod below is a copy of it.
	obj, err := a.tracker.shared(k.GVR, b.Namespace, b.Name)
	if err != nil {
		return err
	}
	cur := obj.(*corev1.Pod)
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(k.GVK.GroupKind(), b.Name, field.ErrorList{
			field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node", "<empty>"})})
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(k.GVK.GroupKind(), b.Name, field.ErrorList{
			field.Required(field.NewPath("target", "name"), "")})
	}
	if b.UID != "" && b.UID != cur.UID {
		return apierrors.NewConflict(k.GVR.GroupResource(), b.Name, fmt.Errorf("the UID in the binding does not match the pod"))
	}
	if cur.DeletionTimestamp != nil {
		return apierrors.NewConflict(k.GVR.GroupResource(), b.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", b.Name))
	}
	if cur.Spec.NodeName != "" {
		return apierrors.NewConflict(k.GVR.GroupResource(), b.Name, fmt.Errorf("pod %v is already assigned to node %q", b.Name, cur.Spec.NodeName))
	}
	pod := cur.DeepCopy()
	pod.Spec.NodeName = b.Target.Name
	for key, v := range b.Annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[key] = v
	}
	setPodCondition(&pod.Status, corev1.PodCondition{
		Type:               corev1.PodScheduled,
		Status:             corev1.ConditionTrue,
		ObservedGeneration: pod.Generation,
	}, a.clock.Now())
	return a.store(k, cur, pod)
}

// setPodCondition adds or replaces a condition, keeping lastTransitionTime when the status
// does not change, as the apiserver's pod helpers do (but on virtual time).
func setPodCondition(status *corev1.PodStatus, c corev1.PodCondition, now time.Time) {
	for i := range status.Conditions {
		if status.Conditions[i].Type == c.Type {
			if status.Conditions[i].Status == c.Status {
				c.LastTransitionTime = status.Conditions[i].LastTransitionTime
			} else {
				c.LastTransitionTime = metaTime(now)
			}
			status.Conditions[i] = c
			return
		}
	}
	c.LastTransitionTime = metaTime(now)
	status.Conditions = append(status.Conditions, c)
}

// newUID draws a version 4 UUID from the seeded RNG.
func (a *API) newUID() types.UID {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := a.rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return types.UID(uuid.UUID(b).String())
}

// nameAlphabet and the 5-character suffix are those of the apiserver's SimpleNameGenerator
// (k8s.io/apiserver/pkg/storage/names), drawn from the seeded RNG instead of a global one.
const (
	nameAlphabet          = "bcdfghjklmnpqrstvwxz2456789"
	randomLength          = 5
	maxGeneratedNameBase  = 63 - randomLength
	maxGenerateNameTrials = 16
)

func (a *API) generateName(k *Kind, ns, base string) string {
	if len(base) > maxGeneratedNameBase {
		base = base[:maxGeneratedNameBase]
	}
	var name string
	for trial := 0; trial < maxGenerateNameTrials; trial++ {
		b := make([]byte, randomLength)
		for i := range b {
			b[i] = nameAlphabet[a.rng.IntN(len(nameAlphabet))]
		}
		name = base + string(b)
		if _, err := a.tracker.Get(k.GVR, ns, name); apierrors.IsNotFound(err) {
			break
		}
	}
	return name
}
