package nodeautoscaler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// kcand is a disruption candidate (disruption/types.go, Candidate): a managed, initialized,
// Consolidatable node whose pods do not block its disruption.
type kcand struct {
	m *Member
	// pods are its reschedulable pods (pod.IsReschedulable).
	pods  []*corev1.Pod
	price float64
}

// savingsRatio is Candidate.SavingsRatio: price / RescheduleDisruptionCost, the cost being
// PerNodeBaseDisruptionCost (1) plus each reschedulable pod's eviction cost, taken as 1.
func (c *kcand) savingsRatio() float64 { return c.price / float64(1+len(c.pods)) }

// kcommand is a disruption command (disruption/types.go, Command).
type kcommand struct {
	// reason is the disruption reason: autoscaling.DisruptionEmpty or DisruptionUnderutilized.
	reason string
	// decision is "delete" or "replace".
	decision   string
	candidates []*Member
	// multi marks a multi-node consolidation command.
	multi bool
	// claim is the replacement a replace command launches.
	claim        *kclaim
	replacements []*Member
	ready        map[*Member]bool
}

// String is Command.String without the command ID (disruption/types.go): "<reason>:
// <decision>: nodepools=[...]: [<nodes>] (-> [1 replacement]) (savings: $x.xx)", the savings
// per hour.
func (c *kcommand) String() string {
	names := make([]string, 0, len(c.candidates))
	var pools []string
	var saved float64
	for _, m := range c.candidates {
		names = append(names, m.Name)
		if !slices.Contains(pools, m.Pool.Name) {
			pools = append(pools, m.Pool.Name)
		}
		saved += m.Record.PricePerHour
	}
	head := fmt.Sprintf("%s: %s: nodepools=[%s]: [%s]", c.reason, c.decision, strings.Join(pools, ","), strings.Join(names, ", "))
	if c.decision == "replace" {
		saved -= c.claim.pool.Shape(c.claim.pool.Cheapest(c.claim.shapes)).PricePerHour
		return fmt.Sprintf("%s -> [1 replacement] (savings: $%.2f)", head, saved)
	}
	return fmt.Sprintf("%s (savings: $%.2f)", head, saved)
}

// disrupt is one pass of the disruption controller (disruption/controller.go, Reconcile):
// the methods in order, Emptiness, multi-node then single-node consolidation, the first
// that finds a command wins; the command is validated after commandValidationDelay, during
// which the controller waits, then executed, and the next pass follows at once. A pass that
// finds nothing polls again after pollingPeriod.
func (k *karpenter) disrupt() {
	k.pass = nil
	cmd, err := k.compute()
	if err != nil {
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Reason: "DisruptionFailed", Message: err.Error()})
	}
	if cmd == nil {
		k.schedulePass(autoscaling.KarpenterDisruptionPollingPeriod, false)
		return
	}
	k.validating = true
	k.rt.clock.AfterDelay(autoscaling.KarpenterValidationDelay, func() { k.validate(cmd) })
}

// schedulePass arms the next pass after d; foreground when the controller just acted (it
// requeues immediately and may find more), else background until something changes.
func (k *karpenter) schedulePass(d time.Duration, foreground bool) {
	if k.validating {
		return // the controller is blocked in a validation, which schedules the next pass
	}
	k.cancel(k.pass)
	k.pass = k.later(k.rt.Now().Add(d), k.disrupt)
	if foreground {
		k.promote(k.pass)
	}
}

func (k *karpenter) promote(l *lazyEvent) {
	if !l.daemon {
		return
	}
	l.ev.Cancel()
	l.daemon = false
	l.ev = k.rt.clock.At(l.at, func() { k.fire(l) })
}

