package nodeautoscaler

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// firstFit is Snapshot.FirstFit with the pod's PreFilter plugins run once for all the
// nodes and the Filter plugins per node on that cycle state, as the scheduler does in one
// scheduling cycle and cluster-autoscaler's SchedulePodOnAnyNodeMatching
// (simulator/clustersnapshot/predicate) does: the same answers as Fits node by node, without
// redoing the per-pod work for every node.
func (sn *Snapshot) firstFit(pod *corev1.Pod, nodes []string) (string, error) {
	if len(nodes) == 0 {
		return "", nil
	}
	if sn.dirty {
		if err := sn.rebuild(); err != nil {
			return "", err
		}
	}
	fw, err := sn.rt.framework(pod.Spec.SchedulerName, sn.cur)
	if err != nil {
		return "", err
	}
	p := pod
	if p.Spec.NodeName != "" {
		p = pod.DeepCopy()
		p.Spec.NodeName = ""
	}
	ctx := context.Background()
	state := framework.NewCycleState()
	res, st, _ := fw.RunPreFilterPlugins(ctx, state, p)
	if !st.IsSuccess() {
		if st.IsSkip() {
			return nodes[0], nil // as Fits: a skipped PreFilter fits
		}
		return "", nil
	}
	for _, node := range nodes {
		if res != nil && !res.AllNodes() && !res.NodeNames.Has(node) {
			continue
		}
		ni, err := sn.cur.Get(node)
		if err != nil {
			continue
		}
		if st := fw.RunFilterPlugins(ctx, state, p, ni); st.IsSuccess() {
			return node, nil
		}
	}
	return "", nil
}
