package persistentvolume

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
	csitranslation "k8s.io/csi-translation-lib"
	v1helper "k8s.io/kubernetes/pkg/apis/core/v1/helper"
	"k8s.io/kubernetes/pkg/controller/volume/common"

	"github.com/kwoksim/kwoksim/sim"
)

// Event reasons (pkg/controller/volume/events).
const (
	reasonFailedBinding        = "FailedBinding"
	reasonVolumeMismatch       = "VolumeMismatch"
	reasonVolumeFailedDelete   = "VolumeFailedDelete"
	reasonExternalProvisioning = "ExternalProvisioning"
	reasonProvisioningFailed   = "ProvisioningFailed"
	reasonWaitForFirstConsumer = "WaitForFirstConsumer"
	reasonWaitForPodScheduled  = "WaitForPodScheduled"
)

func (c *Controller) syncClaimKey(ns, name string) error {
	claim := c.claims[ns+"/"+name]
	if claim == nil {
		return nil // deleted since
	}
	return c.syncClaim(claim)
}

// syncClaim is pv_controller.go's syncClaim (without CSI migration's annotations).
func (c *Controller) syncClaim(claim *corev1.PersistentVolumeClaim) error {
	if !metav1.HasAnnotation(claim.ObjectMeta, storagehelpers.AnnBindCompleted) {
		return c.syncUnboundClaim(claim)
	}
	return c.syncBoundClaim(claim)
}

// syncUnboundClaim is pv_controller.go's syncUnboundClaim.
func (c *Controller) syncUnboundClaim(claim *corev1.PersistentVolumeClaim) error {
	if claim.Spec.VolumeName == "" {
		// User did not care which PV they get.
		delayBinding, err := storagehelpers.IsDelayBindingMode(claim, c.classLister)
		if err != nil {
			return err
		}
		volume, err := c.findBestMatchForClaim(claim, delayBinding)
		if err != nil {
			return fmt.Errorf("error finding PV for claim %q: %w", claimKey(claim), err)
		}
		if volume != nil {
			return c.bind(volume, claim)
		}
		updated, err := c.assignDefaultStorageClass(claim)
		if err != nil {
			return fmt.Errorf("can't update PersistentVolumeClaim[%q]: %w", claimKey(claim), err)
		}
		if updated {
			return nil // the update syncs the claim again
		}
		switch {
		case delayBinding && !storagehelpers.IsDelayBindingProvisioning(claim):
			c.emitEventForUnboundDelayBindingClaim(claim)
		case storagehelpers.GetPersistentVolumeClaimClass(claim) != "":
			// The claim is updated by the provisioning; binding continues in a later sync.
			return c.provisionClaim(claim)
		default:
			c.event(claim, corev1.EventTypeNormal, reasonFailedBinding, "no persistent volumes available for this claim and no storage class is set")
		}
		_, err = c.updateClaimStatus(claim, corev1.ClaimPending, nil)
		return err
	}
	// User asked for a specific PV.
	volume := c.volumes[claim.Spec.VolumeName]
	switch {
	case volume == nil:
		// Not there (yet): retried at the next sync.
		_, err := c.updateClaimStatus(claim, corev1.ClaimPending, nil)
		return err
	case volume.Spec.ClaimRef == nil:
		if err := checkVolumeSatisfyClaim(volume, claim); err != nil {
			c.event(claim, corev1.EventTypeWarning, reasonVolumeMismatch, fmt.Sprintf("Cannot bind to requested volume %q: %s", volume.Name, err))
			_, err = c.updateClaimStatus(claim, corev1.ClaimPending, nil)
			return err
		}
		return c.bind(volume, claim)
	case storagehelpers.IsVolumeBoundToClaim(volume, claim):
		// Finish the volume binding by adding claim UID.
		return c.bind(volume, claim)
	case !metav1.HasAnnotation(claim.ObjectMeta, storagehelpers.AnnBoundByController):
		c.event(claim, corev1.EventTypeWarning, reasonFailedBinding, fmt.Sprintf("volume %q already bound to a different claim.", volume.Name))
		_, err := c.updateClaimStatus(claim, corev1.ClaimPending, nil)
		return err
	default:
		c.event(claim, corev1.EventTypeWarning, reasonFailedBinding, fmt.Sprintf("volume %q already bound to a different claim.", volume.Name))
		return fmt.Errorf("invalid binding of claim %q to volume %q: volume already claimed by %q", claimKey(claim), claim.Spec.VolumeName, volume.Spec.ClaimRef.Namespace+"/"+volume.Spec.ClaimRef.Name)
	}
}

