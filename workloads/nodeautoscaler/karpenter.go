package nodeautoscaler

// The Karpenter behaviour (sigs.k8s.io/karpenter v1.15.0; docs/autoscaling.md §2): a batcher
// that collects provisionable pods, a solve that packs them onto existing nodes, in-flight
// NodeClaims and new ones narrowed to the instance types that still fit, the cheapest of which
// is launched; a disruption controller that polls every 10 s and runs Emptiness, then
// single-node consolidation, each command validated 15 s later and executed by tainting,
// draining through the eviction API and deleting the node.
//
// Deliberate deviations, each said in the record's NotModelled:
//   - Feasibility is kube-scheduler's own PreFilter/Filter plugins on template nodes, not
//     Karpenter's scheduling model (pkg/scheduling), so the simulation agrees with what binds.
//   - Nodes present at t=0 (input nodes with the pool label, and those bringing a pool to its
//     min) are not Karpenter-managed (no NodeClaim): they take pods but are never disrupted
//     and do not count in budgets. A pool's min has no upstream meaning; kwoksim keeps it as a
//     floor that disruption never goes below.
//   - Drift, expiration, repair, spot, offerings and zones, static NodePools,
//     terminationGracePeriod are left out.

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
)

// Karpenter's well-known keys (pkg/apis/v1/labels.go, taints.go).
const (
	// karpenterDisruptedTaintKey is v1.DisruptedTaintKey: the NoSchedule taint a node gets
	// once chosen for disruption.
	karpenterDisruptedTaintKey = "karpenter.sh/disrupted"
	// karpenterDoNotDisrupt is v1.DoNotDisruptAnnotationKey, on a pod or a node.
	karpenterDoNotDisrupt = "karpenter.sh/do-not-disrupt"
)

// Karpenter's constants that are not flags.
const (
	// karpenterPodRequeue is how often the pod controller re-triggers the batcher for a pod
	// still provisionable (pkg/controllers/provisioning/controller.go, PodController.Reconcile).
	karpenterPodRequeue = 10 * time.Second
	// evictionBaseDelay and evictionMaxDelay bound the per-pod back-off of a refused eviction
	// (pkg/controllers/node/termination/terminator/eviction.go, evictionQueueBaseDelay,
	// evictionQueueMaxDelay).
	evictionBaseDelay = 100 * time.Millisecond
	evictionMaxDelay  = 10 * time.Second
)

// karpenterNotModelled are the upstream behaviours kwoksim leaves out, with what a real
// Karpenter does.
var karpenterNotModelled = []string{
	"karpenter: feasibility is checked with kube-scheduler's own PreFilter/Filter plugins on template nodes, not Karpenter's scheduling model (pkg/scheduling, topology.go); real Karpenter can disagree with kube-scheduler, e.g. on plugins it does not model",
	"karpenter: nodes present at t=0 (input nodes with the pool label, and those bringing a pool to its min) have no NodeClaim: they take pods but are never disrupted and do not count in disruption budgets",
	"karpenter: a NodePool has no min upstream; kwoksim keeps spec.min as a floor disruption never goes below, and max as a node-count limit (Karpenter's limits are resource sums)",
	"karpenter: multi-node consolidation has no 1-minute timeout (kwoksim's simulation takes no wall-clock time into account)",
	"karpenter: drift, expiration (expireAfter, default 720h), node repair, static NodePools (replicas) and terminationGracePeriod are not modelled",
	"karpenter: spot capacity, multiple offerings per instance type and zones are not modelled: each shape is one on-demand offering at its price",
	"karpenter: candidate order uses a savings ratio of price / (1 + reschedulable pods) (each pod's eviction cost taken as 1: pod-deletion-cost, disruption-cost annotations and priority are ignored)",
	"karpenter: consolidation simulates only the candidate's pods (upstream also packs pending pods and pods of deleting nodes into the simulation)",
	"karpenter: pods' device claims (DRA) are ignored in its simulations, as with its --ignore-dra-requests at its default, true: a pod is taken to fit any node with room for its CPU and memory, so a node launched for it may have none of the devices it claims (it then stays pending), and consolidation may move it where no device is free; Karpenter's own device simulation (--ignore-dra-requests=false, v1.14 and later) is not modelled",
	"karpenter: DaemonSet pods are not evicted by a drain; they go with the node (upstream evicts them last)",
	"karpenter: once nothing changes in the cluster, a run without --until ends although a real Karpenter keeps polling and re-provisioning: pods no pool can take, and a launch given up after the 15m registration timeout, are not retried past that point",
}

