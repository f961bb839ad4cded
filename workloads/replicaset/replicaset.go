package replicaset

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/utils/ptr"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// burstReplicas is replicaset.BurstReplicas, the burst kube-controller-manager gives the
// controller: at most this many pods are created or deleted per sync.
const burstReplicas = 500

// Controller is the ReplicaSet controller (k8s.io/kubernetes/pkg/controller/replicaset) on
// virtual time. Reads are fresh from the simulated apiserver, so it needs none of the real
// controller's expectations; what it decides and writes is the same. One Controller serves
// one kind: ReplicaSets (New) or ReplicationControllers (NewReplicationManager).
type Controller struct {
	m     *manager.Manager
	queue *manager.Queue
	kind  servedKind
	// client paces the controller's writes (--kube-api-qps, --kube-api-burst); see sync.
	client *manager.Client
	// tallies count each ReplicaSet's pods as they change, so that a sync costs nothing per
	// pod unless it deletes pods or waits for minReadySeconds.
	tallies map[types.UID]*podTally
}

var (
	_ manager.Controller  = (*Controller)(nil)
	_ manager.OwnedFilter = (*Controller)(nil)
)

// New registers a ReplicaSet controller with m.
func New(m *manager.Manager) *Controller { return register(m, replicaSets) }

// register registers the controller of a kind with m. It keeps its tallies from a watch of its
// own, registered before the manager starts, so they are current when the manager's syncs run.
func register(m *manager.Manager, kind servedKind) *Controller {
	r := &Controller{m: m, kind: kind, tallies: map[types.UID]*podTally{}, client: m.Client(kind.client)}
	r.queue = m.Register(r)
	if r.client.Paced() {
		r.queue.SetWorkers(int(kind.workers(m.Simulator().ControlPlane())))
	}
	m.API().Watch(r.observe)
	return r
}

// Kind is "ReplicaSet" or "ReplicationController".
func (r *Controller) Kind() string { return r.kind.name }

// OwnedChanged reports a pod change that alters what a ReplicaSet does or reports: a pod
// created or gone, active or terminating no more, Ready flipped, labels changed. Binding, IPs
// and container statuses alone change nothing the ReplicaSet controller computes, so they
// cost no sync.
func (r *Controller) OwnedChanged(ev sim.WatchEvent) bool {
	if ev.Kind.Name() != "Pod" || ev.Type != watch.Modified {
		return true
	}
	old, cur := ev.Old.(*corev1.Pod), ev.Object.(*corev1.Pod)
	return controller.IsPodActive(old) != controller.IsPodActive(cur) ||
		controller.IsPodTerminating(old) != controller.IsPodTerminating(cur) ||
		podutil.IsPodReady(old) != podutil.IsPodReady(cur) ||
		!maps.Equal(old.Labels, cur.Labels)
}

// Sync is processNextWorkItem around syncReplicaSet: a failed sync is retried after the
// queue's rate-limited back-off (AddRateLimited), a successful one forgets its failures. Pods
// that could not be created were reported as the pod control reports them (FailedCreate
// warnings) and in the ReplicaFailure condition; the real controller only logs the error, so
// they are not reported again as a failed sync.
//
// With a paced client the sync's writes go out over virtual time (see sync), and the
// ReplicaSet stays held by its worker until the last of them: changes meanwhile (the pods it
// creates coming back as events) collapse into one sync after it, which is what the real
// controller's expectations achieve (it does not sync a ReplicaSet until it has seen the pods
// it created). Unpaced, every write happens inside Sync, as before pacing.
func (r *Controller) Sync(ns, name string) error {
	if !r.client.Paced() {
		var out error
		r.sync(ns, name, func(err error) { out = r.outcome(ns, name, err) })
		return out
	}
	release := r.queue.Hold(ns, name)
	r.sync(ns, name, func(err error) { release(r.outcome(ns, name, err)) })
	return nil
}

// outcome is processNextWorkItem's handling of syncReplicaSet's error.
func (r *Controller) outcome(ns, name string, err error) error {
	if err == nil {
		r.queue.ForgetFailures(ns, name)
		return nil
	}
	r.queue.AddRateLimited(ns, name)
	if errors.As(err, new(*createError)) {
		return nil
	}
	return err
}

