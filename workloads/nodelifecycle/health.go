package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	controllerutil "k8s.io/kubernetes/pkg/controller/util/node"
	taintutils "k8s.io/kubernetes/pkg/util/taints"

	"github.com/kwoksim/kwoksim/sim"
)

// labelNodeDisruptionExclusion excludes a node from the zones' disruption states
// (isNodeExcludedFromDisruptionChecks).
const labelNodeDisruptionExclusion = "node.kubernetes.io/exclude-disruption"

// monitorNodeHealth follows the real one step by step: new zones and nodes first (a new node
// is made reachable), then for each node its health (tryUpdateNodeHealth) and its NoExecute
// taint request (processTaintBaseEviction), and only then the zones' states
// (handleDisruption). That order decides when the first node of a failing zone is tainted:
// it is queued before its zone is seen disrupted.
func (c *Controller) monitorNodeHealth() {
	// The stored nodes themselves, shared (the lister's view), sorted by name: see the
	// package comment. They are copied only to be written.
	nodes := c.listNodes()
	// Nodes are classified only when they changed: it finds nothing otherwise, unless a
	// zone lost its state (handleDisruption drops the zones without a node it counts).
	var added, newZoneRepresentatives []*corev1.Node
	var deleted []string
	if c.regroup {
		added, deleted, newZoneRepresentatives = c.classifyNodes(nodes)
		c.regroup = false
	}
	for _, n := range newZoneRepresentatives {
		c.addTainterForNewZone(n)
	}
	for _, n := range added {
		c.known[n.Name] = true
		c.addTainterForNewZone(n)
		c.markNodeAsReachable(n)
	}
	for _, name := range deleted {
		delete(c.known, name)
	}

	zoneToNodeConditions := map[string][]*corev1.NodeCondition{}
	for _, listed := range nodes {
		node, _, current, err := c.tryUpdateNodeHealth(listed)
		if err != nil {
			continue // "Skipping - no pods will be evicted"
		}
		if z := c.zoneOf[node.Name]; !z.excluded {
			zoneToNodeConditions[z.key] = append(zoneToNodeConditions[z.key], current)
		}
		if current != nil {
			c.processTaintBaseEviction(node, current)
		}
	}
	c.handleDisruption(zoneToNodeConditions, nodes)
}

// classifyNodes: nodes not known yet, known nodes gone (by name, sorted), and known nodes
// whose zone has no state.
func (c *Controller) classifyNodes(all []*corev1.Node) (added []*corev1.Node, deleted []string, newZoneRepresentatives []*corev1.Node) {
	present := make(map[string]bool, len(all))
	for _, n := range all {
		present[n.Name] = true
		if !c.known[n.Name] {
			added = append(added, n)
		} else if _, ok := c.zones[c.zoneKey(n)]; !ok {
			newZoneRepresentatives = append(newZoneRepresentatives, n)
		}
	}
	if len(c.known)+len(added) != len(all) {
		for _, name := range sortedKeys(c.known) {
			if !present[name] {
				deleted = append(deleted, name)
			}
		}
	}
	return added, deleted, newZoneRepresentatives
}

// addTainterForNewZone is addPodEvictorForNewZone: a new zone starts Initial, with a full
// token bucket at --node-eviction-rate.
func (c *Controller) addTainterForNewZone(n *corev1.Node) {
	z := c.zoneKey(n)
	if _, ok := c.zones[z]; !ok {
		c.zones[z] = stateInitial
		c.tainters[z] = newTainter(c.clock, c.flags.NodeEvictionRate)
	}
}

// lease is the node's lease as the controller's lister would show it: its renewal time. A
// running or not-ready kubelet renews it continuously, so it was renewed now; a stopped one
// last renewed it when it stopped. Without kubelets it counts as always renewed.
func (c *Controller) lease(name string, now time.Time) time.Time {
	if !c.hasKubelets {
		return now
	}
	if st, since := c.api.Kubelet(name); st == sim.KubeletStopped {
		return since
	}
	return now
}

