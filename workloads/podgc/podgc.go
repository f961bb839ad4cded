// Package podgc is the pod garbage collector (k8s.io/kubernetes/pkg/controller/podgc,
// gc_controller.go, v1.37.2) on virtual time: it force-deletes terminated pods beyond
// --terminated-pod-gc-threshold, terminating pods on out-of-service nodes, pods bound to a
// node that no longer exists (after a quarantine) and terminating pods never scheduled.
//
// Timing. The real controller runs gc with wait.UntilWithContext every gcCheckPeriod (20 s,
// sliding: the period starts when a pass ends, and the first pass runs at start). A pass
// lists pods and nodes; for a pod bound to a missing node it queues the node on a delaying
// queue with AddAfter(quarantineTime = 40 s); the same pass then takes from the queue every
// node whose ready time has come, Gets it from the apiserver, and force-deletes the pods of
// the nodes still missing. Here a pass takes no time, so passes fall at t = 0, 20 s, 40 s, …
// of the run, and a node is ready on the pass at its ready time (the real waiting loop moves
// it to the queue a few milliseconds before that pass, whose period began only after the
// previous pass ended). So a node deleted at T is queued on the first pass P1 ≥ T
// (P1 = T rounded up to 20 s; a pass at the very instant of the deletion runs after it) and
// its pods are marked Failed and deleted on the pass at P1 + 40 s: between T + 40 s and
// T + 60 s. The real-cluster measurement (kwokctl: pods removed and replaced at +78 s) is one
// pass later than this model's latest: that is what happens when the delaying queue's waiting
// loop (a timer goroutine) loses the race with the pass that comes due at the same moment,
// and the orphan is found one pass later (T + 60 … 80 s). kwoksim follows the upstream intent
// (quarantine elapsed ⇒ found on that pass), deterministically.
//
// Foreground and background. A pass that would find nothing to do (the Observer keeps the
// counts that tell: terminated pods over the threshold, terminating pods while a node has the
// out-of-service taint, unscheduled terminating pods, pods bound to a node no Node has, nodes
// in quarantine) is not scheduled at all: it would change nothing, and a pending daemon would
// only cost time. A change that gives a pass work schedules the next pass on the grid, in the
// foreground. After a pass, the next is foreground while a quarantined node still has a pod
// not yet being deleted, background while only pods it cannot remove (held by a finalizer)
// are left, so those cannot keep a run going for ever.
//
// Deliberate deviations: the passes delete one pod after another in the order upstream sorts
// them (its goroutines per pod would make the order of the writes follow the Go scheduler);
// LastTransitionTime of the DisruptionTarget condition is virtual time (apipod.
// UpdatePodCondition stamps the wall clock).
package podgc

