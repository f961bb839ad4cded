package nodeautoscaler

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
)

// Annotations cluster-autoscaler reads (FAQ.md; utils/drain, core/scaledown/eligibility).
const (
	caScaleDownDisabledKey    = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
	caSafeToEvictKey          = "cluster-autoscaler.kubernetes.io/safe-to-evict"
	caSafeToEvictLocalVolumes = "cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"
)

// caRemovable is a node the removal simulation says can go, with the pods that must move.
type caRemovable struct {
	m    *Member
	pods []*corev1.Pod
	util autoscaling.UtilizationInfo
	// risky: its pods need more disruptions of a budget than it allows at once, so its
	// drain will meet refused evictions (simulator/cluster.go, NodeToBeRemoved.IsRisky).
	risky bool
}

// scaleDown is RunOnce's scale-down part: the planner's UpdateClusterState
// (core/scaledown/planner/planner.go, categorizeNodes) every iteration, then, outside
// cooldown, NodesToDelete and StartDeletion. It reports whether deletions started.
func (ca *clusterAutoscaler) scaleDown(sn *Snapshot, now time.Time, disabled bool) (bool, error) {
	removable, err := ca.plan(sn, now)
	if err != nil {
		return false, err
	}
	// static_autoscaler.go, isScaleDownInCooldown.
	if disabled || ca.lastScaleUp.Add(ca.o.ScaleDownDelayAfterAdd).After(now) ||
		ca.lastScaleDownFail.Add(ca.o.ScaleDownDelayAfterFailure).After(now) ||
		ca.lastScaleDownDelete.Add(ca.o.ScaleDownDelayAfterDelete).After(now) {
		if len(removable) > 0 {
			ca.waiting = true // the cooldown ends by itself
		}
		return false, nil
	}
	empty, drain := ca.removableAt(removable, now)
	empty, drain = ca.crop(empty, drain)
	for _, r := range empty {
		if err := ca.startDeletion(r, false); err != nil {
			return false, err
		}
	}
	for _, r := range drain {
		if err := ca.startDeletion(r, true); err != nil {
			return false, err
		}
	}
	if len(empty)+len(drain) > 0 {
		ca.lastScaleDownDelete = now
		return true, nil
	}
	return false, nil
}

