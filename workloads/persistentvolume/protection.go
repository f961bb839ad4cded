package persistentvolume

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/storage/ephemeral"
	"k8s.io/kubernetes/pkg/controller/util/protectionutil"

	"github.com/kwoksim/kwoksim/sim"
)

// pvcProtection is the pvc-protection controller (pkg/controller/volume/pvcprotection,
// processPVC): a claim being deleted keeps its kubernetes.io/pvc-protection finalizer while a
// scheduled pod names it (podUsesPVCForDeletion: even a finished pod, until it is gone; an
// ephemeral volume's claim until its pod is shut down), and loses it then; a claim without the
// finalizer gets it. With PersistentVolumeClaimUnusedSinceTime (beta, on in v1.37) a Bound
// claim also gets the Unused condition: False while a pod that has not terminated names it,
// True otherwise.
//
// Deliberate deviation: the real controller's namespace batching and its live pod list (a
// guard against its informer lagging) are left out: the simulator's cache never lags.
type pvcProtection struct{ *Controller }

func (pvcProtection) Kind() string { return "PersistentVolumeClaim" }

// ObjectChanged is pvcAddedUpdated.
func (pvcProtection) ObjectChanged(ev sim.WatchEvent) bool {
	pvc := ev.Object.(*corev1.PersistentVolumeClaim)
	return findUnused(pvc.Status.Conditions) == nil ||
		protectionutil.NeedToAddFinalizer(pvc, sim.PVCProtectionFinalizer) ||
		protectionutil.IsDeletionCandidate(pvc, sim.PVCProtectionFinalizer)
}

// Sync is processPVC.
func (p pvcProtection) Sync(ns, name string) error {
	pvc := p.claims[ns+"/"+name]
	if pvc == nil {
		return nil
	}
	if pvc.DeletionTimestamp == nil && pvc.Status.Phase == corev1.ClaimBound {
		if err := p.updateUnusedCondition(pvc, p.isBeingUsed(pvc, podUsesPVCForUnusedSince)); err != nil {
			return err
		}
		pvc = p.claims[ns+"/"+name]
	}
	if protectionutil.IsDeletionCandidate(pvc, sim.PVCProtectionFinalizer) {
		if !p.isBeingUsed(pvc, podUsesPVCForDeletion) {
			clone := pvc.DeepCopy()
			clone.Finalizers = slices.DeleteFunc(clone.Finalizers, func(f string) bool { return f == sim.PVCProtectionFinalizer })
			_, err := p.m.API().Update(clone)
			return err
		}
	}
	if protectionutil.NeedToAddFinalizer(pvc, sim.PVCProtectionFinalizer) {
		clone := pvc.DeepCopy()
		clone.Finalizers = append(clone.Finalizers, sim.PVCProtectionFinalizer)
		_, err := p.m.API().Update(clone)
		return err
	}
	return nil
}

func (p pvcProtection) isBeingUsed(pvc *corev1.PersistentVolumeClaim, uses func(*corev1.Pod, *corev1.PersistentVolumeClaim) bool) bool {
	pods := p.podsByClaim[claimKey(pvc)]
	for _, k := range sortedKeys(pods) {
		if uses(pods[k], pvc) {
			return true
		}
	}
	return false
}

// updateUnusedCondition and setUnusedCondition, on virtual time.
func (p pvcProtection) updateUnusedCondition(pvc *corev1.PersistentVolumeClaim, used bool) error {
	cur := findUnused(pvc.Status.Conditions)
	status, reason, message := corev1.ConditionFalse, "PodUsingPVC", "A pod is currently referencing this PVC"
	switch {
	case used && (cur == nil || cur.Status == corev1.ConditionTrue):
	case !used && (cur == nil || cur.Status != corev1.ConditionTrue):
		status, reason, message = corev1.ConditionTrue, "NoPodsUsingPVC", "No pods are currently referencing this PVC"
	default:
		return nil
	}
	clone := pvc.DeepCopy()
	cond := corev1.PersistentVolumeClaimCondition{Type: corev1.PersistentVolumeClaimUnused, Status: status,
		LastTransitionTime: metav1.NewTime(p.clock.Now().Truncate(time.Second)), Reason: reason, Message: message}
	if existing := findUnused(clone.Status.Conditions); existing != nil {
		*existing = cond
	} else {
		clone.Status.Conditions = append(clone.Status.Conditions, cond)
	}
	_, err := p.m.API().UpdateStatus(clone)
	return err
}

