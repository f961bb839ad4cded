package nodeautoscaler

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// caGroup is a cluster-autoscaler node group: one shape of a pool, id <pool>/<shape>. The
// pool's min and max bound the pool, all its shapes together (kwoksim's mapping,
// docs/autoscaling.md §3).
type caGroup struct {
	pool  *Pool
	shape string
}

func (g caGroup) id() string { return g.pool.Name + "/" + g.shape }

func (ca *clusterAutoscaler) groups() []caGroup {
	var out []caGroup
	for _, p := range ca.rt.Pools() {
		for _, s := range p.Spec.Shapes {
			out = append(out, caGroup{pool: p, shape: s.Name})
		}
	}
	return out
}

// shapeSize is the group's target size: the pool's nodes of that shape.
func shapeSize(p *Pool, shape string) int {
	n := 0
	for _, m := range p.Members() {
		if m.Shape == shape {
			n++
		}
	}
	return n
}

// Skipped-group reasons (core/scaleup/orchestrator/skippedreasons.go).
const (
	caMaxLimitReachedReason = "max node group size reached"
	caBackoffReason         = "in backoff after failed scale-up"
	caMaxNodesTotalReason   = "max total nodes in cluster reached"
)

// podsToHelp are the unschedulable pods a scale-up is for, after the pod list processors
// (core/podlistprocessor/pod_list_processor.go, NewDefaultPodListProcessor, in its order):
// expendable pods out, pods of nodes being drained in (CurrentlyDrainedNodes), pods that fit
// the snapshot's existing and upcoming nodes placed there and out (FilterOutSchedulable),
// DaemonSet pods out; then pods younger than --new-pod-scale-up-delay out
// (static_autoscaler.go, filterOutYoungPods).
func (ca *clusterAutoscaler) podsToHelp(sn *Snapshot, now time.Time) ([]*corev1.Pod, error) {
	pods, err := ca.rt.UnschedulablePods()
	if err != nil {
		return nil, err
	}
	pods = slices.DeleteFunc(pods, func(p *corev1.Pod) bool {
		return p.Spec.Priority != nil && *p.Spec.Priority < ca.o.ExpendablePodsPriorityCutoff
	})
	for _, name := range slices.Sorted(maps.Keys(ca.deletions)) {
		d := ca.deletions[name]
		if !d.drain {
			continue
		}
		for _, p := range sn.Pods(name) {
			if p.DeletionTimestamp == nil && !autoscaling.IsDaemonSetPod(p) && !mirror(p) {
				pods = append(pods, p)
			}
		}
	}
	// filter_out_schedulable.go sorts by importance (priority first); stable, so equal
	// priorities keep the oldest-first order.
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int { return cmp.Compare(priority(b), priority(a)) })
	nodes := make([]string, 0, len(sn.Nodes()))
	for _, n := range sn.Nodes() {
		if ca.deletions[n.Name] == nil {
			nodes = append(nodes, n.Name)
		}
	}
	var out []*corev1.Pod
	for _, p := range pods {
		sn.Unplace(p)
		n, err := sn.FirstFit(p, nodes)
		if err != nil {
			return nil, err
		}
		if n != "" {
			if err := sn.Place(p, n); err != nil {
				return nil, err
			}
			continue
		}
		if autoscaling.IsDaemonSetPod(p) {
			continue
		}
		out = append(out, p)
	}
	if ca.o.NewPodScaleUpDelay > 0 {
		out = slices.DeleteFunc(out, func(p *corev1.Pod) bool {
			if p.CreationTimestamp.Time.Add(ca.o.NewPodScaleUpDelay).After(now) {
				ca.waiting = true
				return true
			}
			return false
		})
	}
	return out, nil
}