// plan finds the unneeded nodes (planner.go, categorizeNodes): the pool nodes that are
// underutilized (eligibility.go, FilterOutUnremovable: utilization <= threshold) and whose
// pods can all move to other nodes (simulator/cluster.go, SimulateNodeRemoval), in name
// order (empty ones first, see below). A node's pods, once it is found removable, stay
// placed on their destinations for the nodes simulated after it (the planner's removal
// simulator persists successful simulations, so that two unneeded nodes never count on the
// same free room), and it is no destination any more (planner.go: delete(podDestinations,
// …)). Unneeded times (unneeded/nodes.go, Update) start at the first iteration
// that finds a node unneeded and are kept while it stays so.
func (ca *clusterAutoscaler) plan(sn *Snapshot, now time.Time) ([]caRemovable, error) {
	pdbs, err := ca.pdbTracker()
	if err != nil {
		return nil, err
	}
	// Destinations: real nodes (not upcoming templates), not being deleted.
	dest := map[string]bool{}
	var destOrder []string
	for _, n := range sn.Nodes() {
		if ca.upcoming(n.Name) || ca.deletions[n.Name] != nil || toBeDeleted(n) {
			continue
		}
		dest[n.Name] = true
		destOrder = append(destOrder, n.Name)
	}
	type candidate struct {
		m    *Member
		node *corev1.Node
		util autoscaling.UtilizationInfo
	}
	// Utilization of every candidate first, as FilterOutUnremovable runs before the
	// simulations.
	var cands []candidate
	for _, n := range sn.Nodes() {
		m := ca.rt.Member(n.Name)
		if m == nil || !m.Ready() || m.Removing() || ca.deletions[n.Name] != nil || toBeDeleted(n) {
			continue
		}
		u := autoscaling.Utilization(n, sn.Pods(n.Name), now, ca.o.IgnoreDaemonSetsUtilization)
		if name, util, ok := sn.deviceUtilization(n.Name); ok {
			u = autoscaling.UtilizationInfo{DynamicResourceUtil: util, ResourceName: name, Utilization: util}
		}
		if u.Utilization > ca.o.ScaleDownUtilizationThreshold {
			// Needed: not a candidate, so not unremovable either.
			delete(ca.unneeded, n.Name)
			ca.rt.ClearUnremovable(n.Name)
			continue
		}
		// eligibility.go, FilterOutUnremovable: a node whose removal simulation failed is
		// not looked at again before --unremovable-node-recheck-timeout (RecentlyUnremovable;
		// unremovable/nodes.go keeps the TTL whatever changes): its recorded reason stays
		// while it is underutilized (a needed node is not unremovable, whatever the TTL).
		if r, ok := ca.recent[n.Name]; ok && r.until.After(now) {
			ca.notBefore(r.until)
			delete(ca.unneeded, n.Name)
			if r.changes != ca.changes {
				ca.waiting = true // the cluster changed since: the re-check may differ
			}
			continue
		}
		delete(ca.recent, n.Name)
		if n.Annotations[caScaleDownDisabledKey] == "true" {
			delete(ca.unneeded, n.Name)
			ca.rt.Unremovable(m, "ScaleDownDisabledAnnotation", caScaleDownDisabledKey+": true")
			continue
		}
		cands = append(cands, candidate{m: m, node: n, util: u})
	}
	// The candidates' order (processors/scaledowncandidates: the empty-first and
	// previously-unneeded-first sorting processors), then by name where upstream's order is
	// the lister's.
	rank := func(c candidate) int {
		r := 0
		if !emptyOfMovable(sn.Pods(c.node.Name), now) {
			r += 2
		}
		if _, ok := ca.unneeded[c.node.Name]; !ok {
			r++
		}
		return r
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.node.Name, b.node.Name))
	})
	var out []caRemovable
	found := map[string]bool{}
	for _, c := range cands {
		name := c.node.Name
		pods, reason, detail := ca.podsToMove(sn.Pods(name), pdbs, now)
		if reason == "" {
			reason, detail = ca.simulateRemoval(sn, name, pods, dest, destOrder)
		}
		if reason != "" {
			ca.rt.Unremovable(c.m, reason, detail)
			ca.recent[name] = caRecent{until: now.Add(unremovableNodeRecheckTimeout), changes: ca.changes}
			ca.notBefore(now.Add(unremovableNodeRecheckTimeout))
			continue
		}
		delete(dest, name)
		risky := !pdbs.canInParallel(pods)
		pdbs.remove(pods)
		ca.rt.ClearUnremovable(name) // removableAt records why it may not go yet
		found[name] = true
		if _, ok := ca.unneeded[name]; !ok {
			ca.unneeded[name] = now
		}
		out = append(out, caRemovable{m: c.m, pods: pods, util: c.util, risky: risky})
	}
	for _, name := range slices.Sorted(maps.Keys(ca.unneeded)) {
		if !found[name] {
			delete(ca.unneeded, name)
		}
	}
	return out, nil
}

// simulateRemoval places the node's pods to move on the other destinations, first fit in
// name order (simulator/cluster.go, findPlaceFor with the scheduler's Filter plugins). They
// are all taken off the node first, as upstream removes them from the snapshot before
// scheduling any, so that none counts against itself or the others (anti-affinity, topology
// spread) and their claims are released to be allocated again where they go. On failure the
// pods go back and the reason is NoPlaceToMovePods.
func (ca *clusterAutoscaler) simulateRemoval(sn *Snapshot, node string, pods []*corev1.Pod, dest map[string]bool, order []string) (string, string) {
	var others []string
	for _, n := range order {
		if n != node && dest[n] {
			others = append(others, n)
		}
	}
	for _, p := range pods {
		sn.Unplace(p)
	}
	var moved []*corev1.Pod
	for _, p := range pods {
		to, err := sn.FirstFit(p, others)
		if err == nil && to != "" {
			err = sn.Place(p, to)
		}
		if err != nil || to == "" {
			for _, q := range pods {
				_ = sn.Place(q, node)
			}
			detail := fmt.Sprintf("can reschedule only %d out of %d pods: no place for %s/%s", len(moved), len(pods), p.Namespace, p.Name)
			if err != nil {
				detail = err.Error()
			}
			return "NoPlaceToMovePods", detail
		}
		moved = append(moved, p)
	}
	return "", ""
}