// compute runs the methods and returns the first command, nil when none.
func (k *karpenter) compute() (*kcommand, error) {
	state := k.consolidationState()
	if k.emptinessState == state && k.multiState == state && k.singleState == state {
		// Every method would return at once (IsConsolidated): skip listing the candidates,
		// which costs a pass over every pod.
		return nil, nil
	}
	cands, err := k.candidates()
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		// Nothing to act on until something changes (a node turning Consolidatable bumps the
		// state too).
		k.emptinessState, k.multiState, k.singleState = state, state, state
		return nil, nil
	}
	// The methods in the controller's order; each marks itself consolidated when it found
	// nothing and no budget held it back.
	for _, m := range []struct {
		last *uint64
		run  func([]*kcand) (*kcommand, bool, error)
	}{
		{&k.emptinessState, k.emptiness},
		{&k.multiState, k.multiNode},
		{&k.singleState, k.singleNode},
	} {
		if *m.last == state {
			continue
		}
		cmd, constrained, err := m.run(cands)
		if err != nil || cmd != nil {
			return cmd, err
		}
		if !constrained {
			*m.last = state
		}
	}
	return nil, nil
}

// budget is how many more of the pool's nodes may be disrupted for the reason
// (BuildDisruptionBudgetMapping): the budgets' allowance over the managed, initialized nodes
// not yet deleted, minus those already being disrupted, at least 0.
func (k *karpenter) budget(p *Pool, reason string) int {
	num, disrupting := 0, 0
	for _, m := range p.members {
		if !managed(m) || !m.Ready() {
			continue
		}
		num++
		if m.Removing() {
			disrupting++
		}
	}
	return max(0, p.Spec.Disruption.AllowedDisruptions(reason, num)-disrupting)
}

// aboveMin is whether the pool may lose n more nodes and stay at or above its min: kwoksim's
// floor (a Karpenter NodePool has no min).
func aboveMin(p *Pool, n int) bool {
	removing := 0
	for _, m := range p.members {
		if m.Removing() {
			removing++
		}
	}
	return p.Size()-removing-n >= int(p.Spec.Min)
}

