package persistentvolume

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/tools/cache"
	storagehelpers "k8s.io/component-helpers/storage/volume"

	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manager"
)

// ResyncPeriod is kube-controller-manager's --pvclaimbinder-sync-period default
// (pkg/controller/volume/persistentvolume/config/v1alpha1/defaults.go): every claim and volume
// is synced again this often.
const ResyncPeriod = 15 * time.Second

// Controller is the PersistentVolume controller
// (k8s.io/kubernetes/pkg/controller/volume/persistentvolume, pv_controller_base.go and
// pv_controller.go), re-implemented on the simulator's watch and queues:
//
//   - every claim added, updated or deleted, and every volume, is synced at once, as the
//     controller's informer handlers enqueue them (addClaim/updateClaim, deleteClaim syncs the
//     claim's volume, deleteVolume syncs its claim);
//   - every ResyncPeriod, from the controller's start, all claims and volumes are synced
//     (resync). That is when a Pending claim finds a static volume created after it, or a
//     default class that appeared since (assignDefaultStorageClass): the controller has no
//     StorageClass handler and adding a free volume does not sync any claim. The resync is
//     background work (it does not keep a run going), except that a volume or StorageClass
//     change while some claim is unbound makes the next one foreground, so a run does not
//     end before a binding the real controller would make (a free or pre-bound volume, or a
//     class, appearing or changing).
//
// Deliberate deviations: the controller's asynchronous operations (provisioning, deleting,
// recycling, each in a goroutine of its own keyed by the operation's name) run inside the
// sync. Repeated identical events on one object are recorded once, as the event recorder's
// correlator folds them into one Event whose count grows. Not modelled, and said so where it
// matters: in-tree provisioners and deleters (hostPath's, for development only, off by
// default), recycling (a recycler pod), CSI migration's annotations on claims and volumes,
// volume expansion and the VolumeAttributesClass controller (modify-volume).
type Controller struct {
	m     *manager.Manager
	clock *clock.Virtual
	// claimQueue and volumeQueue are the controller's two work queues.
	claimQueue, volumeQueue *manager.Queue
	// pvcProtection and pvProtection are the finalizer controllers' queues.
	pvcProtection, pvProtection *manager.Queue

	// The informers' caches: claims by namespace/name, volumes by name, classes, and pods by
	// the claims they name (common.PodPVCIndexFunc), kept from the watch.
	claims map[string]*corev1.PersistentVolumeClaim
	// unbound are the live claims not bound yet (no bind-completed annotation).
	unbound map[string]bool
	volumes map[string]*corev1.PersistentVolume
	classes cache.Indexer
	// classLister reads classes as the controller's classLister does.
	classLister storagelisters.StorageClassLister
	podsByClaim map[string]map[string]*corev1.Pod

	// lastEvent is the last event recorded on each object ("Kind/ns/name"), to fold repeats.
	lastEvent map[string]string

	// start is when the controller started; resync is the next periodic resync, armed when
	// the first claim or volume appears; wake makes it foreground (see Controller).
	start  time.Time
	resync *clock.Event
	wake   bool
}

// claimSyncer and volumeSyncer give the controller's two queues their kinds (the manager names
// a failed sync's object by them).
type claimSyncer struct{ *Controller }
type volumeSyncer struct{ *Controller }

func (claimSyncer) Kind() string { return "PersistentVolumeClaim" }
func (s claimSyncer) Sync(ns, name string) error {
	return retry(s.claimQueue, ns, name, s.syncClaimKey(ns, name))
}
func (volumeSyncer) Kind() string { return "PersistentVolume" }
func (s volumeSyncer) Sync(_, name string) error {
	return retry(s.volumeQueue, "", name, s.syncVolumeKey(name))
}
func (claimSyncer) ObjectChanged(sim.WatchEvent) bool  { return false }
func (volumeSyncer) ObjectChanged(sim.WatchEvent) bool { return false }

