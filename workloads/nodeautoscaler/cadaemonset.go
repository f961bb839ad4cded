package nodeautoscaler

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"
	"k8s.io/kubernetes/pkg/features"

	"github.com/kwoksim/kwoksim/sim"
)

// addTemplate adds a template node with the DaemonSet pods that would run on it, as
// cluster-autoscaler's template NodeInfos carry them (simulator/node_info_utils.go with
// daemonset.GetDaemonSetPodsForNode: every DaemonSet whose pod should run on the node, by
// the daemon controller's NodeShouldRunDaemonPod, placed without a resource check). So a
// scale-up counts the DaemonSets' overhead on each new node.
func (ca *clusterAutoscaler) addTemplate(sn *Snapshot, n *corev1.Node, dss []*appsv1.DaemonSet) error {
	sn.AddNode(n)
	for _, ds := range dss {
		if !daemonShouldRun(ds, n) {
			continue
		}
		spec := ds.Spec.Template.Spec.DeepCopy()
		dsutil.AddOrUpdateDaemonPodTolerations(spec)
		yes := true
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-pod-for-%s", ds.Name, n.Name), Namespace: ds.Namespace,
				UID: types.UID("kwoksim-ca-template/" + ds.Namespace + "/" + ds.Name + "/" + n.Name), Labels: ds.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &yes}}},
			Spec: *spec,
		}
		if err := sn.Place(p, n.Name); err != nil {
			return err
		}
	}
	return nil
}

// daemonShouldRun is the daemon controller's NodeShouldRunDaemonPod for a new pod (as
// workloads/daemonset's eligibility.shouldRun): nodeName, required node affinity and
// selector, and no untolerated NoSchedule or NoExecute taint, with the tolerations the
// controller adds to daemon pods.
func daemonShouldRun(ds *appsv1.DaemonSet, n *corev1.Node) bool {
	spec := ds.Spec.Template.Spec.DeepCopy()
	if spec.NodeName != "" && spec.NodeName != n.Name {
		return false
	}
	if ok, _ := nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, spec.Affinity).Match(n); !ok {
		return false
	}
	dsutil.AddOrUpdateDaemonPodTolerations(spec)
	cmpOps := utilfeature.DefaultFeatureGate.Enabled(features.TaintTolerationComparisonOperators)
	_, untolerated := v1helper.FindMatchingUntoleratedTaint(klog.Background(), n.Spec.Taints, spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute || t.Effect == corev1.TaintEffectNoSchedule
	}, cmpOps)
	return !untolerated
}

// daemonSets are the cluster's DaemonSets, by namespace and name (the API lists in that
// order).
func (ca *clusterAutoscaler) daemonSets() ([]*appsv1.DaemonSet, error) {
	k, err := sim.KindNamed("DaemonSet")
	if err != nil {
		return nil, err
	}
	objs, err := ca.rt.Sim().API().List(k)
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.DaemonSet, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*appsv1.DaemonSet))
	}
	return out, nil
}
