package deployment

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
)

// rolloutRolling is one step of a rolling update (rolling.go): scale the new ReplicaSet up as
// far as maxSurge allows; if that did nothing, scale old ones down as far as maxUnavailable
// allows; once complete, clean up old revisions. Every step ends with the status.
//
// The bounds it keeps are on what it writes and reads: the sum of the ReplicaSets'
// .spec.replicas never exceeds replicas+maxSurge, and old ReplicaSets shrink only by as many
// replicas as their and the new one's .status.availableReplicas exceed replicas-maxUnavailable.
func (dc *Controller) rolloutRolling(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(d, rsList, true)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)
	scaledUp, err := dc.reconcileNewReplicaSet(allRSs, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return dc.syncRolloutStatus(allRSs, newRS, d)
	}
	scaledDown, err := dc.reconcileOldReplicaSets(allRSs, controller.FilterActiveReplicaSets(oldRSs), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return dc.syncRolloutStatus(allRSs, newRS, d)
	}
	if deploymentutil.DeploymentComplete(d, &d.Status) {
		if err := dc.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return dc.syncRolloutStatus(allRSs, newRS, d)
}

// reconcileNewReplicaSet scales the new ReplicaSet down to the Deployment's replicas if it has
// more, else up to what NewRSNewReplicas allows under maxSurge.
func (dc *Controller) reconcileNewReplicaSet(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if *newRS.Spec.Replicas == *d.Spec.Replicas {
		return false, nil
	}
	if *newRS.Spec.Replicas > *d.Spec.Replicas {
		scaled, _, err := dc.scaleReplicaSet(newRS, *d.Spec.Replicas, d, false)
		return scaled, err
	}
	count, err := deploymentutil.NewRSNewReplicas(d, allRSs, newRS)
	if err != nil {
		return false, err
	}
	scaled, _, err := dc.scaleReplicaSet(newRS, count, d, false)
	return scaled, err
}

// reconcileOldReplicaSets scales old ReplicaSets down by at most
// allReplicas - minAvailable - unavailable replicas of the new ReplicaSet: first the replicas
// of old ReplicaSets that are not available (which costs no availability), then available
// ones while the available count stays above minAvailable.
func (dc *Controller) reconcileOldReplicaSets(allRSs, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if deploymentutil.GetReplicaCountForReplicaSets(oldRSs) == 0 {
		return false, nil
	}
	allPods := deploymentutil.GetReplicaCountForReplicaSets(allRSs)
	minAvailable := *d.Spec.Replicas - deploymentutil.MaxUnavailable(*d)
	newUnavailable := *newRS.Spec.Replicas - newRS.Status.AvailableReplicas
	maxScaledDown := allPods - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	// As in the real controller, a failed scale-down ends the step without an error: the
	// ReplicaSet's own change brings the next sync.
	oldRSs, cleaned, err := dc.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown)
	if err != nil {
		return false, nil
	}
	allRSs = append(oldRSs, newRS)
	scaledDown, err := dc.scaleDownOldReplicaSetsForRollingUpdate(allRSs, oldRSs, d)
	if err != nil {
		return false, nil
	}
	return cleaned+scaledDown > 0, nil
}

// cleanupUnhealthyReplicas scales old ReplicaSets, oldest first, down by their replicas that
// are not available, at most maxCleanup in all. The ReplicaSet controller deletes not-ready
// pods first, so this does not reduce availability.
func (dc *Controller) cleanupUnhealthyReplicas(oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment, maxCleanup int32) ([]*appsv1.ReplicaSet, int32, error) {
	sort.Sort(controller.ReplicaSetsByCreationTimestamp(oldRSs))
	total := int32(0)
	for i, rs := range oldRSs {
		if total >= maxCleanup {
			break
		}
		if *rs.Spec.Replicas == 0 || *rs.Spec.Replicas == rs.Status.AvailableReplicas {
			continue
		}
		count := min(maxCleanup-total, *rs.Spec.Replicas-rs.Status.AvailableReplicas)
		newReplicas := *rs.Spec.Replicas - count
		if newReplicas > *rs.Spec.Replicas {
			return nil, 0, fmt.Errorf("when cleaning up unhealthy replicas, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, *rs.Spec.Replicas, newReplicas)
		}
		_, updated, err := dc.scaleReplicaSet(rs, newReplicas, d, false)
		if err != nil {
			return nil, total, err
		}
		total += count
		oldRSs[i] = updated
	}
	return oldRSs, total, nil
}

// scaleDownOldReplicaSetsForRollingUpdate scales old ReplicaSets, oldest first, down by as
// many replicas as the available ones exceed minAvailable.
func (dc *Controller) scaleDownOldReplicaSetsForRollingUpdate(allRSs, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (int32, error) {
	minAvailable := *d.Spec.Replicas - deploymentutil.MaxUnavailable(*d)
	available := deploymentutil.GetAvailableReplicaCountForReplicaSets(allRSs)
	if available <= minAvailable {
		return 0, nil
	}
	sort.Sort(controller.ReplicaSetsByCreationTimestamp(oldRSs))
	total, target := int32(0), available-minAvailable
	for _, rs := range oldRSs {
		if total >= target {
			break
		}
		if *rs.Spec.Replicas == 0 {
			continue
		}
		count := min(*rs.Spec.Replicas, target-total)
		newReplicas := *rs.Spec.Replicas - count
		if newReplicas > *rs.Spec.Replicas {
			return 0, fmt.Errorf("when scaling down old RS, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, *rs.Spec.Replicas, newReplicas)
		}
		if _, _, err := dc.scaleReplicaSet(rs, newReplicas, d, false); err != nil {
			return total, err
		}
		total += count
	}
	return total, nil
}