// retry is processNextClaimWorkItem's and processNextVolumeWorkItem's end: a failed sync is
// retried after the queue's rate-limited back-off, a successful one forgets its failures.
func retry(q *manager.Queue, ns, name string, err error) error {
	if err != nil {
		q.AddRateLimited(ns, name)
	} else {
		q.ForgetFailures(ns, name)
	}
	return err
}

var (
	_ manager.Controller   = claimSyncer{}
	_ manager.ObjectFilter = claimSyncer{}
	_ manager.Observer     = claimSyncer{}
	_ manager.Controller   = volumeSyncer{}
	_ manager.Controller   = pvcProtection{}
	_ manager.ObjectFilter = pvcProtection{}
	_ manager.Controller   = pvProtection{}
	_ manager.ObjectFilter = pvProtection{}
)

// New registers the PersistentVolume controller and the pvc-protection and pv-protection
// controllers with m. The protection controllers are registered last, so the manager hands
// them the changes of their kinds (through their ObjectFilters); the PV controller's queues
// are fed by its own Observe, which sees every change.
func New(m *manager.Manager) *Controller {
	c := &Controller{
		m: m, clock: m.Clock(), start: m.Clock().Now(),
		claims:      map[string]*corev1.PersistentVolumeClaim{},
		volumes:     map[string]*corev1.PersistentVolume{},
		classes:     cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		unbound:     map[string]bool{},
		podsByClaim: map[string]map[string]*corev1.Pod{},
		lastEvent:   map[string]string{},
	}
	c.classLister = storagelisters.NewStorageClassLister(c.classes)
	c.claimQueue = m.Register(claimSyncer{c})
	c.volumeQueue = m.Register(volumeSyncer{c})
	c.pvcProtection = m.Register(pvcProtection{c})
	c.pvProtection = m.Register(pvProtection{c})
	return c
}

// Observe is the controller's Observer: one of its registered parts only, so that it sees
// each change once.
func (s claimSyncer) Observe(ev sim.WatchEvent) { s.observe(ev) }

// observe keeps the caches and enqueues what the real controllers' informer handlers enqueue.
// It runs inside the API's write (the Watcher rule): it only queues.
func (c *Controller) observe(ev sim.WatchEvent) {
	switch obj := ev.Object.(type) {
	case *corev1.PersistentVolumeClaim:
		key := obj.Namespace + "/" + obj.Name
		if ev.Type == watch.Deleted {
			delete(c.claims, key)
			delete(c.unbound, key)
			delete(c.lastEvent, "PersistentVolumeClaim/"+key)
			// deleteClaim: the volume is synced, to be released at once.
			if obj.Spec.VolumeName != "" {
				c.volumeQueue.Add("", obj.Spec.VolumeName)
			}
			return
		}
		c.claims[key] = obj
		if !metav1.HasAnnotation(obj.ObjectMeta, storagehelpers.AnnBindCompleted) && obj.DeletionTimestamp == nil {
			c.unbound[key] = true
		} else {
			delete(c.unbound, key)
		}
		c.armResync()
		c.claimQueue.Add(obj.Namespace, obj.Name)
	case *corev1.PersistentVolume:
		if ev.Type == watch.Deleted {
			delete(c.volumes, obj.Name)
			delete(c.lastEvent, "PersistentVolume//"+obj.Name)
			// deleteVolume: the claim is synced, to be Lost at once.
			if ref := obj.Spec.ClaimRef; ref != nil {
				c.claimQueue.Add(ref.Namespace, ref.Name)
			}
			return
		}
		c.volumes[obj.Name] = obj
		c.armResync()
		c.volumeQueue.Add("", obj.Name)
		// Only the resync offers a free volume, or one pre-bound to a claim by name, to the
		// claims; a volume bound to a claim's UID gets that claim synced at once (syncVolume).
		if obj.Spec.ClaimRef == nil || obj.Spec.ClaimRef.UID == "" {
			c.wakeIfUnbound()
		}
	case *storagev1.StorageClass:
		if ev.Type == watch.Deleted {
			_ = c.classes.Delete(obj)
			return
		}
		_ = c.classes.Add(obj)
		c.wakeIfUnbound()
	case *corev1.Pod:
		c.observePod(ev)
	}
}

