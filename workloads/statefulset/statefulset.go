package statefulset

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/features"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// The StatefulSet controller, after k8s.io/kubernetes/pkg/controller/statefulset (v1.37):
// pods <set>-<ordinal> with the real identity (labels, hostname, subdomain, revision hash),
// OrderedReady and Parallel pod management, replacement of failed and deleted pods under the
// same name, RollingUpdate (partition, and maxUnavailable: MaxUnavailableStatefulSet is beta
// and on by default in v1.37) and OnDelete, and the real status.
//
// Deliberate deviations:
//   - volumeClaimTemplates are ignored: the simulator has no PersistentVolumeClaims, so pods get
//     no claim volumes and the PVC retention policy does nothing.
//   - Revisions live in the controller's memory, not as ControllerRevision objects (a kind the
//     simulator does not serve); see statefulset_revision.go.
//   - Orphan pods are not adopted and non-member pods are not released.
//   - A StatefulSet with a deletionTimestamp is not synced (its status is not refreshed).
//   - The Recreate update strategy (alpha, off) is not implemented.

var controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// Controller is the StatefulSet controller.
type Controller struct {
	m       *manager.Manager
	podKind *sim.Kind
	history map[types.UID][]*setRevision
	queue   *manager.Queue
}

var (
	_ manager.Controller  = (*Controller)(nil)
	_ manager.OwnedFilter = (*Controller)(nil)
	_ manager.Observer    = (*Controller)(nil)
)

// New registers a StatefulSet controller with m.
func New(m *manager.Manager) *Controller {
	podKind, _ := sim.KindNamed("Pod")
	x := &Controller{m: m, podKind: podKind, history: map[types.UID][]*setRevision{}}
	x.queue = m.Register(x)
	return x
}

// Kind is "StatefulSet".
func (x *Controller) Kind() string { return "StatefulSet" }

// OwnedChanged reports the pod changes a StatefulSet acts on: a pod created or gone, starting
// to terminate, changing phase or readiness, or relabelled. Other status changes (IPs, …)
// change nothing it decides.
func (x *Controller) OwnedChanged(ev sim.WatchEvent) bool {
	if ev.Kind.Name() != "Pod" || ev.Old == nil || ev.Type == watch.Deleted {
		return true
	}
	old, cur := ev.Old.(*corev1.Pod), ev.Object.(*corev1.Pod)
	return old.Status.Phase != cur.Status.Phase ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		podutil.IsPodReady(old) != podutil.IsPodReady(cur) ||
		!reflect.DeepEqual(old.Labels, cur.Labels)
}

// Observe forgets a deleted StatefulSet's revisions.
func (x *Controller) Observe(ev sim.WatchEvent) {
	if ev.Kind.Name() == "StatefulSet" && ev.Type == watch.Deleted {
		m := ev.Object.(metav1.Object)
		delete(x.history, m.GetUID())
		x.queue.Forget(m.GetNamespace(), m.GetName())
	}
}

func (x *Controller) Sync(ns, name string) error {
	obj, err := x.m.Get("StatefulSet", ns, name)
	if err != nil {
		return nil // deleted since
	}
	set := obj.(*appsv1.StatefulSet)
	if set.DeletionTimestamp != nil {
		return nil
	}
	var pods []*corev1.Pod
	for _, o := range x.m.OwnedBy(set.UID, "Pod") {
		if p := o.(*corev1.Pod); isMemberOf(set, p) {
			pods = append(pods, p)
		}
	}
	now := x.m.Clock().Now()
	current, update, collisionCount, err := x.revisions(set)
	if err != nil {
		return err
	}
	status, err := x.updateStatefulSet(set, current, update, collisionCount, pods, now)
	if status != nil {
		if statusErr := x.updateStatus(set, status); statusErr != nil && err == nil {
			err = statusErr
		}
	}
	x.truncateHistory(set, pods, current, update)
	if err != nil {
		return err
	}
	// Pods that are ready but not yet available for minReadySeconds need another look.
	if set.Spec.MinReadySeconds > 0 && status.ReadyReplicas != status.AvailableReplicas {
		next := time.Duration(set.Spec.MinReadySeconds) * time.Second
		if d := controller.FindMinNextPodAvailabilityCheck(pods, set.Spec.MinReadySeconds, now, x.m.Clock()); d != nil {
			next = *d
		}
		x.queue.AddAfter(ns, name, next)
	}
	return nil
}

