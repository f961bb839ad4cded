package daemonset

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"
)

// rollingUpdate is the real DaemonSet rollingUpdate (update.go), walking nodes in name order
// where the real one walks a map. Without maxSurge it deletes outdated pods (those already
// unavailable first, then available ones) while at most maxUnavailable nodes are without an
// available pod; the next sync creates their replacements. With maxSurge it first creates the
// new pod next to the old one and deletes the old one once the new one is available.
func (x *Controller) rollingUpdate(ds *appsv1.DaemonSet, elig *eligibility, hash string) error {
	byNode := x.podsByNode(ds)
	// Every node that should run the pod is considered, with or without one.
	desired := 0
	for _, name := range x.nodeNames {
		if run, _ := elig.shouldRun(x.nodes[name]); run {
			desired++
			if _, ok := byNode[name]; !ok {
				byNode[name] = nil
			}
		}
	}
	maxUnavailable, err := dsutil.UnavailableCount(ds, desired)
	if err != nil {
		return fmt.Errorf("invalid value for MaxUnavailable: %w", err)
	}
	maxSurge, err := dsutil.SurgeCount(ds, desired)
	if err != nil {
		return fmt.Errorf("invalid value for MaxSurge: %w", err)
	}
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		maxUnavailable = 1
	}
	nodes := make([]string, 0, len(byNode))
	for name := range byNode {
		nodes = append(nodes, name)
	}
	sort.Strings(nodes)
	generation, err := dsutil.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}
	now := metav1.Time{Time: x.m.Clock().Now()}
	available := func(p *corev1.Pod) bool { return podutil.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }

	if maxSurge == 0 {
		numUnavailable := 0
		var allowed, candidates []string
		for _, name := range nodes {
			newPod, oldPod, ok := updatedPodsOnNode(byNode[name], hash, generation)
			if !ok {
				// Several pods on the node: manage deletes the extra ones first.
				numUnavailable++
				continue
			}
			switch {
			case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
				numUnavailable++
			case newPod != nil:
				if !available(newPod) {
					numUnavailable++
				}
			case !available(oldPod):
				allowed = append(allowed, oldPod.Name)
				numUnavailable++
			case numUnavailable >= maxUnavailable:
			default:
				candidates = append(candidates, oldPod.Name)
			}
		}
		remaining := min(max(maxUnavailable-numUnavailable, 0), len(candidates))
		return x.syncNodes(ds, append(allowed, candidates[:remaining]...), nil, hash)
	}

	var oldToDelete, shouldNotRun, candidateNodes, allowedNodes []string
	numSurge, numAvailable := 0, 0
	for _, name := range nodes {
		newPod, oldPod, ok := updatedPodsOnNode(byNode[name], hash, generation)
		if !ok {
			numSurge++
			continue
		}
		if oldPod != nil && available(oldPod) || oldPod == nil && newPod != nil && available(newPod) {
			numAvailable++
		}
		switch {
		case oldPod == nil:
		case newPod == nil:
			node := x.nodes[name]
			if node == nil {
				// The node is gone (the real controller fails the sync here, again and again).
				continue
			}
			run, _ := elig.shouldRun(node)
			switch {
			case !available(oldPod) && !run:
				oldToDelete = append(oldToDelete, oldPod.Name)
			case !available(oldPod):
				allowedNodes = append(allowedNodes, name)
			case !run:
				shouldNotRun = append(shouldNotRun, oldPod.Name)
			case numSurge >= maxSurge:
			default:
				candidateNodes = append(candidateNodes, name)
			}
		default:
			if !available(newPod) {
				numSurge++
				continue
			}
			oldToDelete = append(oldToDelete, oldPod.Name)
		}
	}
	if deletable := min(numAvailable-desired, len(shouldNotRun)); deletable > 0 {
		oldToDelete = append(oldToDelete, shouldNotRun[:deletable]...)
	}
	remaining := min(max(maxSurge-numSurge, 0), len(candidateNodes))
	return x.syncNodes(ds, oldToDelete, append(allowedNodes, candidateNodes[:remaining]...), hash)
}

// updatedPodsOnNode is the real findUpdatedPodsOnNode: the node's one updated and one
// outdated pod, not ok when there are more of either.
func updatedPodsOnNode(pods []*corev1.Pod, hash string, generation *int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if dsutil.IsPodUpdated(p, hash, generation) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}
