package workloads

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
)

// Controllers are the workload controllers of a simulated cluster. Like the real ones they
// react to changes, but each sync runs as an event on the virtual clock at the instant of the
// change, in the order the changes happened, so a run is reproducible.
type Controllers struct {
	s       *sim.Simulator
	byKind  map[string]*controllerDef
	pending map[objectKey]bool
	// owned indexes the live objects each object controls, by the controller's UID, with their
	// latest stored state. Stored objects are never modified in place, so sharing them is safe
	// as long as a controller copies before it writes.
	owned map[types.UID]map[objectKey]runtime.Object
}

type objectKey struct{ kind, namespace, name string }

// controllerDef is one workload controller.
type controllerDef struct {
	// kind is the kind it controls.
	kind string
	// sync brings one object of the kind to its desired state. A missing object is not an
	// error: it was deleted since the sync was queued.
	sync func(ns, name string) error
	// ownedChanged reports whether a change to an object this kind controls (a pod, a
	// ReplicaSet) needs a sync of its controller. Nil means every change does.
	ownedChanged func(ev sim.WatchEvent) bool
	// watch, when set, sees every other change too (a DaemonSet follows nodes).
	watch func(ev sim.WatchEvent)
}

// Install starts the workload controllers on s.
func Install(s *sim.Simulator) *Controllers {
	c := &Controllers{s: s, pending: map[objectKey]bool{}, owned: map[types.UID]map[objectKey]runtime.Object{}, byKind: map[string]*controllerDef{}}
	for _, def := range []controllerDef{c.deploymentController(), c.replicaSetController(), c.jobController(), c.statefulSetController(), c.daemonSetController()} {
		d := def
		c.byKind[d.kind] = &d
	}
	s.API().Watch(c.observe)
	return c
}

func (c *Controllers) observe(ev sim.WatchEvent) {
	obj := ev.Object.(metav1.Object)
	kind := ev.Kind.Name()
	k := objectKey{kind, obj.GetNamespace(), obj.GetName()}
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref != nil {
		if ev.Type == watch.Deleted {
			delete(c.owned[ref.UID], k)
			if len(c.owned[ref.UID]) == 0 {
				delete(c.owned, ref.UID)
			}
		} else {
			if c.owned[ref.UID] == nil {
				c.owned[ref.UID] = map[objectKey]runtime.Object{}
			}
			c.owned[ref.UID][k] = ev.Object
		}
	}
	if ev.Type == watch.Deleted {
		c.collectGarbage(obj.GetUID())
	}
	if def := c.byKind[kind]; def != nil && ev.Type != watch.Deleted {
		c.enqueue(kind, k.namespace, k.name)
	}
	if ref != nil {
		if def := c.byKind[ref.Kind]; def != nil && (def.ownedChanged == nil || def.ownedChanged(ev)) {
			c.enqueue(ref.Kind, k.namespace, ref.Name)
		}
	}
	for _, kind := range controllerKinds {
		if def := c.byKind[kind]; def.watch != nil {
			def.watch(ev)
		}
	}
}

// controllerKinds fixes the order in which controllers see changes.
var controllerKinds = []string{"Deployment", "ReplicaSet", "Job", "StatefulSet", "DaemonSet"}

// collectGarbage deletes what a deleted object controlled, as the garbage collector does with
// background propagation (the default for a delete without options).
func (c *Controllers) collectGarbage(owner types.UID) {
	deps := c.owned[owner]
	if len(deps) == 0 {
		return
	}
	keys := make([]objectKey, 0, len(deps))
	for k := range deps {
		keys = append(keys, k)
	}
	sortKeys(keys)
	c.s.Clock().AfterDelay(0, func() {
		for _, k := range keys {
			kind, err := sim.KindNamed(k.kind)
			if err != nil {
				continue
			}
			// Already gone or being deleted is fine; anything else is worth a warning.
			if err := c.s.API().Delete(kind, k.namespace, k.name, metav1.DeleteOptions{}); err != nil && !isNotFound(err) {
				c.s.Recorder().Warn(k.kind, k.namespace, k.name, "GarbageCollectionFailed", err.Error())
			}
		}
	})
}

func sortKeys(keys []objectKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		if keys[i].namespace != keys[j].namespace {
			return keys[i].namespace < keys[j].namespace
		}
		return keys[i].name < keys[j].name
	})
}

// enqueue schedules one sync of an object at the current instant; repeated changes before it
// runs collapse into that one sync, as a controller's work queue does.
func (c *Controllers) enqueue(kind, ns, name string) {
	key := objectKey{kind, ns, name}
	if c.pending[key] {
		return
	}
	c.pending[key] = true
	c.s.Clock().AfterDelay(0, func() {
		delete(c.pending, key)
		if err := c.byKind[kind].sync(ns, name); err != nil {
			c.s.Recorder().Warn(kind, ns, name, "SyncFailed", err.Error())
		}
	})
}

// get returns a copy of a stored object, or an error when it does not exist.
func (c *Controllers) get(kind, ns, name string) (runtime.Object, error) {
	k, err := sim.KindNamed(kind)
	if err != nil {
		return nil, err
	}
	return c.s.API().Get(k, ns, name)
}

// ownedBy returns the live objects of a kind controlled by the owner, sorted by name. They are
// the stored objects themselves: read them, and DeepCopy before changing one.
func (c *Controllers) ownedBy(owner types.UID, kind string) []runtime.Object {
	var keys []objectKey
	for k := range c.owned[owner] {
		if k.kind == kind {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	out := make([]runtime.Object, 0, len(keys))
	for _, k := range keys {
		out = append(out, c.owned[owner][k])
	}
	return out
}