// tryUpdateNodeHealth follows the real function: the probe time moves on when the Ready condition's heartbeat changed or the lease
// was renewed; past the grace period (--node-startup-grace-period for a node that never
// posted Ready, else --node-monitor-grace-period) the kubelet's conditions become Unknown
// through the status subresource. It returns the node as it is now (node itself, a stored
// object never changed, or a changed copy), its Ready condition as observed and as it is now.
func (c *Controller) tryUpdateNodeHealth(node *corev1.Node) (*corev1.Node, corev1.NodeCondition, *corev1.NodeCondition, error) {
	now := c.clock.Now()
	h := c.health[node.Name]
	defer func() { c.health[node.Name] = h }()

	var grace time.Duration
	var observed corev1.NodeCondition
	_, current := controllerutil.GetNodeCondition(&node.Status, corev1.NodeReady)
	if current == nil {
		// Never posted: a fake Ready condition from the creation time.
		observed = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: node.CreationTimestamp}
		grace = c.flags.NodeStartupGracePeriod
		if h != nil {
			h.status = &node.Status
		} else {
			h = &nodeHealth{status: &node.Status, probe: node.CreationTimestamp.Time, readyTransition: node.CreationTimestamp.Time}
		}
	} else {
		observed = *current
		grace = c.flags.NodeMonitorGracePeriod
	}
	var saved *corev1.NodeCondition
	if h != nil {
		_, saved = controllerutil.GetNodeCondition(h.status, corev1.NodeReady)
	}
	switch {
	case h == nil, saved == nil && current != nil, saved != nil && current == nil:
		h = &nodeHealth{status: &node.Status, probe: now, readyTransition: now}
	case saved != nil && current != nil && !saved.LastHeartbeatTime.Equal(&current.LastHeartbeatTime):
		transition := h.readyTransition
		if !saved.LastTransitionTime.Equal(&current.LastTransitionTime) {
			transition = now
		}
		h = &nodeHealth{status: &node.Status, probe: now, readyTransition: transition}
	}
	// Always update the probe time if the lease was renewed.
	if renewed := c.lease(node.Name, now); !h.hasLease || h.lease.Before(renewed) {
		h.lease, h.hasLease = renewed, true
		h.probe = now
	}
	if !now.After(h.probe.Add(grace)) {
		return node, observed, current, nil
	}
	// The real controller works on a copy from the start; this one copies only here.
	stored := node
	node = node.DeepCopy()
	if h.status == &stored.Status {
		h.status = &node.Status
	}
	stamp := metaNow(now)
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		// NetworkUnavailable is left alone: the control plane manages it.
		_, cond := controllerutil.GetNodeCondition(&node.Status, t)
		if cond == nil {
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown,
				Reason: "NodeStatusNeverUpdated", Message: "Kubelet never posted node status.",
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: stamp,
			})
		} else if cond.Status != corev1.ConditionUnknown {
			cond.Status = corev1.ConditionUnknown
			cond.Reason = "NodeStatusUnknown"
			cond.Message = "Kubelet stopped posting node status."
			cond.LastTransitionTime = stamp
		}
	}
	_, current = controllerutil.GetNodeCondition(&node.Status, corev1.NodeReady)
	if !equality.Semantic.DeepEqual(current, &observed) {
		if _, err := c.api.UpdateStatus(node); err != nil {
			return node, observed, current, err
		}
		h = &nodeHealth{status: &node.Status, probe: h.probe, readyTransition: now, lease: h.lease, hasLease: h.hasLease}
	}
	return node, observed, current, nil
}

