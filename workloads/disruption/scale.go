package disruption

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/sim"
)

// expectedScale is getExpectedScale: the sum of the scale of every controller of the pods,
// each counted once. Pods without a controller are unmanaged; a pod whose controller cannot
// be found fails the computation.
func (c *Controller) expectedScale(pods []*corev1.Pod) (int32, []string, error) {
	// By name, so that the pod an error names does not depend on map order.
	pods = slices.SortedFunc(slices.Values(pods), func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	scales := map[types.UID]int32{}
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if _, found := scales[ref.UID]; found {
			continue
		}
		found := false
		for _, finder := range []finder{c.replicationController, c.deployment, c.replicaSet, c.statefulSet, c.scaleController} {
			s, err := finder(ref, pod.Namespace)
			if err != nil {
				return 0, nil, err
			}
			if s != nil {
				scales[s.uid] = s.scale
				found = true
				break
			}
		}
		if !found {
			return 0, nil, fmt.Errorf("found no controllers for pod %q", pod.Name)
		}
	}
	var expected int32
	for _, s := range scales {
		expected += s
	}
	return expected, unmanaged, nil
}

type controllerScale struct {
	uid   types.UID
	scale int32
}

// A finder is one of the real controller's podControllerFinders: the scale of the controller
// ref names if it is of the finder's kind, nil if not or if it does not exist.
type finder func(ref *metav1.OwnerReference, ns string) (*controllerScale, error)

// isKind is verifyGroupKind.
func isKind(ref *metav1.OwnerReference, kind string, groups ...string) (bool, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false, err
	}
	return ref.Kind == kind && slices.Contains(groups, gv.Group), nil
}

// get returns the stored object of a kind with the ref's name and UID, or nil.
func (c *Controller) get(kindName, ns string, ref *metav1.OwnerReference, name string) runtime.Object {
	obj, err := c.m.Get(kindName, ns, name)
	if err != nil {
		return nil // the only error is NotFound (or a kind not served), which is ok here
	}
	if m, ok := obj.(metav1.Object); !ok || (ref != nil && m.GetUID() != ref.UID) {
		return nil
	}
	return obj
}

func (c *Controller) replicationController(ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "ReplicationController", ""); !ok || err != nil {
		return nil, err
	}
	rc, ok := c.get("ReplicationController", ns, ref, ref.Name).(*corev1.ReplicationController)
	if !ok {
		return nil, nil
	}
	return &controllerScale{rc.UID, *rc.Spec.Replicas}, nil
}

// replicaSet is getPodReplicaSet: a ReplicaSet that no Deployment controls.
func (c *Controller) replicaSet(ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, ok := c.get("ReplicaSet", ns, ref, ref.Name).(*appsv1.ReplicaSet)
	if !ok {
		return nil, nil
	}
	if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
		return nil, nil
	}
	return &controllerScale{rs.UID, *rs.Spec.Replicas}, nil
}

// deployment is getPodDeployment: the Deployment controlling the pod's ReplicaSet.
func (c *Controller) deployment(ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "ReplicaSet", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	rs, ok := c.get("ReplicaSet", ns, ref, ref.Name).(*appsv1.ReplicaSet)
	if !ok {
		return nil, nil
	}
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil {
		return nil, nil
	}
	if ok, err := isKind(owner, "Deployment", "apps", "extensions"); !ok || err != nil {
		return nil, err
	}
	d, ok := c.get("Deployment", ns, owner, owner.Name).(*appsv1.Deployment)
	if !ok {
		return nil, nil
	}
	return &controllerScale{d.UID, *d.Spec.Replicas}, nil
}

func (c *Controller) statefulSet(ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	if ok, err := isKind(ref, "StatefulSet", "apps"); !ok || err != nil {
		return nil, err
	}
	ss, ok := c.get("StatefulSet", ns, ref, ref.Name).(*appsv1.StatefulSet)
	if !ok {
		return nil, nil
	}
	return &controllerScale{ss.UID, *ss.Spec.Replicas}, nil
}

// scaleController is getScaleController, which reads the scale subresource of any kind. Of
// the kinds served, the workload kinds with replicas have one; the others (Job, DaemonSet, …)
// fail as the real one does, and a kind not served fails as the REST mapper does.
func (c *Controller) scaleController(ref *metav1.OwnerReference, ns string) (*controllerScale, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	k, err := sim.KindNamed(ref.Kind)
	if err != nil || k.GVK.Group != gv.Group {
		return nil, fmt.Errorf("no matches for kind %q in version %q", ref.Kind, ref.APIVersion)
	}
	obj := c.get(ref.Kind, ns, ref, ref.Name)
	if obj == nil && sim.HasScale(ref.Kind) {
		return nil, nil // missing, or another object of that name
	}
	scale, ok, _ := sim.ScaleOf(obj)
	if !ok {
		return nil, fmt.Errorf("%s does not implement the scale subresource", k.GVR.GroupResource())
	}
	return &controllerScale{ref.UID, scale.Replicas}, nil
}
