package resourcequota

import (
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// index is the controller's view of the namespaced objects, kept from the watch as its
// informers would keep it: the stored objects themselves, by kind, namespace and name.
type index struct {
	objects map[string]map[string]map[string]runtime.Object
}

func newIndex() *index { return &index{objects: map[string]map[string]map[string]runtime.Object{}} }

func (x *index) apply(ev sim.WatchEvent) {
	m := ev.Object.(metav1.Object)
	kind, ns := ev.Kind.Name(), m.GetNamespace()
	if ev.Type == watch.Deleted {
		delete(x.objects[kind][ns], m.GetName())
		return
	}
	if x.objects[kind] == nil {
		x.objects[kind] = map[string]map[string]runtime.Object{}
	}
	if x.objects[kind][ns] == nil {
		x.objects[kind][ns] = map[string]runtime.Object{}
	}
	x.objects[kind][ns][m.GetName()] = ev.Object
}

func (x *index) get(k manager.Key) runtime.Object { return x.objects[k.Kind][k.Namespace][k.Name] }

// keys lists the objects of a kind in a namespace ("" for all), sorted.
func (x *index) keys(kind, ns string) []manager.Key {
	var out []manager.Key
	for n, objs := range x.objects[kind] {
		if ns != "" && n != ns {
			continue
		}
		for name := range objs {
			out = append(out, manager.Key{Kind: kind, Namespace: n, Name: name})
		}
	}
	slices.SortFunc(out, manager.Key.Compare)
	return out
}

// lister is the quota.ListerForResourceFunc the evaluators list a namespace's objects with. A
// resource the simulator does not serve has no objects.
func (x *index) lister(gvr schema.GroupVersionResource) (cache.GenericLister, error) {
	kind := ""
	for _, name := range sim.SupportedKinds() {
		if k, _ := sim.KindNamed(name); k.GVR == gvr {
			kind = name
		}
	}
	return kindLister{x: x, kind: kind, resource: gvr.GroupResource()}, nil
}

// kindLister lists in no particular order: the evaluators only add up what they list.
type kindLister struct {
	x        *index
	kind, ns string
	resource schema.GroupResource
}

func (l kindLister) List(selector labels.Selector) ([]runtime.Object, error) {
	var out []runtime.Object
	for ns, objs := range l.x.objects[l.kind] {
		if l.ns != "" && ns != l.ns {
			continue
		}
		for _, o := range objs {
			if selector.Matches(labels.Set(o.(metav1.Object).GetLabels())) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func (l kindLister) Get(name string) (runtime.Object, error) {
	if o, ok := l.x.objects[l.kind][l.ns][name]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(l.resource, name)
}

func (l kindLister) ByNamespace(ns string) cache.GenericNamespaceLister {
	l.ns = ns
	return l
}
