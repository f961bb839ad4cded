package resourceclaim

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// syncClaim is upstream's syncClaim: the pods in status.reservedFor that are gone, replaced by
// a pod of the same name or done (isPodDone) are removed; when that leaves no consumer, a claim
// with the resource.kubernetes.io/delete-protection finalizer (every claim the scheduler
// allocated) is deallocated and loses the finalizer; a claim being deleted with that finalizer
// and no consumer loses it too (and its allocation). Then a claim with no consumer that was
// generated for a pod that is done or replaced is deleted; one whose pod is gone is left to
// the garbage collector. Each write is one request through the controller's client, in
// upstream's order: status, then the finalizer, then the delete.
func (c *Controller) syncClaim(ns, name string, done func(error)) {
	claim, err := c.claim(ns, name)
	if apierrors.IsNotFound(err) {
		done(nil)
		return
	} else if err != nil {
		done(err)
		return
	}
	remaining := make([]resourcev1.ResourceClaimConsumerReference, 0, len(claim.Status.ReservedFor))
	for _, r := range claim.Status.ReservedFor {
		// Only pods are checked; any other consumer (a PodGroup) is kept, as upstream keeps it
		// with DRAWorkloadResourceClaims off.
		if r.APIGroup == "" && r.Resource == "pods" {
			pod, err := c.pod(ns, r.Name)
			switch {
			case err != nil && !apierrors.IsNotFound(err):
				done(err)
				return
			case err != nil, pod.UID != r.UID, isPodDone(pod):
				continue // gone, replaced, or will not run any more
			}
		}
		remaining = append(remaining, r)
	}
	hasFinalizer := slices.Contains(claim.Finalizers, resourcev1.Finalizer)
	afterReservations := func(err error) {
		if err != nil {
			done(err)
			return
		}
		if len(remaining) > 0 {
			done(nil)
			return
		}
		c.deleteIfPodDone(claim, done)
	}
	switch {
	case len(remaining) < len(claim.Status.ReservedFor):
		next := claim.DeepCopy()
		next.Status.ReservedFor = remaining
		// DRA deallocates a claim when its last consumer stops using it, so that a later
		// consumer may get it allocated anew anywhere, and the devices are free for others.
		if len(remaining) == 0 && hasFinalizer {
			next.Status.Allocation = nil
		}
		c.updateStatus(next, func(next *resourcev1.ResourceClaim, err error) {
			if err != nil || next.Status.Allocation != nil || !slices.Contains(next.Finalizers, resourcev1.Finalizer) {
				afterReservations(err)
				return
			}
			c.removeFinalizer(next, afterReservations)
		})
	case hasFinalizer && claim.DeletionTimestamp != nil && len(remaining) == 0:
		if claim.Status.Allocation == nil {
			c.removeFinalizer(claim, afterReservations)
			return
		}
		// A claim that stayed allocated when its use ended, then was deleted.
		next := claim.DeepCopy()
		next.Status.Allocation = nil
		c.updateStatus(next, func(next *resourcev1.ResourceClaim, err error) {
			if err != nil {
				afterReservations(err)
				return
			}
			c.removeFinalizer(next, afterReservations)
		})
	default:
		afterReservations(nil)
	}
}

// updateStatus sends a status update of the claim and hands then the stored result (the claim
// sent, when the update failed).
func (c *Controller) updateStatus(next *resourcev1.ResourceClaim, then func(*resourcev1.ResourceClaim, error)) {
	c.send(func() error {
		obj, err := c.m.API().UpdateStatus(next)
		if err != nil {
			return err
		}
		next = stored[*resourcev1.ResourceClaim](obj)
		return nil
	}, func(err error) { then(next, err) })
}

// removeFinalizer takes resource.kubernetes.io/delete-protection off the claim (an update of
// the whole object, which fails if it changed since it was read).
func (c *Controller) removeFinalizer(claim *resourcev1.ResourceClaim, then func(error)) {
	c.send(func() error {
		next := claim.DeepCopy()
		next.Finalizers = slices.DeleteFunc(next.Finalizers, func(f string) bool { return f == resourcev1.Finalizer })
		_, err := c.m.API().Update(next)
		return err
	}, then)
}

// deleteIfPodDone is syncClaim's end for a claim with no consumer: a claim generated for a pod
// that is done, or that was replaced by a pod of the same name, is deleted, as the pod itself
// may stay for a while (a finished Job's pod). A pod not found is left to the garbage
// collector.
func (c *Controller) deleteIfPodDone(claim *resourcev1.ResourceClaim, done func(error)) {
	podName, podUID := owningPod(claim)
	if podName == "" {
		done(nil)
		return
	}
	pod, err := c.pod(claim.Namespace, podName)
	switch {
	case apierrors.IsNotFound(err):
		done(nil)
		return
	case err != nil:
		done(fmt.Errorf("lookup pod: %v", err))
		return
	case pod.UID == podUID && !isPodDone(pod):
		done(nil)
		return
	}
	c.send(func() error {
		// Already gone is what was wanted (a claim being deleted loses its last finalizer
		// above and goes at once); upstream's Delete would fail with NotFound and retry.
		err := c.m.API().Delete(c.claimKind, claim.Namespace, claim.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete unused generated claim %s/%s: %w", claim.Namespace, claim.Name, err)
		}
		return nil
	}, done)
}

// isPodDone is upstream's: none of the pod's containers is running or ever will (a terminal
// phase, or deleted before it was scheduled).
func isPodDone(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed ||
		pod.DeletionTimestamp != nil && pod.Spec.NodeName == ""
}

// owningPod is upstream's: the pod that controls the claim, if any.
func owningPod(claim *resourcev1.ResourceClaim) (string, types.UID) {
	for _, owner := range claim.OwnerReferences {
		if ptr.Deref(owner.Controller, false) && owner.APIVersion == "v1" && owner.Kind == "Pod" {
			return owner.Name, owner.UID
		}
	}
	return "", ""
}
