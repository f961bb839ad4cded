package sim

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/kubernetes/pkg/scheduler"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// defaultRelayoutPodWrites is the least number of pod writes that makes a pod relayout due
// by default (Config.RelayoutPodWrites). Below a few thousand pods what the scheduler reads
// of them fits in the caches anyway.
const defaultRelayoutPodWrites = 4096

// podSlab is how many pod copies a relayout allocates together: pods in one block are read in
// sequence (a pod is 1,240 bytes; the loop reads its first few hundred), and a block of 32
// is small enough that the pods still alive in it keep little that is not alive.
const podSlab = 32

// podLayout lays out the pods the scheduler's cache holds afresh, node after node in the order
// the scheduler's snapshot lists the nodes (listOrder), in blocks of podSlab, as nodeLayout
// lays out the nodes.
//
// Why: default topology spreading (PodTopologySpread's PreScore, countPodsMatchSelector)
// reads every pod on every node in every scheduling cycle, through the cache's PodInfo and
// then the pod. A pod the simulator stores was made at its own write, amid that write's
// garbage, and a pod is written again when it is bound and when its stages move it, so at
// tens of thousands of pods that loop waits on memory: at 5,000 nodes × 10,000 pods it was
// half of a run's time, a third of it in the two loads. Pods copied one after another, with
// new PodInfos, are read in sequence: at that size the two loads went from 36.7 s to 12 s of
// CPU (README, "Memory at scale").
//
// Nothing is told: a copy is identical, so no handler runs and no cluster event fires. The
// scheduler's cache takes the copies through RemovePod and AddPod (pkg/scheduler/backend/cache,
// cache.go): all of a node's pods are removed, then added back in the cache's order. Removal
// swaps the last pod into the removed one's place (framework/types.go, removeFromSlice) and
// NodeInfo.AddPod appends, so emptying a node and re-adding keeps its order (preemption reads
// it to choose among victims of equal priority and start time). The informer, the store and
// whoever indexes stored pods (API.OnRelaid) swap the old object for the copy.
// A node is left as it is when its pods cannot be put back exactly: a pod the scheduler has
// assumed and not yet seen bound, a pod of a pod group (the cache tracks its group too), a
// pod with inter-pod affinity (the cache keeps those in lists of their own, whose order
// re-adding could change), a pod whose cache object is not the informer's, or a node the
// cache has no Node for. TestPodRelayoutDoesNotChangeTheReport checks that no decision
// depends on whether or when a relayout happened.
type podLayout struct {
	// threshold is Config.RelayoutPodWrites; writes counts pod writes since the last relayout;
	// done counts relayouts, moved the pods they copied.
	threshold, writes, done, moved int
	// pods is how many pods are stored.
	pods int
}

// due reports whether enough pods were written to lay them out again.
func (l *podLayout) due() bool {
	return relayoutDue(l.threshold, l.writes, defaultRelayoutPodWrites, l.pods)
}

// relayoutPods lays the scheduler's pods out afresh when enough were written (see podLayout).
// It runs between scheduling cycles, when no binding is in flight.
func (s *Simulator) relayoutPods() error {
	a := s.api
	a.mu.Lock()
	defer a.mu.Unlock()
	inf := a.informers["Pod"]
	if inf == nil || !a.podLayout.due() {
		return nil
	}
	a.podLayout.writes = 0
	a.podLayout.done++
	c, logger := s.driver.sched.Cache, s.driver.logger
	dump := c.Dump()
	names := listOrder(s.driver.sched, dump.Nodes)
	kind := kinds["Pod"]
	var slab []corev1.Pod
	for _, name := range names {
		pods := movablePods(dump.Nodes[name], dump.AssumedPods.Has, inf)
		for _, p := range pods {
			if err := c.RemovePod(logger, p); err != nil {
				return fmt.Errorf("laying out the pods of node %s: %v", name, err)
			}
		}
		for _, old := range pods {
			if len(slab) == 0 {
				slab = make([]corev1.Pod, podSlab)
			}
			cp := &slab[0]
			slab = slab[1:]
			*cp = *old // stored objects are never modified in place: the copy may share their parts
			if err := c.AddPod(logger, cp); err != nil {
				return fmt.Errorf("laying out the pods of node %s: %v", name, err)
			}
			inf.swap(cp)
			if cur, err := a.tracker.shared(kind.GVR, old.Namespace, old.Name); err == nil && cur == runtime.Object(old) {
				_ = a.tracker.Update(kind.GVR, cp, old.Namespace)
			}
			a.tellRelaid(kind, old, cp)
		}
		a.podLayout.moved += len(pods)
	}
	return nil
}

// movablePods returns a node's pods in the cache's order when every one of them can be
// copied and put back exactly (see podLayout), or nil.
func movablePods(ni *framework.NodeInfo, assumed func(uid string) bool, inf *syncInformer) []*corev1.Pod {
	if ni == nil || ni.Node() == nil || len(ni.Pods) == 0 ||
		len(ni.PodsWithAffinity) > 0 || len(ni.PodsWithRequiredAntiAffinity) > 0 || len(ni.PodsWithRequiredNonHostScopedAntiAffinity) > 0 {
		return nil
	}
	pods := make([]*corev1.Pod, 0, len(ni.Pods))
	for _, pi := range ni.Pods {
		p := pi.GetPod()
		key := p.Namespace + "/" + p.Name
		if assumed(string(p.UID)) || p.Spec.SchedulingGroup != nil {
			return nil
		}
		if held, ok, _ := inf.indexer.GetByKey(key); !ok || held != any(p) {
			return nil
		}
		pods = append(pods, p)
	}
	return pods
}

// listOrder returns the names of the nodes in dump in the order the scheduler's snapshot lists
// them (the order its plugins visit every node in: the node tree's, zones taken in turn),
// then those the snapshot has not seen yet, by name.
func listOrder(sched *scheduler.Scheduler, nodes map[string]*framework.NodeInfo) []string {
	names := make([]string, 0, len(nodes))
	seen := make(map[string]bool, len(nodes))
	profiles := make([]string, 0, len(sched.Profiles))
	for name := range sched.Profiles {
		profiles = append(profiles, name)
	}
	sort.Strings(profiles)
	if len(profiles) > 0 {
		// Every profile shares the one snapshot.
		if infos, err := sched.Profiles[profiles[0]].SnapshotSharedLister().NodeInfos().List(); err == nil {
			for _, ni := range infos {
				if n := ni.Node(); n != nil && nodes[n.Name] != nil && !seen[n.Name] {
					seen[n.Name] = true
					names = append(names, n.Name)
				}
			}
		}
	}
	rest := make([]string, 0, len(nodes)-len(names))
	for name := range nodes {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}
