package sim

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// ScaleKinds are the served kinds with a scale subresource (autoscaling/v1 Scale): the
// workloads with spec.replicas.
var ScaleKinds = []string{"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}

// HasScale tells whether the served kind has a scale subresource.
func HasScale(kind string) bool { return slices.Contains(ScaleKinds, kind) }

// Scale is what a workload's scale subresource serves of it: spec.replicas and status.selector.
type Scale struct {
	Replicas int32
	// Selector is the label selector serialized, "" when the workload has none.
	Selector string
}

// ScaleOf is the scale subresource's view of a stored workload, as kube-apiserver's registries
// build it (pkg/registry/apps/deployment/storage/storage.go scaleFromDeployment, and the
// ReplicaSet, StatefulSet and ReplicationController storages' equivalents); ok is false for
// an object without one.
func ScaleOf(obj runtime.Object) (s Scale, ok bool, err error) {
	var replicas *int32
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		replicas, sel = o.Spec.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		replicas, sel = o.Spec.Replicas, o.Spec.Selector
	case *appsv1.StatefulSet:
		replicas, sel = o.Spec.Replicas, o.Spec.Selector
	case *corev1.ReplicationController:
		if o.Spec.Replicas != nil {
			s.Replicas = *o.Spec.Replicas
		}
		if len(o.Spec.Selector) > 0 {
			s.Selector = labels.SelectorFromSet(o.Spec.Selector).String()
		}
		return s, true, nil
	default:
		return s, false, nil
	}
	if replicas != nil {
		s.Replicas = *replicas
	}
	if sel != nil {
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return s, true, err
		}
		s.Selector = ls.String()
	}
	return s, true, nil
}
