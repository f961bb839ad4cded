package deployment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	deploymentutil "k8s.io/kubernetes/pkg/controller/deployment/util"
	labelsutil "k8s.io/kubernetes/pkg/util/labels"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// maxRevHistoryLengthInChars is the deployment controller's bound on the revision-history
// annotation.
const maxRevHistoryLengthInChars = 2000

var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// errHashCollision ends a sync that found another ReplicaSet under the new one's name. The
// real controller returns the creation's error and retries; the simulator's retry is the sync
// that the collisionCount status write brings, so this is not a failure.
var errHashCollision = errors.New("pod-template hash collision")

// Controller is the Deployment controller (k8s.io/kubernetes/pkg/controller/deployment) on
// virtual time: the same decisions, made from fresh reads, at the instant of each change. It is
// split by concern like the real one: this file syncs and owns the ReplicaSets, rolling.go and
// recreate.go roll out, scale.go scales and cleans up, status.go reports.
type Controller struct {
	m     *manager.Manager
	queue *manager.Queue
}

var (
	_ manager.Controller = (*Controller)(nil)
	_ manager.Observer   = (*Controller)(nil)
)

// New registers a Deployment controller with m. Every change of an owned ReplicaSet, status
// included, needs a sync (it is no manager.OwnedFilter); pod deletions matter to Recreate
// rollouts only, and come through Observe.
func New(m *manager.Manager) *Controller {
	dc := &Controller{m: m}
	dc.queue = m.Register(dc)
	return dc
}

// Kind is "Deployment".
func (dc *Controller) Kind() string { return "Deployment" }

// logContext is the context the deployment utilities log through.
func logContext() context.Context {
	return klog.NewContext(context.Background(), klog.Background())
}

// Sync is syncDeployment: status only while being deleted, scaling only while paused or on a
// change of replicas, else a rollout step of the Deployment's strategy.
func (dc *Controller) Sync(ns, name string) error {
	obj, err := dc.m.Get("Deployment", ns, name)
	if err != nil {
		return nil // deleted since
	}
	d := obj.(*appsv1.Deployment) // a copy: the sync changes it as it goes
	dc.warnOverflow(d)
	if err := dc.syncDeployment(d); err != nil && !errors.Is(err, errHashCollision) {
		return err
	}
	return nil
}

