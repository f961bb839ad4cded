package nodeautoscaler

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
)

// Event records a decision at the current time.
func (rt *Runtime) Event(e analysis.ScaleEventRecord) {
	e.At = rt.Elapsed()
	rt.rec.Events = append(rt.rec.Events, e)
}

// NoScaleUp records that no pool could take the pod, and why (the last reason wins).
func (rt *Runtime) NoScaleUp(pod *corev1.Pod, reason string) {
	k := podKey(pod)
	if i, ok := rt.noScaleUp[k]; ok {
		r := &rt.rec.NoScaleUp[i]
		r.At, r.Reason, r.Resolved = rt.Elapsed(), reason, nil
		return
	}
	rt.noScaleUp[k] = len(rt.rec.NoScaleUp)
	rt.rec.NoScaleUp = append(rt.rec.NoScaleUp, analysis.NoScaleUpRecord{Namespace: pod.Namespace, Name: pod.Name,
		At: rt.Elapsed(), Reason: reason})
}

// Unremovable records why a pool node that could go cannot (the latest reason per node).
func (rt *Runtime) Unremovable(m *Member, reason, detail string) {
	r := analysis.UnremovableRecord{Node: m.Name, Pool: m.Pool.Name, At: rt.Elapsed(), Reason: reason, Detail: detail}
	if i, ok := rt.unremovable[m.Name]; ok {
		if old := rt.rec.Unremovable[i]; old.Reason == reason && old.Detail == detail {
			return // keep when it was first found so
		}
		rt.rec.Unremovable[i] = r
		return
	}
	rt.unremovable[m.Name] = len(rt.rec.Unremovable)
	rt.rec.Unremovable = append(rt.rec.Unremovable, r)
}

// ClearUnremovable forgets a node's unremovable reason (it became needed, or went).
func (rt *Runtime) ClearUnremovable(node string) {
	i, ok := rt.unremovable[node]
	if !ok {
		return
	}
	rt.rec.Unremovable = append(rt.rec.Unremovable[:i], rt.rec.Unremovable[i+1:]...)
	delete(rt.unremovable, node)
	for n, j := range rt.unremovable {
		if j > i {
			rt.unremovable[n] = j - 1
		}
	}
}