// karpenter is the behaviour's state. Every method runs in a clock event, except the
// watcher callbacks (noted), which only note and schedule.
type karpenter struct {
	rt *Runtime

	// batcher (provisioning/batcher.go)
	batchIdle, batchMax *clock.Event
	retrigger           *lazyEvent

	// disruption (disruption/controller.go)
	pass *lazyEvent
	// validating is a command waiting for its validation: the controller is blocked.
	validating bool
	// lastPodEvent is, per managed node, when a pod last bound to it or left it
	// (nodeclaim/disruption/consolidation.go reads NodeClaim.Status.LastPodEventTime).
	lastPodEvent map[string]time.Duration
	// consolidatable are the timers at lastPodEvent + consolidateAfter, per node.
	consolidatable map[string]*clock.Event
	// drains are the nodes being drained, by name.
	drains map[string]*kdrain
	// commands are the disruption commands in flight (replacements launching, candidates
	// draining).
	commands []*kcommand

	// stateSeq counts the changes that matter to consolidation, the last at stateAt;
	// emptinessState, multiState and singleState are the counts at which each method last
	// found nothing (consolidation.go, IsConsolidated and markConsolidated).
	stateSeq                                uint64
	stateAt                                 time.Duration
	emptinessState, multiState, singleState uint64

	pdbKind, dsKind *sim.Kind
	lazies          []*lazyEvent
	claimSeq        int
}

// startKarpenter starts the Karpenter behaviour on the runtime.
func startKarpenter(rt *Runtime) error {
	k := &karpenter{rt: rt, stateSeq: 1, lastPodEvent: map[string]time.Duration{}, consolidatable: map[string]*clock.Event{},
		drains: map[string]*kdrain{}}
	var err error
	if k.pdbKind, err = sim.KindNamed("PodDisruptionBudget"); err != nil {
		return err
	}
	if k.dsKind, err = sim.KindNamed("DaemonSet"); err != nil {
		return err
	}
	rt.rec.NotModelled = append(rt.rec.NotModelled, karpenterNotModelled...)
	rt.OnUnschedulable(k.trigger)
	rt.OnPodEvent(k.podEvent)
	rt.OnNodeReady(k.nodeReady)
	rt.api.Watch(k.watch)
	// The disruption controller is a singleton that reconciles from the start
	// (controller.go: RequeueAfter pollingPeriod after a pass with nothing to do).
	k.pass = k.later(rt.Now(), k.disrupt)
	return nil
}

// watch is an API watcher (inside a write: it only notes and schedules). A change that
// matters to disruption (a pod bound, gone or terminating, a node's taints or readiness, a
// budget) marks the cluster unconsolidated (state.Cluster.MarkUnconsolidated) and wakes the
// pending poll and eviction retries.
func (k *karpenter) watch(ev sim.WatchEvent) {
	if !relevant(ev) {
		return
	}
	k.stateSeq++
	k.stateAt = k.rt.Elapsed()
	k.wake()
}

func relevant(ev sim.WatchEvent) bool {
	if ev.Type != watch.Modified {
		switch ev.Kind.Name() {
		case "Pod", "Node", "PodDisruptionBudget":
			return true
		}
		return false
	}
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		old := ev.Old.(*corev1.Pod)
		return o.Spec.NodeName != old.Spec.NodeName || (o.DeletionTimestamp == nil) != (old.DeletionTimestamp == nil) ||
			o.Status.Phase != old.Status.Phase || podutil.IsPodReady(o) != podutil.IsPodReady(old)
	case *corev1.Node:
		old := ev.Old.(*corev1.Node)
		return ready(o) != ready(old) || o.Spec.Unschedulable != old.Spec.Unschedulable || !equality.Semantic.DeepEqual(o.Spec.Taints, old.Spec.Taints)
	case *policyv1.PodDisruptionBudget:
		return true
	}
	return false
}

// consolidationState is state.Cluster.ConsolidationState: the last change, renewed when five
// minutes pass without one, so that methods that found nothing look again at least that
// often.
func (k *karpenter) consolidationState() uint64 {
	if k.rt.Elapsed()-k.stateAt >= 5*time.Minute {
		k.stateSeq++
		k.stateAt = k.rt.Elapsed()
	}
	return k.stateSeq
}

