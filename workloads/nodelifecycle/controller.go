package nodelifecycle

import (
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/component-helpers/node/topology"
	controllerutil "k8s.io/kubernetes/pkg/controller/util/node"
	taintutils "k8s.io/kubernetes/pkg/util/taints"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

var nodeKind, _ = sim.KindNamed("Node")

// Controller is the node lifecycle controller. Its Kind is "Node": every change of a node
// asks for its NoSchedule tainting pass (Sync), as the real controller's node handlers put the
// node in nodeUpdateQueue.
type Controller struct {
	api         *sim.API
	clock       *clock.Virtual
	flags       controlplane.Flags
	hasKubelets bool

	// nodes are the stored nodes by name, kept from the watch (the controller's lister).
	nodes map[string]*corev1.Node
	// names are the nodes' names, sorted; nil after a node came or went.
	names []string
	// zoneOf is each node's zone key, and whether it is excluded from the zones' states.
	zoneOf map[string]nodeZone
	// regroup: a node came, went or changed zone since the last health pass, which then
	// classifies the nodes anew (classifyNodes).
	regroup bool

	// knownNodeSet, nodeHealthMap, zoneStates and zoneNoExecuteTainter of the real controller.
	known    map[string]bool
	health   map[string]*nodeHealth
	zones    map[string]zoneState
	tainters map[string]*tainter

	// monitor is the next health pass; taintPass the next NoExecute tainting pass.
	monitor   *clock.Event
	monitorFG bool // monitor is a foreground event
	taintPass *clock.Event
	// dirty: since the last health pass a node turned not Ready or recovered, or went, or a
	// kubelet changed state: the next pass has work to do (see Observe).
	dirty bool
	// settled: the last full health pass found nothing to act on and nothing it reads has
	// changed since; the next pass can skip the nodes (settled.go).
	settled                   bool
	fullPasses, skippedPasses int
}

// nodeHealth is nodeHealthData: what the controller last saw of a node.
type nodeHealth struct {
	probe, readyTransition time.Time
	status                 *corev1.NodeStatus
	// lease is the renewal time of the lease last observed, when one was.
	lease    time.Time
	hasLease bool
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
	_ manager.OwnedFilter  = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
)

// New registers the controller with m and runs its first health pass at once, as the real
// controller's loop starts with one: before the run's nodes are created, as a controller
// manager that was running before they registered sees none of them. A first pass after their
// creation at the same instant would see them before their first status (Ready Unknown) and
// call every zone fully disrupted, which a real controller manager, whose passes fall at an
// arbitrary phase, practically never does: it left the tainting rate at 0 until the next pass
// and then restored it with an empty token bucket (SwapLimiter), delaying the first NoExecute
// taint of the run by 1/--node-eviction-rate (measured against the real cluster:
// testdata/fidelity/node-not-ready).
func New(m *manager.Manager) *Controller {
	s := m.Simulator()
	c := &Controller{
		api:         s.API(),
		clock:       s.Clock(),
		flags:       s.ControlPlane(),
		hasKubelets: s.HasKubelets(),
		known:       map[string]bool{},
		nodes:       map[string]*corev1.Node{},
		zoneOf:      map[string]nodeZone{},
		health:      map[string]*nodeHealth{},
		zones:       map[string]zoneState{},
		tainters:    map[string]*tainter{},
	}
	m.Register(c)
	s.TaintNewNodes() // the NodeTaint admission plugin: the controller removes its taint
	s.API().WatchKubelets(func(string, sim.KubeletState) { c.touch() })
	c.monitorPass()
	return c
}

// Kind is "Node".
func (c *Controller) Kind() string { return "Node" }

// ObjectChanged asks for the NoSchedule pass only when what it reads changed: the
// conditions' statuses, spec.unschedulable or the taints. A heartbeat that renews timestamps
// costs nothing.
func (c *Controller) ObjectChanged(ev sim.WatchEvent) bool {
	if ev.Old == nil {
		return true
	}
	old, cur := ev.Old.(*corev1.Node), ev.Object.(*corev1.Node)
	return old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		!equality.Semantic.DeepEqual(old.Spec.Taints, cur.Spec.Taints) ||
		!slices.Equal(conditionStatuses(old), conditionStatuses(cur))
}

// OwnedChanged: objects a node controls (mirror pods) are not the controller's concern.
func (c *Controller) OwnedChanged(sim.WatchEvent) bool { return false }

func conditionStatuses(n *corev1.Node) []string {
	out := make([]string, 0, len(n.Status.Conditions))
	for _, cond := range n.Status.Conditions {
		out = append(out, string(cond.Type)+"="+string(cond.Status))
	}
	return out
}

// Observe notes the node changes that give the next health pass work to do.
func (c *Controller) Observe(ev sim.WatchEvent) {
	if ev.Kind.Name() != "Node" {
		return
	}
	n := ev.Object.(*corev1.Node)
	if unsettles(ev) {
		c.settled = false
	}
	if ev.Type == watch.Deleted {
		delete(c.nodes, n.Name)
		delete(c.zoneOf, n.Name)
		c.names, c.regroup = nil, true
	} else {
		if _, ok := c.nodes[n.Name]; !ok {
			c.names, c.regroup = nil, true
		}
		c.nodes[n.Name] = n
		_, excluded := n.Labels[labelNodeDisruptionExclusion]
		if z := (nodeZone{topology.GetZoneKey(n), excluded}); z != c.zoneOf[n.Name] || ev.Type == watch.Added {
			c.zoneOf[n.Name], c.regroup = z, true
		}
	}
	// What the next health pass acts on: a node turning not Ready (queued for a NoExecute
	// taint), one recovering (its taints removed, its queued taint cancelled), a node gone
	// (the zones change). A node's first report of Ready is not: the pass would only leave the
	// transient disruption of nodes that had not reported yet, with nothing to show for it,
	// and a run without failures must end when its pods are settled.
	unhealthy := func(s corev1.ConditionStatus) bool { return s == corev1.ConditionFalse || s == corev1.ConditionUnknown }
	switch cur := readyStatus(n); ev.Type {
	case watch.Deleted:
		c.touch()
	case watch.Added:
		if unhealthy(cur) {
			c.touch()
		}
	default:
		if old := readyStatus(ev.Old.(*corev1.Node)); old != cur && (unhealthy(old) || unhealthy(cur)) {
			c.touch()
		}
	}
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	if _, cond := controllerutil.GetNodeCondition(&n.Status, corev1.NodeReady); cond != nil {
		return cond.Status
	}
	return ""
}

// listNodes is the nodes, by name. Stored objects are never changed in place: read only.
func (c *Controller) listNodes() []*corev1.Node {
	if c.names == nil {
		c.names = sortedKeys(c.nodes)
	}
	out := make([]*corev1.Node, 0, len(c.names))
	for _, name := range c.names {
		out = append(out, c.nodes[name])
	}
	return out
}

// touch marks the next health pass as having work, and makes it foreground.
func (c *Controller) touch() {
	c.dirty, c.settled = true, false
	if c.monitor != nil && c.monitor.Pending() && !c.monitorFG {
		at := c.monitor.At()
		c.monitor.Cancel()
		c.schedule(at, true)
	}
}

func (c *Controller) schedule(at time.Time, foreground bool) {
	c.monitorFG = foreground
	if foreground {
		c.monitor = c.clock.At(at, c.monitorPass)
	} else {
		c.monitor = c.clock.Daemon(at, c.monitorPass)
	}
}

// monitorPass runs monitorNodeHealth and schedules the next one --node-monitor-period later,
// foreground when it will have something to do (unsettled).
func (c *Controller) monitorPass() {
	if c.settled {
		c.skippedPasses++
	} else {
		c.fullPasses++
		zonesBefore := maps.Clone(c.zones)
		c.monitorNodeHealth()
		c.dirty = false // the pass's own writes (a node marked Unknown) are dealt with
		c.settled = c.steady(zonesBefore)
	}
	c.armTainting()
	c.schedule(c.clock.Now().Add(c.flags.NodeMonitorPeriod), c.dirty || c.unsettled())
}

// unsettled tells whether a later health pass will change something without any other event:
// a node whose kubelet stopped renewing its lease and that is not Unknown yet will be marked
// Unknown when its grace period ends.
func (c *Controller) unsettled() bool {
	if !c.hasKubelets {
		return false
	}
	for _, name := range c.api.FailedKubelets() {
		if st, _ := c.api.Kubelet(name); st != sim.KubeletStopped {
			continue
		}
		obj, err := c.api.Get(nodeKind, "", name)
		if err != nil {
			continue
		}
		if readyStatus(obj.(*corev1.Node)) != corev1.ConditionUnknown {
			return true
		}
	}
	return false
}

// Sync is doNoScheduleTaintingPass: the NoSchedule taints the node's conditions and
// spec.unschedulable call for, added, and those no longer called for, removed.
func (c *Controller) Sync(_, name string) error {
	obj, err := c.api.Get(nodeKind, "", name)
	if apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	node := obj.(*corev1.Node)
	var taints []corev1.Taint
	for _, cond := range node.Status.Conditions {
		if byStatus, ok := nodeConditionToTaintKeyStatusMap[cond.Type]; ok {
			if key, ok := byStatus[cond.Status]; ok {
				taints = append(taints, corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule})
			}
		}
	}
	if node.Spec.Unschedulable {
		taints = append(taints, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
	nodeTaints := taintutils.TaintSetFilter(node.Spec.Taints, func(t *corev1.Taint) bool {
		if t.Effect != corev1.TaintEffectNoSchedule {
			return false
		}
		if t.Key == corev1.TaintNodeUnschedulable {
			return true
		}
		_, found := taintKeyToNodeCondition[t.Key]
		return found
	})
	add, del := taintutils.TaintSetDiff(taints, nodeTaints)
	if len(add) == 0 && len(del) == 0 {
		return nil
	}
	c.swapTaints(add, del, node)
	return nil
}

// nodeConditionToTaintKeyStatusMap and taintKeyToNodeConditionMap of
// node_lifecycle_controller.go.
var (
	nodeConditionToTaintKeyStatusMap = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
		corev1.NodeReady: {
			corev1.ConditionFalse:   corev1.TaintNodeNotReady,
			corev1.ConditionUnknown: corev1.TaintNodeUnreachable,
		},
		corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
		corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
		corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
		corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
	}
	taintKeyToNodeCondition = map[string]corev1.NodeConditionType{
		corev1.TaintNodeNotReady:           corev1.NodeReady,
		corev1.TaintNodeUnreachable:        corev1.NodeReady,
		corev1.TaintNodeNetworkUnavailable: corev1.NodeNetworkUnavailable,
		corev1.TaintNodeMemoryPressure:     corev1.NodeMemoryPressure,
		corev1.TaintNodeDiskPressure:       corev1.NodeDiskPressure,
		corev1.TaintNodePIDPressure:        corev1.NodePIDPressure,
	}
)

// zoneKey is the real controller's nodetopology.GetZoneKey, kept per node as its labels
// change (it builds a string: a health pass asks for it several times per node).
func (c *Controller) zoneKey(n *corev1.Node) string {
	if z, ok := c.zoneOf[n.Name]; ok {
		return z.key
	}
	return topology.GetZoneKey(n)
}

type nodeZone struct {
	key string
	// excluded: labelled node.kubernetes.io/exclude-disruption (isNodeExcludedFromDisruptionChecks).
	excluded bool
}

// Relaid holds the copy a relayout made of a node (manager.Relaider).
func (c *Controller) Relaid(_ string, old, cur runtime.Object) {
	if n, ok := cur.(*corev1.Node); ok && runtime.Object(c.nodes[n.Name]) == old {
		c.nodes[n.Name] = n
	}
}