// candidates are the nodes the methods may act on (disruption/helpers.go, GetCandidates;
// types.go, NewCandidate): managed, Initialized, not already being disrupted, Consolidatable
// (lastPodEventTime + consolidateAfter passed: nodeclaim/disruption/consolidation.go), with
// no pod that blocks (karpenter.sh/do-not-disrupt, a PodDisruptionBudget that allows no
// disruption: state.StateNode.ValidatePodsDisruptable). In pool order, then by name.
func (k *karpenter) candidates() ([]*kcand, error) {
	rt := k.rt
	pods, err := rt.Pods()
	if err != nil {
		return nil, err
	}
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && !podutil.IsPodTerminal(p) {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		}
	}
	pdbs, err := k.pdbs()
	if err != nil {
		return nil, err
	}
	now := rt.Elapsed()
	var out []*kcand
	for _, p := range rt.pools {
		after := p.Spec.Disruption.ConsolidateAfter
		ms := slices.Clone(p.members)
		slices.SortFunc(ms, func(a, b *Member) int { return cmp.Compare(a.Name, b.Name) })
		for _, m := range ms {
			if after == nil || !managed(m) || !m.Ready() || m.Removing() || k.drains[m.Name] != nil {
				continue
			}
			last, ok := k.lastPodEvent[m.Name]
			if !ok {
				last = *m.Record.ReadyAt
			}
			if now < last+*after {
				continue
			}
			obj, err := rt.api.Get(rt.nodeKind, "", m.Name)
			if err != nil {
				continue
			}
			if obj.(*corev1.Node).Annotations[karpenterDoNotDisrupt] == "true" {
				rt.Unremovable(m, "DisruptionBlocked", `disruption is blocked through the "karpenter.sh/do-not-disrupt" annotation`)
				continue
			}
			c := &kcand{m: m, price: m.Record.PricePerHour}
			blocked := ""
			for _, pod := range byNode[m.Name] {
				if why := k.blocks(pod, pdbs); why != "" {
					blocked = why
					break
				}
				if reschedulable(pod) {
					c.pods = append(c.pods, pod)
				}
			}
			if blocked != "" {
				rt.Unremovable(m, "DisruptionBlocked", blocked)
				continue
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// blocks says why a pod blocks its node's disruption, "" if it does not
// (StateNode.ValidatePodsDisruptable; pod.IsDoNotDisruptActive; pdb.Limits.CanEvictPods).
func (k *karpenter) blocks(pod *corev1.Pod, pdbs []*policyv1.PodDisruptionBudget) string {
	if v, ok := pod.Annotations[karpenterDoNotDisrupt]; ok && doNotDisruptActive(v, pod, k.rt.Now()) {
		return fmt.Sprintf(`pod has "karpenter.sh/do-not-disrupt" annotation (Pod=%s)`, podKey(pod))
	}
	if !reschedulable(pod) {
		return ""
	}
	var matching []string
	blocked := false
	for _, b := range pdbs {
		if b.Namespace != pod.Namespace || b.Spec.Selector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		matching = append(matching, b.Namespace+"/"+b.Name)
		if b.Status.DisruptionsAllowed == 0 {
			blocked = true
		}
	}
	switch {
	case len(matching) > 1:
		return fmt.Sprintf("eviction does not support multiple PDBs (PodDisruptionBudget(s)=[%s])", strings.Join(matching, " "))
	case blocked:
		return fmt.Sprintf("pdb prevents pod evictions (PodDisruptionBudget=[%s])", strings.Join(matching, " "))
	}
	return ""
}

// doNotDisruptActive is pod.IsDoNotDisruptActive: "true" blocks; a positive duration blocks
// until that long after the pod started; anything else is ignored, as upstream does.
func doNotDisruptActive(v string, pod *corev1.Pod, now time.Time) bool {
	if v == "true" {
		return true
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || pod.Status.StartTime == nil {
		return false
	}
	return now.Before(pod.Status.StartTime.Add(d))
}

func (k *karpenter) pdbs() ([]*policyv1.PodDisruptionBudget, error) {
	objs, err := k.rt.api.List(k.pdbKind)
	if err != nil {
		return nil, err
	}
	out := make([]*policyv1.PodDisruptionBudget, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*policyv1.PodDisruptionBudget))
	}
	slices.SortFunc(out, func(a, b *policyv1.PodDisruptionBudget) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// emptiness is the Emptiness method (disruption/emptiness.go): every empty candidate the
// Empty budget of its pool allows, in one delete command; constrained when a budget held one
// back (the cluster is then not marked consolidated).
func (k *karpenter) emptiness(cands []*kcand) (cmd *kcommand, constrained bool, err error) {
	left := map[*Pool]int{}
	taken := map[*Pool]int{}
	cmd = &kcommand{reason: autoscaling.DisruptionEmpty, decision: "delete"}
	for _, c := range cands {
		if len(c.pods) > 0 {
			continue
		}
		p := c.m.Pool
		if _, ok := left[p]; !ok {
			left[p] = k.budget(p, autoscaling.DisruptionEmpty)
		}
		switch {
		case left[p] <= 0:
			k.rt.Unremovable(c.m, "DisruptionBlocked", fmt.Sprintf("No allowed disruptions for disruption reason %s due to blocking budget", autoscaling.DisruptionEmpty))
			constrained = true
			continue
		case !aboveMin(p, taken[p]+1):
			k.rt.Unremovable(c.m, "NodePoolMinReached", fmt.Sprintf("NodePool %s would go below its min (%d): kwoksim's floor", p.Name, p.Spec.Min))
			continue
		}
		left[p]--
		taken[p]++
		cmd.candidates = append(cmd.candidates, c.m)
	}
	if len(cmd.candidates) == 0 {
		return nil, constrained, nil
	}
	return cmd, constrained, nil
}

// singleNode is SingleNodeConsolidation (disruption/singlenodeconsolidation.go): the
// non-empty candidates of WhenEmptyOrUnderutilized pools, by savings ratio descending (ties
// by name), one at a time; the first that consolidates gives the command. constrained is
// whether a budget held a candidate back.
func (k *karpenter) singleNode(cands []*kcand) (cmd *kcommand, constrained bool, err error) {
	order := k.consolidationOrder(cands, true)
	for _, c := range order {
		if k.budget(c.m.Pool, autoscaling.DisruptionUnderutilized) <= 0 {
			k.rt.Unremovable(c.m, "DisruptionBlocked", fmt.Sprintf("No allowed disruptions for disruption reason %s due to blocking budget", autoscaling.DisruptionUnderutilized))
			constrained = true
			continue
		}
		cmd, why, err := k.consolidate([]*kcand{c}, false)
		if err != nil || cmd != nil {
			return cmd, constrained, err
		}
		k.rt.Unremovable(c.m, "Unconsolidatable", why)
	}
	return nil, constrained, nil
}

// consolidate is computeConsolidation (disruption/consolidation.go) for the candidates:
// simulate them gone; every pod must find a place (on other nodes, or on one new node); none
// new is a delete, one new is a replace with instance types cheaper than the candidates'
// total price, more is no action. multi adds multi-node consolidation's filter: the
// replacement must also be cheaper than any candidate of its own instance type
// (multinodeconsolidation.go, filterOutSameInstanceType). It returns the command, or why none.
func (k *karpenter) consolidate(cands []*kcand, multi bool) (*kcommand, string, error) {
	gone := map[string]bool{}
	var pods []*corev1.Pod
	var price float64
	cmd := &kcommand{reason: autoscaling.DisruptionUnderutilized}
	perPool := map[*Pool]int{}
	for _, c := range cands {
		gone[c.m.Name] = true
		pods = append(pods, c.pods...)
		price += c.price
		cmd.candidates = append(cmd.candidates, c.m)
		perPool[c.m.Pool]++
	}
	s, _, err := k.newSolver(gone)
	if err != nil {
		return nil, "", err
	}
	errs, err := s.solve(pods)
	if err != nil {
		return nil, "", err
	}
	for _, p := range pods {
		if why, ok := errs[p.UID]; ok {
			return nil, fmt.Sprintf("not all pods would schedule, %s => %s", podKey(p), why), nil
		}
		// SimulateScheduling: a decision that relies on a node not yet Initialized is no
		// decision (UninitializedNodeError).
		if m := k.rt.members[s.sn.NodeOf(p)]; m != nil && !m.Ready() {
			on := "nodeclaim/" + m.Name
			if m.Registered() {
				on += ", node/" + m.Name
			}
			return nil, fmt.Sprintf("not all pods would schedule, %s => would schedule against uninitialized %s", podKey(p), on), nil
		}
	}
	switch len(s.claims) {
	case 0:
		for _, c := range cands {
			if p := c.m.Pool; !aboveMin(p, perPool[p]) {
				return nil, fmt.Sprintf("NodePool %s would go below its min (%d): kwoksim's floor", p.Name, p.Spec.Min), nil
			}
		}
		cmd.decision = "delete"
		return cmd, "", nil
	case 1:
	default:
		return nil, fmt.Sprintf("Can't remove without creating %d candidates", len(s.claims)), nil
	}
	cl := s.claims[0]
	limit := price
	if multi {
		for _, c := range cands {
			if slices.Contains(cl.shapes, c.m.Shape) && cl.pool == c.m.Pool {
				limit = min(limit, c.price)
			}
		}
	}
	var cheaper []string
	for _, sh := range cl.shapes {
		if cl.pool.Shape(sh).PricePerHour < limit {
			cheaper = append(cheaper, sh)
		}
	}
	if len(cheaper) == 0 {
		return nil, "Can't replace with a cheaper node", nil
	}
	cl.shapes = cheaper
	cmd.decision, cmd.claim = "replace", cl
	return cmd, "", nil
}

// multiNode is MultiNodeConsolidation (disruption/multinodeconsolidation.go): the
// consolidation candidates in the same order, as many as the budgets allow (at most 100); a
// binary search for the longest prefix of at least 2 that consolidates into at most one new
// node (firstNConsolidationOption). constrained is whether a budget held a candidate back.
func (k *karpenter) multiNode(cands []*kcand) (cmd *kcommand, constrained bool, err error) {
	left := map[*Pool]int{}
	var ok []*kcand
	for _, c := range k.consolidationOrder(cands, false) {
		p := c.m.Pool
		if _, seen := left[p]; !seen {
			left[p] = k.budget(p, autoscaling.DisruptionUnderutilized)
		}
		if left[p] <= 0 {
			constrained = true
			continue
		}
		left[p]--
		ok = append(ok, c)
	}
	if len(ok) < 2 {
		return nil, constrained, nil
	}
	lo, hi := 1, min(len(ok), 100)
	if len(ok) <= hi {
		hi = len(ok) - 1
	}
	for lo <= hi {
		mid := (lo + hi) / 2
		c, _, err := k.consolidate(ok[:mid+1], true)
		if err != nil {
			return nil, constrained, err
		}
		if c != nil {
			cmd, lo = c, mid+1
		} else {
			hi = mid - 1
		}
	}
	if cmd != nil {
		cmd.multi = true
	}
	return cmd, constrained, nil
}

// consolidationOrder are the candidates consolidation may act on (non-empty, of pools whose
// policy is WhenEmptyOrUnderutilized), by savings ratio descending, ties by name
// (sortCandidates). record notes the WhenEmpty ones as unconsolidatable.
func (k *karpenter) consolidationOrder(cands []*kcand, record bool) []*kcand {
	var order []*kcand
	for _, c := range cands {
		if len(c.pods) == 0 {
			continue
		}
		if p := c.m.Pool; p.Spec.Disruption.ConsolidationPolicy == autoscaling.ConsolidationWhenEmpty {
			// consolidation.go, ShouldDisrupt: the Unconsolidatable event.
			if record {
				k.rt.Unremovable(c.m, "Unconsolidatable", fmt.Sprintf("NodePool %q has consolidation policy WhenEmpty, but node is not empty", p.Name))
			}
			continue
		}
		order = append(order, c)
	}
	slices.SortStableFunc(order, func(a, b *kcand) int {
		return cmp.Or(cmp.Compare(b.savingsRatio(), a.savingsRatio()), cmp.Compare(a.m.Name, b.m.Name))
	})
	return order
}

// validate re-checks a command after commandValidationDelay (disruption/validation.go): its
// candidates must still be candidates, within budget, and the simulation must give the same
// decision; then it runs.
func (k *karpenter) validate(cmd *kcommand) {
	k.validating = false
	ok, err := k.stillValid(cmd)
	if err != nil {
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Reason: "DisruptionFailed", Message: err.Error()})
	}
	if !ok {
		k.schedulePass(autoscaling.KarpenterDisruptionPollingPeriod, false)
		return
	}
	// The controller requeues at once; the orchestration queue and the termination
	// controller carry the command out asynchronously, so that pass still sees the command's
	// nodes in flight (its event comes before the drain's at this instant).
	k.schedulePass(0, true)
	if err := k.execute(cmd); err != nil {
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Reason: "DisruptionFailed", Message: err.Error()})
	}
}

func (k *karpenter) stillValid(cmd *kcommand) (bool, error) {
	cands, err := k.candidates()
	if err != nil {
		return false, err
	}
	byName := map[string]*kcand{}
	for _, c := range cands {
		byName[c.m.Name] = c
	}
	var now []*kcand
	for _, m := range cmd.candidates {
		c := byName[m.Name]
		if c == nil {
			return false, nil
		}
		now = append(now, c)
	}
	if cmd.reason == autoscaling.DisruptionEmpty {
		again, _, _ := k.emptiness(now)
		return again != nil && len(again.candidates) == len(cmd.candidates), nil
	}
	perPool := map[*Pool]int{}
	for _, c := range now {
		perPool[c.m.Pool]++
		if n := perPool[c.m.Pool]; k.budget(c.m.Pool, cmd.reason) < n {
			return false, nil
		}
		if len(c.pods) == 0 {
			return false, nil // emptied meanwhile: Emptiness's to take
		}
	}
	again, _, err := k.consolidate(now, cmd.multi)
	if err != nil || again == nil || again.decision != cmd.decision {
		return false, err
	}
	cmd.claim = again.claim
	return true, nil
}
