package nodeautoscaler

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-helpers/resource"
	fwk "k8s.io/kube-scheduler/framework"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/devices"
)

// Snapshot is a hypothetical cluster: nodes (real ones, and template nodes that do not exist
// yet) with the pods on them, on which the real scheduler's PreFilter and Filter plugins say
// whether a pod would fit a node. It is cluster-autoscaler's ClusterSnapshot
// (simulator/clustersnapshot), kept as the scheduler's own NodeInfos
// (pkg/scheduler/framework), updated in place: adding a node, placing or removing a pod
// changes one NodeInfo, as the scheduler's cache does. Not safe for concurrent use; one per
// decision.
type Snapshot struct {
	rt *Runtime
	// nodes in the order they were added (the cluster's by name first), and their NodeInfos.
	nodes []*corev1.Node
	infos map[string]*framework.NodeInfo
	// pods are the pods on each node, placed ones included, in placement order.
	pods map[string][]*corev1.Pod
	// where is the node each pod is on, by UID.
	where map[types.UID]string
	// list caches NodeInfos().List() until the next change of the node set.
	list []fwk.NodeInfo
	// stored are the names of the nodes that exist (the others are templates and upcoming
	// nodes), dra the devices and claims as the simulation changes them (dra.go).
	stored map[string]bool
	dra    *draOverlay
	// fitted is the cycle of the last pod found to fit a node (Fits, FirstFit), for Place to
	// take its device allocation from; nil after any change.
	fitted *fitted
	// sliceIndex are the stored ResourceSlices by node (nodeSlices), built when first read.
	sliceIndex map[string][]*resourcev1.ResourceSlice
	// ignoreClaims simulates pods as if they claimed no devices (Karpenter's
	// --ignore-dra-requests).
	ignoreClaims bool
}

// fitted is a pod's cycle that found the node fits it.
type fitted struct {
	pod  types.UID
	node string
	c    *cycle
}

// Snapshot returns the cluster as it stands: every Node (those being removed included; leave
// them out with RemoveNode) and the pods bound to them that are not terminal.
func (rt *Runtime) Snapshot() (*Snapshot, error) {
	nodes, err := rt.Nodes()
	if err != nil {
		return nil, err
	}
	pods, err := rt.Pods()
	if err != nil {
		return nil, err
	}
	sn := &Snapshot{rt: rt, infos: make(map[string]*framework.NodeInfo, len(nodes)), pods: map[string][]*corev1.Pod{},
		where: make(map[types.UID]string, len(pods)), stored: make(map[string]bool, len(nodes)), dra: newDRAOverlay()}
	for _, n := range nodes {
		sn.stored[n.Name] = true
		sn.AddNode(n)
	}
	// Stored pods are never changed in place (a write stores a new object), so the PodInfo
	// of one (its requests, affinity terms) is computed once, not at every snapshot.
	cache := make(map[*corev1.Pod]*framework.PodInfo, len(pods))
	for _, p := range pods {
		if p.Spec.NodeName == "" || podutil.IsPodTerminal(p) {
			continue
		}
		ni := sn.infos[p.Spec.NodeName]
		if ni == nil {
			continue // bound to a node that is gone: the pod GC's
		}
		pi := rt.podInfos[p]
		if pi == nil {
			if pi, err = framework.NewPodInfo(p); err != nil {
				return nil, err
			}
		}
		cache[p] = pi
		ni.AddPodInfo(pi)
		sn.pods[p.Spec.NodeName] = append(sn.pods[p.Spec.NodeName], p)
		sn.where[p.UID] = p.Spec.NodeName
	}
	rt.podInfos = cache
	return sn, nil
}

// Nodes are the snapshot's nodes, in the order they were added (the cluster's by name first).
func (sn *Snapshot) Nodes() []*corev1.Node { return sn.nodes }

// Node is the named node, or nil.
func (sn *Snapshot) Node(name string) *corev1.Node {
	if ni := sn.infos[name]; ni != nil {
		return ni.Node()
	}
	return nil
}

