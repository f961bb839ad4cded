package resourcequota

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	quota "k8s.io/apiserver/pkg/quota/v1"
	"k8s.io/apiserver/pkg/quota/v1/generic"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/quota/v1/evaluator/core"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// SyncPeriod is kube-controller-manager's --resource-quota-sync-period default
// (pkg/controller/resourcequota/config/v1alpha1/defaults.go): every quota is recalculated this
// often, whatever changed.
const SyncPeriod = 5 * time.Minute

// Controller is the resource quota controller (k8s.io/kubernetes/pkg/controller/resourcequota,
// resource_quota_controller.go and resource_quota_monitor.go):
//
//   - a quota whose spec.hard changed (or a new one) is synced (addQuota);
//   - the deletion of an object a quota counts, or a pod update that the real
//     DefaultUpdateFilter (pkg/quota/v1/install/update_filter.go) lets through (a pod becoming
//     terminal, its terminating scope or its resources changing), syncs the namespace's
//     quotas that track that resource (the quota monitor's replenishQuota);
//   - every SyncPeriod, all quotas are synced (enqueueAll), as background work;
//   - a sync is syncResourceQuota: status.hard becomes spec.hard, status.used what
//     quota.CalculateUsage measures with the real evaluators, written when it changed.
//
// Deliberate deviations: the real controller's two queues (one prioritising quotas that have
// no usage yet) and its five workers collapse into one sync at the instant of the change.
// A failed sync is retried with the work queue's back-off, as the worker does, and reported
// as a warning (SyncFailed), where the real controller logs it. The objects counted are
// indexed from the watch, like the controller's informers, only once a quota exists, so that
// runs without quotas pay nothing.
type Controller struct {
	m        *manager.Manager
	queue    *manager.Queue
	clock    *clock.Virtual
	registry quota.Registry
	// index holds every live namespaced object by kind, namespace and name; nil until the first
	// ResourceQuota is seen.
	index *index
	// start is when the controller started: the periodic resync counts from it.
	start time.Time
}

var (
	_ manager.Controller   = (*Controller)(nil)
	_ manager.ObjectFilter = (*Controller)(nil)
	_ manager.Observer     = (*Controller)(nil)
)

// New registers the resource quota controller with m.
func New(m *manager.Manager) *Controller {
	c := &Controller{m: m, clock: m.Clock(), start: m.Clock().Now()}
	c.queue = m.Register(c)
	return c
}

// Kind is "ResourceQuota".
func (c *Controller) Kind() string { return "ResourceQuota" }

// ObjectChanged is the quota informer's handlers: a new quota is synced, an updated one only
// when its spec.hard changed ("we ignore all updates to quota.Status because they are all
// driven by this controller").
func (c *Controller) ObjectChanged(ev sim.WatchEvent) bool {
	if ev.Type == watch.Added {
		return true
	}
	old, cur := ev.Old.(*corev1.ResourceQuota), ev.Object.(*corev1.ResourceQuota)
	return !quota.Equals(old.Spec.Hard, cur.Spec.Hard)
}

// Observe keeps the index and replenishes quotas, as the quota monitor does.
func (c *Controller) Observe(ev sim.WatchEvent) {
	if !ev.Kind.Namespaced {
		return
	}
	if c.index == nil {
		if ev.Kind.Name() != "ResourceQuota" {
			return
		}
		c.begin()
	}
	c.index.apply(ev)
	if ev.Kind.Name() == "ResourceQuota" {
		return
	}
	switch ev.Type {
	case watch.Deleted:
	case watch.Modified:
		if !c.needsReplenish(ev) {
			return
		}
	default:
		return
	}
	c.replenish(ev.Kind.GVR.GroupResource(), ev.Object.(metav1.Object).GetNamespace())
}

// begin indexes what is stored, builds the registry and arms the periodic resync, when the
// first quota appears.
func (c *Controller) begin() {
	c.index = newIndex()
	for _, name := range sim.SupportedKinds() {
		k, _ := sim.KindNamed(name)
		if !k.Namespaced {
			continue
		}
		objs, err := c.m.API().List(k)
		if err != nil {
			continue
		}
		for _, o := range objs {
			c.index.apply(sim.WatchEvent{Kind: k, Type: watch.Added, Object: o})
		}
	}
	evaluators := sim.QuotaEvaluators(c.index.lister, c.clock)
	c.registry = generic.NewRegistry(evaluators)
	// The quota monitor counts every other resource it discovers by object count
	// (QuotaMonitor.SyncMonitors): here, every namespaced kind the simulator serves.
	for _, name := range sim.SupportedKinds() {
		k, _ := sim.KindNamed(name)
		if !k.Namespaced || c.registry.Get(k.GVR.GroupResource()) != nil {
			continue
		}
		c.registry.Add(generic.NewObjectCountEvaluator(k.GVR.GroupResource(), generic.ListResourceUsingListerFunc(c.index.lister, k.GVR), ""))
	}
	c.armResync()
}

