package nodeautoscaler

import (
	"fmt"

	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kwoksim/kwoksim/sim"
)

// swapLister is the lister the autoscaler's frameworks read: whichever Snapshot is deciding
// at the moment. A framework is built once per scheduler profile; snapshots come and go.
// Pod groups (gang scheduling, kube-scheduler's GenericWorkload) are not simulated: they read
// as none, as from an empty scheduler snapshot.
type swapLister struct {
	cur   *Snapshot
	empty *internalcache.Snapshot
}

func newSwapLister() *swapLister { return &swapLister{empty: internalcache.NewEmptySnapshot()} }

func (l *swapLister) NodeInfos() fwk.NodeInfoLister       { return l.cur }
func (l *swapLister) StorageInfos() fwk.StorageInfoLister { return l.cur }
func (l *swapLister) PodGroupStates() fwk.PodGroupStateLister {
	return l.empty.PodGroupStates()
}
func (l *swapLister) PodGroups() fwk.PodGroupLister { return l.empty.PodGroups() }
func (l *swapLister) CompositePodGroupStates() fwk.CompositePodGroupStateLister {
	return l.empty.CompositePodGroupStates()
}
func (l *swapLister) CompositePodGroups() fwk.CompositePodGroupLister {
	return l.empty.CompositePodGroups()
}

// The NodeInfoLister and StorageInfoLister of a Snapshot, as the scheduler's own Snapshot
// (pkg/scheduler/backend/cache/snapshot.go) gives them.

// List is every node's NodeInfo, in the snapshot's order.
func (sn *Snapshot) List() ([]fwk.NodeInfo, error) {
	if sn.list == nil {
		sn.list = make([]fwk.NodeInfo, 0, len(sn.nodes))
		for _, n := range sn.nodes {
			sn.list = append(sn.list, sn.infos[n.Name])
		}
	}
	return sn.list, nil
}

func (sn *Snapshot) filter(has func(*framework.NodeInfo) bool) ([]fwk.NodeInfo, error) {
	var out []fwk.NodeInfo
	for _, n := range sn.nodes {
		if ni := sn.infos[n.Name]; has(ni) {
			out = append(out, ni)
		}
	}
	return out, nil
}

// HavePodsWithAffinityList are the nodes with a pod that has inter-pod (anti-)affinity.
func (sn *Snapshot) HavePodsWithAffinityList() ([]fwk.NodeInfo, error) {
	return sn.filter(func(ni *framework.NodeInfo) bool { return len(ni.PodsWithAffinity) > 0 })
}

// HavePodsWithRequiredAntiAffinityList are the nodes with a pod that has required
// anti-affinity.
func (sn *Snapshot) HavePodsWithRequiredAntiAffinityList() ([]fwk.NodeInfo, error) {
	return sn.filter(func(ni *framework.NodeInfo) bool { return len(ni.PodsWithRequiredAntiAffinity) > 0 })
}

// HavePodsWithRequiredNonHostScopedAntiAffinityList are the nodes with a pod whose required
// anti-affinity has a topology key other than the hostname.
func (sn *Snapshot) HavePodsWithRequiredNonHostScopedAntiAffinityList() ([]fwk.NodeInfo, error) {
	return sn.filter(func(ni *framework.NodeInfo) bool { return len(ni.PodsWithRequiredNonHostScopedAntiAffinity) > 0 })
}

// Get is a node's NodeInfo.
func (sn *Snapshot) Get(nodeName string) (fwk.NodeInfo, error) {
	if ni := sn.infos[nodeName]; ni != nil {
		return ni, nil
	}
	return nil, fmt.Errorf("nodeinfo not found for node name %q", nodeName)
}

// IsPVCUsedByPods is whether a pod of the snapshot uses the claim "namespace/name".
func (sn *Snapshot) IsPVCUsedByPods(key string) bool {
	for _, ni := range sn.infos {
		if ni.PVCRefCounts[key] > 0 {
			return true
		}
	}
	return false
}

// framework is the Filter framework of a scheduler profile, reading sn.
func (rt *Runtime) framework(schedulerName string, sn *Snapshot) (*sim.FilterFrameworkResult, error) {
	if schedulerName == "" {
		schedulerName = corev1DefaultScheduler
	}
	rt.lister.cur = sn
	rt.dra.cur = sn.dra
	if fw, ok := rt.frameworks[schedulerName]; ok {
		return fw, nil
	}
	fw, err := rt.s.FilterFramework(schedulerName, rt.lister, rt.dra.wrap)
	if err != nil {
		return nil, err
	}
	rt.frameworks[schedulerName] = fw
	return fw, nil
}

// corev1DefaultScheduler is the scheduler name the apiserver defaults (corev1.DefaultSchedulerName).
const corev1DefaultScheduler = "default-scheduler"
