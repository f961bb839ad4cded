// Package provisioning decides, as a CSI external-provisioner does
// (kubernetes-csi/external-provisioner pkg/controller/topology.go), where the
// volume provisioned for a PersistentVolumeClaim is accessible: the
// nodeAffinity of the PersistentVolume the provisioning stage creates
// (stages/default/pvc-provision.yaml). It is pure: the caller hands it the
// claim's class, the selected node, and the cluster's Nodes and CSINodes.
package provisioning
