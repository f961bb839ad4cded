package daemonset

import (
	"fmt"
	"reflect"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	dsutil "k8s.io/kubernetes/pkg/controller/daemon/util"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
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

var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

const (
	// burstReplicas is the real BurstReplicas: creations and deletions per sync.
	burstReplicas = 250
	// failedPodBackoff and failedPodMaxBackoff are the kube-controller-manager's backoff
	// for deleting failed daemon pods.
	failedPodBackoff    = time.Second
	failedPodMaxBackoff = 15 * time.Minute
)

// Controller is the DaemonSet controller.
type Controller struct {
	m       *manager.Manager
	podKind *sim.Kind
	// keys are the DaemonSets, sorted: node changes enqueue them in this order.
	keys []manager.Key
	// nodes are the stored Node objects by name, and their names sorted.
	nodes     map[string]*corev1.Node
	nodeNames []string
	backoff   *flowcontrol.Backoff
	queue     *manager.Queue
	logger    klog.Logger
	// client is the daemon-set-controller's own client, which paces its creates and deletes.
	client *manager.Client
}

var (
	_ manager.Controller  = (*Controller)(nil)
	_ manager.OwnedFilter = (*Controller)(nil)
	_ manager.Observer    = (*Controller)(nil)
)

// New registers a DaemonSet controller with m, with the Nodes and DaemonSets already stored.
func New(m *manager.Manager) *Controller {
	podKind, _ := sim.KindNamed("Pod")
	x := &Controller{
		m: m, podKind: podKind, nodes: map[string]*corev1.Node{},
		backoff: flowcontrol.NewFakeBackOff(failedPodBackoff, failedPodMaxBackoff, m.Clock()),
		logger:  klog.Background(),
		client:  m.Client("daemon-set-controller"),
	}
	x.queue = m.Register(x)
	if x.client.Paced() {
		x.queue.SetWorkers(int(m.Simulator().ControlPlane().ConcurrentDaemonSetSyncs))
	}
	for _, kind := range []string{"Node", "DaemonSet"} {
		k, _ := sim.KindNamed(kind)
		objs, _ := m.API().List(k)
		for _, o := range objs {
			x.Observe(sim.WatchEvent{Kind: k, Type: watch.Added, Object: o})
		}
	}
	return x
}

// Kind is "DaemonSet".
func (x *Controller) Kind() string { return "DaemonSet" }

// OwnedChanged: a daemon pod created, gone, terminating, bound, or changing phase,
// readiness or labels.
func (x *Controller) OwnedChanged(ev sim.WatchEvent) bool {
	if manager.PodChanged(ev) {
		return true
	}
	return ev.Old.(*corev1.Pod).Spec.NodeName != ev.Object.(*corev1.Pod).Spec.NodeName
}

// Observe keeps the node cache and the DaemonSet keys, and resyncs every DaemonSet when a node
// appears, goes, or changes what eligibility depends on (labels, taints; unschedulable too,
// though the tolerations every daemon pod gets make it irrelevant). Status-only changes such
// as heartbeats are ignored.
func (x *Controller) Observe(ev sim.WatchEvent) {
	switch ev.Kind.Name() {
	case "DaemonSet":
		m := ev.Object.(metav1.Object)
		k := manager.Key{Kind: "DaemonSet", Namespace: m.GetNamespace(), Name: m.GetName()}
		i := sort.Search(len(x.keys), func(i int) bool { return !keyLess(x.keys[i], k) })
		found := i < len(x.keys) && x.keys[i] == k
		switch {
		case ev.Type == watch.Deleted && found:
			x.keys = append(x.keys[:i], x.keys[i+1:]...)
			x.queue.Forget(k.Namespace, k.Name)
		case ev.Type == watch.Added && !found:
			x.keys = append(x.keys, manager.Key{})
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

func keyLess(a, b manager.Key) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}

func (x *Controller) enqueueAll() {
	for _, k := range x.keys {
		x.queue.Add(k.Namespace, k.Name)
	}
}

func (x *Controller) Sync(ns, name string) error {
	obj, err := x.m.Get("DaemonSet", ns, name)
	if err != nil {
		return nil // deleted since
	}
	ds := obj.(*appsv1.DaemonSet)
	if reflect.DeepEqual(ds.Spec.Selector, &metav1.LabelSelector{}) {
		x.m.Simulator().Recorder().Event(ds, corev1.EventTypeWarning, "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	hash := controller.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	elig := newEligibility(ds, x.logger)
	if x.client.Paced() {
		if needing, toDelete := x.plan(ds, elig, hash); len(needing)+len(toDelete) > 0 {
			// Paced: the DaemonSet stays held by its worker until its last create or delete
			// has been sent, and its status is written then, taking a token without waiting
			// for it (an approximation). A sync that created or deleted pods does not roll
			// out (see below).
			release := x.queue.Hold(ns, name)
			x.syncNodesPaced(ds, toDelete, needing, hash, func(err error) {
				if statusErr := x.updateStatus(ds, elig, hash); err == nil {
					err = statusErr
				}
				release(err)
			})
			return nil
		}
	}
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
func (x *Controller) podsByNode(ds *appsv1.DaemonSet) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, o := range x.m.OwnedBy(ds.UID, "Pod") {
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
func (x *Controller) manage(ds *appsv1.DaemonSet, elig *eligibility, hash string) (bool, error) {
	needing, toDelete := x.plan(ds, elig, hash)
	return len(needing)+len(toDelete) > 0, x.syncNodes(ds, toDelete, needing, hash)
}

// plan lists the nodes missing a pod and the pods that must go.
func (x *Controller) plan(ds *appsv1.DaemonSet, elig *eligibility, hash string) (needing, toDelete []string) {
	byNode := x.podsByNode(ds)
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
	return needing, append(toDelete, gone...)
}

// syncNodes deletes and creates pods, at most burstReplicas of each per sync. A new pod
// carries the template (with the daemon tolerations, the revision hash and the template
// generation) and a required node affinity for its node, which the scheduler honours.
func (x *Controller) syncNodes(ds *appsv1.DaemonSet, toDelete, needing []string, hash string) error {
	needing = needing[:min(len(needing), burstReplicas)]
	toDelete = toDelete[:min(len(toDelete), burstReplicas)]
	create := x.podCreator(ds, hash)
	var firstErr error
	for _, node := range needing {
		if err := create(node); err != nil {
			// Like the real slow start, stop creating after a failure.
			firstErr = err
			break
		}
	}
	for _, name := range toDelete {
		if err := x.m.API().Delete(x.podKind, ds.Namespace, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// podCreator returns what creates the DaemonSet's pod for a node: the template (with the
// daemon tolerations, the revision hash and the template generation) and a required node
// affinity for that node.
func (x *Controller) podCreator(ds *appsv1.DaemonSet, hash string) func(node string) error {
	generation, err := dsutil.GetTemplateGeneration(ds)
	if err != nil {
		generation = nil
	}
	template := dsutil.CreatePodTemplate(ds.Spec.Template, generation, hash)
	ref := metav1.NewControllerRef(ds, controllerKind)
	return func(node string) error {
		t := template.DeepCopy()
		t.Spec.Affinity = dsutil.ReplaceDaemonSetPodNodeNameNodeAffinity(t.Spec.Affinity, node)
		pod, err := controller.GetPodFromTemplate(t, ds, ref)
		if err == nil {
			pod.Namespace = ds.Namespace
			_, err = x.m.API().Create(pod)
		}
		if err != nil {
			return fmt.Errorf("creating a pod for node %s: %w", node, err)
		}
		return nil
	}
}

// syncNodesPaced is syncNodes through the daemon-set-controller's client, as the real
// syncNodes sends its writes: the creates in slow-start batches (stopping after a batch with
// a failure), then every delete at once; done gets the first error once the last write has
// been sent.
func (x *Controller) syncNodesPaced(ds *appsv1.DaemonSet, toDelete, needing []string, hash string, done func(error)) {
	needing = needing[:min(len(needing), burstReplicas)]
	toDelete = toDelete[:min(len(toDelete), burstReplicas)]
	create := x.podCreator(ds, hash)
	x.client.SlowStartBatch(len(needing), func(i int) error { return create(needing[i]) }, func(_, _ int, firstErr error) {
		x.client.SendAll(len(toDelete), func(i int) {
			if err := x.m.API().Delete(x.podKind, ds.Namespace, toDelete[i], metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) && firstErr == nil {
				firstErr = err
			}
		}, func() { done(firstErr) })
	})
}

// updateStatus is the real updateDaemonSetStatus.
func (x *Controller) updateStatus(ds *appsv1.DaemonSet, elig *eligibility, hash string) error {
	byNode := x.podsByNode(ds)
	now := x.m.Clock().Now()
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
		sortPods(pods)
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
		if x.client.Paced() {
			x.client.Reserve()
		}
		if _, err := x.m.API().UpdateStatus(next); err != nil {
			if x.client.Paced() && apierrors.IsNotFound(err) {
				return nil // deleted while its pods were being created
			}
			return err
		}
	}
	if ds.Spec.MinReadySeconds > 0 && ready != available {
		x.queue.AddAfter(ds.Namespace, ds.Name, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	return nil
}

// Relaid holds the copy a relayout made of a node (manager.Relaider).
func (x *Controller) Relaid(_ string, old, cur runtime.Object) {
	if n, ok := cur.(*corev1.Node); ok && runtime.Object(x.nodes[n.Name]) == old {
		x.nodes[n.Name] = n
	}
}
