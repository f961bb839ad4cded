package nodeautoscaler

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
)

// trigger is the pod controller's Trigger of the batcher (provisioning/controller.go,
// PodController.Reconcile; batcher.go, Batcher.Trigger and Wait): the first provisionable pod
// opens a window that closes BatchIdleDuration after the last trigger, or BatchMaxDuration
// after the first, whichever comes first; then the provisioner solves.
func (k *karpenter) trigger() {
	opts := k.rt.opts
	if k.batchMax == nil {
		k.batchMax = k.rt.clock.AfterDelay(opts.BatchMaxDuration, k.closeBatch)
	}
	if k.batchIdle != nil {
		k.batchIdle.Cancel()
	}
	k.batchIdle = k.rt.clock.AfterDelay(opts.BatchIdleDuration, k.closeBatch)
}

func (k *karpenter) closeBatch() {
	k.batchIdle.Cancel()
	k.batchMax.Cancel()
	k.batchIdle, k.batchMax = nil, nil
	if err := k.provision(); err != nil {
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUpFailed, Reason: "ProvisioningFailed", Message: err.Error()})
	}
}

// provisionable are the pods Karpenter provisions for (pkg/utils/pod/scheduling.go,
// IsProvisionable): unschedulable pods not owned by a DaemonSet.
func (k *karpenter) provisionable() ([]*corev1.Pod, error) {
	pods, err := k.rt.UnschedulablePods()
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if !autoscaling.IsDaemonSetPod(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// provision is Provisioner.Reconcile after the batch: solve the provisionable pods (and the
// pods of nodes being deleted, which need a new home too: Provisioner.Schedule), launch a
// node per new claim as its cheapest remaining shape, and record the pods no pool can take.
func (k *karpenter) provision() error {
	pods, err := k.provisionable()
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		return nil
	}
	s, deleting, err := k.newSolver(nil)
	if err != nil {
		return err
	}
	for _, p := range deleting {
		if reschedulable(p) {
			pods = append(pods, p)
		}
	}
	errs, err := s.solve(pods)
	if err != nil {
		return err
	}
	if err := k.launch(s.claims, "Provisioned", ""); err != nil {
		return err
	}
	for _, p := range pods {
		if why, ok := errs[p.UID]; ok && p.Spec.NodeName == "" {
			// FailedScheduling "Failed to schedule pod, %s" (scheduling/events.go,
			// PodFailedToScheduleEvent).
			k.rt.NoScaleUp(p, "Failed to schedule pod, "+why)
		}
	}
	// Each still-provisionable pod is re-triggered every 10 s (PodController requeue).
	if len(errs) > 0 || len(s.claims) > 0 {
		k.cancel(k.retrigger)
		k.retrigger = k.later(k.rt.Now().Add(karpenterPodRequeue), func() {
			k.retrigger = nil
			if pods, err := k.provisionable(); err == nil && len(pods) > 0 {
				k.trigger()
			}
		})
	}
	return nil
}

// launch creates a node for each claim as the cheapest of its remaining shapes (ToNodeClaim
// orders the instance types by price; the cloud provider launches the cheapest), and records
// it. reason is the record's removal context for a replacement ("" for provisioning).
func (k *karpenter) launch(claims []*kclaim, reason, forNode string) error {
	for _, c := range claims {
		shape := c.pool.Cheapest(c.shapes)
		ms, err := k.rt.Launch(c.pool, shape, 1)
		if err != nil {
			return err
		}
		m := ms[0]
		msg := fmt.Sprintf("created nodeclaim %s: NodePool=%s, instance-type=%s ($%.2f/h, cheapest of %s), pods=%d",
			m.Name, c.pool.Name, shape, c.pool.Shape(shape).PricePerHour, strings.Join(c.shapes, ","), len(c.pods))
		evReason := "Launched"
		if forNode != "" {
			// DisruptionLaunching "Launching NodeClaim: %s" (disruption/events/events.go, Launching).
			evReason = "DisruptionLaunching"
			msg = fmt.Sprintf("Launching NodeClaim: %s (replacing %s); %s", reason, forNode, msg)
		}
		k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUp, Pool: c.pool.Name, Shape: shape,
			Nodes: []string{m.Name}, Count: 1, Pods: len(c.pods), Reason: evReason, Message: msg})
		k.registrationTimeout(m)
	}
	return nil
}

// registrationTimeout gives up a NodeClaim whose Node has not registered within 15 minutes
// (nodeclaim/lifecycle/liveness.go, registrationTimeout).
func (k *karpenter) registrationTimeout(m *Member) {
	// Only a pool whose provisioning delay may exceed the timeout needs a timer: one that
	// cannot fire would keep every run going for 15 minutes after a launch.
	if m.Pool.Spec.Provisioning.Delay.Max <= autoscaling.KarpenterRegistrationTimeout {
		return
	}
	k.rt.clock.AfterDelay(autoscaling.KarpenterRegistrationTimeout, func() { k.giveUp(m) })
}

func (k *karpenter) giveUp(m *Member) {
	if m.Registered() || m.Record.DeletedAt != nil {
		return
	}
	k.rt.GiveUp(m)
	k.rt.Event(analysis.ScaleEventRecord{Type: analysis.ScaleUpTimedOut, Pool: m.Pool.Name, Shape: m.Shape,
		Nodes: []string{m.Name}, Count: 1, Reason: "RegistrationTimeout",
		Message: fmt.Sprintf("deleting nodeclaim %s: not registered within %s (registration timeout)", m.Name, autoscaling.KarpenterRegistrationTimeout)})
	for _, c := range k.commands {
		for _, r := range c.replacements {
			if r == m {
				k.abort(c, "replacement "+m.Name+" failed to register")
			}
		}
	}
}
