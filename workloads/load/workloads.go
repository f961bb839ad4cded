package load

import (
	"errors"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/sim"
)

// selectorOf is the selector of a workload's spec: the pods of its namespace it matches are
// its pods (as a Service with the same selector would reach them).
func selectorOf(obj runtime.Object) (labels.Selector, error) {
	var ls *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		ls = o.Spec.Selector
	case *appsv1.ReplicaSet:
		ls = o.Spec.Selector
	case *appsv1.StatefulSet:
		ls = o.Spec.Selector
	case *appsv1.DaemonSet:
		ls = o.Spec.Selector
	case *corev1.ReplicationController:
		// The apiserver defaults an empty selector to the template's labels.
		if len(o.Spec.Selector) == 0 {
			return labels.Nothing(), nil
		}
		return labels.SelectorFromSet(o.Spec.Selector), nil
	default:
		return nil, errors.New("not a workload with a pod selector")
	}
	// A nil selector matches nothing, as for the workload's own controller.
	return metav1.LabelSelectorAsSelector(ls)
}

// topController is the workload a pod's annotated usage is recorded under: a ReplicaSet's
// Deployment, else the pod's controller, else the pod itself.
func (m *Model) topController(p *corev1.Pod) Ref {
	c := metav1.GetControllerOfNoCopy(p)
	if c == nil {
		return Ref{Kind: "Pod", Namespace: p.Namespace, Name: p.Name}
	}
	ref := Ref{Kind: c.Kind, Namespace: p.Namespace, Name: c.Name}
	if c.Kind != "ReplicaSet" {
		return ref
	}
	k, err := sim.KindNamed("ReplicaSet")
	if err != nil {
		return ref
	}
	// A read: the Watcher rule allows Get.
	rs, err := m.s.API().Get(k, p.Namespace, c.Name)
	if err != nil {
		return ref
	}
	if d := metav1.GetControllerOfNoCopy(rs.(*appsv1.ReplicaSet)); d != nil && d.Kind == "Deployment" {
		return Ref{Kind: "Deployment", Namespace: p.Namespace, Name: d.Name}
	}
	return ref
}
