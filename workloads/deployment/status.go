package deployment

import (
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
	"k8s.io/kubernetes/pkg/features"
)

// condition is deploymentutil.NewDeploymentCondition stamped with virtual time (the real one
// reads the wall clock), to the second as the apiserver would store it.
func (dc *Controller) condition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, msg string) appsv1.DeploymentCondition {
	now := metav1.NewTime(dc.m.Clock().Now().Truncate(time.Second))
	return appsv1.DeploymentCondition{Type: t, Status: status, LastUpdateTime: now, LastTransitionTime: now, Reason: reason, Message: msg}
}

// checkPausedConditions sets Progressing to Unknown with reason DeploymentPaused or
// DeploymentResumed when the Deployment is paused or resumed, so time spent paused does not
// count against the progress deadline.
func (dc *Controller) checkPausedConditions(d *appsv1.Deployment) error {
	if !deploymentutil.HasProgressDeadline(d) {
		return nil
	}
	cond := deploymentutil.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == deploymentutil.TimedOutReason {
		return nil
	}
	pausedCond := cond != nil && cond.Reason == deploymentutil.PausedDeployReason
	switch {
	case d.Spec.Paused && !pausedCond:
		deploymentutil.SetDeploymentCondition(&d.Status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, deploymentutil.PausedDeployReason, "Deployment is paused"))
	case !d.Spec.Paused && pausedCond:
		deploymentutil.SetDeploymentCondition(&d.Status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, deploymentutil.ResumedDeployReason, "Deployment is resumed"))
	default:
		return nil
	}
	return dc.updateStatus(d)
}

// syncDeploymentStatus writes the status calculated from the ReplicaSets if it changed.
func (dc *Controller) syncDeploymentStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	status := dc.calculateStatus(allRSs, newRS, d)
	if reflect.DeepEqual(d.Status, status) {
		return nil
	}
	d.Status = status
	return dc.updateStatus(d)
}

// calculateStatus sums the ReplicaSets' statuses (updatedReplicas from the new one) and sets
// Available: True (MinimumReplicasAvailable) when at least replicas-maxUnavailable are
// available, else False (MinimumReplicasUnavailable).
func (dc *Controller) calculateStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) appsv1.DeploymentStatus {
	available := deploymentutil.GetAvailableReplicaCountForReplicaSets(allRSs)
	unavailable := max(deploymentutil.GetReplicaCountForReplicaSets(allRSs)-available, 0)
	status := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            deploymentutil.GetActualReplicaCountForReplicaSets(allRSs),
		UpdatedReplicas:     deploymentutil.GetActualReplicaCountForReplicaSets([]*appsv1.ReplicaSet{newRS}),
		ReadyReplicas:       deploymentutil.GetReadyReplicaCountForReplicaSets(allRSs),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
	}
	if utilfeature.DefaultFeatureGate.Enabled(features.DeploymentReplicaSetTerminatingReplicas) {
		status.TerminatingReplicas = deploymentutil.GetTerminatingReplicaCountForReplicaSets(allRSs)
	}
	status.Conditions = append(status.Conditions, d.Status.Conditions...)
	if available >= *d.Spec.Replicas-deploymentutil.MaxUnavailable(*d) {
		deploymentutil.SetDeploymentCondition(&status, dc.condition(appsv1.DeploymentAvailable, corev1.ConditionTrue, deploymentutil.MinimumReplicasAvailable, "Deployment has minimum availability."))
	} else {
		deploymentutil.SetDeploymentCondition(&status, dc.condition(appsv1.DeploymentAvailable, corev1.ConditionFalse, deploymentutil.MinimumReplicasUnavailable, "Deployment does not have minimum availability."))
	}
	return status
}