// podEvent (a watcher callback) notes a pod bound to a node or leaving it: the node's
// lastPodEventTime, and the consolidatable timer at lastPodEventTime + consolidateAfter.
func (k *karpenter) podEvent(pod *corev1.Pod, node string) {
	m := k.rt.members[node]
	if m == nil {
		return
	}
	k.lastPodEvent[node] = k.rt.Elapsed()
	k.armConsolidatable(m)
	if d := k.drains[node]; d != nil {
		k.rt.clock.AfterDelay(0, func() { k.drainCheck(d) })
	}
}

// nodeReady (a watcher callback): a Ready node is Initialized; a replacement waited for lets
// its command go on.
func (k *karpenter) nodeReady(m *Member) {
	if _, ok := k.lastPodEvent[m.Name]; !ok {
		k.lastPodEvent[m.Name] = k.rt.Elapsed()
	}
	k.armConsolidatable(m)
	for _, c := range k.commands {
		if slices.Contains(c.replacements, m) {
			k.rt.clock.AfterDelay(0, func() { k.replacementReady(c) })
		}
	}
}

// armConsolidatable schedules the instant the node becomes Consolidatable (the controller
// requeues at exactly lastPodEventTime + consolidateAfter), so that a pass runs then.
func (k *karpenter) armConsolidatable(m *Member) {
	after := m.Pool.Spec.Disruption.ConsolidateAfter
	if after == nil || m.Record.Initial {
		return
	}
	if e := k.consolidatable[m.Name]; e != nil {
		e.Cancel()
	}
	at := k.rt.s.Elapsed()
	if t, ok := k.lastPodEvent[m.Name]; ok {
		at = t
	}
	k.consolidatable[m.Name] = k.rt.clock.At(sim.Epoch.Add(at+*after), func() {
		delete(k.consolidatable, m.Name)
		// The NodeClaim's Consolidatable condition turning true is a change of the cluster
		// state (state.Cluster.MarkUnconsolidated).
		k.stateSeq++
		k.stateAt = k.rt.Elapsed()
		k.wake()
	})
}

// lazyEvent is a clock event that is background work (a daemon: the run may end while it is
// pending) until something changes in the cluster, when it becomes foreground work at the
// same instant. A periodic poll or a refused eviction's retry thus keeps a run going only
// while it may still find something new, and a run still ends once the cluster has settled.
type lazyEvent struct {
	at     time.Time
	fn     func()
	ev     *clock.Event
	daemon bool
}

func (k *karpenter) later(at time.Time, fn func()) *lazyEvent {
	l := &lazyEvent{at: at, fn: fn, daemon: true}
	l.ev = k.rt.clock.Daemon(at, func() { k.fire(l) })
	k.lazies = append(k.lazies, l)
	return l
}

func (k *karpenter) fire(l *lazyEvent) {
	k.lazies = slices.DeleteFunc(k.lazies, func(x *lazyEvent) bool { return x == l })
	l.fn()
}

func (k *karpenter) cancel(l *lazyEvent) {
	if l == nil {
		return
	}
	l.ev.Cancel()
	k.lazies = slices.DeleteFunc(k.lazies, func(x *lazyEvent) bool { return x == l })
}

// wake makes the pending lazy events foreground work. Called from watchers: it only
// schedules.
func (k *karpenter) wake() {
	for _, l := range k.lazies {
		if !l.daemon {
			continue
		}
		l.ev.Cancel()
		l.daemon = false
		l.ev = k.rt.clock.At(l.at, func() { k.fire(l) })
	}
}

// managed is whether Karpenter owns the node (it launched it: a NodeClaim exists).
func managed(m *Member) bool { return !m.Record.Initial }

// reschedulable is pod.IsReschedulable: an active pod that is not a DaemonSet's, a mirror pod
// or being deleted.
func reschedulable(p *corev1.Pod) bool {
	if podutil.IsPodTerminal(p) || p.DeletionTimestamp != nil || autoscaling.IsDaemonSetPod(p) {
		return false
	}
	_, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]
	return !mirror
}

// klogDiscard is the logger given to component-helpers' taint matching.
var klogDiscard = klog.Background()
