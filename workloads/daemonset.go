package workloads

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"

	"github.com/kwoksim/kwoksim/sim"
)

// The DaemonSet controller, after k8s.io/kubernetes/pkg/controller/daemon (v1.37): one pod per
// eligible node with the real eligibility test (nodeName, node selector and required node
// affinity, taints against the template's tolerations plus those the controller adds), pods
// pinned to their node by the node-name affinity the real controller sets (the scheduler
// binds them), deletion of pods on nodes that no longer qualify and of succeeded or failed
// pods (failed ones with the real per-node backoff), RollingUpdate with maxUnavailable and
// maxSurge, OnDelete, and the real status.
//
// Deliberate deviations:
//   - Revisions are not stored (ControllerRevision is not served); the current revision's hash
//     is computed from the template as the real controller names its revision.
//   - The real controller looks at nodes in the informer's order, and its rolling update walks a
//     Go map of nodes, so which nodes update first differs between runs; here nodes are always
//     taken in name order.
//   - Node events enqueue every DaemonSet (in key order) instead of only those the node
//     concerns; a deleted node also resyncs them (the real controller ignores deletions and
//     leaves pods on a vanished node to the pod GC, which is not simulated either).
//   - Orphan pods are not adopted; a DaemonSet with a deletionTimestamp is not synced.

var dsKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

const (
	// dsBurstReplicas is the real BurstReplicas: creations and deletions per sync.
	dsBurstReplicas = 250
	// dsFailedPodBackoff and dsFailedPodMaxBackoff are the kube-controller-manager's backoff
	// for deleting failed daemon pods.
	dsFailedPodBackoff    = time.Second
	dsFailedPodMaxBackoff = 15 * time.Minute
)

type dsCtl struct {
	c       *Controllers
	podKind *sim.Kind
	// keys are the DaemonSets, sorted: node changes enqueue them in this order.
	keys []objectKey
	// nodes are the stored Node objects by name, and their names sorted.
	nodes     map[string]*corev1.Node
	nodeNames []string
	backoff   *flowcontrol.Backoff
	later     *jobDelayQueue
	logger    klog.Logger
}

func (c *Controllers) daemonSetController() controllerDef {
	podKind, _ := sim.KindNamed("Pod")
	x := &dsCtl{
		c: c, podKind: podKind, nodes: map[string]*corev1.Node{},
		backoff: flowcontrol.NewFakeBackOff(dsFailedPodBackoff, dsFailedPodMaxBackoff, c.s.Clock()),
		logger:  klog.Background(),
	}
	x.later = newJobDelayQueue(c.s.Clock(), "DaemonSet", func(ns, name string) { c.enqueue("DaemonSet", ns, name) })
	// Objects stored before Install.
	for _, kind := range []string{"Node", "DaemonSet"} {
		k, _ := sim.KindNamed(kind)
		objs, _ := c.s.API().List(k)
		for _, o := range objs {
			x.watch(sim.WatchEvent{Kind: k, Type: watch.Added, Object: o})
		}
	}
	return controllerDef{kind: "DaemonSet", sync: x.sync, ownedChanged: dsPodChanged, watch: x.watch}
}

// dsPodChanged: a daemon pod created, gone, terminating, bound, or changing phase or readiness.
func dsPodChanged(ev sim.WatchEvent) bool {
	if ev.Kind.Name() != "Pod" || ev.Old == nil || ev.Type == watch.Deleted {
		return true
	}
	old, cur := ev.Old.(*corev1.Pod), ev.Object.(*corev1.Pod)
	return old.Status.Phase != cur.Status.Phase || old.Spec.NodeName != cur.Spec.NodeName ||
		(old.DeletionTimestamp == nil) != (cur.DeletionTimestamp == nil) ||
		podutil.IsPodReady(old) != podutil.IsPodReady(cur) ||
		!reflect.DeepEqual(old.Labels, cur.Labels)
}

