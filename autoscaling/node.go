package autoscaling

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeName is the name of the n-th node (from 0) of a pool's shape: <pool>-<shape>-<n>.
func NodeName(pool, shape string, n int) string {
	return fmt.Sprintf("%s-%s-%d", pool, shape, n)
}

// Node builds the n-th node of the named shape, as registered and before it is Ready (its
// conditions are the node stages' to set). Labels: the template's, then the shape's, then
// node.kubernetes.io/instance-type=<shape>, kwoksim.io/node-pool=<pool>, and the ones a
// kubelet sets when it registers (pkg/kubelet/kubelet_node_status.go, (*Kubelet).initialNode:
// kubernetes.io/hostname=<node name>, kubernetes.io/os=linux, kubernetes.io/arch=amd64 unless
// the template or shape gives os or arch). Annotations, taints and unschedulable are the
// template's; capacity and allocatable the shape's. The result shares nothing with p.
func (p *NodePool) Node(shape string, n int) (*corev1.Node, error) {
	s := p.Shape(shape)
	if s == nil {
		return nil, fmt.Errorf("NodePool %q has no shape %q", p.Name, shape)
	}
	name := NodeName(p.Name, s.Name, n)
	labels := map[string]string{}
	for k, v := range p.Spec.Template.Labels {
		labels[k] = v
	}
	for k, v := range s.Labels {
		labels[k] = v
	}
	labels[corev1.LabelInstanceTypeStable] = s.Name
	labels[PoolLabel] = p.Name
	labels[corev1.LabelHostname] = name
	for k, v := range map[string]string{corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"} {
		if _, ok := labels[k]; !ok {
			labels[k] = v
		}
	}
	node := &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: copyMap(p.Spec.Template.Annotations)},
		Spec:       corev1.NodeSpec{Unschedulable: p.Spec.Template.Unschedulable},
		Status:     corev1.NodeStatus{Capacity: s.Capacity.DeepCopy(), Allocatable: s.Allocatable.DeepCopy()},
	}
	for _, t := range p.Spec.Template.Taints {
		node.Spec.Taints = append(node.Spec.Taints, *t.DeepCopy())
	}
	return node, nil
}
