package sim

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
)

// explainGated gives each pod the scheduling queue holds before any scheduling attempt the
// reason it is held: kube-scheduler's queue runs the profile's PreEnqueue plugins on every
// pod it adds (PriorityQueue.runPreEnqueuePlugins, pkg/scheduler/backend/queue), and keeps a
// pod a plugin refuses among its unschedulable entities, gated, without ever popping it. The
// queue remembers only which plugin gated the pod (QueuedPodInfo.GatingPlugin), not what it
// said, so the plugin is asked again here: PreEnqueue is a check of the pod alone (for
// SchedulingGates, "waiting for scheduling gates: [name …]"), and asking again changes
// nothing. Without this, such a pod would sit Pending with no attempt, no reason and no
// count.
func (s *Simulator) explainGated(pods []analysis.PodRecord) {
	for i := range pods {
		rec := &pods[i]
		p := rec.Pod
		if p == nil || rec.DeletedAt != nil || p.Spec.NodeName != "" || rec.Reason != "" {
			continue
		}
		rec.Gated = s.GatedReason(p)
	}
}

// GatedReason is why the scheduling queue holds the pod before any attempt (see
// explainGated), "" when it does not hold it so.
func (s *Simulator) GatedReason(p *corev1.Pod) string {
	sched := s.driver.sched
	info, ok := sched.SchedulingQueue.GetPod(p.Name, p.Namespace, p.Spec.SchedulingGroup)
	if !ok || !info.Gated() {
		return ""
	}
	plugin := info.GatingPlugin
	reason := "held by PreEnqueue plugin " + plugin
	prof, ok := sched.Profiles[p.Spec.SchedulerName]
	if !ok {
		return reason
	}
	for _, pl := range prof.PreEnqueuePlugins() {
		if pl.Name() != plugin {
			continue
		}
		if st := pl.PreEnqueue(context.Background(), p); !st.IsSuccess() && st.Message() != "" {
			reason = plugin + ": " + st.Message()
		}
	}
	return reason
}