// scaleUp is RunOnce's scale-up part and ScaleUpOrchestrator.ScaleUp
// (core/scaleup/orchestrator/orchestrator.go). It reports whether it scaled up, and whether
// scale-down is disabled for this iteration (pods too new: DisableScaleDownForLoop).
func (ca *clusterAutoscaler) scaleUp(sn *Snapshot, now time.Time) (scaledUp, disableScaleDown bool, err error) {
	pods, err := ca.podsToHelp(sn, now)
	if err != nil || len(pods) == 0 {
		return false, false, err
	}
	if ca.o.MaxNodesTotal > 0 {
		nodes, err := ca.rt.Nodes()
		if err != nil {
			return false, false, err
		}
		readyNodes := 0
		for _, n := range nodes {
			if ready(n) {
				readyNodes++
			}
		}
		if readyNodes >= ca.o.MaxNodesTotal {
			// static_autoscaler.go: no scale-up, event MaxNodesTotalReached.
			if !ca.maxTotalNoted {
				ca.maxTotalNoted = true
				ca.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUpSkipped, Pods: len(pods), Reason: "MaxNodesTotalReached",
					Message: fmt.Sprintf("Max total nodes in cluster reached: %v", ca.o.MaxNodesTotal)})
			}
			for _, p := range pods {
				ca.noScaleUp(p, "pod didn't trigger scale-up: "+caMaxNodesTotalReason)
			}
			return false, false, nil
		}
		ca.maxTotalNoted = false
	}
	// static_autoscaler.go, allPodsAreNew: the oldest pod younger than the buffer waits one
	// iteration ("Unschedulable pods are very new, waiting one iteration for more").
	oldest := pods[0].CreationTimestamp.Time
	for _, p := range pods {
		if p.CreationTimestamp.Time.Before(oldest) {
			oldest = p.CreationTimestamp.Time
		}
	}
	if oldest.Add(autoscaling.UnschedulablePodTimeBuffer).After(now) {
		ca.waiting = true
		return false, true, nil
	}
	return ca.orchestrate(sn, pods, now)
}

type caOption struct {
	g     caGroup
	pods  []*corev1.Pod
	count int
}

// orchestrate picks the node group to grow and grows it (ScaleUpOrchestrator.ScaleUp).
func (ca *clusterAutoscaler) orchestrate(sn *Snapshot, pods []*corev1.Pod, now time.Time) (bool, bool, error) {
	// reasons[i] counts, per reason, the node groups that could not take pods[i]
	// (orchestrator.go: skipped groups give their reason for every pod, rejected ones the
	// Filter plugins' reasons).
	reasons := make([]map[string]int, len(pods))
	for i := range reasons {
		reasons[i] = map[string]int{}
	}
	accepted := make([]bool, len(pods))
	var opts []caOption
	for _, g := range ca.groups() {
		skip := ""
		switch {
		case g.pool.Size() >= int(g.pool.Spec.Max):
			skip = caMaxLimitReachedReason
		case ca.backoff.BackedOff(g.id(), now):
			skip = caBackoffReason
			ca.waiting = true // the backoff ends by itself
		}
		if skip != "" {
			for i := range pods {
				reasons[i][skip]++
			}
			continue
		}
		fit, err := ca.templateFits(sn, g, pods, reasons, accepted)
		if err != nil {
			return false, false, err
		}
		if len(fit) == 0 {
			continue
		}
		helped, count, err := ca.estimate(sn, g, fit)
		if err != nil {
			return false, false, err
		}
		if count > 0 {
			opts = append(opts, caOption{g: g, pods: helped, count: count})
		}
	}
	if len(opts) == 0 {
		// eventing_scale_up_processor.go: NotTriggerScaleUp on the pods no group could take,
		// only when no scale-up was attempted.
		for i, p := range pods {
			if !accepted[i] && len(reasons[i]) > 0 {
				ca.noScaleUp(p, "pod didn't trigger scale-up: "+reasonsMessage(reasons[i]))
			}
		}
		return false, false, nil
	}
	best := opts[ca.chooseOption(opts)]
	return ca.execute(best, opts, now)
}

// reasonsMessage is "%d %s" per distinct reason, joined by ", " (status/eventing_scale_up_
// processor.go, ReasonsMessage), sorted by reason: upstream joins them in Go map order.
func reasonsMessage(counts map[string]int) string {
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	return strings.Join(parts, ", ")
}

