package nodeautoscaler

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// kdrain is a node being terminated (node/termination/terminator): its pods evicted through
// the eviction API, then the node deleted.
type kdrain struct {
	m      *Member
	reason string
	// backoff is each refused pod's next retry delay; retries their pending retries.
	backoff map[types.UID]time.Duration
	retries map[types.UID]*lazyEvent
}

// execute starts a validated command (disruption/queue.go, StartCommand): the candidates are
// tainted karpenter.sh/disrupted:NoSchedule and count against budgets from now; a replace
// launches its replacement and waits until it is Initialized (Ready) before the candidates
// are drained; a delete drains them at once.
func (k *karpenter) execute(cmd *kcommand) error {
	removal := map[string]string{autoscaling.DisruptionEmpty: "empty", autoscaling.DisruptionUnderutilized: "underutilized"}[cmd.reason]
	if cmd.decision == "replace" {
		removal = "replaced"
	}
	typ := analysis.ScaleDown
	if cmd.decision == "replace" {
		typ = analysis.Consolidation
	}
	names := make([]string, 0, len(cmd.candidates))
	pods := 0
	for _, m := range cmd.candidates {
		k.rt.MarkRemoving(m, removal)
		k.rt.ClearUnremovable(m.Name)
		if err := k.rt.Taint(m.Name, corev1.Taint{Key: karpenterDisruptedTaintKey, Effect: corev1.TaintEffectNoSchedule}, false); err != nil {
			return err
		}
		names = append(names, m.Name)
	}
	for _, m := range cmd.candidates {
		sn, err := k.rt.Snapshot()
		if err != nil {
			return err
		}
		for _, p := range sn.Pods(m.Name) {
			if reschedulable(p) {
				pods++
			}
		}
	}
	// DisruptionTerminating "Disrupting Node: %s" (disruption/events/events.go, Terminating),
	// with the command as Command.String words it.
	k.rt.Event(analysis.ScaleEventRecord{Type: typ, Pool: cmd.candidates[0].Pool.Name, Shape: cmd.candidates[0].Shape,
		Nodes: names, Count: len(names), Pods: pods, Reason: "DisruptionTerminating",
		Message: fmt.Sprintf("Disrupting Node: %s (%s)", cmd.reason, cmd)})
	if cmd.decision != "replace" {
		for _, m := range cmd.candidates {
			k.drain(m, removal)
		}
		return nil
	}
	before := len(k.rt.rec.Nodes)
	if err := k.launch([]*kclaim{cmd.claim}, cmd.reason, strings.Join(names, ", ")); err != nil {
		return err
	}
	for _, r := range k.rt.rec.Nodes[before:] {
		if m := k.rt.members[r.Name]; m != nil {
			cmd.replacements = append(cmd.replacements, m)
		}
	}
	cmd.ready = map[*Member]bool{}
	k.commands = append(k.commands, cmd)
	// DisruptionWaitingReadiness "Waiting on readiness to continue disruption".
	return nil
}

// replacementReady goes on with a replace command once every replacement is Ready.
func (k *karpenter) replacementReady(cmd *kcommand) {
	if !slices.Contains(k.commands, cmd) {
		return
	}
	for _, r := range cmd.replacements {
		if r.Ready() {
			cmd.ready[r] = true
		}
	}
	if len(cmd.ready) < len(cmd.replacements) {
		return
	}
	k.commands = slices.DeleteFunc(k.commands, func(c *kcommand) bool { return c == cmd })
	for _, m := range cmd.candidates {
		k.drain(m, "replaced")
	}
}

// abort gives a command up (its replacement failed): the candidates are untainted and stay.
func (k *karpenter) abort(cmd *kcommand, why string) {
	k.commands = slices.DeleteFunc(k.commands, func(c *kcommand) bool { return c == cmd })
	for _, m := range cmd.candidates {
		k.rt.CancelRemoving(m)
		if err := k.rt.Untaint(m.Name, karpenterDisruptedTaintKey, false); err != nil && !apierrors.IsNotFound(err) {
			why += "; " + err.Error()
		}
	}
	k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Pool: cmd.candidates[0].Pool.Name,
		Nodes: []string{cmd.candidates[0].Name}, Count: len(cmd.candidates), Reason: "DisruptionFailed",
		Message: "disruption command aborted: " + why})
	k.wake()
}

