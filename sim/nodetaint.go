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
// It is on only when the node lifecycle controller runs (it turns it on: TaintNewNodes), since
// a cluster without it would keep the taint for ever, and only when the run has stages
// (Simulator.HasKubelets): without them no kubelet ever reports a node Ready, the taint would
// never go, and nothing could be scheduled. The report says so in its notes (workloads.Run).
// Nodes loaded from a snapshot (API.Restore)
// are stored state, not created, and are not admitted, as on a real apiserver restoring etcd.
type nodeTaintAdmission struct{ plugin *nodetaint.Plugin }

// TaintNewNodes turns the plugin on when the run has stages; the node lifecycle controller
// (workloads/nodelifecycle) calls it as it starts, before any node is created.
func (s *Simulator) TaintNewNodes() {
	if s.HasKubelets() && s.api.admission != nil {
		s.api.admission.nodeTaint = &nodeTaintAdmission{plugin: nodetaint.NewPlugin()}
	}
}

// admit runs the plugin on a create; nil (the plugin off) admits everything unchanged.
func (n *nodeTaintAdmission) admit(ctx context.Context, attrs admission.Attributes) error {
	if n == nil || !n.plugin.Handles(attrs.GetOperation()) {
		return nil
	}
	return n.plugin.Admit(ctx, attrs, nil)
}
