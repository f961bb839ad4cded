package nodeautoscaler

import (
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
)

// clusterAutoscaler is the cluster-autoscaler behaviour (cluster-autoscaler 1.36.1,
// docs/autoscaling.md §1): a loop of iterations (StaticAutoscaler.RunOnce), each a scale-up
// or, when none was made, a scale-down; deletions are carried out by clock events.
type clusterAutoscaler struct {
	rt       *Runtime
	o        autoscaling.Options
	expander []string

	// next is the pending iteration; nextDaemon whether it is background work.
	next       *clock.Event
	nextDaemon bool
	// changes counts the cluster changes seen (pods, nodes, PDBs); changedAt is its value at
	// the start of the running iteration: a later change makes the next tick foreground.
	changes, changedAt int64
	// waiting is set by an iteration that found work a later iteration will do with no other
	// change (pods too new, a backoff or an unneeded time running out): its next tick is
	// foreground then, background otherwise, so that a settled run ends.
	waiting bool
	// drew is set by an iteration that drew from the RNG (the random expander); memo lets
	// the next iteration be skipped when it would repeat this one.
	drew bool
	memo caMemo

	// The static autoscaler's times (core/static_autoscaler.go): they start an hour in the
	// past (NewStaticAutoscaler), so a fresh autoscaler is not in cooldown.
	lastScaleUp, lastScaleDownDelete, lastScaleDownFail time.Time

	backoff  *autoscaling.GroupBackoff
	requests []*caScaleRequest
	// unneeded is when each unneeded node was first found so (unneeded/nodes.go).
	unneeded map[string]time.Time
	// recent are the nodes whose removal simulation failed, not re-checked before their time
	// (unremovable-node-recheck-timeout), with the change count when they failed.
	recent    map[string]caRecent
	deletions map[string]*caDeletion
	// dss are the DaemonSets at the start of the running iteration (template nodes' pods).
	dss []*appsv1.DaemonSet
	// maxTotalNoted: the MaxNodesTotalReached event is recorded once per stretch.
	maxTotalNoted bool
}

type caRecent struct {
	until   time.Time
	changes int64
}

// unremovableNodeRecheckTimeout is --unremovable-node-recheck-timeout's default (5m,
// config/flags/flags.go): a node whose removal simulation failed is not simulated again
// before then. Not an autoscaling.Options field: kwoksim keeps the default.
const unremovableNodeRecheckTimeout = 5 * time.Minute

// startClusterAutoscaler starts the loop: the first iteration at once, then as
// loop/trigger.go's LoopTrigger.Wait decides (see loop).
func startClusterAutoscaler(rt *Runtime) error {
	o := rt.Options()
	chain, err := autoscaling.ParseExpander(o.Expander)
	if err != nil {
		return err
	}
	if o.ScanInterval <= 0 {
		return fmt.Errorf("--scan-interval must be positive, got %v", o.ScanInterval)
	}
	past := rt.Now().Add(-time.Hour)
	ca := &clusterAutoscaler{rt: rt, o: o, expander: chain, lastScaleUp: past, lastScaleDownDelete: past,
		lastScaleDownFail: past, backoff: autoscaling.NewGroupBackoff(o), unneeded: map[string]time.Time{},
		recent: map[string]caRecent{}, deletions: map[string]*caDeletion{}}
	rt.rec.NotModelled = append(rt.rec.NotModelled, caNotModelled...)
	if slices.Contains(chain, autoscaling.ExpanderPriority) {
		rt.rec.NotModelled = append(rt.rec.NotModelled, caPriorityNotModelled)
	}
	rt.OnUnschedulable(ca.triggered)
	rt.Sim().API().Watch(ca.observe)
	ca.schedule(rt.Now(), false)
	return nil
}

