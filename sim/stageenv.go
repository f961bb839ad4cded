package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/stages"
)

// stageEnv renders templates for one object. KWOK's NodeIP and NodeName are the controller's
// own address and node, the same for every node it fakes; a simulation has no controller, so
// they are bound to the node the rendered object is (or runs on): each node gets its own
// InternalIP from a deterministic pool, and its name as Hostname, as in a real cluster.
type stageEnv struct {
	r    *stageRunner
	node string
	// claim is the PersistentVolumeClaim being rendered (its JSON form), which
	// VolumeNodeAffinity places (stagevolumes.go); nil for other kinds.
	claim map[string]any
}

var _ stages.Env = stageEnv{}

// env binds the template environment to the node the object (in its JSON form) is or runs on.
func (r *stageRunner) env(kind string, o map[string]any) stages.Env {
	var path []string
	switch kind {
	case "Node":
		path = []string{"metadata", "name"}
	case "Pod":
		path = []string{"spec", "nodeName"}
	case "PersistentVolumeClaim":
		return stageEnv{r: r, claim: o}
	default:
		return stageEnv{r: r}
	}
	var v any = o
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return stageEnv{r: r}
		}
		v = m[p]
	}
	node, _ := v.(string)
	return stageEnv{r: r, node: node}
}

func (e stageEnv) Now() time.Time       { return e.r.clock.Now() }
func (e stageEnv) StartTime() time.Time { return Epoch }
func (e stageEnv) NodeName() string     { return e.node }
func (e stageEnv) NodePort() int        { return kubeletPort }
func (e stageEnv) NodeIP() string       { return e.r.nodeAddress(e.node) }

func (e stageEnv) NodeIPWith(node string) string {
	if ips := e.NodeIPsWith(node); len(ips) > 0 {
		return ips[0]
	}
	return ""
}

// NodeIPsWith returns the node's reported host IPs, else the address the simulator gave it.
func (e stageEnv) NodeIPsWith(node string) []string {
	if info := e.r.nodeInfo(node); len(info.hostIPs) > 0 {
		return info.hostIPs
	}
	if ip := e.r.nodeAddress(node); ip != "" {
		return []string{ip}
	}
	return []string{}
}

// PodIP hands out a fresh address from the default CIDR on every call, as KWOK does.
func (e stageEnv) PodIP() string {
	e.r.anonymousIPs++
	ips, err := e.r.ipam.PodIPs(fmt.Sprintf("anonymous-%d", e.r.anonymousIPs), nil)
	if err != nil || len(ips) == 0 {
		return ""
	}
	return ips[0]
}

func (e stageEnv) PodIPWith(node string, hostNetwork bool, uid, name, namespace string) (string, error) {
	ips, err := e.PodIPsWith(node, hostNetwork, uid, name, namespace)
	if err != nil || len(ips) == 0 {
		return "", err
	}
	return ips[0], nil
}

// PodIPsWith allocates one address per pod CIDR of the node, keyed by the pod's UID so that a
// re-render returns the same addresses; host-network pods get the node's addresses.
func (e stageEnv) PodIPsWith(node string, hostNetwork bool, uid, name, namespace string) ([]string, error) {
	if hostNetwork {
		return e.NodeIPsWith(node), nil
	}
	cidrs := e.r.nodeInfo(node).podCIDRs
	k := uid
	if k == "" {
		k = namespace + "/" + name
	}
	return e.r.ipam.PodIPs(k, cidrs)
}

// nodeAddress is the address the simulator assigns a node, stable for the run.
func (r *stageRunner) nodeAddress(node string) string {
	if node == "" {
		return ""
	}
	if ip, ok := r.nodeIPs.Lookup(node); ok {
		return ip
	}
	ip, err := r.nodeIPs.Allocate(node)
	if err != nil {
		return ""
	}
	return ip
}

// nodeNetwork is what templates read from a node, cached per resourceVersion: pod templates
// ask for it on every render, and a node changes rarely (heartbeats).
type nodeNetwork struct {
	resourceVersion   string
	hostIPs, podCIDRs []string
}

func (r *stageRunner) nodeInfo(name string) nodeNetwork {
	if r.api == nil {
		return nodeNetwork{} // ExplainEnv: no cluster
	}
	obj, ok, _ := r.api.informers["Node"].indexer.GetByKey(name)
	if !ok {
		return nodeNetwork{}
	}
	n := obj.(*corev1.Node)
	if c, ok := r.nodes[name]; ok && c.resourceVersion == n.ResourceVersion {
		return c
	}
	info := nodeNetwork{resourceVersion: n.ResourceVersion}
	if m, err := stages.Object(n); err == nil {
		info.hostIPs, info.podCIDRs = stages.NodeHostIPs(m), stages.NodePodCIDRs(m)
	}
	r.nodes[name] = info
	return info
}

// ExplainEnv is the template environment of a fresh run at its start, for rendering one
// object's stages outside a simulation (`kwoksim stages explain`): Now is the run's epoch,
// nodes get the first addresses the simulator would give them, pods the first pod IPs of the
// default CIDR.
func ExplainEnv(kind string, obj map[string]any) (stages.Env, error) {
	r, err := newStageRunner(nil, clock.NewVirtual(Epoch), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	return r.env(kind, obj), nil
}
