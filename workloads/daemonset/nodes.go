package daemonset

import (
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"
	"k8s.io/kubernetes/pkg/features"
)

// Which nodes a DaemonSet runs on, and what each node needs.

// eligibility is what decides, for one DaemonSet, whether a node should run its pod.
type eligibility struct {
	ds           *appsv1.DaemonSet
	tolerations  []corev1.Toleration
	nodeAffinity nodeaffinity.RequiredNodeAffinity
	logger       klog.Logger
}

func newEligibility(ds *appsv1.DaemonSet, logger klog.Logger) *eligibility {
	spec := ds.Spec.Template.Spec.DeepCopy()
	dsutil.AddOrUpdateDaemonPodTolerations(spec)
	return &eligibility{ds: ds, tolerations: spec.Tolerations, logger: logger,
		nodeAffinity: nodeaffinity.NewRequiredNodeAffinity(ds.Spec.Template.Spec.NodeSelector, ds.Spec.Template.Spec.Affinity)}
}

// shouldRun is the real nodeShouldRunDaemonPod: whether a pod should be created on the node,
// and whether an existing one may keep running there (an untolerated NoSchedule taint stops
// new pods, only NoExecute evicts).
func (e *eligibility) shouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if e.ds.Spec.Template.Spec.NodeName != "" && e.ds.Spec.Template.Spec.NodeName != node.Name {
		return false, false
	}
	if ok, _ := e.nodeAffinity.Match(node); !ok {
		return false, false
	}
	cmpOps := utilfeature.DefaultFeatureGate.Enabled(features.TaintTolerationComparisonOperators)
	_, untolerated := v1helper.FindMatchingUntoleratedTaint(e.logger, node.Spec.Taints, e.tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute || t.Effect == corev1.TaintEffectNoSchedule
	}, cmpOps)
	if !untolerated {
		return true, true
	}
	_, evicting := v1helper.FindMatchingUntoleratedTaint(e.logger, node.Spec.Taints, e.tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute
	}, cmpOps)
	return false, !evicting
}

// podsShouldBeOnNode is the real podsShouldBeOnNode for one node.
func (x *Controller) podsShouldBeOnNode(node *corev1.Node, byNode map[string][]*corev1.Pod, ds *appsv1.DaemonSet, elig *eligibility, hash string) (needing, toDelete []string) {
	shouldRun, shouldContinueRunning := elig.shouldRun(node)
	pods, exists := byNode[node.Name]
	switch {
	case shouldRun && !exists:
		needing = append(needing, node.Name)
	case shouldContinueRunning:
		var running []*corev1.Pod
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			switch p.Status.Phase {
			case corev1.PodFailed:
				// Failed pods are replaced, but no faster than the per-node backoff allows.
				key := fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node.Name)
				now := x.backoff.Clock.Now()
				if x.backoff.IsInBackOffSinceUpdate(key, now) {
					x.queue.AddAfter(ds.Namespace, ds.Name, x.backoff.Get(key))
					continue
				}
				x.backoff.Next(key, now)
				x.m.Simulator().Recorder().Event(ds, corev1.EventTypeWarning, "FailedDaemonPod", fmt.Sprintf("Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, node.Name))
				toDelete = append(toDelete, p.Name)
			case corev1.PodSucceeded:
				toDelete = append(toDelete, p.Name)
			default:
				running = append(running, p)
			}
		}
		if !dsutil.AllowsSurge(ds) {
			// One pod per node: keep the oldest.
			if len(running) > 1 {
				sortPods(running)
				for _, p := range running[1:] {
					toDelete = append(toDelete, p.Name)
				}
			}
			break
		}
		if len(running) <= 1 {
			if len(running) == 0 && shouldRun {
				needing = append(needing, node.Name)
			}
			break
		}
		// Surge: keep the oldest updated and the oldest old pod, until the new one is available.
		var oldestNew, oldestOld *corev1.Pod
		sortPods(running)
		for _, p := range running {
			if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
				if oldestNew == nil {
					oldestNew = p
					continue
				}
			} else if oldestOld == nil {
				oldestOld = p
				continue
			}
			toDelete = append(toDelete, p.Name)
		}
		if oldestNew != nil && oldestOld != nil {
			if !podutil.IsPodReady(oldestOld) || podutil.IsPodAvailable(oldestNew, ds.Spec.MinReadySeconds, metav1.Time{Time: x.backoff.Clock.Now()}) {
				toDelete = append(toDelete, oldestOld.Name)
			}
		}
	case !shouldContinueRunning && exists:
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				toDelete = append(toDelete, p.Name)
			}
		}
	}
	return needing, toDelete
}

// sortPods is the real podByCreationTimestampAndPhase: bound before unbound, then oldest,
// then by name.
func sortPods(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}
