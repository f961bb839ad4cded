package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/scheduler"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/profile"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/controlplane"
)

const (
	// unschedulableFlushPeriod and maxUnschedulableDuration are the scheduling queue's own
	// cadence (PriorityQueue.Run's wall-clock loop, and DefaultPodMaxInUnschedulablePodsDuration),
	// reproduced here on virtual time. Neither is part of a scheduler configuration file: the
	// maximum is kube-scheduler's deprecated --pod-max-in-unschedulable-pods-duration flag.
	unschedulableFlushPeriod = 30 * time.Second
	maxUnschedulableDuration = 5 * time.Minute
)

// SchedulerHooks receive what the scheduler did; the simulator's recorder implements them.
type SchedulerHooks interface {
	// Attempted is called when a scheduling cycle starts for a pod.
	Attempted(pod *corev1.Pod)
	// Failed is called with the scheduler's own message, and the structured outcome it is
	// made from, when a cycle fails.
	Failed(pod *corev1.Pod, message string, outcome analysis.SchedulingOutcome)
	// Event is called for every event the scheduler records (Scheduled, FailedScheduling, …).
	Event(regarding runtime.Object, eventType, reason, note string)
}

// driver runs the real kube-scheduler one cycle at a time. It replaces sched.Run: the binding
// cycle still runs in the scheduler's own goroutine, but the driver waits for it to end before
// the next cycle, so every run takes the same path whatever the goroutine timing.
type driver struct {
	// draCaches are the profiles' DynamicResources filter caches (drafiltercache.go).
	draCaches []*draFilterCache
	sched     *scheduler.Scheduler
	clock     interface{ Now() time.Time }
	hooks     SchedulerHooks

	// budget is how many pops are known not to block: the queue's Pop blocks when the active
	// and backoff queues are empty, and those are the only queues the driver pops from.
	budget int
	// cycle tracks the pod being scheduled. The binding goroutine reports its end on done.
	cycle struct {
		uid      types.UID
		reserved bool
		ended    bool
	}
	done chan struct{}
	// unschedulableSince holds when each pod last failed or was flushed, to reproduce the
	// queue's leftover flush, which selects pods unschedulable for longer than the maximum.
	unschedulableSince map[types.UID]time.Time
	// errorBackoff holds the pods waiting in the queue's error backoff (see errorbackoff.go).
	errorBackoff map[types.UID]bool
	// initialBackoff and maxBackoff are the queue's pod backoff bounds (from the config).
	initialBackoff, maxBackoff time.Duration
	// armRetry schedules a retry of pods whose error backoff ends at the given time.
	armRetry func(at time.Time, pod *corev1.Pod)
	// armFlush makes sure a flush is scheduled; called when a pod becomes unschedulable.
	armFlush func()
	// stopped reports whether the run was asked to stop; checked between two cycles.
	stopped func() bool
	// beforeCycle runs before each cycle of a drain, when no binding is in flight: it lays
	// the pods out afresh when due (podLayout), also amid a long drain (an unpaced run
	// schedules thousands of pods at one instant).
	beforeCycle func() error
	// profiles are the scheduler names of the configured profiles, sorted.
	profiles []string
	logger   klog.Logger
	// plainProfiles are the configured profiles without the simulator's own plugins, for the
	// frameworks the node autoscaler simulates with (filterframework.go); outOfTree are the
	// out-of-tree plugins (Config.Plugins), which those profiles may enable.
	plainProfiles []schedulerapi.KubeSchedulerProfile
	outOfTree     frameworkruntime.Registry

	// client is the token bucket of the scheduler's client (clientConnection.qps and burst,
	// kube-scheduler's rest.Config; v1 defaults 50 and 100), nil when not paced. Each binding
	// takes a token; see drain.
	client *controlplane.Bucket
	// now is virtual time itself: the scheduler's clock (clockAdapter) moves on a nanosecond
	// per reading, which would make the bucket drift.
	now func() time.Time
	// resume schedules a (foreground) clock event at the given instant, so that a drain the
	// bucket stopped goes on then; resumeAt is the latest one scheduled.
	resume   func(at time.Time)
	resumeAt time.Time

	// parked are the binding cycles waiting in VolumeBinding's PreBind, in park order
	// (volumewait.go); parkedPods indexes them by pod, parkedRefs counts what they read.
	parked     []*parkedCycle
	parkedPods map[types.UID]*parkedCycle
	parkedRefs struct{ nodes, claims, pvs map[string]int }
	// wakeArmed is whether a wake of the parked cycles is scheduled.
	wakeArmed bool
	// closing skips the failure handler of cycles released by Close.
	closing bool
	// afterNow schedules work at this instant, at work at a later one; daemonAt background
	// work at a later one.
	afterNow func(fn func())
	at       func(t time.Time, fn func()) interface{ Cancel() bool }
	daemonAt func(at time.Time, fn func()) interface{ Cancel() bool }
}