// Pods are the pods on a node, placed ones included.
func (sn *Snapshot) Pods(node string) []*corev1.Pod { return sn.pods[node] }

// AddNode adds a node (a template copy of a shape, or an upcoming node). One that does not
// exist, or whose driver has not published its slices yet, gets the ResourceSlices of its
// kwoksim.io/devices annotation (see draOverlay.addNode).
func (sn *Snapshot) AddNode(n *corev1.Node) {
	ni := framework.NewNodeInfo()
	ni.SetNode(n)
	sn.nodes = append(sn.nodes, n)
	sn.infos[n.Name] = ni
	sn.list = nil
	sn.fitted = nil
	if a := n.Annotations[devices.Annotation]; a != "" {
		var published func(driver, node string) bool
		if sn.stored[n.Name] {
			published = sn.published
		}
		sn.dra.addNode(n.Name, n.UID, a, published)
	}
}

// RemoveNode takes a node and its pods out and returns those pods.
func (sn *Snapshot) RemoveNode(name string) []*corev1.Pod {
	i := slices.IndexFunc(sn.nodes, func(n *corev1.Node) bool { return n.Name == name })
	if i < 0 {
		return nil
	}
	sn.nodes = slices.Delete(sn.nodes, i, i+1)
	delete(sn.infos, name)
	sn.list = nil
	sn.fitted = nil
	pods := sn.pods[name]
	delete(sn.pods, name)
	for _, p := range pods {
		delete(sn.where, p.UID)
		sn.releaseClaims(p)
	}
	delete(sn.dra.slices, name)
	return pods
}

// Place puts a pod on a node (a copy with spec.nodeName set), as if the scheduler bound it.
func (sn *Snapshot) Place(pod *corev1.Pod, node string) error {
	ni := sn.infos[node]
	if ni == nil {
		return fmt.Errorf("snapshot has no node %q", node)
	}
	f := sn.fitted
	if _, ok := sn.where[pod.UID]; ok {
		sn.Unplace(pod) // its claims released: a cycle found before does not hold
		f = nil
	}
	p := pod.DeepCopy()
	p.Spec.NodeName = node
	pi, err := framework.NewPodInfo(p)
	if err != nil {
		return err
	}
	ni.AddPodInfo(pi)
	sn.pods[node] = append(sn.pods[node], p)
	sn.where[p.UID] = node
	sn.allocateClaims(p, node, f)
	sn.fitted = nil
	return nil
}

// Unplace takes a pod off the node it is on in the snapshot.
func (sn *Snapshot) Unplace(pod *corev1.Pod) {
	node, ok := sn.where[pod.UID]
	if !ok {
		return
	}
	delete(sn.where, pod.UID)
	pods := sn.pods[node]
	i := slices.IndexFunc(pods, func(p *corev1.Pod) bool { return p.UID == pod.UID })
	old := pods[i]
	sn.pods[node] = slices.Delete(pods, i, i+1)
	if ni := sn.infos[node]; ni != nil {
		_ = ni.RemovePod(sn.rt.logger, old) // it is there: placed above, or listed at creation
	}
	sn.releaseClaims(old)
	sn.fitted = nil
}

// NodeOf is the node a pod is on in the snapshot, "" if none.
func (sn *Snapshot) NodeOf(pod *corev1.Pod) string { return sn.where[pod.UID] }

// Fit is whether a pod would fit a node, and if not, why: the Filter (or PreFilter) plugins'
// reasons, as the scheduler words them.
type Fit struct {
	OK      bool
	Reasons []string
}

func (f Fit) String() string {
	if f.OK {
		return "fits"
	}
	return strings.Join(f.Reasons, ", ")
}

// cycle is one pod's scheduling cycle on the snapshot: its PreFilter plugins have run, and
// Filter runs per node on their cycle state.
type cycle struct {
	fw    *sim.FilterFrameworkResult
	pod   *corev1.Pod
	state *framework.CycleState
	res   *fwk.PreFilterResult
	// rejected is PreFilter's refusal, nil when it let the pod through.
	rejected *fwk.Status
}