// observePod keeps the pods-by-claim index and feeds pvc-protection (podAddedDeletedUpdated).
func (c *Controller) observePod(ev sim.WatchEvent) {
	pod := ev.Object.(*corev1.Pod)
	if ev.Old != nil {
		old := ev.Old.(*corev1.Pod)
		for _, k := range claimKeys(old) {
			delete(c.podsByClaim[k], podKey(old))
			if len(c.podsByClaim[k]) == 0 {
				delete(c.podsByClaim, k)
			}
		}
	}
	keys := claimKeys(pod)
	if ev.Type != watch.Deleted {
		for _, k := range keys {
			if c.podsByClaim[k] == nil {
				c.podsByClaim[k] = map[string]*corev1.Pod{}
			}
			c.podsByClaim[k][podKey(pod)] = pod
		}
	}
	// With PersistentVolumeClaimUnusedSinceTime (beta, on in v1.37) every change of a pod
	// enqueues the claims it names (enqueuePVCs).
	for _, k := range keys {
		ns, name, _ := cache.SplitMetaNamespaceKey(k)
		c.pvcProtection.Add(ns, name)
	}
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// armResync schedules the next resync, every ResyncPeriod from the controller's start, once
// there is a claim or a volume to sync.
func (c *Controller) armResync() {
	if c.resync != nil && c.resync.Pending() {
		return
	}
	elapsed := c.clock.Now().Sub(c.start)
	next := c.start.Add((elapsed/ResyncPeriod + 1) * ResyncPeriod)
	if c.wake {
		c.resync = c.clock.At(next, c.resyncAll)
	} else {
		c.resync = c.clock.Daemon(next, c.resyncAll)
	}
}

// wakeIfUnbound makes the next resync foreground when some claim is not bound yet: a volume or
// class change may let that resync bind it.
func (c *Controller) wakeIfUnbound() {
	if c.wake || c.resync == nil || !c.resync.Pending() || len(c.unbound) == 0 {
		return
	}
	c.wake = true
	at := c.resync.At()
	c.resync.Cancel()
	c.resync = c.clock.At(at, c.resyncAll)
}

// resyncAll is the controller's resync: every claim, then every volume, in name order.
func (c *Controller) resyncAll() {
	c.wake = false
	for _, k := range sortedKeys(c.claims) {
		ns, name, _ := cache.SplitMetaNamespaceKey(k)
		c.claimQueue.Add(ns, name)
	}
	for _, name := range sortedKeys(c.volumes) {
		c.volumeQueue.Add("", name)
	}
	c.resync = nil
	if len(c.claims) > 0 || len(c.volumes) > 0 {
		c.armResync()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// event records an event on a claim or volume, unless it repeats the last one recorded on it.
func (c *Controller) event(obj runtime.Object, eventType, reason, message string) {
	m := obj.(metav1.Object)
	kind := "PersistentVolume"
	if _, ok := obj.(*corev1.PersistentVolumeClaim); ok {
		kind = "PersistentVolumeClaim"
	}
	key := kind + "/" + m.GetNamespace() + "/" + m.GetName()
	last := eventType + "\x00" + reason + "\x00" + message
	if c.lastEvent[key] == last {
		return
	}
	c.lastEvent[key] = last
	c.m.Simulator().Recorder().Event(obj, eventType, reason, message)
}

// Relaid holds the copy a relayout made of an indexed pod (manager.Relaider); one of the
// controller's registered parts only, as for Observe.
func (s claimSyncer) Relaid(_ string, old, cur runtime.Object) {
	if p, ok := cur.(*corev1.Pod); ok {
		for _, k := range claimKeys(p) {
			if pods := s.podsByClaim[k]; pods != nil && runtime.Object(pods[podKey(p)]) == old {
				pods[podKey(p)] = p
			}
		}
	}
}