func findUnused(conds []corev1.PersistentVolumeClaimCondition) *corev1.PersistentVolumeClaimCondition {
	for i := range conds {
		if conds[i].Type == corev1.PersistentVolumeClaimUnused {
			return &conds[i]
		}
	}
	return nil
}

// podUsesPVCForDeletion is pvc_protection_controller.go's.
func podUsesPVCForDeletion(pod *corev1.Pod, pvc *corev1.PersistentVolumeClaim) bool {
	if pod.Spec.NodeName == "" {
		return false
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name ||
			!podIsShutDown(pod) && v.Ephemeral != nil && ephemeral.VolumeClaimName(pod, v) == pvc.Name && ephemeral.VolumeIsForPod(pod, pvc) == nil {
			return true
		}
	}
	return false
}

// podUsesPVCForUnusedSince is pvc_protection_controller.go's (volumeutil.IsPodTerminated:
// a terminal phase, or deleted with no container running).
func podUsesPVCForUnusedSince(pod *corev1.Pod, pvc *corev1.PersistentVolumeClaim) bool {
	if isPodTerminated(pod) {
		return false
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name ||
			v.Ephemeral != nil && ephemeral.VolumeClaimName(pod, v) == pvc.Name && ephemeral.VolumeIsForPod(pod, pvc) == nil {
			return true
		}
	}
	return false
}

// isPodTerminated is pkg/volume/util's IsPodTerminated.
func isPodTerminated(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return true
	}
	if pod.DeletionTimestamp == nil {
		return false
	}
	for _, s := range pod.Status.InitContainerStatuses {
		if s.State.Running != nil {
			return false
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.State.Running != nil {
			return false
		}
	}
	for _, s := range pod.Status.EphemeralContainerStatuses {
		if s.State.Running != nil {
			return false
		}
	}
	return true
}

// podIsShutDown is pvc_protection_controller.go's: force-deleted, or deleted by its kubelet.
func podIsShutDown(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil && *pod.DeletionGracePeriodSeconds == 0
}

// pvProtection is the pv-protection controller (pkg/controller/volume/pvprotection, processPV):
// a volume being deleted keeps kubernetes.io/pv-protection while it is Bound.
type pvProtection struct{ *Controller }

func (pvProtection) Kind() string { return "PersistentVolume" }

// ObjectChanged is pvAddedUpdated.
func (pvProtection) ObjectChanged(ev sim.WatchEvent) bool {
	pv := ev.Object.(*corev1.PersistentVolume)
	return protectionutil.NeedToAddFinalizer(pv, sim.PVProtectionFinalizer) || protectionutil.IsDeletionCandidate(pv, sim.PVProtectionFinalizer)
}

// Sync is processPV.
func (p pvProtection) Sync(_, name string) error {
	pv := p.volumes[name]
	if pv == nil {
		return nil
	}
	if protectionutil.IsDeletionCandidate(pv, sim.PVProtectionFinalizer) && pv.Status.Phase != corev1.VolumeBound {
		clone := pv.DeepCopy()
		clone.Finalizers = slices.DeleteFunc(clone.Finalizers, func(f string) bool { return f == sim.PVProtectionFinalizer })
		_, err := p.m.API().Update(clone)
		return err
	}
	if protectionutil.NeedToAddFinalizer(pv, sim.PVProtectionFinalizer) {
		clone := pv.DeepCopy()
		clone.Finalizers = append(clone.Finalizers, sim.PVProtectionFinalizer)
		_, err := p.m.API().Update(clone)
		return err
	}
	return nil
}