// preFilter starts a cycle for the pod, unbound (a pod that has a node is simulated as if it
// had none: it is being moved).
func (sn *Snapshot) preFilter(pod *corev1.Pod) (*cycle, error) {
	fw, err := sn.rt.framework(pod.Spec.SchedulerName, sn)
	if err != nil {
		return nil, err
	}
	p := pod
	if p.Spec.NodeName != "" || (sn.ignoreClaims && len(p.Spec.ResourceClaims) > 0) {
		p = pod.DeepCopy()
		p.Spec.NodeName = ""
		if sn.ignoreClaims {
			p.Spec.ResourceClaims = nil
		}
	}
	c := &cycle{fw: fw, pod: p, state: framework.NewCycleState()}
	res, st, _ := fw.Framework.RunPreFilterPlugins(context.Background(), c.state, p)
	if !st.IsSuccess() {
		c.rejected = st
	}
	c.res = res
	return c, nil
}

// filter runs the Filter plugins on a node; nil is a fit.
func (c *cycle) filter(ni *framework.NodeInfo) []string {
	if c.rejected != nil {
		return reasons(c.rejected)
	}
	if c.res != nil && !c.res.AllNodes() && !c.res.NodeNames.Has(ni.Node().Name) {
		return []string{"node(s) didn't satisfy plugin(s) PreFilter's node set"}
	}
	if st := c.fw.Framework.RunFilterPlugins(context.Background(), c.state, c.pod, ni); !st.IsSuccess() {
		return reasons(st)
	}
	return nil
}

// Fits runs the pod's scheduler profile's PreFilter and Filter plugins for the pod on the
// node, as cluster-autoscaler's SchedulerPluginRunner.RunFiltersOnNode does.
func (sn *Snapshot) Fits(pod *corev1.Pod, node string) (Fit, error) {
	ni := sn.infos[node]
	if ni == nil {
		return Fit{}, fmt.Errorf("snapshot has no node %q", node)
	}
	c, err := sn.preFilter(pod)
	if err != nil {
		return Fit{}, err
	}
	if r := c.filter(ni); r != nil {
		return Fit{Reasons: r}, nil
	}
	sn.fitted = &fitted{pod: pod.UID, node: node, c: c}
	return Fit{OK: true}, nil
}

// FirstFit is the first of the named nodes the pod fits, "" when none, in the caller's order.
// The pod's PreFilter plugins run once for all the nodes and the Filter plugins per node on
// that cycle state, as the scheduler does in one scheduling cycle and cluster-autoscaler's
// SchedulePodOnAnyNodeMatching (simulator/clustersnapshot/predicate) does: the same answers
// as Fits node by node, without redoing the per-pod work for every node.
func (sn *Snapshot) FirstFit(pod *corev1.Pod, nodes []string) (string, error) {
	if len(nodes) == 0 {
		return "", nil
	}
	c, err := sn.preFilter(pod)
	if err != nil || c.rejected != nil {
		return "", err
	}
	for _, node := range nodes {
		if ni := sn.infos[node]; ni != nil && c.filter(ni) == nil {
			sn.fitted = &fitted{pod: pod.UID, node: node, c: c}
			return node, nil
		}
	}
	return "", nil
}

// Requested is the sum of the requests of the pods on a node (resource.PodRequests, the
// scheduler's and cluster-autoscaler's rule for init containers and overhead).
func (sn *Snapshot) Requested(node string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, p := range sn.pods[node] {
		for name, q := range resource.PodRequests(p, resource.PodResourcesOptions{}) {
			sum := out[name]
			sum.Add(q)
			out[name] = sum
		}
	}
	return out
}

func reasons(st *fwk.Status) []string {
	if r := st.Reasons(); len(r) > 0 {
		return r
	}
	if err := st.AsError(); err != nil {
		return []string{err.Error()}
	}
	return []string{st.Code().String()}
}