// sync is syncReplicaSet: manage the replicas of a live ReplicaSet, then write its status,
// then plan the availability check minReadySeconds calls for; done is called with its
// outcome once its last write has been sent (at once when the client is not paced).
//
// Writes go through the controller's client in the real controller's order: the pods of one
// slow-start batch at once, the next batch when the previous one has returned; deletes all at
// once; the status after them (updateReplicaSetStatus follows manageReplicas on the same
// worker). The status update takes one token; the real one may take two more on a conflict
// (a Get and a second update), which is not modelled: the simulated apiserver's status
// update keeps the stored spec, so it does not conflict.
func (r *Controller) sync(ns, name string, done func(error)) {
	rs, err := r.kind.get(r.m, ns, name)
	if apierrors.IsNotFound(err) {
		done(nil) // deleted since
		return
	} else if err != nil {
		done(err)
		return
	}
	// As the real controller does, the status counts the pods as they were before this sync
	// created or deleted any: those changes come back as pod events and another sync.
	counts := r.tally(rs).podCounts
	now := r.m.Clock().Now()
	var active []*corev1.Pod // listed only when counts are not enough
	available := counts.ready
	if rs.Spec.MinReadySeconds > 0 && counts.ready > 0 {
		active = r.activePods(rs.UID)
		available = 0
		for _, p := range active {
			if podutil.IsPodAvailable(p, rs.Spec.MinReadySeconds, metav1.NewTime(now)) {
				available++
			}
		}
	}
	afterManage := func(manageErr error) {
		status := calculateStatus(rs, counts, available, manageErr, now, r.kind.terminatingReplicas)
		r.updateStatus(rs, status, func(updated *appsv1.ReplicaSet, err error) {
			if err != nil {
				done(err)
				return
			}
			if manageErr != nil {
				done(manageErr)
				return
			}
			if updated.Spec.MinReadySeconds > 0 && updated.Status.ReadyReplicas != updated.Status.AvailableReplicas {
				next := time.Duration(updated.Spec.MinReadySeconds) * time.Second
				if d := controller.FindMinNextPodAvailabilityCheck(active, updated.Spec.MinReadySeconds, now, r.m.Clock()); d != nil {
					next = *d
				}
				r.queue.AddAt(ns, name, now.Add(next))
			}
			done(nil)
		})
	}
	if rs.DeletionTimestamp != nil {
		afterManage(nil)
		return
	}
	r.manageReplicas(rs, counts.active, active, afterManage)
}

// manageReplicas creates the pods the ReplicaSet is short of, or deletes the surplus the real
// ranking picks, at most burstReplicas per sync, and calls done with the outcome once the
// last write has been sent. active lists the active pods if the caller has listed them
// already.
func (r *Controller) manageReplicas(rs *appsv1.ReplicaSet, activeCount int32, active []*corev1.Pod, done func(error)) {
	diff := int(activeCount) - int(*rs.Spec.Replicas)
	if diff < 0 {
		ref := metav1.NewControllerRef(rs, r.kind.gvk)
		r.client.SlowStartBatch(min(-diff, burstReplicas), func(int) error {
			pod, err := controller.GetPodFromTemplate(&rs.Spec.Template, rs, ref)
			if err != nil {
				return err
			}
			// The real controller passes the namespace to the client call, not in the pod.
			pod.Namespace = rs.Namespace
			if _, err := r.m.API().Create(pod); err != nil {
				// RealPodControl.createPods reports each refused pod.
				r.m.Warn(r.kind.gvk.Kind, rs.Namespace, rs.Name, "FailedCreate", fmt.Sprintf("Error creating: %v", err))
				return &createError{err}
			}
			return nil
		}, func(_, _ int, err error) { done(err) })
		return
	}
	if diff == 0 {
		done(nil)
		return
	}
	if active == nil {
		active = r.activePods(rs.UID)
	}
	victims := podsToDelete(active, r.relatedPodsOnNodes(rs), min(diff, burstReplicas), r.m.Clock().Now())
	podKind, _ := sim.KindNamed("Pod")
	// As the real controller, every delete is sent (on goroutines of its own there) and the
	// first error is returned after all of them.
	var first error
	r.client.SendAll(len(victims), func(i int) {
		p := victims[i]
		if err := r.m.API().Delete(podKind, rs.Namespace, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) && first == nil {
			first = fmt.Errorf("deleting pod %s: %w", p.Name, err)
		}
	}, func() { done(first) })
}

// relatedPodsOnNodes counts, by node, the active pods of getIndirectlyRelatedPods: those of
// every ReplicaSet (or ReplicationController) with the same controller (the ReplicaSets of one
// Deployment). One without a controller has none, as in the real controller, so its pods all
// rank equal on co-location. The real controller lists the pods each one's selector matches;
// these are the pods each one controls, the same set unless pods are shared with or orphaned
// from another controller.
func (r *Controller) relatedPodsOnNodes(rs *appsv1.ReplicaSet) map[string]int {
	onNode := map[string]int{}
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return onNode
	}
	for _, o := range r.m.OwnedBy(ref.UID, r.kind.name) {
		for _, p := range r.activePods(o.(metav1.Object).GetUID()) {
			onNode[p.Spec.NodeName]++
		}
	}
	return onNode
}

