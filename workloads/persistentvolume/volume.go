package persistentvolume

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	storagehelpers "k8s.io/component-helpers/storage/volume"
)

func (c *Controller) syncVolumeKey(name string) error {
	volume := c.volumes[name]
	if volume == nil {
		return nil // deleted since
	}
	return c.syncVolume(volume)
}

// syncVolume is pv_controller.go's syncVolume (without CSI migration's annotations and
// finalizers). The claim is read from the cache only: the simulator's caches never lag, so
// upstream's second look in the lister and the apiserver would find the same.
func (c *Controller) syncVolume(volume *corev1.PersistentVolume) error {
	ref := volume.Spec.ClaimRef
	if ref == nil || ref.UID == "" {
		// Unused, or pre-bound to a claim that the claim's sync will bind.
		_, err := c.updateVolumePhase(volume, corev1.VolumeAvailable, "")
		return err
	}
	claim := c.claims[ref.Namespace+"/"+ref.Name]
	if claim != nil && claim.UID != ref.UID {
		claim = nil // the claim was deleted and another made with its name
	}
	switch {
	case claim == nil:
		// The claim is gone: release the volume and apply its reclaim policy.
		if volume.Status.Phase != corev1.VolumeReleased && volume.Status.Phase != corev1.VolumeFailed {
			var err error
			if volume, err = c.updateVolumePhase(volume, corev1.VolumeReleased, ""); err != nil {
				return err
			}
		}
		return c.reclaimVolume(volume)
	case claim.Spec.VolumeName == "":
		if storagehelpers.CheckVolumeModeMismatches(&claim.Spec, &volume.Spec) {
			c.event(volume, corev1.EventTypeWarning, reasonVolumeMismatch, fmt.Sprintf("Cannot bind PersistentVolume to requested PersistentVolumeClaim %q due to incompatible volumeMode.", claim.Name))
			c.event(claim, corev1.EventTypeWarning, reasonVolumeMismatch, fmt.Sprintf("Cannot bind PersistentVolume %q to requested PersistentVolumeClaim due to incompatible volumeMode.", volume.Name))
			return nil
		}
		// Bound volume, Pending claim: the claim's sync binds it. This is how a provisioned
		// volume completes: the provisioner only creates the volume.
		c.claimQueue.Add(claim.Namespace, claim.Name)
		return nil
	case claim.Spec.VolumeName == volume.Name:
		_, err := c.updateVolumePhase(volume, corev1.VolumeBound, "")
		return err
	case metav1.HasAnnotation(volume.ObjectMeta, storagehelpers.AnnDynamicallyProvisioned) && volume.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete:
		// Provisioned for a claim that got bound elsewhere: not needed, delete it.
		if volume.Status.Phase != corev1.VolumeReleased && volume.Status.Phase != corev1.VolumeFailed {
			var err error
			if volume, err = c.updateVolumePhase(volume, corev1.VolumeReleased, ""); err != nil {
				return err
			}
		}
		return c.reclaimVolume(volume)
	default:
		// Bound to a claim that is bound elsewhere: unbindVolume.
		return c.unbindVolume(volume)
	}
}

// unbindVolume is pv_controller.go's: a volume the controller bound loses its claimRef, one a
// user pre-bound only the claim's UID; then it is Available.
func (c *Controller) unbindVolume(volume *corev1.PersistentVolume) error {
	clone := volume.DeepCopy()
	if metav1.HasAnnotation(volume.ObjectMeta, storagehelpers.AnnBoundByController) {
		clone.Spec.ClaimRef = nil
		delete(clone.Annotations, storagehelpers.AnnBoundByController)
		if len(clone.Annotations) == 0 {
			clone.Annotations = nil
		}
	} else {
		clone.Spec.ClaimRef.UID = ""
	}
	out, err := c.m.API().Update(clone)
	if err != nil {
		return err
	}
	_, err = c.updateVolumePhase(out.(*corev1.PersistentVolume), corev1.VolumeAvailable, "")
	return err
}

// updateVolumePhase is pv_controller.go's.
func (c *Controller) updateVolumePhase(volume *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, message string) (*corev1.PersistentVolume, error) {
	if volume.Status.Phase == phase {
		return volume, nil
	}
	clone := volume.DeepCopy()
	clone.Status.Phase = phase
	clone.Status.Message = message
	out, err := c.m.API().UpdateStatus(clone)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.PersistentVolume), nil
}