// podsToMove applies the drainability rules to a node's pods
// (simulator/drainability/rules/rules.go, in their order; utils/drain): it returns the pods
// that must move, or the BlockedByPod reason with the blocking pod and its
// drain.BlockingPodReason.
func (ca *clusterAutoscaler) podsToMove(pods []*corev1.Pod, pdbs *caPdbTracker, now time.Time) ([]*corev1.Pod, string, string) {
	var out []*corev1.Pod
	for _, p := range pods {
		block := ""
		switch {
		case mirror(p), autoscaling.IsPodLongTerminating(p, now), autoscaling.IsDaemonSetPod(p), podutil.IsPodTerminal(p):
			continue // mirror, long-terminating, daemonset and terminal rules: not moved
		case p.Annotations[caSafeToEvictKey] == "true":
		case metav1.GetControllerOf(p) == nil:
			block = "NotReplicated"
		case p.Namespace == metav1.NamespaceSystem && ca.o.SkipNodesWithSystemPods && len(pdbs.matching(p)) == 0:
			block = "UnmovableKubeSystemPod"
		case p.Annotations[caSafeToEvictKey] == "false":
			block = "NotSafeToEvictAnnotation"
		case ca.o.SkipNodesWithLocalStorage && hasBlockingLocalStorage(p):
			block = "LocalStorageRequested"
		default:
			// pdb rule (drainability/rules/pdb/rule.go, Drainable): a matching budget with
			// less than one disruption left blocks. It reads the tracker as the nodes chosen
			// before left it, not counting this node's own pods: a node with more of a
			// budget's pods than it allows is removable, only "risky" (see canInParallel).
			for _, b := range pdbs.matching(p) {
				if pdbs.remaining[b] < 1 {
					block = "NotEnoughPdb"
				}
			}
		}
		if block != "" {
			return nil, "BlockedByPod", fmt.Sprintf("%s/%s: %s", p.Namespace, p.Name, block)
		}
		out = append(out, p)
	}
	return out, "", ""
}

// emptyOfMovable is whether none of the pods would have to move (all mirror, DaemonSet,
// long-terminating or terminal): the node is empty for scale-down.
func emptyOfMovable(pods []*corev1.Pod, now time.Time) bool {
	for _, p := range pods {
		if !mirror(p) && !autoscaling.IsPodLongTerminating(p, now) && !autoscaling.IsDaemonSetPod(p) && !podutil.IsPodTerminal(p) {
			return false
		}
	}
	return true
}

// hasBlockingLocalStorage: an EmptyDir not in memory or a HostPath volume, unless named in
// the safe-to-evict-local-volumes annotation (utils/drain/drain.go, HasBlockingLocalStorage).
func hasBlockingLocalStorage(p *corev1.Pod) bool {
	safe := map[string]bool{}
	for _, v := range splitComma(p.Annotations[caSafeToEvictLocalVolumes]) {
		safe[v] = true
	}
	for _, v := range p.Spec.Volumes {
		local := v.HostPath != nil || (v.EmptyDir != nil && v.EmptyDir.Medium != corev1.StorageMediumMemory)
		if local && !safe[v.Name] {
			return true
		}
	}
	return false
}