// loop runs one iteration and arms the next, as loop/trigger.go's LoopTrigger.Wait does:
// at once after a productive iteration (one that scaled up or started deleting nodes),
// otherwise --scan-interval later; an unschedulable pod appearing runs one earlier
// (triggered). Iterations take no virtual time.
func (ca *clusterAutoscaler) loop() {
	ca.next = nil
	now := ca.rt.Now()
	if ca.memo.repeats(ca.changes, now) {
		// Nothing the iteration reads has changed and nothing in it depends on the time
		// before memo.until: it would decide exactly as the last one did. Only its
		// NotTriggerScaleUp reasons are given again (NoScaleUp's time is the last giving).
		for _, n := range ca.memo.noScaleUp {
			ca.rt.NoScaleUp(n.pod, n.reason)
		}
		ca.schedule(now.Add(ca.o.ScanInterval), true)
		return
	}
	ca.changedAt = ca.changes
	ca.waiting, ca.drew = false, false
	ca.memo = caMemo{until: farFuture}
	productive, err := ca.runOnce()
	if err != nil {
		ca.rt.Sim().Abort(fmt.Errorf("cluster-autoscaler: %w", err))
		return
	}
	ca.memo.valid = !productive && !ca.waiting && !ca.drew
	ca.memo.changes = ca.changes
	if productive {
		ca.schedule(now, false)
		return
	}
	ca.schedule(now.Add(ca.o.ScanInterval), !ca.waiting && ca.changes == ca.changedAt)
}

// caMemo is what an iteration leaves for the next to tell whether it would repeat it.
type caMemo struct {
	valid bool
	// changes is the change count after the iteration (its own writes included).
	changes int64
	// until is the earliest time a decision of the iteration may turn out otherwise by
	// itself: a node's recheck timeout ending, a terminating pod ceasing to count.
	until time.Time
	// noScaleUp are the NotTriggerScaleUp reasons the iteration gave.
	noScaleUp []caNoScaleUp
}

type caNoScaleUp struct {
	pod    *corev1.Pod
	reason string
}

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func (m *caMemo) repeats(changes int64, now time.Time) bool {
	return m.valid && m.changes == changes && now.Before(m.until)
}

// noScaleUp records a pod no node group can take, and keeps it for a repeated iteration.
func (ca *clusterAutoscaler) noScaleUp(p *corev1.Pod, reason string) {
	ca.rt.NoScaleUp(p, reason)
	ca.memo.noScaleUp = append(ca.memo.noScaleUp, caNoScaleUp{pod: p, reason: reason})
}

// notBefore lowers memo.until to t.
func (ca *clusterAutoscaler) notBefore(t time.Time) {
	if t.Before(ca.memo.until) {
		ca.memo.until = t
	}
}

// triggered is --frequent-loops-enabled (default true): the pod observer
// (loop/trigger.go, StartPodObserver) ends the wait when a pod becomes unschedulable, so
// an iteration runs at that instant and the scan interval restarts from it.
func (ca *clusterAutoscaler) triggered() {
	if ca.next != nil {
		ca.next.Cancel()
	}
	ca.loop()
}

// schedule arms the next iteration; a background (daemon) one when nothing is pending, so
// that a run with nothing left to do ends.
func (ca *clusterAutoscaler) schedule(at time.Time, daemon bool) {
	if ca.next != nil {
		ca.next.Cancel()
	}
	ca.nextDaemon = daemon
	if daemon {
		ca.next = ca.rt.Clock().Daemon(at, ca.loop)
	} else {
		ca.next = ca.rt.Clock().At(at, ca.loop)
	}
}

// observe is a Watcher (it runs inside API writes): it only counts a change that could
// alter the next iteration's decisions, and makes that iteration foreground. Heartbeats
// and other status noise do not count, or a run would never settle.
func (ca *clusterAutoscaler) observe(ev sim.WatchEvent) {
	if !caRelevant(ev) {
		return
	}
	ca.changes++
	if ca.next != nil && ca.next.Pending() && ca.nextDaemon {
		at := ca.next.At()
		ca.schedule(at, false)
	}
}

