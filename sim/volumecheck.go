package sim

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/component-helpers/storage/volume"
	csitrans "k8s.io/csi-translation-lib"
	csiplugins "k8s.io/csi-translation-lib/plugins"
	"k8s.io/klog/v2"
)

// checkBindings follows volumebinding/binder.go (volumeBinder).checkBindings of v1.37.2, with
// its messages, against the scheduler's informers (upstream reads the same informers through
// its assume caches' GetAPIObj): true when every claim the cycle asked for is fully bound; an
// error when the binding must be retried. Upstream skips an informer object older than the
// one it wrote (the versioner check); here informers are written inside the write, never
// behind.
func (b *parkingBinder) checkBindings(p *parkedCycle) (bool, error) {
	pod := p.pod
	node, err := b.nodes.Get(pod.Spec.NodeName)
	if err != nil {
		return false, fmt.Errorf("failed to get node %q: %w", pod.Spec.NodeName, err)
	}
	// Upstream only logs a missing CSINode.
	csiNode, _ := b.csiNodes.Get(node.Name)

	// When the pod is deleted, binding is cancelled (a terminal pod is a deletion to the
	// scheduler's informer).
	if _, err := b.pods.Pods(pod.Namespace).Get(pod.Name); err != nil && apierrors.IsNotFound(err) {
		return false, fmt.Errorf("pod does not exist any more: %w", err)
	}

	for _, s := range p.static {
		pv, err := b.pv(s.pv)
		if err != nil {
			return false, fmt.Errorf("failed to check binding: %w", err)
		}
		pvc, err := b.pvc(s.claim)
		if err != nil {
			return false, fmt.Errorf("failed to check binding: %w", err)
		}
		if pv, err = tryTranslatePVToCSI(pv, csiNode); err != nil {
			return false, fmt.Errorf("failed to translate pv to csi: %w", err)
		}
		// The node might not have the proper label.
		if err := volume.CheckNodeAffinity(pv, node.Labels); err != nil {
			return false, fmt.Errorf("pv %q node affinity doesn't match node %q: %w", pv.Name, node.Name, err)
		}
		// The PV controller's unbindVolume dropped the claimRef.
		if pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.UID == "" {
			return false, fmt.Errorf("ClaimRef got reset for pv %q", pv.Name)
		}
		if !isPVCFullyBound(pvc) {
			return false, nil
		}
	}

	for _, c := range p.provisioned {
		pvc, err := b.pvc(c)
		if err != nil {
			return false, fmt.Errorf("failed to check provisioning pvc: %w", err)
		}
		// An apiserver stores no empty map: annotations all removed read back as nil there.
		if len(pvc.Annotations) == 0 {
			return false, fmt.Errorf("selectedNode annotation reset for PVC %q", pvc.Name)
		}
		// A provisioner that fails removes the annotation to make the scheduler retry.
		if pvc.Annotations[volume.AnnSelectedNode] != pod.Spec.NodeName {
			return false, fmt.Errorf("provisioning failed for PVC %q", pvc.Name)
		}
		if pvc.Spec.VolumeName != "" {
			pv, err := b.pv(pvc.Spec.VolumeName)
			if err != nil {
				if apierrors.IsNotFound(err) {
					// Tolerated upstream: the PV may not have reached the informer yet.
					return false, nil
				}
				return false, fmt.Errorf("failed to get pv %q from cache: %w", pvc.Spec.VolumeName, err)
			}
			if pv, err = tryTranslatePVToCSI(pv, csiNode); err != nil {
				return false, err
			}
			if err := volume.CheckNodeAffinity(pv, node.Labels); err != nil {
				return false, fmt.Errorf("pv %q node affinity doesn't match node %q: %w", pv.Name, node.Name, err)
			}
		}
		if !isPVCFullyBound(pvc) {
			return false, nil
		}
	}
	return true, nil
}

// pv and pvc read the informers as the assume caches' GetAPIObj do, with their not-found
// errors (volumebinding/passive_assume_cache.go).
func (b *parkingBinder) pv(name string) (*corev1.PersistentVolume, error) {
	obj, ok, err := b.pvs.GetByKey(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumes"}, name)
	}
	return obj.(*corev1.PersistentVolume), nil
}

func (b *parkingBinder) pvc(key string) (*corev1.PersistentVolumeClaim, error) {
	obj, ok, err := b.pvcs.GetByKey(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumeclaims"}, key)
	}
	return obj.(*corev1.PersistentVolumeClaim), nil
}

// isPVCFullyBound is volumeBinder.isPVCFullyBound: bound by the PV controller, which sets the
// volume name and then pv.kubernetes.io/bind-completed.
func isPVCFullyBound(pvc *corev1.PersistentVolumeClaim) bool {
	return pvc.Spec.VolumeName != "" && metav1.HasAnnotation(pvc.ObjectMeta, volume.AnnBindCompleted)
}

var translator = csitrans.New()

// tryTranslatePVToCSI is volumeBinder.tryTranslatePVToCSI: an in-tree PV whose plugin the
// node has migrated to CSI is checked as the CSI PV it translates to (its topology labels
// become the CSI driver's).
func tryTranslatePVToCSI(pv *corev1.PersistentVolume, csiNode *storagev1.CSINode) (*corev1.PersistentVolume, error) {
	if !translator.IsPVMigratable(pv) {
		return pv, nil
	}
	pluginName, err := translator.GetInTreePluginNameFromSpec(pv, nil)
	if err != nil {
		return nil, fmt.Errorf("could not get plugin name from pv: %v", err)
	}
	if !isCSIMigrationOnForPlugin(pluginName) || !isPluginMigratedToCSIOnNode(pluginName, csiNode) {
		return pv, nil
	}
	transPV, err := translator.TranslateInTreePVToCSI(klog.Background(), pv)
	if err != nil {
		return nil, fmt.Errorf("could not translate pv: %v", err)
	}
	return transPV, nil
}

// isCSIMigrationOnForPlugin is binder.go's: the in-tree plugins whose CSI migration is on.
func isCSIMigrationOnForPlugin(pluginName string) bool {
	switch pluginName {
	case csiplugins.AWSEBSInTreePluginName, csiplugins.GCEPDInTreePluginName, csiplugins.AzureDiskInTreePluginName,
		csiplugins.CinderInTreePluginName, csiplugins.PortworxVolumePluginName:
		return true
	}
	return false
}

// isPluginMigratedToCSIOnNode is binder.go's: the node's CSINode lists the plugin as migrated.
func isPluginMigratedToCSIOnNode(pluginName string, csiNode *storagev1.CSINode) bool {
	if csiNode == nil {
		return false
	}
	mpa := csiNode.GetAnnotations()[corev1.MigratedPluginsAnnotationKey]
	if len(mpa) == 0 {
		return false
	}
	return sets.New(strings.Split(mpa, ",")...).Has(pluginName)
}
