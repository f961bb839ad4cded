package nodeautoscaler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"

	"github.com/kwoksim/kwoksim/sim"
)

// OnUnschedulable registers fn to run, in a clock event at the same instant, when a pod
// becomes unschedulable (cluster-autoscaler's frequent loops, Karpenter's batcher trigger).
// Several pods at one instant give one call.
func (rt *Runtime) OnUnschedulable(fn func()) {
	rt.unschedulableHooks = append(rt.unschedulableHooks, fn)
}

// OnPodEvent registers fn to be told, inside the API's watcher, of a pod bound to a node or
// leaving one (deleted, terminal): Karpenter's lastPodEventTime. fn must only note it (the
// Watcher rule): no API write, no clock event that is not deferred.
func (rt *Runtime) OnPodEvent(fn func(pod *corev1.Pod, node string)) {
	rt.podHooks = append(rt.podHooks, fn)
}

// OnNodeReady registers fn to be told, inside the API's watcher, when a pool node is first
// Ready. The same rule as OnPodEvent applies.
func (rt *Runtime) OnNodeReady(fn func(m *Member)) { rt.nodeHooks = append(rt.nodeHooks, fn) }

// observe is the runtime's Watcher: it only notes, and defers work to the clock.
func (rt *Runtime) observe(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case "Node":
		rt.observeNode(ev)
	case "Pod":
		rt.observePod(ev)
	}
}

func (rt *Runtime) observeNode(ev sim.WatchEvent) {
	n := ev.Object.(*corev1.Node)
	m := rt.members[n.Name]
	if m == nil {
		return
	}
	if ev.Type == watch.Deleted {
		// Deleted by someone else (a trace, a user): the instance is gone.
		rt.gone(m, "deleted")
		return
	}
	if m.Record.ReadyAt == nil && ready(n) {
		m.Record.ReadyAt = rt.elapsedPtr()
		for _, fn := range rt.nodeHooks {
			fn(m)
		}
	}
}

func (rt *Runtime) observePod(ev sim.WatchEvent) {
	p := ev.Object.(*corev1.Pod)
	var old *corev1.Pod
	if ev.Old != nil {
		old = ev.Old.(*corev1.Pod)
	}
	if ev.Type != watch.Deleted && unschedulable(p) && (old == nil || !unschedulable(old)) && len(rt.unschedulableHooks) > 0 && !rt.unschedulableArmed {
		rt.unschedulableArmed = true
		rt.clock.AfterDelay(0, func() {
			rt.unschedulableArmed = false
			for _, fn := range rt.unschedulableHooks {
				fn()
			}
		})
	}
	bound := p.Spec.NodeName != "" && (old == nil || old.Spec.NodeName == "")
	if bound {
		if i, ok := rt.noScaleUp[podKey(p)]; ok && rt.rec.NoScaleUp[i].Resolved == nil {
			rt.rec.NoScaleUp[i].Resolved = rt.elapsedPtr()
		}
	}
	left := p.Spec.NodeName != "" && (ev.Type == watch.Deleted || (podutil.IsPodTerminal(p) && (old == nil || !podutil.IsPodTerminal(old))))
	if (bound || left) && len(rt.podHooks) > 0 {
		for _, fn := range rt.podHooks {
			fn(p, p.Spec.NodeName)
		}
	}
}
