package deployment

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"

	"github.com/kwoksim/kwoksim/sim"
)

// syncScale is the real controller's sync(): on a change of replicas, or while paused, scale
// the ReplicaSets that exist without rolling out (no new ReplicaSet is created), clean up old
// revisions when paused, and report the status.
func (dc *Controller) syncScale(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(d, rsList, false)
	if err != nil {
		return err
	}
	if err := dc.scale(d, newRS, oldRSs); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := dc.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return dc.syncDeploymentStatus(append(oldRSs, newRS), newRS, d)
}

// isScalingEvent reports whether an active ReplicaSet was sized for other replicas than the
// Deployment's (its desired-replicas annotation differs).
func (dc *Controller) isScalingEvent(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(d, rsList, false)
	if err != nil {
		return false, err
	}
	logger := klog.Background()
	for _, rs := range controller.FilterActiveReplicaSets(append(oldRSs, newRS)) {
		if desired, ok := deploymentutil.GetDesiredReplicasAnnotation(logger, rs); ok && desired != *d.Spec.Replicas {
			return true, nil
		}
	}
	return false, nil
}

// scale resizes the ReplicaSets for the Deployment's replicas: the only active (or else the
// newest) one takes them all; a saturated new one leaves the old ones at 0; during a rolling
// update the difference to replicas+maxSurge is shared out in proportion to each active
// ReplicaSet's size (GetReplicaSetProportion), larger ones first — newer first when scaling
// up, older first when scaling down — with the rounding leftover going to the first.
func (dc *Controller) scale(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) error {
	if rs := deploymentutil.FindActiveOrLatest(newRS, oldRSs); rs != nil {
		if *rs.Spec.Replicas == *d.Spec.Replicas {
			return nil
		}
		_, _, err := dc.scaleReplicaSet(rs, *d.Spec.Replicas, d, false)
		return err
	}
	if deploymentutil.IsSaturated(d, newRS) {
		for _, old := range controller.FilterActiveReplicaSets(oldRSs) {
			if _, _, err := dc.scaleReplicaSet(old, 0, d, false); err != nil {
				return err
			}
		}
		return nil
	}
	if !deploymentutil.IsRollingUpdate(d) {
		return nil
	}
	allRSs := controller.FilterActiveReplicaSets(append(oldRSs, newRS))
	allowed := int32(0)
	if *d.Spec.Replicas > 0 {
		allowed = *d.Spec.Replicas + deploymentutil.MaxSurge(*d)
	}
	toAdd := allowed - deploymentutil.GetReplicaCountForReplicaSets(allRSs)
	switch {
	case toAdd > 0:
		sort.Sort(controller.ReplicaSetsBySizeNewer(allRSs))
	case toAdd < 0:
		sort.Sort(controller.ReplicaSetsBySizeOlder(allRSs))
	}
	logger := klog.Background()
	sizes := make([]int32, len(allRSs))
	added := int32(0)
	for i, rs := range allRSs {
		sizes[i] = *rs.Spec.Replicas
		if toAdd != 0 {
			p := deploymentutil.GetReplicaSetProportion(logger, rs, *d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	for i, rs := range allRSs {
		if i == 0 && toAdd != 0 {
			sizes[0] = max(sizes[0]+toAdd-added, 0)
		}
		if _, _, err := dc.scaleReplicaSet(rs, sizes[i], d, true); err != nil {
			return err
		}
	}
	return nil
}

// cleanupDeployment deletes the oldest old ReplicaSets beyond revisionHistoryLimit that have
// no replicas, no pods and no pending change.
func (dc *Controller) cleanupDeployment(oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) error {
	if !deploymentutil.HasRevisionHistoryLimit(d) {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := int32(len(alive)) - *d.Spec.RevisionHistoryLimit
	if diff <= 0 {
		return nil
	}
	sort.Sort(deploymentutil.ReplicaSetsByRevision(alive))
	rsKind, _ := sim.KindNamed("ReplicaSet")
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || *rs.Spec.Replicas != 0 || rs.Generation > rs.Status.ObservedGeneration || rs.DeletionTimestamp != nil {
			continue
		}
		if err := dc.m.API().Delete(rsKind, rs.Namespace, rs.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}
