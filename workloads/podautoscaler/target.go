package podautoscaler

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// scale is the target's scale subresource as the HPA reads it (autoscalingv1.Scale): the
// replicas asked for and the selector of its pods (sim.ScaleOf), with the kind to write to.
type scale struct {
	kind *sim.Kind
	sim.Scale
}

// getScale reads the target's scale as reconcileAutoscaler does (horizontal.go:841–878), with
// the errors its steps give: an unparsable apiVersion, a kind the apiserver does not serve or
// that has no scale subresource (the RESTMapper's NoKindMatchError: a custom resource's scale
// subresource is not served), a target that does not exist.
func (c *Controller) getScale(h *autoscalingv2.HorizontalPodAutoscaler) (*scale, error) {
	ref := h.Spec.ScaleTargetRef
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	k, err := sim.KindNamed(ref.Kind)
	if err != nil || k.GVK.Group != gv.Group || !sim.HasScale(ref.Kind) {
		return nil, &meta.NoKindMatchError{GroupKind: gk}
	}
	obj, err := c.api.Get(k, h.Namespace, ref.Name)
	if err != nil {
		return nil, err
	}
	s, _, err := sim.ScaleOf(obj)
	if err != nil {
		return nil, err
	}
	return &scale{kind: k, Scale: s}, nil
}

// setReplicas writes the scale: the Scales().Update of reconcileAutoscaler, as a merge patch of
// spec.replicas (what the scale subresource's update changes).
func (c *Controller) setReplicas(h *autoscalingv2.HorizontalPodAutoscaler, s *scale, replicas int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := c.api.Patch(s.kind, h.Namespace, h.Spec.ScaleTargetRef.Name, types.MergePatchType, patch, "")
	return err
}