// syncBoundClaim is pv_controller.go's syncBoundClaim.
func (c *Controller) syncBoundClaim(claim *corev1.PersistentVolumeClaim) error {
	if claim.Spec.VolumeName == "" {
		_, err := c.updateClaimStatusWithEvent(claim, corev1.ClaimLost, nil, corev1.EventTypeWarning, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
		return err
	}
	volume := c.volumes[claim.Spec.VolumeName]
	switch {
	case volume == nil:
		_, err := c.updateClaimStatusWithEvent(claim, corev1.ClaimLost, nil, corev1.EventTypeWarning, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
		return err
	case volume.Spec.ClaimRef == nil, volume.Spec.ClaimRef.UID == claim.UID:
		// Unbound volume: bind it again; correctly bound: bind() changes nothing.
		return c.bind(volume, claim)
	default:
		_, err := c.updateClaimStatusWithEvent(claim, corev1.ClaimLost, nil, corev1.EventTypeWarning, "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly")
		return err
	}
}

// emitEventForUnboundDelayBindingClaim is pv_controller.go's: WaitForFirstConsumer, or
// WaitForPodScheduled naming the claim's pods that are not scheduled yet (sorted here; the
// informer's index lists them in no particular order).
func (c *Controller) emitEventForUnboundDelayBindingClaim(claim *corev1.PersistentVolumeClaim) {
	reason := reasonWaitForFirstConsumer
	message := "waiting for first consumer to be created before binding"
	var podNames []string
	pods := c.podsByClaim[claimKey(claim)]
	for _, k := range sortedKeys(pods) {
		if pods[k].Spec.NodeName == "" {
			podNames = append(podNames, pods[k].Name)
		}
	}
	if len(podNames) > 0 {
		reason = reasonWaitForPodScheduled
		if len(podNames) > 1 {
			message = fmt.Sprintf("waiting for pods %s to be scheduled", strings.Join(podNames, ","))
		} else {
			message = fmt.Sprintf("waiting for pod %s to be scheduled", podNames[0])
		}
	}
	c.event(claim, corev1.EventTypeNormal, reason, message)
}

// assignDefaultStorageClass is pv_controller.go's: a claim with no class at all (nil) gets the
// default class, if there is one now.
func (c *Controller) assignDefaultStorageClass(claim *corev1.PersistentVolumeClaim) (bool, error) {
	if storagehelpers.PersistentVolumeClaimHasClass(claim) {
		return false, nil
	}
	def, err := sim.GetDefaultStorageClass(c.classLister)
	if err != nil || def == "" {
		return false, err
	}
	clone := claim.DeepCopy()
	clone.Spec.StorageClassName = &def
	if _, err := c.m.API().Update(clone); err != nil {
		return false, err
	}
	return true, nil
}

// Plugins kube-controller-manager's PV controller has (cmd/kube-controller-manager/app/
// plugins.go, ProbeProvisionableRecyclableVolumePlugins): hostPath is the only provisioner
// among them, disabled unless --enable-hostpath-provisioner.
const hostPathPlugin = "kubernetes.io/host-path"

var inTreePlugins = map[string]bool{
	hostPathPlugin: true, "kubernetes.io/nfs": true, "kubernetes.io/fc": true,
	"kubernetes.io/iscsi": true, "kubernetes.io/csi": true,
}

// provisionClaim is pv_controller.go's provisionClaim with findProvisionablePlugin: an unknown
// class is a ProvisioningFailed event with the lister's error; a provisioner outside
// kubernetes.io/ (or an in-tree one migrated to CSI, by its CSI driver's name) is external
// (provisionClaimOperationExternal); other kubernetes.io/ names fail as the volume plugin
// manager's lookup fails. As upstream, it returns nil: the provisioning operation runs on its
// own and its failures are events, retried at the claim's next sync.
func (c *Controller) provisionClaim(claim *corev1.PersistentVolumeClaim) error {
	class, err := c.classLister.Get(storagehelpers.GetPersistentVolumeClaimClass(claim))
	if err != nil {
		c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, err.Error())
		return nil // retried at every sync of the claim
	}
	provisioner := class.Provisioner
	translator := csitranslation.New()
	if translator.IsMigratableIntreePluginByName(provisioner) {
		name, err := translator.GetCSINameFromInTreeName(provisioner)
		if err != nil {
			c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, fmt.Sprintf("error getting CSI name for In tree plugin %s: %v", provisioner, err))
			return nil
		}
		c.provisionClaimOperationExternal(claim, name)
		return nil
	}
	if !strings.HasPrefix(provisioner, "kubernetes.io/") {
		c.provisionClaimOperationExternal(claim, provisioner)
		return nil
	}
	switch {
	case !inTreePlugins[provisioner]:
		c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, "no volume plugin matched name: "+provisioner)
		return nil
	case provisioner != hostPathPlugin:
		c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, "no provisionable volume plugin matched")
		return nil
	}
	// provisionClaimOperation with the hostPath plugin, which kube-controller-manager runs
	// with provisioning disabled by default (--enable-hostpath-provisioner=false).
	if claim.Spec.DataSource != nil {
		msg := fmt.Sprintf("plugin %q is not a CSI plugin. Only CSI plugin can provision a claim with a datasource", provisioner)
		c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, msg)
		return nil
	}
	if _, err := c.setClaimProvisioner(claim, provisioner); err != nil {
		return nil // the operation's error only reaches a metric; the next sync retries
	}
	c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed,
		fmt.Sprintf("Failed to create provisioner: provisioning in volume plugin %q is disabled", provisioner))
	return nil
}

