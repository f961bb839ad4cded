package statefulset

import (
	"cmp"
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	upstream "k8s.io/kubernetes/pkg/controller/statefulset"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// The StatefulSet controller is the real one of k8s.io/kubernetes/pkg/controller/statefulset
// (v1.37): each sync hands the set and its pods to the real control
// (NewDefaultStatefulSetControl, over NewStatefulPodControlFromManager) with the virtual
// time, as the real StatefulSetController's sync does, and requeues the set for its
// minReadySeconds as that sync does. The control decides everything — pods <set>-<ordinal>
// with their identity and revision, OrderedReady and Parallel management, replacement of
// ended and deleted pods, RollingUpdate (partition, maxUnavailable) and OnDelete, revisions
// and their history limit, the status and the events — and writes through effects
// (effects.go) into the simulated API and the run's recorder.
//
// Claims (volumeClaimTemplates) are the control's too: created as <template>-<set>-<ordinal>
// before their pod and reused by a pod recreated under the same name, with the ownerReferences
// of the set's persistentVolumeClaimRetentionPolicy (the set for whenDeleted: Delete, a
// condemned pod for whenScaled: Delete), which the garbage collector (workloads/manager) follows
// to delete them; claims.go says how their writes are ordered.
//
// Deliberate deviations:
//   - A pod's claims are created at the control's next call after it asked (claims.go), in
//     the order of the templates, not in the order of Go's map iteration, and its claim
//     volumes are in that order too (updateStorage appends them in map order); when one is refused
//     the pod is not created, as upstream, but the control has already gone on to set the
//     retention policy's ownerReferences on the pod's other claims (upstream does that on the
//     next sync).
//   - ControllerRevisions are kept in memory (history.go), not stored in the simulated API.
//   - Orphan pods are not adopted, and pods the set controls but no longer selects are not
//     released (the real getPodsForStatefulSet's ClaimPods patches their ownerReferences):
//     they are only left out of the sync.
//   - Where the control works on goroutines of its own (slowStartBatch: the Parallel policy,
//     the Recreate strategy), its writes, claims' included, are made after it returns, in the
//     order of a batch run one goroutine after another (effects.go), not in the Go
//     scheduler's order. The control sees each of them succeed: one that then fails stops the
//     writes after it (the real batch would finish its other goroutines) and fails the sync,
//     and the status written is the one computed as if all had succeeded. A refused claim
//     still gives its pod's FailedCreate event, as upstream. While it defers, the control
//     reads no claim it created in that sync (as if its informer had not seen them yet).
//   - The real controller syncs on every pod update; here only on the pod changes the
//     control acts on (OwnedChanged).
//
// A claim the garbage collector deletes stays Terminating while a pod uses it, as in a real
// cluster: admission gives it kubernetes.io/pvc-protection, which the pvc-protection
// controller (workloads/persistentvolume) removes once no pod uses it.

// Controller is the StatefulSet controller.
type Controller struct {
	m       *manager.Manager
	ctx     context.Context
	effects *effects
	pods    *upstream.StatefulPodControl
	control upstream.StatefulSetControlInterface
	history *revisions
	queue   *manager.Queue
}

var (
	_ manager.Controller  = (*Controller)(nil)
	_ manager.OwnedFilter = (*Controller)(nil)
	_ manager.Observer    = (*Controller)(nil)
)

// New registers a StatefulSet controller with m.
func New(m *manager.Manager) *Controller {
	podKind, _ := sim.KindNamed("Pod")
	e := &effects{m: m, podKind: podKind}
	h := newRevisions(m.Clock())
	pods := upstream.NewStatefulPodControlFromManager(e, e)
	x := &Controller{
		m: m, ctx: klog.NewContext(context.Background(), sim.QuietLogger(klog.Background())),
		effects: e, pods: pods, control: upstream.NewDefaultStatefulSetControl(pods, e, h), history: h,
	}
	x.queue = m.Register(x)
	return x
}

// Kind is "StatefulSet".
func (x *Controller) Kind() string { return "StatefulSet" }

// OwnedChanged reports the pod changes a StatefulSet acts on: a pod created or gone, starting
// to terminate, changing phase or readiness, or relabelled (manager.PodChanged). A claim the
// set owns (its retention policy) asks for no sync: the real controller only lists claims,
// it has no handler for their events.
func (x *Controller) OwnedChanged(ev sim.WatchEvent) bool {
	return ev.Kind.Name() != "PersistentVolumeClaim" && manager.PodChanged(ev)
}

// Observe deletes a deleted StatefulSet's revisions.
func (x *Controller) Observe(ev sim.WatchEvent) {
	if ev.Kind.Name() == "StatefulSet" && ev.Type == watch.Deleted {
		m := ev.Object.(metav1.Object)
		x.history.forget(m.GetUID())
		x.queue.Forget(m.GetNamespace(), m.GetName())
	}
}

// Sync is the real controller's sync and syncStatefulSet.
func (x *Controller) Sync(ns, name string) error {
	obj, err := x.m.Get("StatefulSet", ns, name)
	if err != nil {
		return nil // deleted since
	}
	set := obj.(*appsv1.StatefulSet)
	selector, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	for _, o := range x.m.OwnedBy(set.UID, "Pod") {
		if p := o.(*corev1.Pod); selector.Matches(labels.Set(p.Labels)) && isMemberOf(set, p) {
			pods = append(pods, p)
		}
	}
	now := x.m.Clock().Now()
	status, err := x.update(set, pods, now)
	if err != nil {
		return err
	}
	// Pods that are ready but not yet available for minReadySeconds need another look.
	if set.Spec.MinReadySeconds > 0 && status != nil && status.ReadyReplicas != status.AvailableReplicas {
		next := time.Duration(set.Spec.MinReadySeconds) * time.Second
		if d := controller.FindMinNextPodAvailabilityCheck(pods, set.Spec.MinReadySeconds, now, x.m.Clock()); d != nil {
			next = *d
		}
		x.queue.AddAfter(ns, name, next)
	}
	return nil
}

// update runs the real control once and makes the writes it deferred, if any.
func (x *Controller) update(set *appsv1.StatefulSet, pods []*corev1.Pod, now time.Time) (*appsv1.StatefulSetStatus, error) {
	concurrent := set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement ||
		set.Spec.UpdateStrategy.Type == appsv1.RecreateStatefulSetStrategyType
	x.effects.begin(concurrent)
	status, err := x.control.UpdateStatefulSet(x.ctx, set, pods, now)
	pending, misuse := x.effects.end(set)
	if misuse != nil {
		_ = x.effects.settle()
		return nil, misuse
	}
	werr := x.apply(set, pending)
	// The claims the control created last are made now, if they were not yet (claims.go).
	serr := x.effects.settle()
	return status, cmp.Or(err, werr, serr)
}

// apply makes deferred effects, in order, through the control's StatefulPodControl. After a
// write fails, the later pod and claim writes are not made; events and the status still are,
// as the control writes the status of a sync that failed. A claim's ownerReference update
// (and the ConflictingController event that comes with one) is not made on its own when a pod
// write of the same goroutine for the same pod is replayed: CreateStatefulPod and
// UpdateStatefulPod redo that claim work from the stored claims (claims.go).
func (x *Controller) apply(set *appsv1.StatefulSet, pending []effect) error {
	type work struct {
		goroutine uint64
		ordinal   int
	}
	replayed := map[work]bool{}
	for _, ef := range pending {
		if ef.kind == createPod || ef.kind == updatePod {
			o, _ := ordinalOf(ef)
			replayed[work{ef.goroutine, o}] = true
		}
	}
	redone := func(ef effect) bool {
		o, ok := ordinalOf(ef)
		return ok && replayed[work{ef.goroutine, o}]
	}
	// noClaims holds the claim failures of pods whose creation is yet to come.
	noClaims := map[work]error{}
	var failed error
	for i := 0; i < len(pending); i++ {
		ef := pending[i]
		var err error
		switch ef.kind {
		case createPod:
			o, _ := ordinalOf(ef)
			if cerr := noClaims[work{ef.goroutine, o}]; cerr != nil {
				// CreateStatefulPod stops when createPersistentVolumeClaims fails, with
				// recordPodEvent's event.
				x.effects.Event(ef.set, corev1.EventTypeWarning, "FailedCreate",
					fmt.Sprintf("Create Pod %s in StatefulSet %s failed error: %s", ef.pod.Name, ef.set.Name, cerr))
			} else if failed == nil {
				err = x.pods.CreateStatefulPod(x.ctx, ef.set, ef.pod)
			}
		case updatePod:
			if failed == nil {
				// UpdateStatefulPod works out the change again, from the stored pod.
				var cur *corev1.Pod
				if cur, err = x.effects.GetPod(ef.pod.Namespace, ef.pod.Name); err == nil {
					err = x.pods.UpdateStatefulPod(x.ctx, ef.set, cur)
				}
			}
		case deletePod:
			if failed == nil {
				err = x.pods.DeleteStatefulPod(set, ef.pod)
			}
		case createClaim:
			// The creations of one createPersistentVolumeClaims call are consecutive.
			j := i + 1
			for j < len(pending) && pending[j].kind == createClaim && pending[j].goroutine == ef.goroutine &&
				claimOrdinal(pending[j].claim.Name) == claimOrdinal(ef.claim.Name) {
				j++
			}
			if failed == nil {
				if err = x.effects.createClaims(pending[i:j]); err != nil {
					noClaims[work{ef.goroutine, claimOrdinal(ef.claim.Name)}] = err
				}
			}
			i = j - 1
		case updateClaim:
			if failed == nil && !redone(ef) {
				err = x.effects.ownClaim(ef)
			}
		case recordEvent:
			if ef.reason != "ConflictingController" || !redone(ef) {
				x.effects.Event(ef.regarding, ef.eventType, ef.reason, ef.message)
			}
		case writeStatus:
			err = x.effects.UpdateStatefulSetStatus(x.ctx, ef.set, ef.status)
		}
		if err != nil && failed == nil {
			failed = err
		}
	}
	return failed
}