// drain evicts the node's pods and deletes it once they are gone.
func (k *karpenter) drain(m *Member, reason string) {
	d := &kdrain{m: m, reason: reason, backoff: map[types.UID]time.Duration{}, retries: map[types.UID]*lazyEvent{}}
	k.drains[m.Name] = d
	pods, err := k.rt.Pods()
	if err == nil {
		for _, p := range pods {
			if p.Spec.NodeName == m.Name && k.evictable(p) {
				k.evict(d, p)
			}
		}
	}
	k.rt.clock.AfterDelay(0, func() { k.drainCheck(d) })
}

// evictable are the pods a drain evicts: reschedulable ones without an active
// do-not-disrupt (which the drain waits for instead: terminator.go).
func (k *karpenter) evictable(p *corev1.Pod) bool {
	if !reschedulable(p) {
		return false
	}
	v, ok := p.Annotations[karpenterDoNotDisrupt]
	return !ok || !doNotDisruptActive(v, p, k.rt.Now())
}

// evict asks the eviction API to evict the pod with its own grace period; a refusal (a
// PodDisruptionBudget, 429) is retried with a per-pod exponential back-off from 100 ms to
// 10 s (terminator/eviction.go, evictionQueueBaseDelay and evictionQueueMaxDelay).
func (k *karpenter) evict(d *kdrain, p *corev1.Pod) {
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if p.Spec.TerminationGracePeriodSeconds != nil {
		grace = *p.Spec.TerminationGracePeriodSeconds
	}
	err := k.rt.Evict(p, grace)
	if err == nil || apierrors.IsNotFound(err) {
		delete(d.backoff, p.UID)
		return
	}
	delay := d.backoff[p.UID]
	if delay == 0 {
		delay = evictionBaseDelay
	}
	d.backoff[p.UID] = min(2*delay, evictionMaxDelay)
	ns, name, uid := p.Namespace, p.Name, p.UID
	d.retries[uid] = k.later(k.rt.Now().Add(delay), func() {
		delete(d.retries, uid)
		if k.drains[d.m.Name] != d {
			return
		}
		obj, err := k.rt.api.Get(k.rt.podKind, ns, name)
		if err != nil {
			return
		}
		cur := obj.(*corev1.Pod)
		if cur.UID == uid && cur.Spec.NodeName == d.m.Name && k.evictable(cur) {
			k.evict(d, cur)
		}
	})
}

// drainCheck deletes the node once no pod but DaemonSet ones is left on it (terminal pods
// and pods already gone do not hold it).
func (k *karpenter) drainCheck(d *kdrain) {
	if k.drains[d.m.Name] != d {
		return
	}
	pods, err := k.rt.Pods()
	if err != nil {
		return
	}
	for _, p := range pods {
		if p.Spec.NodeName == d.m.Name && !podutil.IsPodTerminal(p) && !autoscaling.IsDaemonSetPod(p) {
			if p.DeletionTimestamp == nil && k.evictable(p) && d.retries[p.UID] == nil {
				k.evict(d, p) // a pod bound after the drain began (it tolerates the taint)
			}
			return
		}
	}
	delete(k.drains, d.m.Name)
	for _, l := range d.retries {
		k.cancel(l)
	}
	if err := k.rt.Remove(d.m, d.reason); err != nil && err != errGone {
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleDownFailed, Pool: d.m.Pool.Name, Nodes: []string{d.m.Name},
			Count: 1, Reason: "FailedTermination", Message: err.Error()})
	}
	// The budget it held is free: the next poll (made foreground) may use it.
	k.wake()
}