// removableAt picks, among the unneeded nodes, those that can go now (unneeded/nodes.go,
// RemovableAt and unremovableReason): unneeded for longer than --scale-down-unneeded-time
// (an unready node: --scale-down-unready-time), strictly, and their pool staying at or above
// its min, counting deletions in progress and the nodes chosen before them.
func (ca *clusterAutoscaler) removableAt(rs []caRemovable, now time.Time) (empty, drain []caRemovable) {
	chosen := map[*Pool]int{}
	for _, d := range ca.deletions {
		chosen[d.m.Pool]++
	}
	for _, r := range rs {
		since := ca.unneeded[r.m.Name]
		wait, reason := ca.o.ScaleDownUnneededTime, "NotUnneededLongEnough"
		if n, err := ca.getNode(r.m.Name); err == nil && !ready(n) {
			wait, reason = ca.o.ScaleDownUnreadyTime, "NotUnreadyLongEnough"
		}
		if !since.Add(wait).Before(now) {
			ca.rt.Unremovable(r.m, reason,
				fmt.Sprintf("unneeded since %v, removable after %v", since.Sub(sim.Epoch), since.Add(wait).Sub(sim.Epoch)))
			ca.waiting = true
			continue
		}
		p := r.m.Pool
		if p.Size()-chosen[p] <= int(p.Spec.Min) {
			ca.rt.Unremovable(r.m, "NodeGroupMinSizeReached", fmt.Sprintf("NodePool %s: %d nodes, min %d", p.Name, p.Size()-chosen[p], p.Spec.Min))
			continue
		}
		chosen[p]++
		if len(r.pods) == 0 {
			empty = append(empty, r)
		} else {
			drain = append(drain, r)
		}
	}
	// planner.go, NodesToDelete: sortByRisk puts the risky nodes to drain last.
	slices.SortStableFunc(drain, func(a, b caRemovable) int {
		switch {
		case a.risky == b.risky:
			return 0
		case b.risky:
			return -1
		}
		return 1
	})
	return empty, drain
}

// crop applies the scale-down budgets (core/scaledown/budgets/budgets.go, CropNodes):
// --max-scale-down-parallelism over empty and drained nodes together, in progress included,
// and --max-drain-parallelism over drained ones.
func (ca *clusterAutoscaler) crop(empty, drain []caRemovable) ([]caRemovable, []caRemovable) {
	var inEmpty, inDrain int
	for _, d := range ca.deletions {
		if d.drain {
			inDrain++
		} else {
			inEmpty++
		}
	}
	budget := max(0, ca.o.MaxScaleDownParallelism-inEmpty-inDrain)
	drainBudget := max(0, ca.o.MaxDrainParallelism-inDrain)
	empty = empty[:min(len(empty), budget)]
	budget -= len(empty)
	drain = drain[:min(len(drain), budget, drainBudget)]
	return empty, drain
}

// caPdbTracker is the planner's RemainingPdbTracker (simulator/pdb): each budget's
// status.disruptionsAllowed, as the disruption controller keeps it, less the pods planned to
// move in this pass. Matching is the eviction API's (sim.API budgetsFor): same namespace,
// selector matches (an empty one matches all, one that does not parse nothing).
type caPdbTracker struct {
	pdbs      []*policyv1.PodDisruptionBudget
	selectors []labels.Selector
	remaining map[*policyv1.PodDisruptionBudget]int32
}

func (ca *clusterAutoscaler) pdbTracker() (*caPdbTracker, error) {
	k, err := sim.KindNamed("PodDisruptionBudget")
	if err != nil {
		return nil, err
	}
	objs, err := ca.rt.Sim().API().List(k)
	if err != nil {
		return nil, err
	}
	t := &caPdbTracker{remaining: map[*policyv1.PodDisruptionBudget]int32{}}
	for _, o := range objs {
		b := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil {
			continue // an invalid selector matches nothing, as in the disruption controller
		}
		t.pdbs = append(t.pdbs, b)
		t.selectors = append(t.selectors, sel)
		t.remaining[b] = b.Status.DisruptionsAllowed
	}
	return t, nil
}

func (t *caPdbTracker) matching(p *corev1.Pod) []*policyv1.PodDisruptionBudget {
	var out []*policyv1.PodDisruptionBudget
	for i, b := range t.pdbs {
		if b.Namespace == p.Namespace && t.selectors[i].Matches(labels.Set(p.Labels)) {
			out = append(out, b)
		}
	}
	return out
}

// canInParallel is CanRemovePods' inParallel (core/scaledown/pdb/basic.go): whether every
// budget allows as many disruptions as the pods it matches.
func (t *caPdbTracker) canInParallel(pods []*corev1.Pod) bool {
	count := map[*policyv1.PodDisruptionBudget]int32{}
	for _, p := range pods {
		for _, b := range t.matching(p) {
			count[b]++
			if t.remaining[b] < count[b] {
				return false
			}
		}
	}
	return true
}

func (t *caPdbTracker) remove(pods []*corev1.Pod) {
	for _, p := range pods {
		for _, b := range t.matching(p) {
			t.remaining[b]--
		}
	}
}