// processTaintBaseEviction: a node not Ready is queued for the matching NoExecute taint, or
// has its opposite one swapped at once; a Ready node loses both.
func (c *Controller) processTaintBaseEviction(node *corev1.Node, current *corev1.NodeCondition) {
	switch current.Status {
	case corev1.ConditionFalse:
		if taintutils.TaintExists(node.Spec.Taints, unreachableTaint) {
			add := *notReadyTaint
			c.swapTaints([]*corev1.Taint{&add}, []*corev1.Taint{unreachableTaint}, node)
		} else {
			c.markNodeForTainting(node, corev1.ConditionFalse)
		}
	case corev1.ConditionUnknown:
		if taintutils.TaintExists(node.Spec.Taints, notReadyTaint) {
			add := *unreachableTaint
			c.swapTaints([]*corev1.Taint{&add}, []*corev1.Taint{notReadyTaint}, node)
		} else {
			c.markNodeForTainting(node, corev1.ConditionUnknown)
		}
	case corev1.ConditionTrue:
		c.markNodeAsReachable(node)
	}
}

// markNodeForTainting: a node not yet carrying the taint is queued afresh (Remove, then Add),
// so its turn comes at the time of this pass.
func (c *Controller) markNodeForTainting(node *corev1.Node, status corev1.ConditionStatus) bool {
	t := c.tainters[c.zoneKey(node)]
	if status == corev1.ConditionFalse && !taintutils.TaintExists(node.Spec.Taints, notReadyTaint) {
		t.Remove(node.Name)
	}
	if status == corev1.ConditionUnknown && !taintutils.TaintExists(node.Spec.Taints, unreachableTaint) {
		t.Remove(node.Name)
	}
	return t.Add(node.Name, string(node.UID))
}

// armTainting schedules the next NoExecute tainting pass while a tainter has a node it can
// let through. The real pass runs every 100 ms from the controller's start; this one runs on
// the same grid (multiples of 100 ms since sim.Epoch), only while there is work, as a
// foreground event.
func (c *Controller) armTainting() {
	if c.taintPass != nil && c.taintPass.Pending() {
		return
	}
	if !c.anyPending() {
		return
	}
	since := c.clock.Now().Sub(sim.Epoch)
	next := sim.Epoch.Add((since + nodeEvictionPeriod - 1) / nodeEvictionPeriod * nodeEvictionPeriod)
	c.taintPass = c.clock.At(next, c.taintingTick)
}

func (c *Controller) anyPending() bool {
	for _, t := range c.tainters {
		if t.pending() {
			return true
		}
	}
	return false
}

// taintingTick is one tainting pass after the first, every 100 ms while there is work.
func (c *Controller) taintingTick() {
	c.doNoExecuteTaintingPass()
	c.taintPass = nil
	if c.anyPending() {
		c.taintPass = c.clock.At(c.clock.Now().Add(nodeEvictionPeriod), c.taintingTick)
	}
}

// doNoExecuteTaintingPass: each zone's tainter lets through what its limiter allows; a node
// gets the NoExecute taint of its Ready condition, the opposite one removed.
func (c *Controller) doNoExecuteTaintingPass() {
	for _, z := range sortedKeys(c.tainters) {
		c.tainters[z].Try(func(v timedValue) (bool, time.Duration) {
			obj, err := c.api.Get(nodeKind, "", v.value)
			if apierrors.IsNotFound(err) {
				return true, 0
			} else if err != nil {
				return false, 50 * time.Millisecond
			}
			node := obj.(*corev1.Node)
			_, cond := controllerutil.GetNodeCondition(&node.Status, corev1.NodeReady)
			if cond == nil {
				return false, 50 * time.Millisecond
			}
			var add corev1.Taint
			var opposite *corev1.Taint
			switch cond.Status {
			case corev1.ConditionFalse:
				add, opposite = *notReadyTaint, unreachableTaint
			case corev1.ConditionUnknown:
				add, opposite = *unreachableTaint, notReadyTaint
			default:
				return true, 0 // Ready again: nothing to do
			}
			return c.swapTaints([]*corev1.Taint{&add}, []*corev1.Taint{opposite}, node), 0
		})
	}
}