// templateFits returns the pods that fit an empty template node of the group, with the
// snapshot's other nodes and pods around it (orchestrator.go, SchedulablePodGroups: the
// PreFilter and Filter plugins); a pod that does not fit counts the plugins' reasons.
func (ca *clusterAutoscaler) templateFits(sn *Snapshot, g caGroup, pods []*corev1.Pod, reasons []map[string]int, accepted []bool) ([]*corev1.Pod, error) {
	name := "template-node-for-" + g.pool.Name + "-" + g.shape
	tmpl, err := ca.rt.Template(g.pool, g.shape, name)
	if err != nil {
		return nil, err
	}
	defer sn.RemoveNode(name)
	if err := ca.addTemplate(sn, tmpl, ca.dss); err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for i, p := range pods {
		f, err := sn.Fits(p, name)
		if err != nil {
			return nil, err
		}
		if f.OK {
			accepted[i] = true
			out = append(out, p)
			continue
		}
		for _, r := range f.Reasons {
			reasons[i][r]++
		}
	}
	return out, nil
}

// estimate is the binpacking estimator (estimator/binpacking_estimator.go,
// BinpackingNodeEstimator.Estimate): first-fit decreasing over new template nodes, pods in
// DecreasingPodOrderer order (ties, which upstream's sort.Slice leaves undefined, by
// namespace and name); each pod is tried on the nodes added so far, then on a new one; a pod
// that does not fit a new empty node ends the estimation. Capped by --max-nodes-per-scaleup
// (1000). It returns the pods placed and the node count.
func (ca *clusterAutoscaler) estimate(sn *Snapshot, g caGroup, pods []*corev1.Pod) ([]*corev1.Pod, int, error) {
	const maxNodesPerScaleUp = 1000
	alloc := g.pool.Shape(g.shape).Allocatable
	ordered := slices.Clone(pods)
	slices.SortStableFunc(ordered, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(autoscaling.PodScore(b, alloc), autoscaling.PodScore(a, alloc)),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var added []string
	defer func() {
		for _, n := range added {
			sn.RemoveNode(n)
		}
	}()
	var helped []*corev1.Pod
	broke := false
	for _, p := range ordered {
		n, err := sn.FirstFit(p, added)
		if err != nil {
			return nil, 0, err
		}
		if n == "" {
			if len(added) >= maxNodesPerScaleUp {
				break
			}
			n = fmt.Sprintf("template-node-for-%s-%s-%d", g.pool.Name, g.shape, len(added))
			tmpl, err := ca.rt.Template(g.pool, g.shape, n)
			if err != nil {
				return nil, 0, err
			}
			added = append(added, n)
			if err := ca.addTemplate(sn, tmpl, ca.dss); err != nil {
				return nil, 0, err
			}
			f, err := sn.Fits(p, n)
			if err != nil {
				return nil, 0, err
			}
			if !f.OK {
				broke = true
				break
			}
		}
		if err := sn.Place(p, n); err != nil {
			return nil, 0, err
		}
		helped = append(helped, p)
	}
	// The node added for a pod that did not fit it is not counted.
	count := len(added)
	if broke {
		count--
	}
	return helped, count, nil
}

// chooseOption runs the expander chain, ties drawn from the run's seeded RNG.
func (ca *clusterAutoscaler) chooseOption(opts []caOption) int {
	eo := make([]autoscaling.ExpansionOption, len(opts))
	for i, o := range opts {
		sh := o.g.pool.Shape(o.g.shape)
		capCPU, capMem := sh.Capacity[corev1.ResourceCPU], sh.Capacity[corev1.ResourceMemory]
		e := autoscaling.ExpansionOption{Group: o.g.id(), NodeCount: o.count, Pods: len(o.pods),
			NodeCPUMilli: capCPU.MilliValue(), NodeMemory: capMem.Value(), PricePerHour: sh.PricePerHour}
		for _, p := range o.pods {
			for _, c := range p.Spec.Containers {
				cpu, mem := c.Resources.Requests[corev1.ResourceCPU], c.Resources.Requests[corev1.ResourceMemory]
				e.PodsCPUMilli += cpu.MilliValue()
				e.PodsMemory += mem.Value()
			}
		}
		eo[i] = e
	}
	return autoscaling.BestOption(ca.expander, eo, func(n int) int {
		ca.drew = true
		return ca.rt.Rand().IntN(n)
	})
}

// execute grows the chosen group (orchestrator.go, then executor.go and clusterstate's
// RegisterScaleUp): the count capped by the pool's max and --max-nodes-total
// (GetCappedNewNodeCount), the nodes launched, the request registered with its expected
// add time, and the ScaledUpGroup event.
func (ca *clusterAutoscaler) execute(best caOption, opts []caOption, now time.Time) (bool, bool, error) {
	p := best.g.pool
	count := min(best.count, int(p.Spec.Max)-p.Size())
	if ca.o.MaxNodesTotal > 0 {
		nodes, err := ca.rt.Nodes()
		if err != nil {
			return false, false, err
		}
		current := len(nodes)
		for _, pool := range ca.rt.Pools() {
			for _, m := range pool.Members() {
				if !m.Registered() {
					current++
				}
			}
		}
		count = min(count, ca.o.MaxNodesTotal-current)
	}
	if count <= 0 {
		return false, false, nil
	}
	before := shapeSize(p, best.g.shape)
	ms, err := ca.rt.Launch(p, best.g.shape, count)
	if err != nil {
		return false, false, err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	ca.requests = append(ca.requests, &caScaleRequest{g: best.g, members: ms, at: now, expected: now.Add(ca.o.MaxNodeProvisionTime)})
	msg := fmt.Sprintf("Scale-up: group %s size set to %d instead of %d (max: %d)", best.g.id(), before+count, before, p.Spec.Max)
	if len(opts) > 1 {
		ids := make([]string, len(opts))
		for i, o := range opts {
			ids[i] = fmt.Sprintf("%s (%d nodes, %d pods)", o.g.id(), o.count, len(o.pods))
		}
		msg += fmt.Sprintf("; expander %s chose it among %s", ca.o.Expander, strings.Join(ids, ", "))
	}
	ca.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUp, Pool: p.Name, Shape: best.g.shape, Nodes: names,
		Count: count, Pods: len(best.pods), Reason: "ScaledUpGroup", Message: msg})
	ca.lastScaleUp = now
	return true, false, nil
}