// podsToDelete is getPodsToDelete: unless every active pod goes, rank each by the active
// related pods on its node and order them by controller.ActivePodsWithRanks (unscheduled,
// pending, not ready, lower pod-deletion-cost, more co-located, more recently ready, more
// restarts, newer first); the first diff go.
//
// Pods the ranking ties (typically: on equally crowded nodes, Ready and created in the same
// second) go in name order. The real controller sorts them unstably in the order its
// informer cache lists them, which is arbitrary; a total order makes the pick the same in
// every run, and lets a few victims be selected without sorting thousands of pods.
func podsToDelete(active []*corev1.Pod, onNode map[string]int, diff int, now time.Time) []*corev1.Pod {
	if diff >= len(active) {
		// All go; name order keeps the deletions in the same order in every run.
		slices.SortFunc(active, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
		return active
	}
	ranks := make([]int, len(active))
	for i, p := range active {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	ranked := controller.ActivePodsWithRanks{Pods: active, Rank: ranks, Now: metav1.NewTime(now)}
	before := func(i, j int) bool {
		if ranked.Less(i, j) {
			return true
		}
		if ranked.Less(j, i) {
			return false
		}
		return active[i].Name < active[j].Name
	}
	out := make([]*corev1.Pod, 0, diff)
	if diff <= selectLimit {
		chosen := make([]bool, len(active))
		for range diff {
			best := -1
			for i := range active {
				if !chosen[i] && (best < 0 || before(i, best)) {
					best = i
				}
			}
			chosen[best] = true
			out = append(out, active[best])
		}
		return out
	}
	order := make([]int, len(active))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return before(order[a], order[b]) })
	for _, i := range order[:diff] {
		out = append(out, active[i])
	}
	return out
}

// selectLimit is the number of victims up to which selecting each is cheaper than sorting.
const selectLimit = 8

// calculateStatus is calculateStatus of the real controller, from the counts of the pods,
// with the ReplicaFailure condition stamped on virtual time. terminating says whether the
// kind reports status.terminatingReplicas.
func calculateStatus(rs *appsv1.ReplicaSet, counts podCounts, available int32, manageErr error, now time.Time, terminating bool) appsv1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	failure := condition(status, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := counts.active - *rs.Spec.Replicas; diff < 0 {
			reason = "FailedCreate"
		} else if diff > 0 {
			reason = "FailedDelete"
		}
		status.Conditions = append(status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)), Reason: reason, Message: manageErr.Error()})
	case manageErr == nil && failure != nil:
		var kept []appsv1.ReplicaSetCondition
		for _, c := range status.Conditions {
			if c.Type != appsv1.ReplicaSetReplicaFailure {
				kept = append(kept, c)
			}
		}
		status.Conditions = kept
	}
	status.Replicas = counts.active
	status.FullyLabeledReplicas = counts.labeled
	status.ReadyReplicas = counts.ready
	status.AvailableReplicas = available
	if terminating {
		status.TerminatingReplicas = ptr.To(counts.terminating)
	}
	return status
}

func condition(status appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// labelsMatch reports whether pod labels include every template label, which is what the
// real controller's selector built from the template labels matches.
func labelsMatch(template, pod map[string]string) bool {
	for k, v := range template {
		if pv, ok := pod[k]; !ok || pv != v {
			return false
		}
	}
	return true
}

// updateStatus is updateReplicaSetStatus: write the status, through the client, unless it and
// observedGeneration are already current, then call done with the ReplicaSet as stored. A
// ReplicaSet deleted before a paced write is sent is not an error: the next sync finds it
// gone, as the real controller's requeue does.
func (r *Controller) updateStatus(rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus, done func(*appsv1.ReplicaSet, error)) {
	cur := rs.Status
	if cur.Replicas == status.Replicas && cur.FullyLabeledReplicas == status.FullyLabeledReplicas &&
		cur.ReadyReplicas == status.ReadyReplicas && cur.AvailableReplicas == status.AvailableReplicas &&
		int32PtrEqual(cur.TerminatingReplicas, status.TerminatingReplicas) &&
		rs.Generation == cur.ObservedGeneration && conditionsEqual(cur.Conditions, status.Conditions) {
		done(rs, nil)
		return
	}
	status.ObservedGeneration = rs.Generation
	next := rs.DeepCopy()
	next.Status = status
	retries := statusUpdateRetries
	var send func()
	send = func() {
		out, err := r.kind.updateStatus(r.m, next)
		switch {
		case err == nil:
			done(out, nil)
		case r.client.Paced() && apierrors.IsNotFound(err):
			done(next, nil)
		case apierrors.IsConflict(err) && retries > 0:
			// A paced write goes out after the ReplicaSet may have changed. As the real
			// loop does, Get the latest (a request: one token) and update it with the same
			// status and observedGeneration (another token).
			retries--
			r.client.Send(func() {
				latest, err := r.kind.get(r.m, rs.Namespace, rs.Name)
				if err != nil {
					if apierrors.IsNotFound(err) {
						done(next, nil)
					} else {
						done(nil, fmt.Errorf("updating status: %w", err))
					}
					return
				}
				next = latest.DeepCopy()
				next.Status = status
				r.client.Send(send)
			})
		default:
			done(nil, fmt.Errorf("updating status: %w", err))
		}
	}
	r.client.Send(send)
}

// statusUpdateRetries is the real controller's statusUpdateRetries: after a failed status
// update, one more attempt on the latest ReplicaSet.
const statusUpdateRetries = 1

func int32PtrEqual(a, b *int32) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func conditionsEqual(a, b []appsv1.ReplicaSetCondition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Status != b[i].Status || a[i].Reason != b[i].Reason ||
			a[i].Message != b[i].Message || !a[i].LastTransitionTime.Equal(&b[i].LastTransitionTime) {
			return false
		}
	}
	return true
}