// syncRolloutStatus is the status of a rollout step (progress.go): besides the counts,
// Progressing becomes NewReplicaSetAvailable once complete, ReplicaSetUpdated (with a fresh
// lastUpdateTime) whenever pods were added, became ready or available or old ones went,
// ProgressDeadlineExceeded once progressDeadlineSeconds passed since the last progress; the
// ReplicaSets' ReplicaFailure conditions are carried over.
func (dc *Controller) syncRolloutStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	status := dc.calculateStatus(allRSs, newRS, d)
	if !deploymentutil.HasProgressDeadline(d) {
		deploymentutil.RemoveDeploymentCondition(&status, appsv1.DeploymentProgressing)
	}
	current := deploymentutil.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	complete := status.Replicas == status.UpdatedReplicas && current != nil && current.Reason == deploymentutil.NewRSAvailableReason
	if deploymentutil.HasProgressDeadline(d) && !complete {
		subject := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case deploymentutil.DeploymentComplete(d, &status):
			deploymentutil.SetDeploymentCondition(&status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, deploymentutil.NewRSAvailableReason, subject+" has successfully progressed."))
		case deploymentutil.DeploymentProgressing(d, &status):
			cond := dc.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, deploymentutil.ReplicaSetUpdatedReason, subject+" is progressing.")
			// Progress refreshes lastUpdateTime even when the reason stays, which
			// SetDeploymentCondition alone would not do.
			if current != nil {
				if current.Status == corev1.ConditionTrue {
					cond.LastTransitionTime = current.LastTransitionTime
				}
				deploymentutil.RemoveDeploymentCondition(&status, appsv1.DeploymentProgressing)
			}
			deploymentutil.SetDeploymentCondition(&status, cond)
		case dc.timedOut(d, &status):
			deploymentutil.SetDeploymentCondition(&status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, deploymentutil.TimedOutReason, subject+" has timed out progressing."))
		}
	}
	if failures := replicaFailures(allRSs, newRS); len(failures) > 0 {
		deploymentutil.SetDeploymentCondition(&status, failures[0])
	} else {
		deploymentutil.RemoveDeploymentCondition(&status, appsv1.DeploymentReplicaFailure)
	}
	if reflect.DeepEqual(d.Status, status) {
		dc.requeueStuckDeployment(d, status)
		return nil
	}
	d.Status = status
	return dc.updateStatus(d)
}

// replicaFailures are the ReplicaFailure conditions of the new ReplicaSet, else of any.
func replicaFailures(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []appsv1.DeploymentCondition {
	collect := func(rss []*appsv1.ReplicaSet) []appsv1.DeploymentCondition {
		var out []appsv1.DeploymentCondition
		for _, rs := range rss {
			if rs == nil {
				continue
			}
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure {
					out = append(out, deploymentutil.ReplicaSetToDeploymentCondition(c))
				}
			}
		}
		return out
	}
	if out := collect([]*appsv1.ReplicaSet{newRS}); len(out) > 0 {
		return out
	}
	return collect(allRSs)
}

// timedOut is deploymentutil.DeploymentTimedOut on virtual time.
func (dc *Controller) timedOut(d *appsv1.Deployment, status *appsv1.DeploymentStatus) bool {
	if !deploymentutil.HasProgressDeadline(d) {
		return false
	}
	cond := deploymentutil.GetDeploymentCondition(*status, appsv1.DeploymentProgressing)
	switch {
	case cond == nil, cond.Reason == deploymentutil.NewRSAvailableReason:
		return false
	case cond.Reason == deploymentutil.TimedOutReason:
		return true
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	return cond.LastUpdateTime.Add(deadline).Before(dc.m.Clock().Now())
}

// requeueStuckDeployment plans a progress check for a rollout that made no progress in this
// sync, a second after its deadline passes. Simplified from the real controller in two ways:
// the check is background work, which runs only if the simulation runs on past it (a run does
// not go on just to time a stuck rollout out); and the real rate-limited immediate requeue for
// a deadline less than a second away is this same check a second after the deadline.
func (dc *Controller) requeueStuckDeployment(d *appsv1.Deployment, status appsv1.DeploymentStatus) {
	cond := deploymentutil.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if !deploymentutil.HasProgressDeadline(d) || cond == nil {
		return
	}
	if deploymentutil.DeploymentComplete(d, &status) || cond.Reason == deploymentutil.TimedOutReason {
		return
	}
	now := dc.m.Clock().Now()
	at := cond.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds)*time.Second + time.Second)
	if !at.After(now) {
		at = now.Add(time.Second)
	}
	dc.queue.AddAfterInBackground(d.Namespace, d.Name, at.Sub(now))
}
