package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
)

// rolloutRecreate is one step of a Recreate rollout (recreate.go): scale every old ReplicaSet
// to 0, wait until no old pod is left that is not terminal, and only then create the new
// ReplicaSet (if needed) and scale it up. So no pod of the new template exists while an old
// one may still run.
func (dc *Controller) rolloutRecreate(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	// Don't create the new ReplicaSet yet, so that nothing scales up before the old are down.
	newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(d, rsList, false)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)
	scaledDown, err := dc.scaleDownOldReplicaSetsForRecreate(controller.FilterActiveReplicaSets(oldRSs), d)
	if err != nil {
		return err
	}
	if scaledDown {
		return dc.syncRolloutStatus(allRSs, newRS, d)
	}
	if dc.oldPodsRunning(newRS, oldRSs, rsList) {
		return dc.syncRolloutStatus(allRSs, newRS, d)
	}
	if newRS == nil {
		newRS, oldRSs, err = dc.getAllReplicaSetsAndSyncRevision(d, rsList, true)
		if err != nil {
			return err
		}
		allRSs = append(oldRSs, newRS)
	}
	if _, _, err := dc.scaleReplicaSet(newRS, *d.Spec.Replicas, d, false); err != nil {
		return err
	}
	if deploymentutil.DeploymentComplete(d, &d.Status) {
		if err := dc.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return dc.syncRolloutStatus(allRSs, newRS, d)
}

func (dc *Controller) scaleDownOldReplicaSetsForRecreate(oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	scaled := false
	for i, rs := range oldRSs {
		if *rs.Spec.Replicas == 0 {
			continue
		}
		scaledRS, updated, err := dc.scaleReplicaSet(rs, 0, d, false)
		if err != nil {
			return false, err
		}
		if scaledRS {
			oldRSs[i] = updated
			scaled = true
		}
	}
	return scaled, nil
}

// oldPodsRunning reports whether an old ReplicaSet still counts pods in its status, or any
// pod of the Deployment outside the new ReplicaSet is not terminal (terminating pods count:
// they may still run).
func (dc *Controller) oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs, rsList []*appsv1.ReplicaSet) bool {
	if deploymentutil.GetActualReplicaCountForReplicaSets(oldRSs) > 0 {
		return true
	}
	for _, rs := range rsList {
		if newRS != nil && rs.UID == newRS.UID {
			continue
		}
		for _, o := range dc.m.OwnedBy(rs.UID, "Pod") {
			switch o.(*corev1.Pod).Status.Phase {
			case corev1.PodFailed, corev1.PodSucceeded:
			default:
				return true
			}
		}
	}
	return false
}
