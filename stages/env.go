package stages

import "time"

// Env supplies what templates read from the simulation. KWOK's controllers
// provide the same functions from their configuration and caches; here the
// simulator does, so that time is virtual and IPs come from a deterministic
// pool (see IPPool and IPAM).
//
// KWOK's semantics, which an implementation should keep to render as KWOK
// would:
//   - NodeIP, NodeName, NodePort are the kwok controller's --node-ip,
//     --node-name, --node-port: the same values for every node KWOK manages.
//   - NodeIPWith/NodeIPsWith(node) return that node's host IPs (NodeHostIPs:
//     InternalIPs first, then ExternalIPs, at most one per IP family), falling
//     back to NodeIP ([NodeIP], or [] when NodeIP is "") if the node is unknown
//     or reports none.
//   - PodIPWith/PodIPsWith(node, hostNetwork, uid, name, namespace): with
//     hostNetwork, the node's IPs as above; otherwise one address per pod CIDR
//     of the node (NodePodCIDRs, else DefaultPodCIDR); PodIPWith uses the first
//     CIDR only. KWOK ignores uid/name/namespace and hands out a fresh address
//     on every call; a simulator should key the allocation by the pod so a
//     re-render returns the same address (IPAM does).
//   - PodIP() takes a fresh address from the default CIDR.
//
// kwoksim's own, for the provisioning stages (stages/default/pvc-provision.yaml),
// which stand for a CSI external-provisioner: KWOK has no equivalent.
//   - StorageClass(name) is the stored StorageClass of that name in the form
//     templates see objects (JSON), nil when there is none.
//   - VolumeNodeAffinity() is the nodeAffinity (a core/v1 VolumeNodeAffinity as
//     JSON) that an external-provisioner would give the volume it provisions
//     for the PersistentVolumeClaim being rendered, nil when the volume is not
//     topological; a claim it would fail to provision for is a *Refusal.
type Env interface {
	// Now is the virtual time; templates see it formatted RFC3339Nano
	// (use UTC for output that does not depend on the local time zone).
	Now() time.Time
	// StartTime is when the simulated KWOK started (KWOK: process start).
	StartTime() time.Time
	NodeIP() string
	NodeName() string
	NodePort() int
	NodeIPWith(nodeName string) string
	NodeIPsWith(nodeName string) []string
	PodIP() string
	PodIPWith(nodeName string, hostNetwork bool, uid, name, namespace string) (string, error)
	PodIPsWith(nodeName string, hostNetwork bool, uid, name, namespace string) ([]string, error)
	StorageClass(name string) map[string]any
	VolumeNodeAffinity() (map[string]any, error)
}