// caScaleRequest is a scale-up awaiting its nodes (clusterstate.ScaleUpRequest).
type caScaleRequest struct {
	g            caGroup
	members      []*Member
	at, expected time.Time
}

// updateScaleRequests drops the requests whose nodes all registered, and times out those
// past their expected add time (clusterstate/clusterstate.go, updateScaleRequests): the
// ScaleUpTimedOut event, the launches given up (the target size reverted), and the group
// backed off (RegisterFailedScaleUp).
func (ca *clusterAutoscaler) updateScaleRequests(now time.Time) {
	var keep []*caScaleRequest
	for _, r := range ca.requests {
		var missing []*Member
		for _, m := range r.members {
			if !m.Registered() && m.Record.DeletedAt == nil {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if !r.expected.Before(now) {
			keep = append(keep, r)
			ca.waiting = true
			continue
		}
		names := make([]string, len(missing))
		for i, m := range missing {
			names[i] = m.Name
			ca.rt.GiveUp(m)
		}
		ca.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUpTimedOut, Pool: r.g.pool.Name, Shape: r.g.shape,
			Nodes: names, Count: len(missing), Reason: "ScaleUpTimedOut",
			Message: fmt.Sprintf("Nodes added to group %s failed to register within %v", r.g.id(), now.Sub(r.at))})
		ca.backoff.Backoff(r.g.id(), now)
	}
	ca.requests = keep
}

func priority(p *corev1.Pod) int32 {
	if p.Spec.Priority == nil {
		return 0
	}
	return *p.Spec.Priority
}

func mirror(p *corev1.Pod) bool {
	_, ok := p.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}