// provisionClaimOperationExternal is pv_controller.go's: the claim is annotated with the
// provisioner's name (the contract the provisioning stages act on: they create the volume of
// a claim carrying volume.kubernetes.io/storage-provisioner), and an ExternalProvisioning
// event says the controller waits for it.
func (c *Controller) provisionClaimOperationExternal(claim *corev1.PersistentVolumeClaim, provisioner string) {
	if _, err := c.setClaimProvisioner(claim, provisioner); err != nil {
		c.event(claim, corev1.EventTypeWarning, reasonProvisioningFailed, fmt.Sprintf("Error saving claim: %v", err))
		return
	}
	msg := fmt.Sprintf("Waiting for a volume to be created either by the external provisioner '%s' "+
		"or manually by the system administrator. If volume creation is delayed, please verify that "+
		"the provisioner is running and correctly registered.", provisioner)
	c.event(claim, corev1.EventTypeNormal, reasonExternalProvisioning, msg)
}

// setClaimProvisioner is pv_controller_base.go's: both provisioner annotations, the beta one
// too.
func (c *Controller) setClaimProvisioner(claim *corev1.PersistentVolumeClaim, provisioner string) (*corev1.PersistentVolumeClaim, error) {
	if claim.Annotations[storagehelpers.AnnStorageProvisioner] == provisioner {
		return claim, nil
	}
	clone := claim.DeepCopy()
	metav1.SetMetaDataAnnotation(&clone.ObjectMeta, storagehelpers.AnnBetaStorageProvisioner, provisioner)
	metav1.SetMetaDataAnnotation(&clone.ObjectMeta, storagehelpers.AnnStorageProvisioner, provisioner)
	out, err := c.m.API().Update(clone)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.PersistentVolumeClaim), nil
}