// updateStatefulSet is the real updateStatefulSet (without the Recreate strategy): it creates,
// replaces, deletes and updates pods, and returns the status to store.
func (x *Controller) updateStatefulSet(set *appsv1.StatefulSet, current, update *setRevision, collisionCount int32, pods []*corev1.Pod, now time.Time) (*appsv1.StatefulSetStatus, error) {
	currentSet, updateSet := set.DeepCopy(), set.DeepCopy()
	currentSet.Spec.Template = *current.template.DeepCopy()
	updateSet.Spec.Template = *update.template.DeepCopy()

	status := &appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    current.cr.Name,
		UpdateRevision:     update.cr.Name,
		CollisionCount:     &collisionCount,
	}
	status.Conditions = append(status.Conditions, set.Status.Conditions...)
	computeStatus(status, set.Spec.MinReadySeconds, current, update, now, pods)

	start, end := startOrdinal(set), endOrdinal(set)
	replicas := make([]*corev1.Pod, end-start+1)
	var condemned []*corev1.Pod
	for _, p := range pods {
		if o := getOrdinal(p); o >= start && o <= end {
			replicas[o-start] = p
		} else if o >= 0 {
			condemned = append(condemned, p)
		}
	}
	for o := start; o <= end; o++ {
		if replicas[o-start] == nil {
			replicas[o-start] = newVersionedPod(currentSet, updateSet, current.cr.Name, update.cr.Name, o)
		}
	}
	sort.Slice(condemned, func(i, j int) bool { return getOrdinal(condemned[i]) > getOrdinal(condemned[j]) })

	var firstUnavailable *corev1.Pod
	for _, p := range replicas {
		if isUnavailable(p, set.Spec.MinReadySeconds, now) && firstUnavailable == nil {
			firstUnavailable = p
		}
	}
	for i := len(condemned) - 1; i >= 0; i-- {
		if isUnavailable(condemned[i], set.Spec.MinReadySeconds, now) && firstUnavailable == nil {
			firstUnavailable = condemned[i]
		}
	}
	recount := func() {
		computeStatus(status, set.Spec.MinReadySeconds, current, update, now, replicas, condemned)
	}

	// OrderedReady handles one pod at a time, in ordinal order, waiting for each to be Running,
	// Ready and available; Parallel handles them all at once.
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	if exit, err := runForAll(len(replicas), monotonic, func(i int) (bool, error) {
		return x.processReplica(set, updateSet, monotonic, replicas, i, now)
	}); exit || err != nil {
		recount()
		return status, err
	}
	// Scale-down: highest ordinal first.
	if exit, err := runForAll(len(condemned), monotonic, func(i int) (bool, error) {
		return x.processCondemned(set, firstUnavailable, monotonic, condemned, i, now)
	}); exit || err != nil {
		recount()
		return status, err
	}
	recount()

	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return status, nil
	}
	if utilfeature.DefaultFeatureGate.Enabled(features.MaxUnavailableStatefulSet) {
		return status, x.rollingUpdate(set, replicas, update, status, now)
	}
	// The update before MaxUnavailableStatefulSet: from the highest ordinal down to the
	// partition, delete the first pod not at the update revision, or wait for an unavailable one.
	partition := partitionOf(set)
	for target := len(replicas) - 1; target >= partition; target-- {
		if podRevision(replicas[target]) != update.cr.Name && replicas[target].DeletionTimestamp == nil {
			if err := x.deletePod(replicas[target]); err != nil {
				return status, err
			}
			status.CurrentReplicas--
			return status, nil
		}
		if isUnavailable(replicas[target], set.Spec.MinReadySeconds, now) {
			return status, nil
		}
	}
	return status, nil
}

// rollingUpdate is the real updateStatefulSetAfterInvariantEstablished: delete pods not at the
// update revision, highest ordinal first and down to the partition, while fewer than
// maxUnavailable pods are unavailable.
func (x *Controller) rollingUpdate(set *appsv1.StatefulSet, replicas []*corev1.Pod, update *setRevision, status *appsv1.StatefulSetStatus, now time.Time) error {
	partition, maxUnavailable := 0, 1
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		partition = partitionOf(set)
		n, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(ru.MaxUnavailable, intstr.FromInt32(1)), int(*set.Spec.Replicas), false)
		if err != nil {
			return err
		}
		maxUnavailable = max(n, 1)
	}
	parallel := set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	outdated := func(p *corev1.Pod) bool { return podRevision(p) != update.cr.Name }

	unavailable, unavailableNeedingUpdate := 0, 0
	for _, p := range replicas {
		if isUnavailable(p, set.Spec.MinReadySeconds, now) {
			unavailable++
			if parallel && outdated(p) && p.DeletionTimestamp == nil {
				unavailableNeedingUpdate++
			}
		}
	}
	if unavailable >= maxUnavailable && unavailableNeedingUpdate == 0 {
		return nil
	}
	if parallel {
		// Outdated pods that are unavailable anyway go first, without counting against the
		// budget; then available ones, within it.
		for target := len(replicas) - 1; target >= partition; target-- {
			p := replicas[target]
			if outdated(p) && !podutil.IsPodAvailable(p, set.Spec.MinReadySeconds, metav1.Time{Time: now}) && p.DeletionTimestamp == nil {
				if err := x.deletePod(p); err != nil {
					return err
				}
				status.CurrentReplicas--
			}
		}
		budget := maxUnavailable - unavailable
		for target := len(replicas) - 1; target >= partition && budget > 0; target-- {
			p := replicas[target]
			if outdated(p) && !isUnavailable(p, set.Spec.MinReadySeconds, now) {
				if err := x.deletePod(p); err != nil {
					return err
				}
				budget--
				status.CurrentReplicas--
			}
		}
		return nil
	}
	toDelete, deleted := maxUnavailable-unavailable, 0
	for target := len(replicas) - 1; target >= partition && deleted < toDelete; target-- {
		if p := replicas[target]; outdated(p) && p.DeletionTimestamp == nil {
			if err := x.deletePod(p); err != nil {
				return err
			}
			deleted++
			status.CurrentReplicas--
		}
	}
	return nil
}