// watch keeps the node cache and the DaemonSet keys, and resyncs every DaemonSet when a node
// appears, goes, or changes what eligibility depends on (labels, taints; unschedulable too,
// though the tolerations every daemon pod gets make it irrelevant). Status-only changes such
// as heartbeats are ignored.
func (x *dsCtl) watch(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case "DaemonSet":
		m := ev.Object.(metav1.Object)
		k := objectKey{"DaemonSet", m.GetNamespace(), m.GetName()}
		i := sort.Search(len(x.keys), func(i int) bool { return !dsKeyLess(x.keys[i], k) })
		found := i < len(x.keys) && x.keys[i] == k
		switch {
		case ev.Type == watch.Deleted && found:
			x.keys = append(x.keys[:i], x.keys[i+1:]...)
			x.later.forget(k.namespace, k.name)
		case ev.Type == watch.Added && !found:
			x.keys = append(x.keys, objectKey{})
			copy(x.keys[i+1:], x.keys[i:])
			x.keys[i] = k
		}
	case "Node":
		node := ev.Object.(*corev1.Node)
		i := sort.SearchStrings(x.nodeNames, node.Name)
		found := i < len(x.nodeNames) && x.nodeNames[i] == node.Name
		switch ev.Type {
		case watch.Added:
			if !found {
				x.nodeNames = append(x.nodeNames, "")
				copy(x.nodeNames[i+1:], x.nodeNames[i:])
				x.nodeNames[i] = node.Name
			}
		case watch.Deleted:
			if found {
				x.nodeNames = append(x.nodeNames[:i], x.nodeNames[i+1:]...)
			}
			delete(x.nodes, node.Name)
			x.enqueueAll()
			return
		}
		old := x.nodes[node.Name]
		x.nodes[node.Name] = node
		if old == nil || !apiequality.Semantic.DeepEqual(old.Labels, node.Labels) ||
			!apiequality.Semantic.DeepEqual(old.Spec.Taints, node.Spec.Taints) || old.Spec.Unschedulable != node.Spec.Unschedulable {
			x.enqueueAll()
		}
	}
}

func dsKeyLess(a, b objectKey) bool {
	if a.namespace != b.namespace {
		return a.namespace < b.namespace
	}
	return a.name < b.name
}

func (x *dsCtl) enqueueAll() {
	for _, k := range x.keys {
		x.c.enqueue("DaemonSet", k.namespace, k.name)
	}
}

func (x *dsCtl) sync(ns, name string) error {
	obj, err := x.c.get("DaemonSet", ns, name)
	if err != nil {
		return nil // deleted since
	}
	ds := obj.(*appsv1.DaemonSet)
	if reflect.DeepEqual(ds.Spec.Selector, &metav1.LabelSelector{}) {
		x.c.s.Recorder().Event(ds, corev1.EventTypeWarning, "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	hash := controller.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	elig := newDSEligibility(ds, x.logger)
	changed, err := x.manage(ds, elig, hash)
	// The real controller rolls out only when its expectations of the last creations and
	// deletions are met, which the informer confirms after the sync that made them: a sync
	// that created or deleted pods leaves the rollout to the next one.
	if err == nil && !changed && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		err = x.rollingUpdate(ds, elig, hash)
	}
	if statusErr := x.updateStatus(ds, elig, hash); err == nil {
		err = statusErr
	}
	return err
}

// podsByNode maps each target node (spec.nodeName, else the node-name affinity) to the
// DaemonSet's pods there, leaving out pods that ended and are being deleted.
func (x *dsCtl) podsByNode(ds *appsv1.DaemonSet) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, o := range x.c.ownedBy(ds.UID, "Pod") {
		p := o.(*corev1.Pod)
		if podutil.IsPodTerminal(p) && p.DeletionTimestamp != nil {
			continue
		}
		node, err := dsutil.GetTargetNodeName(p)
		if err != nil {
			continue
		}
		out[node] = append(out[node], p)
	}
	return out
}

