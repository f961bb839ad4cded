package tainteviction

import (
	"cmp"
	"math"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/apis/core/helper"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// Name is the controller's name in kube-controller-manager, and its Kind for the manager (it
// owns no kind: its queue holds nodes, with no namespace, and pods).
const Name = "taint-eviction-controller"

var (
	nodeKind, _ = sim.KindNamed("Node")
	podKind, _  = sim.KindNamed("Pod")
)

type podKey struct{ namespace, name string }

func (k podKey) compare(o podKey) int {
	return cmp.Or(cmp.Compare(k.namespace, o.namespace), cmp.Compare(k.name, o.name))
}

// Controller is the taint eviction controller.
type Controller struct {
	api   *sim.API
	clock *clock.Virtual
	queue *manager.Queue
	// tainted is taintedNodes: the NoExecute taints of every node that has some.
	tainted map[string][]corev1.Taint
	// onNode indexes the pods bound to each node (getPodsAssignedToNode).
	onNode map[string]map[podKey]*corev1.Pod
	// work is the TimedWorkerQueue: the scheduled evictions.
	work map[podKey]*timedWork
}

// timedWork is a TimedWorker: an eviction due at fireAt, a foreground clock event.
type timedWork struct {
	createdAt, fireAt time.Time
	event             *clock.Event
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
	_ manager.OwnedFilter  = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
)

// New registers the controller with m.
func New(m *manager.Manager) *Controller {
	c := &Controller{
		api:     m.API(),
		clock:   m.Clock(),
		tainted: map[string][]corev1.Taint{},
		onNode:  map[string]map[podKey]*corev1.Pod{},
		work:    map[podKey]*timedWork{},
	}
	c.queue = m.Register(c)
	return c
}

// Kind is the controller's name: no object has that kind.
func (c *Controller) Kind() string { return Name }

// ObjectChanged is never asked (no object has the controller's kind).
func (c *Controller) ObjectChanged(sim.WatchEvent) bool { return false }

// OwnedChanged is never asked either.
func (c *Controller) OwnedChanged(sim.WatchEvent) bool { return false }

// Observe keeps the pod index and queues what the real controller's NodeUpdated and
// PodUpdated queue: a node whose NoExecute taints changed, a pod whose tolerations or node
// changed (or that came or went). A node is queued without a namespace, a pod with its own.
func (c *Controller) Observe(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case "Node":
		var old, cur []corev1.Taint
		if ev.Old != nil {
			old = noExecuteTaints(ev.Old.(*corev1.Node).Spec.Taints)
		}
		if ev.Type != watch.Deleted {
			cur = noExecuteTaints(ev.Object.(*corev1.Node).Spec.Taints)
		}
		if ev.Type == watch.Modified && helper.Semantic.DeepEqual(old, cur) {
			return
		}
		c.queue.Add("", ev.Object.(*corev1.Node).Name)
	case "Pod":
		cur := ev.Object.(*corev1.Pod)
		var old *corev1.Pod
		if ev.Old != nil {
			old = ev.Old.(*corev1.Pod)
		}
		c.index(old, cur, ev.Type == watch.Deleted)
		if ev.Type == watch.Modified && old.Spec.NodeName == cur.Spec.NodeName &&
			helper.Semantic.DeepEqual(old.Spec.Tolerations, cur.Spec.Tolerations) {
			return
		}
		// A pod with no eviction scheduled, on no node known to be tainted, would find
		// nothing to do; if its node is being tainted, that node's own update, still to be
		// handled, finds the pod in the index. So most pods cost no sync.
		k := podKey{cur.Namespace, cur.Name}
		if _, tainted := c.tainted[cur.Spec.NodeName]; c.work[k] == nil && (!tainted || ev.Type == watch.Deleted) {
			return
		}
		c.queue.Add(cur.Namespace, cur.Name)
	}
}

func (c *Controller) index(old, cur *corev1.Pod, deleted bool) {
	k := podKey{cur.Namespace, cur.Name}
	drop := func(node string) {
		delete(c.onNode[node], k)
		if len(c.onNode[node]) == 0 {
			delete(c.onNode, node)
		}
	}
	if deleted {
		drop(cur.Spec.NodeName) // a Deleted event's object is the pod's last state
		return
	}
	if old != nil && old.Spec.NodeName != "" && old.Spec.NodeName != cur.Spec.NodeName {
		drop(old.Spec.NodeName)
	}
	if cur.Spec.NodeName != "" {
		if c.onNode[cur.Spec.NodeName] == nil {
			c.onNode[cur.Spec.NodeName] = map[podKey]*corev1.Pod{}
		}
		c.onNode[cur.Spec.NodeName][k] = cur
	}
}