// processReplica is the real processReplica without PVCs. It reports whether the monotonic
// walk must stop at this pod.
func (x *Controller) processReplica(set, updateSet *appsv1.StatefulSet, monotonic bool, replicas []*corev1.Pod, i int, now time.Time) (bool, error) {
	p := replicas[i]
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		// A pod that ended is deleted, then recreated under the same name once it is gone.
		if p.DeletionTimestamp == nil {
			if err := x.deletePod(p); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if !isCreated(p) {
		if _, err := x.m.API().Create(p); err != nil {
			return true, fmt.Errorf("creating pod %s: %w", p.Name, err)
		}
		if monotonic {
			return true, nil
		}
	}
	if monotonic && (p.DeletionTimestamp != nil || !runningAndReady(p) || !podutil.IsPodAvailable(p, set.Spec.MinReadySeconds, metav1.Time{Time: now})) {
		return true, nil
	}
	if identityMatches(set, p) {
		return false, nil
	}
	fixed := p.DeepCopy()
	updateIdentity(updateSet, fixed)
	if _, err := x.m.API().Update(fixed); err != nil {
		return true, err
	}
	return false, nil
}

// processCondemned deletes a pod beyond the wanted ordinals. OrderedReady deletes one at a
// time, waits for it to be gone, and does not delete while another pod is unhealthy.
func (x *Controller) processCondemned(set *appsv1.StatefulSet, firstUnhealthy *corev1.Pod, monotonic bool, condemned []*corev1.Pod, i int, now time.Time) (bool, error) {
	p := condemned[i]
	if p.DeletionTimestamp != nil {
		return monotonic, nil
	}
	if monotonic && p != firstUnhealthy && (!runningAndReady(p) || !podutil.IsPodAvailable(p, set.Spec.MinReadySeconds, metav1.Time{Time: now})) {
		return true, nil
	}
	return true, x.deletePod(p)
}

// runForAll runs fn over 0..n-1: in order, stopping at the first pod that says so, or (not
// monotonic) over all of them, stopping only on errors.
func runForAll(n int, monotonic bool, fn func(i int) (bool, error)) (bool, error) {
	for i := 0; i < n; i++ {
		exit, err := fn(i)
		if err != nil {
			return true, err
		}
		if exit && monotonic {
			return true, nil
		}
	}
	return false, nil
}

func (x *Controller) deletePod(p *corev1.Pod) error {
	if err := x.m.API().Delete(x.podKind, p.Namespace, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// updateStatus stores the status when it differs, after completeUpdate (a finished rollout
// makes the update revision current).
func (x *Controller) updateStatus(set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	if status.UpdatedReplicas == *set.Spec.Replicas && status.ReadyReplicas == *set.Spec.Replicas && status.Replicas == *set.Spec.Replicas {
		status.CurrentReplicas = status.UpdatedReplicas
		status.CurrentRevision = status.UpdateRevision
	}
	old := set.Status
	if status.ObservedGeneration <= old.ObservedGeneration && status.Replicas == old.Replicas &&
		status.CurrentReplicas == old.CurrentReplicas && status.ReadyReplicas == old.ReadyReplicas &&
		status.UpdatedReplicas == old.UpdatedReplicas && status.CurrentRevision == old.CurrentRevision &&
		status.AvailableReplicas == old.AvailableReplicas && status.UpdateRevision == old.UpdateRevision &&
		reflect.DeepEqual(old.Conditions, status.Conditions) {
		return nil
	}
	next := set.DeepCopy()
	next.Status = *status
	_, err := x.m.API().UpdateStatus(next)
	return err
}

// computeStatus is the real updateStatus: counts over the pod lists.
func computeStatus(status *appsv1.StatefulSetStatus, minReadySeconds int32, current, update *setRevision, now time.Time, lists ...[]*corev1.Pod) {
	status.Replicas, status.ReadyReplicas, status.AvailableReplicas, status.CurrentReplicas, status.UpdatedReplicas = 0, 0, 0, 0, 0
	for _, list := range lists {
		for _, p := range list {
			if isCreated(p) {
				status.Replicas++
			}
			if runningAndReady(p) {
				status.ReadyReplicas++
				if podutil.IsPodAvailable(p, minReadySeconds, metav1.Time{Time: now}) {
					status.AvailableReplicas++
				}
			}
			if isCreated(p) && p.DeletionTimestamp == nil {
				rev := podRevision(p)
				if rev == current.cr.Name {
					status.CurrentReplicas++
				}
				if rev == update.cr.Name {
					status.UpdatedReplicas++
				}
			}
		}
	}
}
