// Package disruption is the PodDisruptionBudget status controller
// (k8s.io/kubernetes/pkg/controller/disruption) on virtual time: it keeps each budget's
// status (currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, the
// DisruptionAllowed condition, observedGeneration) as the real controller computes it, so that
// the scheduler's DefaultPreemption, which reads budgets through its lister, sees the
// disruptions a real cluster would allow. Without it every budget would allow none.
//
// Deliberate deviations:
//   - A pod change re-syncs every budget whose selector matches the pod before or after the
//     change. The real controller re-syncs only the first budget its lister returns for the
//     pod's new labels (getPdbForPod), in the lister's unspecified order; the others wait for
//     a change of their own.
//   - Warnings (UnmanagedPods, CalculateExpectedPodCountFailed) are recorded once per budget
//     until their message changes, where the real controller repeats the event at every sync.
//   - A disruptedPods entry's recheck (enqueuePdbForRecheck) is dropped when a sync finds no
//     entry left to expire, so that an eviction whose pod went does not keep a run going for
//     DeletionTimeout; the real recheck would find nothing to do.
//   - The NotDeleted warning is recorded on the pod with the real message (its namespace
//     printed twice, as upstream's Eventf arguments have it).
//   - The stale DisruptionTarget cleanup (stale.go) drops its waiting check when the pod
//     starts terminating or goes.
package disruption

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

const kind = "PodDisruptionBudget"

// Controller computes the status of PodDisruptionBudgets.
type Controller struct {
	m     *manager.Manager
	queue *manager.Queue
	// pods and budgets index the stored objects by namespace and name, as the real
	// controller's informers do; stored objects are immutable, so they are shared. pods is
	// nil until the first budget appears: a run without budgets keeps no second index of
	// every pod.
	pods    map[string]map[string]*corev1.Pod
	budgets map[string]map[string]budget
	// warned is the last warning recorded per budget and reason (see the package comment).
	warned map[warningKey]string
	// stale resets DisruptionTarget conditions that no deletion followed (stale.go).
	stale *staleCleanup
}

type budget struct {
	pdb *policyv1.PodDisruptionBudget
	// selector is nil when the budget's selector does not parse: it matches no pod, as in
	// the lister's GetPodPodDisruptionBudgets.
	selector labels.Selector
}

type warningKey struct{ ns, name, reason string }

var (
	_ manager.Controller = (*Controller)(nil)
	_ manager.Observer   = (*Controller)(nil)
)

// New registers the controller with m.
func New(m *manager.Manager) *Controller {
	c := &Controller{
		m:       m,
		budgets: map[string]map[string]budget{},
		warned:  map[warningKey]string{},
	}
	c.queue = m.Register(c)
	c.stale = newStaleCleanup(m)
	return c
}

// Kind is "PodDisruptionBudget". Every change of a budget, its status included, asks for a
// sync, as the real controller's updateDB does; a sync that finds the status right writes
// nothing.
func (c *Controller) Kind() string { return kind }

// Observe keeps the indexes and asks for the syncs the real controller's pod handlers ask
// for: a pod added, changed or deleted re-syncs the budgets that select it.
func (c *Controller) Observe(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case kind:
		pdb := ev.Object.(*policyv1.PodDisruptionBudget)
		if ev.Type == watch.Deleted {
			delete(c.budgets[pdb.Namespace], pdb.Name)
			for k := range c.warned {
				if k.ns == pdb.Namespace && k.name == pdb.Name {
					delete(c.warned, k)
				}
			}
			return
		}
		c.indexPods()
		b := budget{pdb: pdb}
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
			b.selector = sel
		}
		if c.budgets[pdb.Namespace] == nil {
			c.budgets[pdb.Namespace] = map[string]budget{}
		}
		c.budgets[pdb.Namespace][pdb.Name] = b
	case "Pod":
		c.stale.observe(ev)
		if c.pods == nil {
			return // no budget yet: indexPods lists them when one comes
		}
		pod := ev.Object.(*corev1.Pod)
		if ev.Type == watch.Deleted {
			delete(c.pods[pod.Namespace], pod.Name)
		} else {
			if c.pods[pod.Namespace] == nil {
				c.pods[pod.Namespace] = map[string]*corev1.Pod{}
			}
			c.pods[pod.Namespace][pod.Name] = pod
		}
		if len(c.budgets[pod.Namespace]) == 0 || !manager.PodChanged(ev) {
			return
		}
		var old labels.Set
		if ev.Old != nil {
			old = ev.Old.(*corev1.Pod).Labels
		}
		// In name order: each Add is a clock event, and their order is the order of the syncs.
		budgets := c.budgets[pod.Namespace]
		for _, name := range slices.Sorted(maps.Keys(budgets)) {
			b := budgets[name]
			if b.selector == nil {
				continue
			}
			if b.selector.Matches(labels.Set(pod.Labels)) || (old != nil && b.selector.Matches(old)) {
				c.queue.Add(pod.Namespace, name)
			}
		}
	}
}

// indexPods builds the pod index from the stored pods when the first budget appears (a read,
// which the Watcher rule allows); from then on pod events keep it.
func (c *Controller) indexPods() {
	if c.pods != nil {
		return
	}
	c.pods = map[string]map[string]*corev1.Pod{}
	podKind, _ := sim.KindNamed("Pod")
	objs, err := c.m.API().List(podKind)
	if err != nil {
		c.m.Warn(kind, "", "", "ListFailed", err.Error())
		return
	}
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if c.pods[p.Namespace] == nil {
			c.pods[p.Namespace] = map[string]*corev1.Pod{}
		}
		c.pods[p.Namespace][p.Name] = p
	}
}

// podsFor is getPodsForPdb: the pods of the budget's namespace its selector matches, whatever
// their phase, in no particular order (what is computed from them is a count, or sorted first).
func (c *Controller) podsFor(b budget) []*corev1.Pod {
	if b.selector == nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range c.pods[b.pdb.Namespace] {
		if b.selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// warn records a warning on the budget unless the same one was the last recorded.
func (c *Controller) warn(pdb *policyv1.PodDisruptionBudget, reason, msg string) {
	k := warningKey{pdb.Namespace, pdb.Name, reason}
	if c.warned[k] == msg {
		return
	}
	c.warned[k] = msg
	c.m.Warn(kind, pdb.Namespace, pdb.Name, reason, msg)
}

// Relaid holds the copy a relayout made of an indexed pod (manager.Relaider).
func (c *Controller) Relaid(_ string, old, cur runtime.Object) {
	if p, ok := cur.(*corev1.Pod); ok {
		if pods := c.pods[p.Namespace]; pods != nil && runtime.Object(pods[p.Name]) == old {
			pods[p.Name] = p
		}
	}
}