// armResync schedules the next enqueueAll: wait.Until from the controller's start, every
// SyncPeriod, as background work.
func (c *Controller) armResync() {
	elapsed := c.clock.Now().Sub(c.start)
	next := c.start.Add((elapsed/SyncPeriod + 1) * SyncPeriod)
	c.clock.Daemon(next, func() {
		for _, key := range c.index.keys("ResourceQuota", "") {
			c.queue.Add(key.Namespace, key.Name)
		}
		c.armResync()
	})
}

// needsReplenish is DefaultUpdateFilter, reading the virtual clock where it reads the wall
// clock (QuotaV1Pod's grace-period check).
func (c *Controller) needsReplenish(ev sim.WatchEvent) bool {
	switch old := ev.Old.(type) {
	case *corev1.Pod:
		cur := ev.Object.(*corev1.Pod)
		return resourcesChanged(old, cur) || core.IsTerminating(old) != core.IsTerminating(cur) ||
			core.QuotaV1Pod(old, c.clock) && !core.QuotaV1Pod(cur, c.clock)
	case *corev1.Service:
		return core.GetQuotaServiceType(old) != core.GetQuotaServiceType(ev.Object.(*corev1.Service))
	case *corev1.PersistentVolumeClaim:
		return core.RequiresQuotaReplenish(ev.Object.(*corev1.PersistentVolumeClaim), old)
	}
	return false
}

// resourcesChanged is update_filter.go's hasResourcesChanged (InPlacePodVerticalScaling is on
// by default): a container's allocated resources in the status changed.
func resourcesChanged(old, cur *corev1.Pod) bool {
	for _, lists := range [][2][]corev1.ContainerStatus{
		{old.Status.ContainerStatuses, cur.Status.ContainerStatuses},
		{old.Status.InitContainerStatuses, cur.Status.InitContainerStatuses},
	} {
		for _, o := range lists[0] {
			n, ok := podutil.GetContainerStatus(lists[1], o.Name)
			if ok && !apiequality.Semantic.DeepEqual(o.Resources, n.Resources) {
				return true
			}
		}
	}
	return false
}

// replenish is replenishQuota: sync the namespace's quotas that track a resource of gr.
func (c *Controller) replenish(gr schema.GroupResource, ns string) {
	evaluator := c.registry.Get(gr)
	if evaluator == nil {
		return
	}
	for _, key := range c.index.keys("ResourceQuota", ns) {
		rq := c.index.get(key).(*corev1.ResourceQuota)
		if len(evaluator.MatchingResources(quota.ResourceNames(rq.Status.Hard))) > 0 {
			c.queue.Add(key.Namespace, key.Name)
		}
	}
}

// Sync is the worker around syncResourceQuota: a failed sync is retried after the queue's
// rate-limited back-off, a successful one forgets its failures.
func (c *Controller) Sync(ns, name string) error {
	err := c.sync(ns, name)
	if err != nil {
		c.queue.AddRateLimited(ns, name)
	} else {
		c.queue.ForgetFailures(ns, name)
	}
	return err
}

// sync is syncResourceQuota.
func (c *Controller) sync(ns, name string) error {
	obj, err := c.m.Get("ResourceQuota", ns, name)
	if err != nil {
		return nil // deleted since
	}
	rq := obj.(*corev1.ResourceQuota)
	statusLimitsDirty := !apiequality.Semantic.DeepEqual(rq.Spec.Hard, rq.Status.Hard)
	dirty := statusLimitsDirty || rq.Status.Hard == nil || rq.Status.Used == nil
	used := corev1.ResourceList{}
	if rq.Status.Used != nil {
		used = quota.Add(corev1.ResourceList{}, rq.Status.Used)
	}
	hardLimits := quota.Add(corev1.ResourceList{}, rq.Spec.Hard)
	newUsage, calcErr := quota.CalculateUsage(rq.Namespace, rq.Spec.Scopes, hardLimits, c.registry, rq.Spec.ScopeSelector)
	for key, value := range newUsage {
		used[key] = value
	}
	used = quota.Mask(used, quota.ResourceNames(hardLimits))
	usage := rq.DeepCopy()
	usage.Status = corev1.ResourceQuotaStatus{Hard: hardLimits, Used: used}
	dirty = dirty || !quota.Equals(usage.Status.Used, rq.Status.Used)
	if dirty {
		if _, err := c.m.API().UpdateStatus(usage); err != nil {
			return err
		}
	}
	return calcErr
}

// Relaid holds the copy a relayout made of an indexed object (manager.Relaider).
func (c *Controller) Relaid(kind string, old, cur runtime.Object) {
	if c.index == nil {
		return
	}
	m := cur.(metav1.Object)
	if objs := c.index.objects[kind][m.GetNamespace()]; objs != nil && objs[m.GetName()] == old {
		objs[m.GetName()] = cur
	}
}