import (
	"encoding/json"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/watch"
	apipod "k8s.io/kubernetes/pkg/api/v1/pod"
	nodeutil "k8s.io/kubernetes/pkg/util/node"
	"k8s.io/kubernetes/pkg/util/taints"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// The real controller's constants (gc_controller.go).
const (
	GCCheckPeriod  = 20 * time.Second
	QuarantineTime = 40 * time.Second
)

// kind is the name the controller registers under: it owns no kind, so it takes a name no
// kind has (the manager routes an object's changes to the controller of its Kind()).
const kind = "kwoksim/podgc"

// Controller is the pod garbage collector.
type Controller struct {
	m         *manager.Manager
	api       *sim.API
	clock     *clock.Virtual
	threshold int
	pods      *sim.Kind
	nodes     *sim.Kind
	// quarantine is the delaying queue of nodes: each node's ready time.
	quarantine map[string]time.Time
	// What the Observer keeps so that a pass with nothing to do lists nothing: counts of
	// the stored pods terminated, terminating, and terminating while unscheduled; the pods
	// bound to each node; the nodes stored, those with the out-of-service taint, and the
	// node names pods are bound to that no Node has (orphans).
	terminated, terminating, unscheduledTerminating int
	podsOn                                          map[string]int
	nodeNames, outOfService, orphans                map[string]bool
	// start is when the controller started: passes fall at start + k·GCCheckPeriod.
	start time.Time
	// next is the pending pass, at nextAt (nil: none); background tells whether it is a
	// Daemon event.
	next       *clock.Event
	nextAt     time.Time
	background bool
}

var (
	_ manager.Controller = (*Controller)(nil)
	_ manager.Observer   = (*Controller)(nil)
)

// New registers the controller with m; its first pass is at the current instant, as
// wait.UntilWithContext runs the first pass at once.
func New(m *manager.Manager) *Controller {
	s := m.Simulator()
	pods, _ := sim.KindNamed("Pod")
	nodes, _ := sim.KindNamed("Node")
	c := &Controller{
		m: m, api: m.API(), clock: m.Clock(),
		threshold:    int(s.ControlPlane().TerminatedPodGCThreshold),
		pods:         pods,
		nodes:        nodes,
		quarantine:   map[string]time.Time{},
		podsOn:       map[string]int{},
		nodeNames:    map[string]bool{},
		outOfService: map[string]bool{},
		orphans:      map[string]bool{},
	}
	c.start = c.clock.Now()
	m.Register(c)
	return c
}

// Kind is a name no kind has: the collector owns no kind.
func (c *Controller) Kind() string { return kind }

// Sync does nothing: the collector works in periodic passes, not per object.
func (c *Controller) Sync(ns, name string) error { return nil }

// arm schedules the pass at t.
func (c *Controller) arm(t time.Time, background bool) {
	c.nextAt, c.background = t, background
	if background {
		c.next = c.clock.Daemon(t, c.pass)
	} else {
		c.next = c.clock.At(t, c.pass)
	}
}

// wake makes the next pass foreground: something it will act on has appeared. With no pass
// pending (the collector was idle), it schedules the pass the real loop would run next: the
// first at or after now on the grid of passes (at this very instant, after the change).
func (c *Controller) wake() {
	if c.next != nil && c.next.Pending() {
		if c.background {
			c.next.Cancel()
			c.arm(c.nextAt, false)
		}
		return
	}
	since := c.clock.Now().Sub(c.start)
	k := (since + GCCheckPeriod - 1) / GCCheckPeriod
	c.arm(c.start.Add(k*GCCheckPeriod), false)
}

// Observe keeps the counts and indexes, and makes the next pass foreground when a change
// gives it work (see the package comment); it only schedules, never writes.
func (c *Controller) Observe(ev sim.WatchEvent) {
	switch o := ev.Object.(type) {
	case *corev1.Node:
		c.observeNode(ev, o)
	case *corev1.Pod:
		c.observePod(ev, o)
	}
}

func (c *Controller) observeNode(ev sim.WatchEvent, n *corev1.Node) {
	deleted := ev.Type == watch.Deleted
	if deleted {
		delete(c.nodeNames, n.Name)
		delete(c.outOfService, n.Name)
	} else {
		c.nodeNames[n.Name] = true
		oos := taints.TaintKeyExists(n.Spec.Taints, corev1.TaintNodeOutOfService)
		if oos && !c.outOfService[n.Name] && c.terminating > 0 {
			c.wake()
		}
		if oos {
			c.outOfService[n.Name] = true
		} else {
			delete(c.outOfService, n.Name)
		}
	}
	c.recheck(n.Name)
}

func (c *Controller) observePod(ev sim.WatchEvent, p *corev1.Pod) {
	old, _ := ev.Old.(*corev1.Pod)
	if ev.Type == watch.Deleted {
		old = p
	}
	var cur *corev1.Pod
	if ev.Type != watch.Deleted {
		cur = p
	}
	count := func(n *int, test func(*corev1.Pod) bool) (became bool) {
		was, is := old != nil && test(old), cur != nil && test(cur)
		switch {
		case is && !was:
			*n++
			return true
		case was && !is:
			*n--
		}
		return false
	}
	if count(&c.terminated, isPodTerminated) && c.threshold > 0 && c.terminated > c.threshold {
		c.wake()
	}
	terminating := func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }
	if count(&c.terminating, terminating) && p.Spec.NodeName != "" && c.outOfService[p.Spec.NodeName] {
		c.wake()
	}
	if count(&c.unscheduledTerminating, func(p *corev1.Pod) bool { return terminating(p) && p.Spec.NodeName == "" }) {
		c.wake()
	}
	oldNode, curNode := "", ""
	if old != nil {
		oldNode = old.Spec.NodeName
	}
	if cur != nil {
		curNode = cur.Spec.NodeName
	}
	if oldNode != curNode {
		if oldNode != "" {
			if c.podsOn[oldNode]--; c.podsOn[oldNode] <= 0 {
				delete(c.podsOn, oldNode)
			}
			c.recheck(oldNode)
		}
		if curNode != "" {
			c.podsOn[curNode]++
			c.recheck(curNode)
		}
	}
}