// manage creates the pods nodes are missing and deletes those that must go. It reports
// whether it created or deleted any.
func (x *dsCtl) manage(ds *appsv1.DaemonSet, elig *dsEligibility, hash string) (bool, error) {
	byNode := x.podsByNode(ds)
	var needing, toDelete []string
	for _, name := range x.nodeNames {
		n, d := x.podsShouldBeOnNode(x.nodes[name], byNode, ds, elig, hash)
		needing = append(needing, n...)
		toDelete = append(toDelete, d...)
	}
	// Pods aimed at nodes that no longer exist and never got bound.
	var gone []string
	for node, pods := range byNode {
		if x.nodes[node] != nil {
			continue
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" {
				gone = append(gone, p.Name)
			}
		}
	}
	sort.Strings(gone)
	toDelete = append(toDelete, gone...)
	return len(needing)+len(toDelete) > 0, x.syncNodes(ds, toDelete, needing, hash)
}

// syncNodes deletes and creates pods, at most dsBurstReplicas of each per sync. A new pod
// carries the template (with the daemon tolerations, the revision hash and the template
// generation) and a required node affinity for its node, which the scheduler honours.
func (x *dsCtl) syncNodes(ds *appsv1.DaemonSet, toDelete, needing []string, hash string) error {
	needing = needing[:min(len(needing), dsBurstReplicas)]
	toDelete = toDelete[:min(len(toDelete), dsBurstReplicas)]
	generation, err := dsutil.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}
	template := dsutil.CreatePodTemplate(ds.Spec.Template, generation, hash)
	ref := metav1.NewControllerRef(ds, dsKind)
	var firstErr error
	for _, node := range needing {
		t := template.DeepCopy()
		t.Spec.Affinity = dsutil.ReplaceDaemonSetPodNodeNameNodeAffinity(t.Spec.Affinity, node)
		pod, err := controller.GetPodFromTemplate(t, ds, ref)
		if err == nil {
			pod.Namespace = ds.Namespace
			_, err = x.c.s.API().Create(pod)
		}
		if err != nil {
			// Like the real slow start, stop creating after a failure.
			firstErr = fmt.Errorf("creating a pod for node %s: %w", node, err)
			break
		}
	}
	for _, name := range toDelete {
		if err := x.c.s.API().Delete(x.podKind, ds.Namespace, name, metav1.DeleteOptions{}); err != nil && !isNotFound(err) && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// updateStatus is the real updateDaemonSetStatus.
func (x *dsCtl) updateStatus(ds *appsv1.DaemonSet, elig *dsEligibility, hash string) error {
	byNode := x.podsByNode(ds)
	now := x.c.s.Clock().Now()
	generation, err := dsutil.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}
	var desired, current, misscheduled, ready, updated, available int32
	for _, name := range x.nodeNames {
		shouldRun, _ := elig.shouldRun(x.nodes[name])
		pods := byNode[name]
		if !shouldRun {
			if len(pods) > 0 {
				misscheduled++
			}
			continue
		}
		desired++
		if len(pods) == 0 {
			continue
		}
		current++
		dsSortPods(pods)
		p := pods[0]
		if podutil.IsPodReady(p) {
			ready++
			if podutil.IsPodAvailable(p, ds.Spec.MinReadySeconds, metav1.Time{Time: now}) {
				available++
			}
		}
		if dsutil.IsPodUpdated(p, hash, generation) {
			updated++
		}
	}
	st := ds.Status
	if st.DesiredNumberScheduled != desired || st.CurrentNumberScheduled != current || st.NumberMisscheduled != misscheduled ||
		st.NumberReady != ready || st.UpdatedNumberScheduled != updated || st.NumberAvailable != available ||
		st.NumberUnavailable != desired-available || st.ObservedGeneration < ds.Generation {
		next := ds.DeepCopy()
		next.Status.ObservedGeneration = ds.Generation
		next.Status.DesiredNumberScheduled, next.Status.CurrentNumberScheduled = desired, current
		next.Status.NumberMisscheduled, next.Status.NumberReady = misscheduled, ready
		next.Status.UpdatedNumberScheduled, next.Status.NumberAvailable = updated, available
		next.Status.NumberUnavailable = desired - available
		if _, err := x.c.s.API().UpdateStatus(next); err != nil {
			return err
		}
	}
	if ds.Spec.MinReadySeconds > 0 && ready != available {
		x.later.after(ds.Namespace, ds.Name, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}
