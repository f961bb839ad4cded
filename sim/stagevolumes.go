package sim

import (
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/kwoksim/kwoksim/provisioning"
	"github.com/kwoksim/kwoksim/stages"
)

// The provisioning functions of the stage environment (stages.Env): what the provisioning
// stages (stages/default/pvc-provision.yaml) read beyond the claim they run on. They read the
// synchronous informers' stores, which hold what the API layer stores; a transition runs as a
// clock event, never inside a write.

const (
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	annSelectedNode           = "volume.kubernetes.io/selected-node"
)

// StorageClass returns the stored class of that name as templates see objects, nil if none.
func (e stageEnv) StorageClass(name string) map[string]any {
	sc := e.r.storageClass(name)
	if sc == nil {
		return nil
	}
	m, err := stages.Object(sc)
	if err != nil {
		return nil
	}
	return m
}

func (r *stageRunner) storageClass(name string) *storagev1.StorageClass {
	if r.api == nil || name == "" {
		return nil // ExplainEnv: no cluster
	}
	obj, ok, _ := r.api.informers["StorageClass"].indexer.GetByKey(name)
	if !ok {
		return nil
	}
	return obj.(*storagev1.StorageClass)
}

// VolumeNodeAffinity places the volume of the claim being rendered as an external-provisioner
// would (provisioning.NodeAffinity): nil when it is not topological. A claim it could not
// provision for is refused with the provisioner's ProvisioningFailed message.
func (e stageEnv) VolumeNodeAffinity() (map[string]any, error) {
	if e.claim == nil {
		return nil, fmt.Errorf("VolumeNodeAffinity: the object rendered is not a PersistentVolumeClaim")
	}
	var claim corev1.PersistentVolumeClaim
	b, err := json.Marshal(e.claim)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &claim); err != nil {
		return nil, err
	}
	className := ""
	if claim.Spec.StorageClassName != nil {
		className = *claim.Spec.StorageClassName
	}
	sc := e.r.storageClass(className)
	if sc == nil {
		// The lister's NotFound, as the provisioner's getStorageClass returns it.
		return nil, &stages.Refusal{Reason: "ProvisioningFailed", Message: fmt.Sprintf("storageclass.storage.k8s.io %q not found", className)}
	}
	driver := claim.Annotations[annStorageProvisioner]
	if driver == "" {
		driver = claim.Annotations[annBetaStorageProvisioner]
	}
	a, err := provisioning.NodeAffinity(provisioning.Input{
		Driver:            driver,
		ClaimName:         claim.Name,
		AllowedTopologies: sc.AllowedTopologies,
		SelectedNode:      claim.Annotations[annSelectedNode],
		Nodes:             e.r.sortedNodes(),
		CSINodes:          e.r.sortedCSINodes(),
	})
	if err != nil {
		return nil, &stages.Refusal{Reason: "ProvisioningFailed", Message: err.Error()}
	}
	if a == nil {
		return nil, nil
	}
	return stages.Object(a)
}

// sortedNodes lists the stored nodes by name (the informer's store is a map).
func (r *stageRunner) sortedNodes() []*corev1.Node {
	items := r.api.informers["Node"].indexer.List()
	out := make([]*corev1.Node, 0, len(items))
	for _, o := range items {
		out = append(out, o.(*corev1.Node))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *stageRunner) sortedCSINodes() []*storagev1.CSINode {
	items := r.api.informers["CSINode"].indexer.List()
	out := make([]*storagev1.CSINode, 0, len(items))
	for _, o := range items {
		out = append(out, o.(*storagev1.CSINode))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
