package sim

import (
	"context"

	"k8s.io/apiserver/pkg/admission"
	"k8s.io/kubernetes/plugin/pkg/admission/nodetaint"
)

// nodeTaintAdmission is kube-apiserver's TaintNodesByCondition plugin
// (plugin/pkg/admission/nodetaint, the real one): a Node created through the API gets the
// node.kubernetes.io/not-ready:NoSchedule taint, so that nothing is scheduled on it before
// its kubelet reports Ready and the node lifecycle controller removes the taint
// (workloads/nodelifecycle, doNoScheduleTaintingPass).
//
// It is on only when the run has stages (Simulator.HasKubelets): without them no kubelet
// ever reports a node Ready, the taint would never go, and nothing could be scheduled. The
// report says so in its notes (workloads.Run). Nodes loaded from a snapshot (API.Restore)
// are stored state, not created, and are not admitted, as on a real apiserver restoring etcd.
type nodeTaintAdmission struct{ plugin *nodetaint.Plugin }

// enableNodeTaint turns the plugin on (sim.New, when the run has stages).
func (c *admissionChain) enableNodeTaint() {
	c.nodeTaint = &nodeTaintAdmission{plugin: nodetaint.NewPlugin()}
}

// admit runs the plugin on a create; nil (the plugin off) admits everything unchanged.
func (n *nodeTaintAdmission) admit(ctx context.Context, attrs admission.Attributes) error {
	if n == nil || !n.plugin.Handles(attrs.GetOperation()) {
		return nil
	}
	return n.plugin.Admit(ctx, attrs, nil)
}
