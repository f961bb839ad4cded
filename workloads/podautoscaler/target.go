package podautoscaler

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// scale is the target's scale subresource as the HPA reads it (autoscalingv1.Scale): the
// replicas asked for and the selector of its pods.
type scale struct {
	kind     *sim.Kind
	replicas int32
	// selector is status.selector, the label selector serialized ("" when the target has
	// none).
	selector string
}

// scalable are the kinds whose scale subresource kwoksim serves, by group and kind.
var scalable = map[schema.GroupKind]bool{
	{Group: "apps", Kind: "Deployment"}:        true,
	{Group: "apps", Kind: "ReplicaSet"}:        true,
	{Group: "apps", Kind: "StatefulSet"}:       true,
	{Group: "", Kind: "ReplicationController"}: true,
}

// getScale reads the target's scale as reconcileAutoscaler does (horizontal.go:841–878), with
// the errors its steps give: an unparsable apiVersion, a kind the apiserver does not serve (the
// RESTMapper's NoKindMatchError), a target that does not exist.
func (c *Controller) getScale(h *autoscalingv2.HorizontalPodAutoscaler) (*scale, error) {
	ref := h.Spec.ScaleTargetRef
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	if !scalable[gk] {
		return nil, &meta.NoKindMatchError{GroupKind: gk}
	}
	k, err := sim.KindNamed(ref.Kind)
	if err != nil {
		return nil, &meta.NoKindMatchError{GroupKind: gk}
	}
	obj, err := c.api.Get(k, h.Namespace, ref.Name)
	if err != nil {
		return nil, err
	}
	return scaleOf(k, obj)
}

// scaleOf is the scale subresource's view of a workload, as the registries build it
// (pkg/registry/apps/deployment/storage/storage.go scaleFromDeployment, and the ReplicaSet,
// StatefulSet and ReplicationController equivalents).
func scaleOf(k *sim.Kind, obj runtime.Object) (*scale, error) {
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
		s := &scale{kind: k, replicas: ptrOr(o.Spec.Replicas, 1)}
		if len(o.Spec.Selector) > 0 {
			s.selector = labels.SelectorFromSet(o.Spec.Selector).String()
		}
		return s, nil
	default:
		return nil, fmt.Errorf("%s has no scale subresource", k.Name())
	}
	s := &scale{kind: k, replicas: ptrOr(replicas, 1)}
	if sel != nil {
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return nil, err
		}
		s.selector = ls.String()
	}
	return s, nil
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// setReplicas writes the scale: the Scales().Update of reconcileAutoscaler, as a merge patch of
// spec.replicas (what the scale subresource's update changes).
func (c *Controller) setReplicas(h *autoscalingv2.HorizontalPodAutoscaler, s *scale, replicas int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := c.api.Patch(s.kind, h.Namespace, h.Spec.ScaleTargetRef.Name, types.MergePatchType, patch, "")
	return err
}
