package manager

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
)

// Key names one object.
type Key struct{ Kind, Namespace, Name string }

// Compare orders keys by kind, namespace, then name.
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.Kind, o.Kind), cmp.Compare(k.Namespace, o.Namespace), cmp.Compare(k.Name, o.Name))
}

// Controller is one workload controller.
type Controller interface {
	// Kind is the kind it controls.
	Kind() string
	// Sync brings one object of the kind to its desired state. A missing object is not an
	// error: it was deleted since the sync was asked for. An error is recorded as a warning
	// (reason SyncFailed) on the object, and stays the object's current failure, which the
	// report shows, until a later sync succeeds (sim.Recorder.Synced).
	Sync(ns, name string) error
}

// ObjectFilter is implemented by a controller that does not sync at once on every change of
// an object of its own kind (the default). ObjectChanged may ask its Queue for a later sync.
type ObjectFilter interface {
	ObjectChanged(ev sim.WatchEvent) bool
}

// OwnedFilter is implemented by a controller for which not every change of an object it
// controls (a pod, a ReplicaSet) needs a sync of its controller.
type OwnedFilter interface {
	OwnedChanged(ev sim.WatchEvent) bool
}

// Observer is implemented by a controller that follows other changes too (a DaemonSet
// follows nodes). Observe sees every change, after the manager's own bookkeeping.
type Observer interface {
	Observe(ev sim.WatchEvent)
}

// Manager runs the registered controllers on a simulator.
type Manager struct {
	s *sim.Simulator
	// controllers in registration order, the order in which they see changes.
	controllers []*registered
	byKind      map[string]*registered
	// owned indexes the live objects each object controls, by the controller's UID, with
	// their latest stored state. Stored objects are never modified in place, so sharing them
	// is safe as long as a controller copies before it writes.
	owned map[types.UID]map[Key]runtime.Object
	// dependents indexes, by owner UID, the live objects that name the owner in an
	// ownerReference other than their single controller reference (gc.go).
	dependents map[types.UID]map[Key]bool
	// clients are the controllers' own API clients, by name (see Client).
	clients map[string]*Client
}

type registered struct {
	c     Controller
	queue *Queue
}

// New returns a manager with no controllers; Register them, then Start.
func New(s *sim.Simulator) *Manager {
	return &Manager{s: s, byKind: map[string]*registered{}, owned: map[types.UID]map[Key]runtime.Object{},
		dependents: map[types.UID]map[Key]bool{}, clients: map[string]*Client{}}
}

// Register adds a controller and returns its work queue. Controllers see changes in the
// order they were registered.
func (m *Manager) Register(c Controller) *Queue {
	kind := c.Kind()
	r := &registered{c: c, queue: newQueue(m.s.Clock(), kind, c.Sync, m.s.Recorder().Synced)}
	m.controllers = append(m.controllers, r)
	m.byKind[kind] = r
	return r.queue
}

// Controller is the registered controller of a kind, or nil.
func (m *Manager) Controller(kind string) Controller {
	if r := m.byKind[kind]; r != nil {
		return r.c
	}
	return nil
}

// Start delivers every later change to the controllers.
func (m *Manager) Start() {
	m.s.API().Watch(m.observe)
	m.s.API().OnRelaid(m.relaid)
}

// Simulator is the simulated cluster the controllers run on.
func (m *Manager) Simulator() *sim.Simulator { return m.s }

// Clock is the simulation's virtual clock.
func (m *Manager) Clock() *clock.Virtual { return m.s.Clock() }

// API is the simulated apiserver controllers write through.
func (m *Manager) API() *sim.API { return m.s.API() }

// Warn records a warning event on an object.
func (m *Manager) Warn(kind, ns, name, reason, msg string) {
	m.s.Recorder().Warn(kind, ns, name, reason, msg)
}

func (m *Manager) observe(ev sim.WatchEvent) {
	obj := ev.Object.(metav1.Object)
	kind := ev.Kind.Name()
	k := Key{kind, obj.GetNamespace(), obj.GetName()}
	ref := metav1.GetControllerOfNoCopy(obj)
	if ev.Type == watch.Modified {
		// The owners may have changed (a StatefulSet's claim moves from the set to its pod).
		m.unindexOwners(k, ev.Old.(metav1.Object), ref)
	}
	if ref != nil {
		m.index(ref.UID, k, ev)
	}
	m.indexDependent(k, obj, ev.Type == watch.Deleted)
	if ev.Type == watch.Deleted {
		m.collectGarbage(obj.GetUID())
	}
	if r := m.byKind[kind]; r != nil && ev.Type != watch.Deleted {
		if f, ok := r.c.(ObjectFilter); !ok || f.ObjectChanged(ev) {
			r.queue.Add(k.Namespace, k.Name)
		}
	}
	if ref != nil {
		if r := m.byKind[ref.Kind]; r != nil {
			if f, ok := r.c.(OwnedFilter); !ok || f.OwnedChanged(ev) {
				r.queue.Add(k.Namespace, ref.Name)
			}
		}
	}
	for _, r := range m.controllers {
		if o, ok := r.c.(Observer); ok {
			o.Observe(ev)
		}
	}
}

// index keeps owned up to date with one change of an object controlled by owner.
func (m *Manager) index(owner types.UID, k Key, ev sim.WatchEvent) {
	if ev.Type == watch.Deleted {
		delete(m.owned[owner], k)
		if len(m.owned[owner]) == 0 {
			delete(m.owned, owner)
		}
		return
	}
	if m.owned[owner] == nil {
		m.owned[owner] = map[Key]runtime.Object{}
	}
	m.owned[owner][k] = ev.Object
}

// Get returns a copy of a stored object, or an error when it does not exist.
func (m *Manager) Get(kind, ns, name string) (runtime.Object, error) {
	k, err := sim.KindNamed(kind)
	if err != nil {
		return nil, err
	}
	return m.s.API().Get(k, ns, name)
}

// OwnedBy returns the live objects of a kind controlled by the owner, sorted by name. They are
// the stored objects themselves: read them, and DeepCopy before changing one.
func (m *Manager) OwnedBy(owner types.UID, kind string) []runtime.Object {
	var keys []Key
	for k := range m.owned[owner] {
		if k.Kind == kind {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, Key.Compare)
	out := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.owned[owner][k])
	}
	return out
}

// EachOwned calls fn for every live object the owner controls, in no particular order: for
// counting, not for anything whose result depends on the order.
func (m *Manager) EachOwned(owner types.UID, fn func(runtime.Object)) {
	for _, o := range m.owned[owner] {
		fn(o)
	}
}

// Relaider is a controller that indexes stored objects: it is told when a relayout replaced
// one with an identical copy (sim.API.OnRelaid), so that it holds the copy and the old object
// can go. It must not write.
type Relaider interface {
	Relaid(kind string, old, cur runtime.Object)
}

// relaid swaps an owned object for the copy a relayout made, and tells the controllers that
// index stored objects.
func (m *Manager) relaid(kind *sim.Kind, old, cur runtime.Object) {
	obj := cur.(metav1.Object)
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		k := Key{kind.Name(), obj.GetNamespace(), obj.GetName()}
		if owned := m.owned[ref.UID]; owned != nil && owned[k] == old {
			owned[k] = cur
		}
	}
	for _, r := range m.controllers {
		if o, ok := r.c.(Relaider); ok {
			o.Relaid(kind.Name(), old, cur)
		}
	}
}