func caRelevant(ev sim.WatchEvent) bool {
	if ev.Type != watch.Modified || ev.Old == nil {
		switch ev.Object.(type) {
		case *corev1.Pod, *corev1.Node, *policyv1.PodDisruptionBudget, *appsv1.DaemonSet:
			return true
		}
		return false
	}
	switch n := ev.Object.(type) {
	case *corev1.Pod:
		o := ev.Old.(*corev1.Pod)
		return n.Spec.NodeName != o.Spec.NodeName || n.Status.Phase != o.Status.Phase ||
			(n.DeletionTimestamp == nil) != (o.DeletionTimestamp == nil) || unschedulable(n) != unschedulable(o) ||
			!equality.Semantic.DeepEqual(n.Labels, o.Labels) || !equality.Semantic.DeepEqual(n.Annotations, o.Annotations)
	case *appsv1.DaemonSet:
		return !equality.Semantic.DeepEqual(n.Spec, ev.Old.(*appsv1.DaemonSet).Spec)
	case *corev1.Node:
		o := ev.Old.(*corev1.Node)
		return ready(n) != ready(o) || !equality.Semantic.DeepEqual(n.Spec, o.Spec) ||
			!equality.Semantic.DeepEqual(n.Labels, o.Labels) || !equality.Semantic.DeepEqual(n.Annotations, o.Annotations) ||
			!equality.Semantic.DeepEqual(n.Status.Allocatable, o.Status.Allocatable)
	case *policyv1.PodDisruptionBudget:
		o := ev.Old.(*policyv1.PodDisruptionBudget)
		return n.Status.DisruptionsAllowed != o.Status.DisruptionsAllowed || !equality.Semantic.DeepEqual(n.Spec, o.Spec)
	}
	return false
}

// runOnce is one iteration (core/static_autoscaler.go, StaticAutoscaler.RunOnce): scale-up
// requests that timed out are dropped, the upcoming nodes are added to the snapshot, the
// unschedulable pods are processed and a scale-up tried; when none was made, scale-down.
// It reports whether the iteration was productive (LoopTrigger.Wait's test).
func (ca *clusterAutoscaler) runOnce() (bool, error) {
	now := ca.rt.Now()
	ca.updateScaleRequests(now)
	sn, err := ca.snapshot()
	if err != nil {
		return false, err
	}
	scaledUp, disableScaleDown, err := ca.scaleUp(sn, now)
	if err != nil || scaledUp {
		// "No scale down in this iteration" after a successful scale-up.
		return scaledUp, err
	}
	if !ca.o.ScaleDownEnabled {
		return false, nil
	}
	return ca.scaleDown(sn, now, disableScaleDown)
}

// snapshot is the cluster with its upcoming nodes (static_autoscaler.go,
// addUpcomingNodesToClusterSnapshot): a pool node launched and not yet Ready stands there as
// its template, Ready, under its own name (with the DaemonSet pods a template carries, see
// addTemplate), so that pending pods it will take are not counted again.
func (ca *clusterAutoscaler) snapshot() (*Snapshot, error) {
	sn, err := ca.rt.Snapshot()
	if err != nil {
		return nil, err
	}
	// A terminating pod stops counting (utilization, pods to move) once long-terminating.
	for _, n := range sn.Nodes() {
		for _, p := range sn.Pods(n.Name) {
			if p.DeletionTimestamp != nil && !autoscaling.IsPodLongTerminating(p, ca.rt.Now()) {
				grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
				if p.Spec.TerminationGracePeriodSeconds != nil {
					grace = *p.Spec.TerminationGracePeriodSeconds
				}
				ca.notBefore(p.DeletionTimestamp.Time.Add(time.Duration(grace)*time.Second + autoscaling.PodLongTerminatingExtraThreshold))
			}
		}
	}
	dss, err := ca.daemonSets()
	if err != nil {
		return nil, err
	}
	ca.dss = dss
	for _, p := range ca.rt.Pools() {
		for _, m := range p.Members() {
			if m.Ready() || m.Removing() {
				continue
			}
			tmpl, err := ca.rt.Template(p, m.Shape, m.Name)
			if err != nil {
				return nil, err
			}
			if !m.Registered() {
				if err := ca.addTemplate(sn, tmpl, dss); err != nil {
					return nil, err
				}
				continue
			}
			// Registered, not Ready yet: its own pods (DaemonSet ones) go on the template.
			pods := sn.RemoveNode(m.Name)
			sn.AddNode(tmpl)
			for _, pod := range pods {
				if err := sn.Place(pod, m.Name); err != nil {
					return nil, err
				}
			}
		}
	}
	return sn, nil
}

// upcoming is whether the node is a pool node not yet Ready (a template in the snapshot).
func (ca *clusterAutoscaler) upcoming(node string) bool {
	m := ca.rt.Member(node)
	return m != nil && !m.Ready() && !m.Removing()
}
