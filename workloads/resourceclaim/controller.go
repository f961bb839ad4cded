package resourceclaim

import (
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/dynamic-resource-allocation/resourceclaim"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// ClientName is the controller's client in kube-controller-manager
// (cmd/kube-controller-manager/app/resource.go, newResourceClaimController:
// controllerContext.NewClient("resource-claim-controller")): its writes are paced by
// --kube-api-qps and --kube-api-burst.
const ClientName = "resource-claim-controller"

// ConcurrentSyncs is the ResourceClaimController's ConcurrentSyncs default
// (pkg/controller/resourceclaim/config/v1alpha1: 50), the workers of each of the controller's
// queues when its writes are paced.
const ConcurrentSyncs = 50

// Controller is the resource claim controller (k8s.io/kubernetes/pkg/controller/resourceclaim,
// controller.go), re-implemented on the manager's queues:
//
//   - pods are enqueued as enqueuePod does: a pod with claims that no longer needs them
//     (podNeedsClaims: deleted, terminal, deleted before scheduling) enqueues its claims, and a
//     pod with work left (podNeedsWork: a claim to create from a template, an allocated claim
//     to reserve for a bound pod) is synced (syncPod);
//   - every claim added or updated is synced (syncClaim), and a claim's change enqueues the
//     pods that use it (enqueueResourceClaim); a template's change enqueues the pods that name
//     it (enqueueResourceClaimTemplate).
//
// Failed syncs retry with the work queue's rate-limited back-off, as processNextWorkItem does,
// except the errors upstream marks nonRetryableError.
//
// Deliberate deviations: upstream has one work queue with "pod:" and "claim:" keys; here pods
// and claims have a queue each (the manager names a failed sync's object by its queue's kind,
// so a failure is reported on the Pod or the ResourceClaim), each with ConcurrentSyncs workers
// when paced. Reads come from the simulated apiserver, which never lags, so upstream's
// mutation cache, its fallback GETs and its cache of deleted pod UIDs (uid_cache.go) have no
// counterpart: a pod not found is gone. PodGroup claims (DRAWorkloadResourceClaims, alpha, off
// by default) are not modelled: the simulator serves no PodGroup, so every claim is bound to
// its pod, and a pod that names a PodGroup fails its sync without retry, as upstream's does
// with GenericWorkload off. DRAAdminAccess and DRAPrioritizedList are GA and locked on in
// v1.37, so their checks in handleClaim always pass and are left out. The metrics are not
// recorded.
type Controller struct {
	m      *manager.Manager
	client *manager.Client
	// podQueue and claimQueue are the controller's work queues.
	podQueue, claimQueue *manager.Queue
	podKind, claimKind   *sim.Kind
	templateKind         *sim.Kind

	// byClaim indexes pods by the claims they use (podResourceClaimIndexFunc: "ns/claim" →
	// pod names), byTemplate by the templates they name (podResourceClaimTemplateIndexFunc).
	byClaim, byTemplate map[string]map[string]bool
}

// podSyncer and claimSyncer give the controller's two queues their kinds.
type podSyncer struct{ *Controller }
type claimSyncer struct{ *Controller }

var (
	_ manager.Controller   = podSyncer{}
	_ manager.ObjectFilter = podSyncer{}
	_ manager.OwnedFilter  = podSyncer{}
	_ manager.Observer     = podSyncer{}
	_ manager.Controller   = claimSyncer{}
	_ manager.ObjectFilter = claimSyncer{}
)

// New registers the resource claim controller with m.
func New(m *manager.Manager) *Controller {
	c := &Controller{m: m, client: m.Client(ClientName), byClaim: map[string]map[string]bool{}, byTemplate: map[string]map[string]bool{}}
	c.podKind, _ = sim.KindNamed("Pod")
	c.claimKind, _ = sim.KindNamed("ResourceClaim")
	c.templateKind, _ = sim.KindNamed("ResourceClaimTemplate")
	c.podQueue = m.Register(podSyncer{c})
	c.claimQueue = m.Register(claimSyncer{c})
	if c.client.Paced() {
		c.podQueue.SetWorkers(ConcurrentSyncs)
		c.claimQueue.SetWorkers(ConcurrentSyncs)
	}
	return c
}

// Kind is "Pod": the pod queue's failures are the pod's.
func (podSyncer) Kind() string { return "Pod" }

// Kind is "ResourceClaim".
func (claimSyncer) Kind() string { return "ResourceClaim" }

// The manager's own dispatch is not used: Observe enqueues what the informer handlers do.
func (podSyncer) ObjectChanged(sim.WatchEvent) bool   { return false }
func (podSyncer) OwnedChanged(sim.WatchEvent) bool    { return false }
func (claimSyncer) ObjectChanged(sim.WatchEvent) bool { return false }

func (s podSyncer) Sync(ns, name string) error {
	return s.run(s.podQueue, ns, name, s.syncPod)
}

func (s claimSyncer) Sync(ns, name string) error {
	return s.run(s.claimQueue, ns, name, s.syncClaim)
}

// run is processNextWorkItem around a sync whose writes are sent through the client: unpaced,
// every write is made inside Sync; paced, the object stays in its worker's hands until the
// last write has been sent, as a real worker blocks on each request.
func (c *Controller) run(q *manager.Queue, ns, name string, sync func(ns, name string, done func(error))) error {
	if !c.client.Paced() {
		var out error
		sync(ns, name, func(err error) { out = outcome(q, ns, name, err) })
		return out
	}
	release := q.Hold(ns, name)
	sync(ns, name, func(err error) { release(outcome(q, ns, name, err)) })
	return nil
}

// nonRetryableError is upstream's: a failure that is reported but not retried.
type nonRetryableError struct{ error }

// outcome is processNextWorkItem's handling of a sync's error.
func outcome(q *manager.Queue, ns, name string, err error) error {
	var nr nonRetryableError
	if err == nil || errors.As(err, &nr) {
		q.ForgetFailures(ns, name)
		return err
	}
	q.AddRateLimited(ns, name)
	return err
}

// send makes one write through the controller's client and hands its error to then.
func (c *Controller) send(write func() error, then func(error)) {
	c.client.Send(func() { then(write()) })
}

// Observe is the informer handlers (NewController's AddEventHandler calls). It runs inside the
// API's write (the Watcher rule): it only indexes and queues.
func (s podSyncer) Observe(ev sim.WatchEvent) {
	switch obj := ev.Object.(type) {
	case *corev1.Pod:
		switch {
		case ev.Type == watch.Deleted:
			s.unindex(obj) // its last state
		case ev.Old != nil:
			s.unindex(ev.Old.(*corev1.Pod))
			s.index(obj)
		default:
			s.index(obj)
		}
		s.enqueuePod(obj, ev.Type == watch.Deleted)
	case *resourcev1.ResourceClaim:
		s.enqueueResourceClaim(obj, ev.Type == watch.Deleted)
	case *resourcev1.ResourceClaimTemplate:
		if ev.Type != watch.Deleted {
			s.enqueueResourceClaimTemplate(obj)
		}
	case *corev1.ResourceQuota:
		// A change that may let a refused claim in: the waiting retries must run, even if
		// nothing else keeps the run going until they are due (see Queue.AddRateLimited),
		// as for the ReplicaSet controller's refused pods. They run when the back-off says.
		s.podQueue.WakeRetries(obj.Namespace)
	}
}

// index adds a pod to byClaim and byTemplate.
func (c *Controller) index(pod *corev1.Pod) { c.eachKey(pod, add) }

// unindex removes a pod's previous state from byClaim and byTemplate.
func (c *Controller) unindex(pod *corev1.Pod) { c.eachKey(pod, remove) }

// eachKey calls do with byClaim and byTemplate and the pod's keys in them: each claim's it
// names or has generated, and each template's it names.
func (c *Controller) eachKey(pod *corev1.Pod, do func(m map[string]map[string]bool, key, pod string)) {
	for i := range pod.Spec.ResourceClaims {
		pc := &pod.Spec.ResourceClaims[i]
		if name, _, err := resourceclaim.Name(pod, pc); err == nil && name != nil {
			do(c.byClaim, pod.Namespace+"/"+*name, pod.Name)
		}
		if pc.ResourceClaimTemplateName != nil {
			do(c.byTemplate, pod.Namespace+"/"+*pc.ResourceClaimTemplateName, pod.Name)
		}
	}
}

func add(idx map[string]map[string]bool, key, pod string) {
	if idx[key] == nil {
		idx[key] = map[string]bool{}
	}
	idx[key][pod] = true
}

func remove(idx map[string]map[string]bool, key, pod string) {
	delete(idx[key], pod)
	if len(idx[key]) == 0 {
		delete(idx, key)
	}
}

// podsIn are the live pods an index lists under key, in name order (the informer's index
// lists them in no particular order, and the order decides the order of their syncs).
func (c *Controller) podsIn(idx map[string]map[string]bool, ns, name string) []*corev1.Pod {
	names := make([]string, 0, len(idx[ns+"/"+name]))
	for p := range idx[ns+"/"+name] {
		names = append(names, p)
	}
	slices.Sort(names)
	pods := make([]*corev1.Pod, 0, len(names))
	for _, n := range names {
		if pod, err := c.pod(ns, n); err == nil {
			pods = append(pods, pod)
		}
	}
	return pods
}

// enqueuePod is upstream's enqueuePod.
func (c *Controller) enqueuePod(pod *corev1.Pod, deleted bool) {
	if len(pod.Spec.ResourceClaims) == 0 && pod.Status.ExtendedResourceClaimStatus == nil {
		return // nothing to do for it at all
	}
	if !podNeedsClaims(pod, deleted) {
		// Release the reservations of a deleted or finished pod.
		for claim := range resourceclaim.PodClaims(pod) {
			c.claimQueue.Add(pod.Namespace, claim)
		}
	}
	if !deleted && c.podNeedsWork(pod) {
		c.podQueue.Add(pod.Namespace, pod.Name)
	}
}

// podNeedsClaims is upstream's: false for a pod removed, terminal, or deleted before it was
// scheduled.
func podNeedsClaims(pod *corev1.Pod, deleted bool) bool {
	switch {
	case deleted, pod.Status.Phase == corev1.PodSucceeded, pod.Status.Phase == corev1.PodFailed:
		return false
	case pod.DeletionTimestamp != nil && pod.Spec.NodeName == "":
		return false
	}
	return true
}

// podNeedsWork is upstream's: a claim to create from a template, or an allocated claim to
// reserve for a pod already bound to a node.
//
// Deviation: a pod that is done (isPodDone) needs no work either. syncClaim deletes the claim
// generated for a finished pod, and upstream does not create it again only because its
// mutation cache goes on returning a claim it created for an hour after the claim is gone
// (claimExists); the simulated apiserver has no such lag, and without this check the claim
// would be created and deleted again without end. A finished pod never runs again, so it
// needs neither a claim nor a reservation (re-reserving one is kubernetes/kubernetes#141274).
func (c *Controller) podNeedsWork(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || isPodDone(pod) {
		return false
	}
	for i := range pod.Spec.ResourceClaims {
		pc := &pod.Spec.ResourceClaims[i]
		name, checkOwner, err := resourceclaim.Name(pod, pc)
		if err != nil {
			return true // a claim to create (ErrClaimNotFound), or an API it does not know
		}
		if name == nil {
			continue // not needed
		}
		claim, err := c.claim(pod.Namespace, *name)
		if err != nil {
			if pc.ResourceClaimTemplateName != nil {
				return true // must be created (again) from its template
			}
			continue // the user must create it
		}
		if checkOwner && resourceclaim.IsForPod(pod, claim, false) != nil {
			continue // cannot proceed until that other claim is deleted
		}
		if pod.Spec.NodeName == "" {
			continue
		}
		if claim.Status.Allocation != nil && !resourceclaim.IsReservedForPod(pod, claim, false) && resourceclaim.CanBeReserved(claim) {
			return true
		}
	}
	return false
}

// enqueueResourceClaim is upstream's: a live claim is synced, and the pods that use it are
// looked at again.
func (c *Controller) enqueueResourceClaim(claim *resourcev1.ResourceClaim, deleted bool) {
	if !deleted {
		c.claimQueue.Add(claim.Namespace, claim.Name)
	}
	for _, pod := range c.podsIn(c.byClaim, claim.Namespace, claim.Name) {
		c.enqueuePod(pod, false)
	}
}

// enqueueResourceClaimTemplate is upstream's: the pods that name the template are looked at
// again (a template created after its pods lets them get their claims).
func (c *Controller) enqueueResourceClaimTemplate(t *resourcev1.ResourceClaimTemplate) {
	for _, pod := range c.podsIn(c.byTemplate, t.Namespace, t.Name) {
		c.enqueuePod(pod, false)
	}
}

func (c *Controller) pod(ns, name string) (*corev1.Pod, error) {
	obj, err := c.m.API().Get(c.podKind, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

func (c *Controller) claim(ns, name string) (*resourcev1.ResourceClaim, error) {
	obj, err := c.m.API().Get(c.claimKind, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*resourcev1.ResourceClaim), nil
}

// stored is the object a write returned, or nil.
func stored[T runtime.Object](obj runtime.Object) T {
	t, _ := obj.(T)
	return t
}