// findBestMatchForClaim is index.go's findByClaim: the volumes grouped by their set of access
// modes, the sets holding all the claim's modes tried from the smallest, each with
// FindMatchingVolume (the smallest volume that fits, a volume pre-bound to the claim first).
// Volumes are listed in name order; VolumeAttributesClass is GA (on).
func (c *Controller) findBestMatchForClaim(claim *corev1.PersistentVolumeClaim, delayBinding bool) (*corev1.PersistentVolume, error) {
	byModes := map[string][]*corev1.PersistentVolume{}
	for _, name := range sortedKeys(c.volumes) {
		v := c.volumes[name]
		k := v1helper.GetAccessModesAsString(v.Spec.AccessModes)
		byModes[k] = append(byModes[k], v)
	}
	var sets []string
	for _, k := range sortedKeys(byModes) {
		if containsAllAccessModes(v1helper.GetAccessModesFromString(k), claim.Spec.AccessModes) {
			sets = append(sets, k)
		}
	}
	// byAccessModes sorts by the number of modes; a stable sort keeps ties in key order.
	sortStableByLen(sets)
	for _, k := range sets {
		v, err := storagehelpers.FindMatchingVolume(claim, byModes[k], nil, nil, delayBinding, true)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}

func sortStableByLen(sets []string) {
	n := func(k string) int { return len(v1helper.GetAccessModesFromString(k)) }
	for i := 1; i < len(sets); i++ {
		for j := i; j > 0 && n(sets[j]) < n(sets[j-1]); j-- {
			sets[j], sets[j-1] = sets[j-1], sets[j]
		}
	}
}

// containsAllAccessModes is pkg/volume/util's ContainsAllAccessModes.
func containsAllAccessModes(indexed, requested []corev1.PersistentVolumeAccessMode) bool {
	for _, mode := range requested {
		found := false
		for _, m := range indexed {
			if m == mode {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// checkVolumeSatisfyClaim is pv_controller.go's (VolumeAttributesClass on).
func checkVolumeSatisfyClaim(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	requested := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if volume.DeletionTimestamp != nil {
		return fmt.Errorf("the volume is marked for deletion %q", volume.Name)
	}
	capacity := volume.Spec.Capacity[corev1.ResourceStorage]
	if capacity.Value() < requested.Value() {
		return fmt.Errorf("requested PV is too small")
	}
	if storagehelpers.GetPersistentVolumeClass(volume) != storagehelpers.GetPersistentVolumeClaimClass(claim) {
		return fmt.Errorf("storageClassName does not match")
	}
	if deref(claim.Spec.VolumeAttributesClassName) != deref(volume.Spec.VolumeAttributesClassName) {
		return fmt.Errorf("volumeAttributesClassName does not match")
	}
	if storagehelpers.CheckVolumeModeMismatches(&claim.Spec, &volume.Spec) {
		return fmt.Errorf("incompatible volumeMode")
	}
	if !storagehelpers.CheckAccessModes(claim, volume) {
		return fmt.Errorf("incompatible accessMode")
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// bind is pv_controller.go's bind: the volume's claimRef first (bindVolumeToClaim), its
// phase, then the claim's volumeName and annotations (bindClaimToVolume), then its status.
func (c *Controller) bind(volume *corev1.PersistentVolume, claim *corev1.PersistentVolumeClaim) error {
	clone, dirty, err := storagehelpers.GetBindVolumeToClaim(volume, claim)
	if err != nil {
		return err
	}
	if dirty {
		out, err := c.m.API().Update(clone)
		if err != nil {
			return err
		}
		volume = out.(*corev1.PersistentVolume)
	}
	if volume, err = c.updateVolumePhase(volume, corev1.VolumeBound, ""); err != nil {
		return err
	}
	if claim, err = c.bindClaimToVolume(claim, volume); err != nil {
		return err
	}
	_, err = c.updateClaimStatus(claim, corev1.ClaimBound, volume)
	return err
}

// bindClaimToVolume is pv_controller.go's.
func (c *Controller) bindClaimToVolume(claim *corev1.PersistentVolumeClaim, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	dirty := false
	clone := claim.DeepCopy()
	if volume.Name != claim.Spec.VolumeName {
		dirty = true
		clone.Spec.VolumeName = volume.Name
		if !metav1.HasAnnotation(clone.ObjectMeta, storagehelpers.AnnBoundByController) {
			metav1.SetMetaDataAnnotation(&clone.ObjectMeta, storagehelpers.AnnBoundByController, "yes")
		}
	}
	if !metav1.HasAnnotation(clone.ObjectMeta, storagehelpers.AnnBindCompleted) {
		metav1.SetMetaDataAnnotation(&clone.ObjectMeta, storagehelpers.AnnBindCompleted, "yes")
		dirty = true
	}
	if !dirty {
		return claim, nil
	}
	out, err := c.m.API().Update(clone)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.PersistentVolumeClaim), nil
}

// updateClaimStatus is pv_controller.go's (without the pre-resize capacity annotation, as
// volume expansion is not modelled).
func (c *Controller) updateClaimStatus(claim *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, volume *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, error) {
	dirty := false
	clone := claim.DeepCopy()
	if claim.Status.Phase != phase {
		clone.Status.Phase = phase
		dirty = true
	}
	if volume == nil {
		if claim.Status.AccessModes != nil || claim.Status.Capacity != nil || claim.Status.CurrentVolumeAttributesClassName != nil {
			clone.Status.AccessModes, clone.Status.Capacity, clone.Status.CurrentVolumeAttributesClassName = nil, nil, nil
			dirty = true
		}
	} else {
		if !reflect.DeepEqual(claim.Status.AccessModes, volume.Spec.AccessModes) {
			clone.Status.AccessModes = volume.Spec.AccessModes
			dirty = true
		}
		// Capacity only when the claim becomes Bound.
		if claim.Status.Phase != phase {
			volumeCap, ok := volume.Spec.Capacity[corev1.ResourceStorage]
			if !ok {
				return nil, fmt.Errorf("PersistentVolume %q is without a storage capacity", volume.Name)
			}
			claimCap, ok := claim.Status.Capacity[corev1.ResourceStorage]
			if !ok || volumeCap.Cmp(claimCap) != 0 {
				clone.Status.Capacity = volume.Spec.Capacity
				dirty = true
			}
		}
		if claim.Status.Phase == corev1.ClaimPending && phase == corev1.ClaimBound &&
			!reflect.DeepEqual(claim.Status.CurrentVolumeAttributesClassName, volume.Spec.VolumeAttributesClassName) {
			clone.Status.CurrentVolumeAttributesClassName = volume.Spec.VolumeAttributesClassName
			dirty = true
		}
	}
	if !dirty {
		return claim, nil
	}
	out, err := c.m.API().UpdateStatus(clone)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.PersistentVolumeClaim), nil
}

// updateClaimStatusWithEvent is pv_controller.go's: the event only when the phase changes.
func (c *Controller) updateClaimStatusWithEvent(claim *corev1.PersistentVolumeClaim, phase corev1.PersistentVolumeClaimPhase, volume *corev1.PersistentVolume, eventType, reason, message string) (*corev1.PersistentVolumeClaim, error) {
	if claim.Status.Phase == phase {
		return claim, nil
	}
	out, err := c.updateClaimStatus(claim, phase, volume)
	if err != nil {
		return nil, err
	}
	c.event(out, eventType, reason, message)
	return out, nil
}

func claimKey(claim *corev1.PersistentVolumeClaim) string { return claim.Namespace + "/" + claim.Name }

// podClaimKeys and claimKeys are the claims a pod names, as "namespace/name": upstream's index function
// (pkg/controller/volume/common PodPVCIndexFunc), which never fails for a pod.
var podClaimKeys = common.PodPVCIndexFunc()

func claimKeys(pod *corev1.Pod) []string {
	keys, _ := podClaimKeys(pod)
	return keys
}
