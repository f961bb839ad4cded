package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	taintutils "k8s.io/kubernetes/pkg/util/taints"
)

var (
	// unreachableTaint and notReadyTaint are UnreachableTaintTemplate and
	// NotReadyTaintTemplate (node_lifecycle_controller.go).
	unreachableTaint = &corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyTaint    = &corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
)

// metaNow is the virtual time as an apiserver stores it (whole seconds).
func metaNow(now time.Time) metav1.Time { return metav1.NewTime(now.Truncate(time.Second)) }

// swapTaints is controllerutil.SwapNodeControllerTaint (pkg/controller/util/node): the added
// taints are stamped with timeAdded, added to the stored node, then the removed ones are taken
// off, in two writes as upstream makes them. node is the caller's (possibly stale) copy,
// which decides whether a removal is needed at all, as in RemoveTaintOffNode.
func (c *Controller) swapTaints(add, remove []*corev1.Taint, node *corev1.Node) bool {
	now := metaNow(c.clock.Now())
	for _, t := range add {
		t.TimeAdded = &now
	}
	if err := c.addTaints(node.Name, add); err != nil {
		return false
	}
	return c.removeTaints(node, remove...) == nil
}

// addTaints is controller.AddOrUpdateTaintOnNode (pkg/controller/controller_utils.go).
func (c *Controller) addTaints(name string, taints []*corev1.Taint) error {
	if len(taints) == 0 {
		return nil
	}
	obj, err := c.api.Get(nodeKind, "", name)
	if err != nil {
		return err
	}
	n := obj.(*corev1.Node)
	updated := false
	for _, t := range taints {
		next, ok, err := taintutils.AddOrUpdateTaint(n, t)
		if err != nil {
			return err
		}
		n, updated = next, updated || ok
	}
	if !updated {
		return nil
	}
	_, err = c.api.Update(n)
	return err
}

// removeTaints is controller.RemoveTaintOffNode: nothing when node (the caller's copy)
// carries none of the taints; otherwise they are removed from the stored node.
func (c *Controller) removeTaints(node *corev1.Node, taints ...*corev1.Taint) error {
	found := false
	for _, t := range taints {
		if taintutils.TaintExists(node.Spec.Taints, t) {
			found = true
		}
	}
	if !found {
		return nil
	}
	obj, err := c.api.Get(nodeKind, "", node.Name)
	if err != nil {
		return err
	}
	n := obj.(*corev1.Node)
	updated := false
	for _, t := range taints {
		next, ok, err := taintutils.RemoveTaint(n, t)
		if err != nil {
			return err
		}
		n, updated = next, updated || ok
	}
	if !updated {
		return nil
	}
	_, err = c.api.Update(n)
	return err
}

// markNodeAsReachable (node_lifecycle_controller.go): both NoExecute taints off, and the
// node out of its zone's tainter.
func (c *Controller) markNodeAsReachable(node *corev1.Node) (bool, error) {
	if err := c.removeTaints(node, unreachableTaint); err != nil {
		return false, err
	}
	if err := c.removeTaints(node, notReadyTaint); err != nil {
		return false, err
	}
	return c.tainters[c.zoneKey(node)].Remove(node.Name), nil
}