// Sync handles one queued node (no namespace) or pod.
func (c *Controller) Sync(ns, name string) error {
	if ns == "" {
		c.handleNodeUpdate(name)
	} else {
		c.handlePodUpdate(podKey{ns, name})
	}
	return nil
}

// handleNodeUpdate: the node's NoExecute taints are noted, then each of its pods is
// processed (in name order), or, when the taints are gone, every eviction cancelled.
func (c *Controller) handleNodeUpdate(name string) {
	obj, err := c.api.Get(nodeKind, "", name)
	if apierrors.IsNotFound(err) {
		delete(c.tainted, name)
		return
	} else if err != nil {
		return
	}
	taints := noExecuteTaints(obj.(*corev1.Node).Spec.Taints)
	if len(taints) == 0 {
		delete(c.tainted, name)
	} else {
		c.tainted[name] = taints
	}
	pods := c.podsOn(name)
	if len(pods) == 0 {
		return
	}
	if len(taints) == 0 {
		for _, p := range pods {
			c.cancel(podKey{p.Namespace, p.Name})
		}
		return
	}
	now := c.clock.Now()
	for _, p := range pods {
		c.processPodOnNode(podKey{p.Namespace, p.Name}, p.Spec.Tolerations, taints, now)
	}
}

func (c *Controller) podsOn(node string) []*corev1.Pod {
	keys := make([]podKey, 0, len(c.onNode[node]))
	for k := range c.onNode[node] {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, podKey.compare)
	out := make([]*corev1.Pod, len(keys))
	for i, k := range keys {
		out[i] = c.onNode[node][k]
	}
	return out
}

// handlePodUpdate: a pod gone cancels its eviction; a pod on a tainted node is processed.
func (c *Controller) handlePodUpdate(k podKey) {
	obj, err := c.api.Get(podKind, k.namespace, k.name)
	if apierrors.IsNotFound(err) {
		c.cancel(k)
		return
	} else if err != nil {
		return
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		return
	}
	taints, ok := c.tainted[pod.Spec.NodeName]
	if !ok {
		return
	}
	c.processPodOnNode(k, pod.Spec.Tolerations, taints, c.clock.Now())
}

// processPodOnNode follows the real one: a taint not tolerated evicts now; tolerations
// without tolerationSeconds keep the pod; otherwise the eviction is due the shortest
// tolerationSeconds after now, unless one is already scheduled, whose time is then kept.
func (c *Controller) processPodOnNode(k podKey, tolerations []corev1.Toleration, taints []corev1.Taint, now time.Time) {
	if len(taints) == 0 {
		c.cancel(k)
	}
	allTolerated, used := v1helper.GetMatchingTolerations(klog.Background(), taints, tolerations)
	if !allTolerated {
		c.cancel(k)
		c.add(k, now, now)
		return
	}
	minTime := minTolerationTime(used)
	if minTime < 0 {
		c.cancel(k)
		return
	}
	start := now
	trigger := start.Add(minTime)
	if w := c.work[k]; w != nil {
		start = w.createdAt
		if start.Add(minTime).Before(trigger) {
			return
		}
		c.cancel(k)
	}
	c.add(k, start, trigger)
}

// minTolerationTime is getMinTolerationTime: the shortest tolerationSeconds, 0 for none or
// a non-positive one, -1 when every toleration is forever.
func minTolerationTime(tolerations []corev1.Toleration) time.Duration {
	if len(tolerations) == 0 {
		return 0
	}
	minSeconds := int64(math.MaxInt64)
	for _, t := range tolerations {
		if t.TolerationSeconds != nil {
			s := *t.TolerationSeconds
			if s <= 0 {
				return 0
			} else if s < minSeconds {
				minSeconds = s
			}
		}
	}
	if minSeconds == math.MaxInt64 {
		return -1
	}
	return time.Duration(minSeconds) * time.Second
}

func noExecuteTaints(taints []corev1.Taint) []corev1.Taint {
	out := []corev1.Taint{}
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// Relaid holds the copy a relayout made of an indexed pod (manager.Relaider).
func (c *Controller) Relaid(_ string, old, cur runtime.Object) {
	if p, ok := cur.(*corev1.Pod); ok {
		if on, k := c.onNode[p.Spec.NodeName], (podKey{p.Namespace, p.Name}); on != nil && runtime.Object(on[k]) == old {
			on[k] = p
		}
	}
}
