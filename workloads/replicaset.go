package workloads

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/kubernetes/pkg/controller"

	"github.com/kwoksim/kwoksim/sim"
)

var replicaSetKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

func (c *Controllers) replicaSetController() controllerDef {
	return controllerDef{kind: "ReplicaSet", sync: c.syncReplicaSet, ownedChanged: podLeft}
}

// podLeft reports a pod that went away, terminated or started being deleted: its controller
// is short of one.
func podLeft(ev sim.WatchEvent) bool {
	if ev.Kind.Name() != "Pod" {
		return true
	}
	if ev.Type == watch.Deleted {
		return true
	}
	if ev.Old == nil {
		return false
	}
	return controller.IsPodActive(ev.Old.(*corev1.Pod)) && !controller.IsPodActive(ev.Object.(*corev1.Pod))
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// syncReplicaSet creates the pods a ReplicaSet is short of. Scale-down, which needs the
// ReplicaSet controller's pod ranking, is a later addition.
func (c *Controllers) syncReplicaSet(ns, name string) error {
	obj, err := c.get("ReplicaSet", ns, name)
	if err != nil {
		return nil
	}
	rs := obj.(*appsv1.ReplicaSet)
	if rs.DeletionTimestamp != nil {
		return nil
	}
	active := 0
	for _, o := range c.ownedBy(rs.UID, "Pod") {
		if controller.IsPodActive(o.(*corev1.Pod)) {
			active++
		}
	}
	ref := metav1.NewControllerRef(rs, replicaSetKind)
	for i := active; i < int(*rs.Spec.Replicas); i++ {
		pod, err := controller.GetPodFromTemplate(&rs.Spec.Template, rs, ref)
		if err != nil {
			return err
		}
		// The real controller passes the namespace to the client call, not in the pod.
		pod.Namespace = rs.Namespace
		if _, err := c.s.API().Create(pod); err != nil {
			return fmt.Errorf("creating a pod: %w", err)
		}
	}
	return nil
}