// visibleToScheduler mirrors the field selector of the scheduler's pod informer, which
// excludes terminal pods: a pod that becomes terminal is delivered to it as a deletion, which
// frees its resources.
func visibleToScheduler(k *Kind) func(runtime.Object) bool {
	if k.Name() != "Pod" {
		return nil
	}
	return func(o runtime.Object) bool {
		p := o.(*corev1.Pod)
		return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
	}
}

type schedulerOptions struct {
	parallelism int32
	// preemptionRand feeds DefaultPreemption's choice of where its candidate search starts.
	preemptionRand *rand.Rand
	// config is the scheduler's configuration; nil means kube-scheduler's defaults.
	config *schedulerapi.KubeSchedulerConfiguration
	// unpaced takes the bucket off the scheduler's client (Config.UnpacedScheduler).
	unpaced bool
	// featureGates are Config.FeatureGates.
	featureGates map[string]bool
	// plugins are the out-of-tree plugins (Config.Plugins), checked by CheckPlugins.
	plugins frameworkruntime.Registry
	// NoDRAFilterCache leaves DynamicResources to filter alone (Config.NoDRAFilterCache).
	NoDRAFilterCache bool
}

func newDriver(ctx context.Context, api *API, clk *clockAdapter, hooks SchedulerHooks, opts schedulerOptions) (*driver, error) {
	if err := applyGates(opts.featureGates); err != nil {
		return nil, err
	}
	// Every kind the API layer serves is delivered synchronously: the scheduler reads more than
	// pods and nodes (default topology spreading looks up a pod's ReplicaSet, affinity reads
	// namespaces), and an informer fed asynchronously by the fake clientset's watch would let
	// goroutine timing decide what it sees. Kinds nobody writes keep the factory's informers.
	factory := informers.NewSharedInformerFactory(api.Client(), 0)
	for _, name := range SupportedKinds() {
		k := kinds[name]
		obj, err := legacyscheme.Scheme.New(k.GVK)
		if err != nil {
			return nil, err
		}
		inf := newSyncInformer(visibleToScheduler(k))
		api.informers[name] = inf
		factory.InformerFor(obj, func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer { return inf })
	}
	d := &driver{
		clock:              clk,
		hooks:              hooks,
		done:               make(chan struct{}, 1),
		unschedulableSince: map[types.UID]time.Time{},
		errorBackoff:       map[types.UID]bool{},
		parkedPods:         map[types.UID]*parkedCycle{},
		logger:             klog.FromContext(ctx),
	}
	d.parkedRefs.nodes, d.parkedRefs.claims, d.parkedRefs.pvs = map[string]int{}, map[string]int{}, map[string]int{}
	cfg := opts.config
	if cfg == nil {
		var err error
		if cfg, err = DefaultSchedulerConfig(); err != nil {
			return nil, err
		}
	}
	if !opts.unpaced {
		// kube-scheduler's client (cmd/kube-scheduler/app/options: createKubeConfig sets
		// kubeConfig.QPS/Burst from clientConnection) gets rest.RESTClientFor's token bucket;
		// a qps that is not positive leaves it without one.
		d.client = controlplane.NewBucket(cfg.ClientConnection.QPS, int(cfg.ClientConnection.Burst))
	}
	d.now = clk.Virtual.Now
	d.initialBackoff = time.Duration(cfg.PodInitialBackoffSeconds) * time.Second
	d.maxBackoff = time.Duration(cfg.PodMaxBackoffSeconds) * time.Second
	d.profiles = profileNames(cfg)
	// A copy: the simulator adds its own plugins to every profile, and the caller's
	// configuration may serve several runs.
	profiles := cfg.DeepCopy().Profiles
	d.plainProfiles = cfg.DeepCopy().Profiles
	bindTimeouts := make(map[string]time.Duration, len(profiles))
	for i := range profiles {
		addRecorderPlugin(&profiles[i])
		useSeededPreemption(&profiles[i])
		bindTimeouts[profiles[i].SchedulerName] = noVolumeBindWait(&profiles[i])
		if !opts.NoDRAFilterCache {
			useDRAFilterCache(&profiles[i])
		}
	}
	registry := frameworkruntime.Registry{
		recorderPluginName: func(context.Context, runtime.Object, fwk.Handle) (fwk.Plugin, error) {
			return &recorderPlugin{d: d}, nil
		},
		seededPreemptionName: newSeededPreemption(opts.preemptionRand, d.afterPreemption),
		draFilterCacheName:   newDRAFilterCache,
	}
	// Config.validate has refused names the two sets share (CheckPlugins).
	if err := registry.Merge(opts.plugins); err != nil {
		return nil, err
	}
	d.outOfTree = opts.plugins
	recorderFactory := profile.RecorderFactory(func(string) eventRecorder { return &schedulerEvents{hooks: hooks} })
	// The options kube-scheduler's own setup derives from its configuration, except
	// parallelism, which the simulator's flag decides (see Config.SchedulerConfig), and
	// extenders, which LoadSchedulerConfig refuses.
	sched, err := scheduler.New(klog.NewContext(ctx, QuietLogger(klog.FromContext(ctx))), api.Client(), factory, nil, recorderFactory,
		scheduler.WithClock(clk),
		scheduler.WithParallelism(opts.parallelism),
		scheduler.WithProfiles(profiles...),
		scheduler.WithPercentageOfNodesToScore(cfg.PercentageOfNodesToScore),
		scheduler.WithPodInitialBackoffSeconds(cfg.PodInitialBackoffSeconds),
		scheduler.WithPodMaxBackoffSeconds(cfg.PodMaxBackoffSeconds),
		scheduler.WithFrameworkOutOfTreeRegistry(registry),
		scheduler.WithPodMaxInUnschedulablePodsDuration(maxUnschedulableDuration),
	)
	if err != nil && opts.config != nil {
		return nil, &SchedulerConfigError{Err: withPluginHint(err, cfg, opts.plugins)}
	}
	if err != nil {
		return nil, fmt.Errorf("creating the scheduler: %w", err)
	}
	if err := d.useParkingBinders(sched, factory, bindTimeouts); err != nil {
		return nil, err
	}
	if d.draCaches, err = wireDRAFilterCaches(sched); err != nil {
		return nil, err
	}
	if api.admission, err = newAdmission(api, factory); err != nil {
		return nil, err
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	// sched.WaitForHandlersSync is not needed, and would poll on a 100 ms wall-clock period:
	// the simulator is built before any object exists, so every informer's initial list is
	// empty and no handler has anything to deliver.
	d.sched = sched
	next := sched.NextEntity
	sched.NextEntity = func(logger klog.Logger) (framework.QueuedEntityInfo, error) {
		e, err := next(logger)
		if pi, ok := e.(*framework.QueuedPodInfo); ok && pi != nil && pi.Pod != nil {
			d.cycle.uid = pi.Pod.UID
			hooks.Attempted(pi.Pod)
		}
		return e, err
	}
	fail := sched.FailureHandler
	sched.FailureHandler = func(ctx context.Context, f framework.Framework, pi *framework.QueuedPodInfo, status *fwk.Status, ni *fwk.NominatingInfo, start time.Time) {
		if d.closing {
			// A volume wait released by Close: the run is over, its pod stays as it was.
			d.endCycle()
			return
		}
		// Read before the handler runs: the queue keeps the fit error's plugin sets as the
		// pod's, and may change them.
		outcome := outcomeOf(status)
		fail(ctx, f, pi, status, ni, start)
		d.failed(pi, status, outcome)
	}
	return d, nil
}

// failed is the wrapped FailureHandler: it runs in the scheduling cycle, or in the binding
// goroutine when binding failed, and ends the cycle in both cases.
func (d *driver) failed(pi *framework.QueuedPodInfo, status *fwk.Status, outcome analysis.SchedulingOutcome) {
	pod := pi.Pod
	unschedulable := status.IsRejected()
	delete(d.errorBackoff, pod.UID)
	if unschedulable {
		d.unschedulableSince[pod.UID] = d.clock.Now()
		if d.armFlush != nil {
			d.armFlush()
		}
	}
	if inErrorBackoff(status) {
		d.backingOffAfterError(pi)
	}
	d.hooks.Failed(pod, status.Message(), outcome)
	d.endCycle()
}

func (d *driver) reserved(pod *corev1.Pod) {
	if pod.UID == d.cycle.uid {
		d.cycle.reserved = true
	}
}

func (d *driver) bound(pod *corev1.Pod) {
	// The binding's POST took the token drain saw free before the cycle.
	d.client.Reserve(d.now())
	delete(d.unschedulableSince, pod.UID)
	delete(d.errorBackoff, pod.UID)
	d.endCycle()
}

func (d *driver) endCycle() {
	select {
	case d.done <- struct{}{}:
	default:
	}
}

// forget drops a deleted pod from the flush and retry bookkeeping.
func (d *driver) forget(uid types.UID) {
	delete(d.unschedulableSince, uid)
	delete(d.errorBackoff, uid)
}

// drain schedules until the active and backoff queues are empty. With SchedulerPopFromBackoffQ
// (beta, on by default in v1.37) the queue pops from backoffQ when activeQ is empty, so backoff
// never holds a pod back while the scheduler is idle, exactly as in a real scheduler with
// nothing else to do.
//
// With a paced client, a cycle starts only when a token is free for its binding: otherwise
// the drain stops and resumes at the instant the bucket has one (a clock event). The real
// scheduler's binding goroutine would wait for the token while the next cycles go on, so
// the pods it binds keep their order but their bindings are as late as here; only the
// binding takes a token (the status patch of a failed cycle and events are not counted).
func (d *driver) drain(ctx context.Context, limit int) (int, error) {
	cycles := 0
	for {
		if d.budget == 0 {
			q := d.sched.SchedulingQueue
			d.budget = len(q.PodsInActiveQ()) + d.poppableFromBackoff(q.PodsInBackoffQ())
			if d.budget == 0 {
				return cycles, nil
			}
		}
		if d.stopped != nil && d.stopped() {
			return cycles, ErrStopped
		}
		if now := d.now(); d.client != nil {
			if at := d.client.NextFree(now); at.After(now) {
				// The queue may change before then: count its pods afresh.
				d.budget = 0
				if d.resume != nil && !d.resumeAt.Equal(at) {
					d.resumeAt = at
					d.resume(at)
				}
				return cycles, nil
			}
		}
		if cycles >= limit {
			return cycles, fmt.Errorf("the scheduler ran %d cycles without virtual time moving; pods keep failing and being retried (the limit is %s)", cycles, MaxEventsPerInstantFlag)
		}
		if d.beforeCycle != nil {
			if err := d.beforeCycle(); err != nil {
				return cycles, err
			}
		}
		d.budget--
		cycles++
		d.cycle.uid, d.cycle.reserved = "", false
		select {
		case <-d.done:
		default:
		}
		d.sched.ScheduleOne(ctx)
		select {
		case <-d.done:
		default:
			if d.cycle.reserved {
				// The binding cycle runs in its own goroutine; wait for its outcome
				// (PostBind or the failure handler) before anything else happens.
				select {
				case <-d.done:
				case <-ctx.Done():
					return cycles, ctx.Err()
				}
			}
		}
	}
}

// flushUnschedulable reproduces PriorityQueue.flushUnschedulableEntitiesLeftover on virtual
// time: pods unschedulable for longer than the maximum go back to the active or backoff queue.
// It reports whether any pod is still tracked as unschedulable.
func (d *driver) flushUnschedulable() bool {
	now := d.clock.Now()
	due := map[types.UID]bool{}
	for uid, since := range d.unschedulableSince {
		if now.Sub(since) > maxUnschedulableDuration {
			due[uid] = true
		}
	}
	if len(due) == 0 {
		return len(d.unschedulableSince) > 0
	}
	moved := map[types.UID]bool{}
	d.sched.SchedulingQueue.MoveAllToActiveOrBackoffQueue(d.logger, framework.EventUnschedulableTimeout, nil, nil,
		func(pod *corev1.Pod) bool {
			if due[pod.UID] {
				moved[pod.UID] = true
				return true
			}
			return false
		})
	for uid := range due {
		if moved[uid] {
			d.unschedulableSince[uid] = now
		} else {
			// No longer in the unschedulable pool (bound, deleted or already requeued).
			delete(d.unschedulableSince, uid)
		}
	}
	return len(d.unschedulableSince) > 0
}