// updateVolumePhaseWithEvent is pv_controller.go's: the event only when the phase changes.
func (c *Controller) updateVolumePhaseWithEvent(volume *corev1.PersistentVolume, phase corev1.PersistentVolumePhase, eventType, reason, message string) error {
	if volume.Status.Phase == phase {
		return nil
	}
	out, err := c.updateVolumePhase(volume, phase, message)
	if err != nil {
		return err
	}
	c.event(out, eventType, reason, message)
	return nil
}

// reclaimVolume is pv_controller.go's: Retain keeps the Released volume; Delete deletes it
// through its deleter, which for a volume of an external provisioner (or a CSI volume) is that
// provisioner's business (the provisioning stages' pv-delete); Recycle is not modelled.
func (c *Controller) reclaimVolume(volume *corev1.PersistentVolume) error {
	if volume.Annotations[storagehelpers.AnnMigratedTo] != "" {
		return nil // the external provisioner handles it
	}
	switch volume.Spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain:
		return nil
	case corev1.PersistentVolumeReclaimRecycle:
		c.warnOnce(volume, "RecycleNotModelled", "the volume is Released with reclaimPolicy Recycle: kwoksim does not model "+
			"recycling; kube-controller-manager would run a recycler pod that scrubs the volume (NFS and hostPath only) "+
			"and make it Available again")
		return nil
	case corev1.PersistentVolumeReclaimDelete:
		return c.deleteVolumeOperation(volume)
	default:
		return c.updateVolumePhaseWithEvent(volume, corev1.VolumeFailed, corev1.EventTypeWarning, "VolumeUnknownReclaimPolicy", "Volume has unrecognized PersistentVolumeReclaimPolicy")
	}
}

// deleteVolumeOperation is pv_controller.go's, up to the deleter: findDeletablePlugin decides
// whether the deletion is someone else's (an external provisioner's), fails (no deleter for
// the volume: Failed, VolumeFailedDelete), or is an in-tree deleter kwoksim does not model.
func (c *Controller) deleteVolumeOperation(volume *corev1.PersistentVolume) error {
	external, err := findDeletablePlugin(volume)
	if err != nil {
		return c.updateVolumePhaseWithEvent(volume, corev1.VolumeFailed, corev1.EventTypeWarning, reasonVolumeFailedDelete, err.Error())
	}
	if external {
		return nil // External deleter is requested, do nothing.
	}
	c.warnOnce(volume, "DeleteNotModelled", "the volume is Released with reclaimPolicy Delete and an in-tree hostPath deleter: "+
		"kwoksim does not model it; kube-controller-manager would delete the directory (only under /tmp) and the volume")
	return nil
}

// findDeletablePlugin is pv_controller.go's findDeletablePlugin over the controller's plugins
// (hostPath deletes; NFS, FC and iSCSI do not): external reports that the volume is an
// external provisioner's to delete.
func findDeletablePlugin(volume *corev1.PersistentVolume) (external bool, err error) {
	if name := volume.Annotations[storagehelpers.AnnDynamicallyProvisioned]; name != "" {
		if !strings.HasPrefix(name, "kubernetes.io/") {
			return true, nil
		}
		if name == hostPathPlugin {
			return false, nil
		}
		if !inTreePlugins[name] {
			return false, fmt.Errorf("no volume plugin matched name: %s", name)
		}
		return false, fmt.Errorf("no deletable volume plugin matched")
	}
	if volume.Annotations[storagehelpers.AnnMigratedTo] != "" || volume.Spec.CSI != nil {
		return true, nil
	}
	src := volume.Spec.PersistentVolumeSource
	switch {
	case src.HostPath != nil:
		return false, nil
	case src.NFS != nil || src.FC != nil || src.ISCSI != nil:
		return false, fmt.Errorf("error getting deleter volume plugin for volume %q: %w", volume.Name, fmt.Errorf("no deletable volume plugin matched"))
	}
	return false, fmt.Errorf("error getting deleter volume plugin for volume %q: %w", volume.Name, fmt.Errorf("no volume plugin matched"))
}

// warnOnce records a warning about what kwoksim does not model, once per volume and reason.
func (c *Controller) warnOnce(volume *corev1.PersistentVolume, reason, message string) {
	key := "warn/" + reason + "/" + volume.Name
	if c.lastEvent[key] != "" {
		return
	}
	c.lastEvent[key] = reason
	c.m.Warn("PersistentVolume", "", volume.Name, reason, message)
}