// recheck keeps orphans: a node name pods are bound to that no Node has. A new orphan wakes
// the next pass, which quarantines it.
func (c *Controller) recheck(node string) {
	if c.podsOn[node] > 0 && !c.nodeNames[node] {
		if !c.orphans[node] {
			c.orphans[node] = true
			c.wake()
		}
		return
	}
	delete(c.orphans, node)
}

// idle tells whether a pass would find nothing to do, from the Observer's counts, so that it
// need not list every pod.
func (c *Controller) idle() bool {
	return !(c.threshold > 0 && c.terminated > c.threshold) &&
		!(c.terminating > 0 && len(c.outOfService) > 0) &&
		c.unscheduledTerminating == 0 && len(c.orphans) == 0 && len(c.quarantine) == 0
}

// pass is one run of gc (PodGCController.gc): the four collections in upstream's order, then
// the next pass GCCheckPeriod later.
func (c *Controller) pass() {
	c.next = nil
	if c.idle() {
		return
	}
	pods, nodes := c.list()
	if c.threshold > 0 {
		c.gcTerminated(pods)
	}
	c.gcTerminating(pods, nodes)
	pending := c.gcOrphaned(pods, nodes)
	c.gcUnscheduledTerminating(pods)
	if !c.idle() {
		c.arm(c.clock.Now().Add(GCCheckPeriod), !pending)
	}
}

func (c *Controller) list() ([]*corev1.Pod, map[string]*corev1.Node) {
	var pods []*corev1.Pod
	if objs, err := c.api.List(c.pods); err == nil {
		for _, o := range objs {
			pods = append(pods, o.(*corev1.Pod))
		}
	}
	nodes := map[string]*corev1.Node{}
	if objs, err := c.api.List(c.nodes); err == nil {
		for _, o := range objs {
			n := o.(*corev1.Node)
			nodes[n.Name] = n
		}
	}
	return pods, nodes
}

// isPodTerminated follows gc_controller.go's isPodTerminated: any phase but Pending,
// Running and Unknown.
func isPodTerminated(pod *corev1.Pod) bool {
	p := pod.Status.Phase
	return p != corev1.PodPending && p != corev1.PodRunning && p != corev1.PodUnknown
}

// gcTerminated deletes the oldest terminated pods beyond the threshold (gcTerminated).
func (c *Controller) gcTerminated(pods []*corev1.Pod) {
	var terminated []*corev1.Pod
	for _, p := range pods {
		if isPodTerminated(p) {
			terminated = append(terminated, p)
		}
	}
	n := len(terminated) - c.threshold
	if n <= 0 {
		return
	}
	sortByEvictionAndCreation(terminated)
	for _, p := range terminated[:n] {
		c.markFailedAndDelete(p, nil)
	}
}

// gcTerminating deletes terminating pods on nodes that are not ready and carry the
// node.kubernetes.io/out-of-service taint (gcTerminating). A pod whose node is missing is
// skipped, as the lister's Get fails upstream.
func (c *Controller) gcTerminating(pods []*corev1.Pod, nodes map[string]*corev1.Node) {
	var terminating []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil {
			continue
		}
		n := nodes[p.Spec.NodeName]
		if n == nil {
			continue
		}
		if !nodeutil.IsNodeReady(n) && taints.TaintKeyExists(n.Spec.Taints, corev1.TaintNodeOutOfService) {
			terminating = append(terminating, p)
		}
	}
	sortByEvictionAndCreation(terminating)
	for _, p := range terminating {
		c.markFailedAndDelete(p, nil)
	}
}

