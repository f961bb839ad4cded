package drain

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// Cordon sets (or, with unschedulable false, clears) a node's spec.unschedulable as
// kubectl's CordonHelper does: nothing when it already has the wanted value, else the
// strategic merge patch CreateTwoWayMergePatch gives for that one field (the field is
// omitempty, so clearing it patches it to null).
func Cordon(api *sim.API, node string, unschedulable bool) error {
	nodes, err := sim.KindNamed("Node")
	if err != nil {
		return err
	}
	obj, err := api.Get(nodes, "", node)
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("Node %s not found", node)
	}
	if err != nil {
		return err
	}
	if obj.(*corev1.Node).Spec.Unschedulable == unschedulable {
		return nil
	}
	patch := `{"spec":{"unschedulable":true}}`
	if !unschedulable {
		patch = `{"spec":{"unschedulable":null}}`
	}
	_, err = api.Patch(nodes, "", node, types.StrategicMergePatchType, []byte(patch), "")
	return err
}