func (dc *Controller) syncDeployment(d *appsv1.Deployment) error {
	rsList := dc.replicaSets(d)
	if d.DeletionTimestamp != nil {
		newRS, oldRSs, err := dc.getAllReplicaSetsAndSyncRevision(d, rsList, false)
		if err != nil {
			return err
		}
		return dc.syncDeploymentStatus(append(oldRSs, newRS), newRS, d)
	}
	if err := dc.checkPausedConditions(d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return dc.syncScale(d, rsList)
	}
	scaling, err := dc.isScalingEvent(d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return dc.syncScale(d, rsList)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return dc.rolloutRecreate(d, rsList)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return dc.rolloutRolling(d, rsList)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// replicaSets are the ReplicaSets the Deployment controls. The real controller also adopts
// orphans its selector matches and releases those it no longer matches; the simulator's
// ReplicaSets of a Deployment are the ones it created, so there is nothing to adopt.
func (dc *Controller) replicaSets(d *appsv1.Deployment) []*appsv1.ReplicaSet {
	owned := dc.m.OwnedBy(d.UID, "ReplicaSet")
	out := make([]*appsv1.ReplicaSet, 0, len(owned))
	for _, o := range owned {
		out = append(out, o.(*appsv1.ReplicaSet))
	}
	return out
}

// getAllReplicaSetsAndSyncRevision returns the new ReplicaSet (nil if it does not exist and
// create is false) and all old ones, with the revisions synced.
func (dc *Controller) getAllReplicaSetsAndSyncRevision(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	_, allOld := deploymentutil.FindOldReplicaSets(d, rsList)
	newRS, err := dc.getNewReplicaSet(d, rsList, allOld, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, allOld, nil
}

// getNewReplicaSet finds the ReplicaSet of the current template and syncs its annotations and
// the Deployment's revision, or creates it (with the revision after the oldest's maximum and
// as many replicas as the strategy allows now).
func (dc *Controller) getNewReplicaSet(d *appsv1.Deployment, rsList, oldRSs []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, error) {
	ctx := logContext()
	existing := deploymentutil.FindNewReplicaSet(d, rsList)
	newRevision := strconv.FormatInt(deploymentutil.MaxRevision(klog.FromContext(ctx), oldRSs)+1, 10)
	if existing != nil {
		rsCopy := existing.DeepCopy()
		annotationsUpdated := deploymentutil.SetNewReplicaSetAnnotations(ctx, d, rsCopy, newRevision, true, maxRevHistoryLengthInChars)
		if annotationsUpdated || rsCopy.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rsCopy.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			out, err := dc.m.API().Update(rsCopy)
			if err != nil {
				return nil, err
			}
			updated := out.(*appsv1.ReplicaSet)
			// The real controller keeps using its cached list and may conflict with its own
			// write later in the sync; the simulator uses what it wrote.
			for i := range rsList {
				if rsList[i].UID == updated.UID {
					rsList[i] = updated
				}
			}
			return updated, nil
		}
		needsUpdate := deploymentutil.SetDeploymentRevision(d, rsCopy.Annotations[deploymentutil.RevisionAnnotation])
		if deploymentutil.HasProgressDeadline(d) && deploymentutil.GetDeploymentCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			msg := fmt.Sprintf("Found new replica set %q", rsCopy.Name)
			deploymentutil.SetDeploymentCondition(&d.Status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, deploymentutil.FoundNewRSReason, msg))
			needsUpdate = true
		}
		if needsUpdate {
			if err := dc.updateStatus(d); err != nil {
				return nil, err
			}
		}
		return rsCopy, nil
	}
	if !create {
		return nil, nil
	}

	template := *d.Spec.Template.DeepCopy()
	hash := controller.ComputeHash(&template, d.Status.CollisionCount)
	template.Labels = labelsutil.CloneAndAddLabel(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ReplicaSetName(d.Name, hash),
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, deploymentKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        new(int32),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        labelsutil.CloneSelectorAndAddLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash),
			Template:        template,
		},
	}
	replicas, err := deploymentutil.NewRSNewReplicas(d, append(oldRSs, rs), rs)
	if err != nil {
		return nil, err
	}
	*rs.Spec.Replicas = replicas
	deploymentutil.SetNewReplicaSetAnnotations(ctx, d, rs, newRevision, false, maxRevHistoryLengthInChars)

	out, err := dc.m.API().Create(rs)
	alreadyExists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		// Either this Deployment's ReplicaSet of the same template, or a hash collision:
		// then count the collision, which changes the hash, and retry on the status write.
		alreadyExists = true
		got, getErr := dc.m.Get("ReplicaSet", rs.Namespace, rs.Name)
		if getErr != nil {
			return nil, getErr
		}
		existing := got.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOfNoCopy(existing); ref != nil && ref.UID == d.UID && deploymentutil.EqualIgnoreHash(&d.Spec.Template, &existing.Spec.Template) {
			out, err = existing, nil
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		*d.Status.CollisionCount++
		// The status write brings the next sync, which retries with the new hash.
		if err := dc.updateStatus(d); err != nil {
			return nil, err
		}
		return nil, errHashCollision
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if deploymentutil.HasProgressDeadline(d) {
			deploymentutil.SetDeploymentCondition(&d.Status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionFalse, deploymentutil.FailedRSCreateReason, msg))
			_ = dc.updateStatus(d) // the creation failure is the error worth reporting
		}
		return nil, fmt.Errorf("%s", msg)
	}
	created := out.(*appsv1.ReplicaSet)
	if !alreadyExists && replicas > 0 {
		dc.event(d, "Scaled up replica set %s from 0 to %d", created.Name, replicas)
	}
	needsUpdate := deploymentutil.SetDeploymentRevision(d, newRevision)
	if !alreadyExists && deploymentutil.HasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", created.Name)
		deploymentutil.SetDeploymentCondition(&d.Status, dc.condition(appsv1.DeploymentProgressing, corev1.ConditionTrue, deploymentutil.NewReplicaSetReason, msg))
		needsUpdate = true
	}
	if needsUpdate {
		if err := dc.updateStatus(d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// scaleReplicaSet sets a ReplicaSet's replicas and the Deployment's size annotations on it.
// Without force it does nothing when the replicas are right. It returns whether the size
// changed and the ReplicaSet as stored.
func (dc *Controller) scaleReplicaSet(rs *appsv1.ReplicaSet, newScale int32, d *appsv1.Deployment, force bool) (bool, *appsv1.ReplicaSet, error) {
	if !force && *rs.Spec.Replicas == newScale {
		return false, rs, nil
	}
	sizeNeedsUpdate := *rs.Spec.Replicas != newScale
	desired, maxReplicas := *d.Spec.Replicas, *d.Spec.Replicas+deploymentutil.MaxSurge(*d)
	if !sizeNeedsUpdate && !deploymentutil.ReplicasAnnotationsNeedUpdate(rs, desired, maxReplicas) {
		return false, rs, nil
	}
	oldScale := *rs.Spec.Replicas
	next := rs.DeepCopy()
	*next.Spec.Replicas = newScale
	deploymentutil.SetReplicasAnnotations(next, desired, maxReplicas)
	out, err := dc.m.API().Update(next)
	if err != nil {
		return false, rs, err
	}
	updated := out.(*appsv1.ReplicaSet)
	if sizeNeedsUpdate {
		direction := "down"
		if oldScale < newScale {
			direction = "up"
		}
		dc.event(d, "Scaled %s replica set %s from %d to %d", direction, updated.Name, oldScale, newScale)
	}
	return sizeNeedsUpdate, updated, nil
}

// updateStatus writes the Deployment's status (and, through the status subresource, its
// annotations, as the real controller does for the revision) and keeps d current, so the
// next write of the same sync does not conflict with this one.
func (dc *Controller) updateStatus(d *appsv1.Deployment) error {
	out, err := dc.m.API().UpdateStatus(d)
	if err != nil {
		return err
	}
	d.ResourceVersion = out.(*appsv1.Deployment).ResourceVersion
	return nil
}

// event records a ScalingReplicaSet event on the Deployment, as the real controller does.
func (dc *Controller) event(d *appsv1.Deployment, format string, args ...any) {
	dc.m.Simulator().Recorder().Event(d, corev1.EventTypeNormal, "ScalingReplicaSet", fmt.Sprintf(format, args...))
}

// Observe is the real controller's deletePod handler: a Recreate rollout waits for the old
// pods to be gone, so their deletion syncs the Deployment.
func (dc *Controller) Observe(ev sim.WatchEvent) {
	if ev.Type != watch.Deleted || ev.Kind.Name() != "Pod" {
		return
	}
	pod := ev.Object.(*corev1.Pod)
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	obj, err := dc.m.Get("ReplicaSet", pod.Namespace, ref.Name)
	if err != nil || obj.(*appsv1.ReplicaSet).UID != ref.UID {
		return
	}
	dref := metav1.GetControllerOfNoCopy(obj.(*appsv1.ReplicaSet))
	if dref == nil || dref.Kind != "Deployment" {
		return
	}
	dobj, err := dc.m.Get("Deployment", pod.Namespace, dref.Name)
	if err != nil {
		return
	}
	if d := dobj.(*appsv1.Deployment); d.UID == dref.UID && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		dc.queue.Add(d.Namespace, d.Name)
	}
}

// ReplicaSetName is the deployment controller's name for a ReplicaSet: the Deployment's name,
// shortened if needed, and the pod-template hash.
func ReplicaSetName(deployment, hash string) string {
	max := validation.DNS1123SubdomainMaxLength - 1 - len(hash)
	if len(deployment) > max && max > 0 {
		deployment = deployment[:max]
	}
	return deployment + "-" + hash
}

// warnOverflow says when a rolling update's replicas + maxSurge does not fit in an int32.
// The real deployment controller adds them in int32 (deploymentutil.NewRSNewReplicas,
// MaxSurge callers in sync.go): replicas 2147483647 with the default 25% surge wraps to a
// negative total, and a real cluster never scales the new ReplicaSet up, creating no pod at
// all. kwoksim runs the same arithmetic, so it gives the same answer, and says why instead of
// ending quietly with no pods.
func (dc *Controller) warnOverflow(d *appsv1.Deployment) {
	if !deploymentutil.IsRollingUpdate(d) || d.Spec.Replicas == nil {
		return
	}
	if total := int64(*d.Spec.Replicas) + int64(deploymentutil.MaxSurge(*d)); total > math.MaxInt32 {
		dc.m.Warn("Deployment", d.Namespace, d.Name, "ReplicasOverflow", fmt.Sprintf(
			"replicas %d + maxSurge %d = %d does not fit in an int32: the real deployment controller's sum wraps negative and it creates no pods (pkg/controller/deployment/util NewRSNewReplicas); neither does this simulation",
			*d.Spec.Replicas, deploymentutil.MaxSurge(*d), total))
	}
}