// gcOrphaned queues the nodes of pods bound to a missing node for QuarantineTime, then
// deletes the pods of every queued node whose time has come and that the apiserver still
// does not have (gcOrphaned, discoverDeletedNodes). It reports whether a quarantined node
// still has a pod not yet being deleted, i.e. whether the next pass has work.
func (c *Controller) gcOrphaned(pods []*corev1.Pod, nodes map[string]*corev1.Node) bool {
	now := c.clock.Now()
	for _, p := range pods {
		if p.Spec.NodeName == "" || nodes[p.Spec.NodeName] != nil {
			continue
		}
		// AddAfter keeps an item's earliest ready time.
		ready := now.Add(QuarantineTime)
		if t, ok := c.quarantine[p.Spec.NodeName]; !ok || ready.Before(t) {
			c.quarantine[p.Spec.NodeName] = ready
		}
	}
	deleted := map[string]bool{}
	for name, ready := range c.quarantine {
		if ready.After(now) {
			continue
		}
		delete(c.quarantine, name)
		if nodes[name] != nil {
			continue
		}
		// checkIfNodeExists asks the apiserver, not the lister.
		if _, err := c.api.Get(c.nodes, "", name); apierrors.IsNotFound(err) {
			deleted[name] = true
		}
	}
	for _, p := range pods {
		if !deleted[p.Spec.NodeName] {
			continue
		}
		c.markFailedAndDelete(p, &corev1.PodCondition{
			Type:               corev1.DisruptionTarget,
			ObservedGeneration: apipod.CalculatePodConditionObservedGeneration(&p.Status, p.Generation, corev1.DisruptionTarget),
			Status:             corev1.ConditionTrue,
			Reason:             "DeletionByPodGC",
			Message:            "PodGC: node no longer exists",
		})
	}
	for _, p := range pods {
		if _, queued := c.quarantine[p.Spec.NodeName]; queued && p.DeletionTimestamp == nil {
			return true
		}
	}
	return false
}

// gcUnscheduledTerminating deletes terminating pods bound to no node.
func (c *Controller) gcUnscheduledTerminating(pods []*corev1.Pod) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			c.markFailedAndDelete(p, nil)
		}
	}
}

// markFailedAndDelete follows markFailedAndDeletePodWithCondition: a pod not in a terminal
// phase gets phase Failed (and the condition, if any) by a strategic merge patch of its
// status, as utilpod.PatchPodStatus builds it, then a delete with grace period 0. Errors are
// recorded as warnings; upstream logs them and retries on its next pass, as here.
func (c *Controller) markFailedAndDelete(pod *corev1.Pod, cond *corev1.PodCondition) {
	if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
		st := pod.Status.DeepCopy()
		st.Phase = corev1.PodFailed
		st.ObservedGeneration = apipod.CalculatePodStatusObservedGeneration(pod)
		if cond != nil {
			setCondition(st, *cond, metav1.NewTime(c.clock.Now()))
		}
		if err := c.patchStatus(pod, *st); err != nil {
			if !apierrors.IsNotFound(err) {
				c.m.Warn("Pod", pod.Namespace, pod.Name, "PodGCFailed", err.Error())
			}
			return
		}
	}
	zero := int64(0)
	if err := c.api.Delete(c.pods, pod.Namespace, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		c.m.Warn("Pod", pod.Namespace, pod.Name, "PodGCFailed", err.Error())
	}
}

// setCondition is apipod.UpdatePodCondition with the virtual clock's time.
func setCondition(st *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) {
	cond.LastTransitionTime = now
	for i := range st.Conditions {
		if st.Conditions[i].Type == cond.Type {
			if st.Conditions[i].Status == cond.Status {
				cond.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = cond
			return
		}
	}
	st.Conditions = append(st.Conditions, cond)
}

// patchStatus is utilpod.PatchPodStatus through the simulated apiserver: a two-way strategic
// merge patch of the status, with the pod's UID as a precondition.
func (c *Controller) patchStatus(pod *corev1.Pod, st corev1.PodStatus) error {
	oldData, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newData, err := json.Marshal(corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: pod.UID}, Status: st})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Pod{})
	if err != nil {
		return err
	}
	_, err = c.api.Patch(c.pods, pod.Namespace, pod.Name, types.StrategicMergePatchType, patch, "status")
	return err
}

// sortByEvictionAndCreation is upstream's byEvictionAndCreationTimestamp: evicted pods first,
// then by creation time, then by name.
func sortByEvictionAndCreation(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		ie, je := podIsEvicted(pods[i].Status), podIsEvicted(pods[j].Status)
		if ie != je {
			return ie
		}
		if pods[i].CreationTimestamp.Equal(&pods[j].CreationTimestamp) {
			return pods[i].Name < pods[j].Name
		}
		return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp)
	})
}

// podIsEvicted is pkg/kubelet/eviction.PodIsEvicted (helpers.go), which is not imported for
// its dependencies: a pod the kubelet evicted is Failed with reason Evicted.
func podIsEvicted(st corev1.PodStatus) bool {
	return st.Phase == corev1.PodFailed && st.Reason == "Evicted"
}
