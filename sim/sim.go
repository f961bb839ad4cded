package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"k8s.io/kubernetes/pkg/scheduler"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/clock"
	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/stages"
)

// Epoch is virtual time zero. Objects carry timestamps relative to it; reports count seconds
// from it.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// MaxUntil and CheckUntil are clock.MaxUntil and clock.CheckUntil: the latest virtual time a
// run may reach.
const MaxUntil = clock.MaxUntil

// CheckUntil is clock.CheckUntil.
func CheckUntil(what string, d time.Duration) error { return clock.CheckUntil(what, d) }

// Config is what a simulation needs; the zero value of an optional field means its default.
type Config struct {
	// Seed feeds every random choice of the run: UIDs, generated names, stage picks, delays.
	Seed uint64
	// Until ends the run at this virtual time. Zero runs until nothing but periodic background
	// work (node heartbeats, the scheduler's retry of unschedulable pods, the deadlines of
	// binding cycles waiting for their volumes: see ParkedPods) is pending.
	Until time.Duration
	// Parallelism of the scheduler's filter and score phases. 1 (the default) keeps placements
	// deterministic; more trades that for speed (see docs/design.md, "Hazards inside the real
	// scheduler", on feasible-node order).
	Parallelism int32
	// SchedulerConfig is the scheduler's configuration (see LoadSchedulerConfig); nil means
	// kube-scheduler's defaults. Its profiles, their plugins and plugin arguments,
	// percentageOfNodesToScore, the pod backoff and clientConnection's qps and burst (the
	// pace of bindings, see UnpacedScheduler) are honoured; its parallelism is not
	// (Parallelism above decides), nor the rest of what concerns a process talking to an
	// apiserver (leaderElection, profiling); extenders are refused.
	SchedulerConfig *schedulerapi.KubeSchedulerConfiguration
	// Stages drive node and pod lifecycles (KWOK Stage semantics). Empty means no stages:
	// nodes stay as created and bound pods stay Pending.
	Stages []*stages.Stage
	// MaxEventsPerInstant bounds the events run at one virtual instant, so a stage set that
	// keeps matching its own output with no delay fails instead of hanging.
	MaxEventsPerInstant int
	// MaxObjects bounds the objects the simulated apiserver stores at once (default
	// DefaultMaxObjects): the create that would pass it fails the run (see limits.go).
	MaxObjects int
	// MaxMemory bounds the memory the Go runtime holds, in bytes, checked every 1,024
	// object creates and clock events; past it the run fails (see limits.go). Zero: no limit.
	// Unlike the other limits it depends on the machine, not only on the inputs; it never
	// changes the result of a run that stays under it.
	MaxMemory int64
	// MaxMemoryNote says how MaxMemory was chosen (a flag, a default derived from the
	// machine), for the message of a run that passes it.
	MaxMemoryNote string
	// KeepRenewals performs every transition of a periodic stage one by one, even those that
	// only renew timestamps (node heartbeats), which are otherwise elided and counted (see
	// renewal.go). For stage sets that read heartbeat times; slow over long runs.
	KeepRenewals bool
	// Progress, when set, is called from Run every ProgressEvery events with the virtual time
	// reached and the events processed so far. It must not touch the simulation; the run
	// stays deterministic because it reads no wall clock itself.
	Progress func(elapsed time.Duration, events int64)
	// Stop, when closed, stops Run at the next boundary between two events or two scheduling
	// cycles, where nothing is half done: Run returns ErrStopped and the simulator can still
	// be observed. It is how an interrupted run still reports what it reached.
	Stop <-chan struct{}
	// RelayoutNodeWrites is how many node writes make the simulator lay the scheduler's nodes
	// out afresh in memory before its next scheduling cycle (see layout.go). Zero means the
	// default: 1,024 writes and at least a quarter of the nodes; negative means never. Only
	// the speed of a run depends on it, never its report.
	RelayoutNodeWrites int
	// RelayoutPodWrites is how many pod writes make the simulator lay the pods of the scheduler's
	// cache out afresh in memory before its next scheduling cycle (see podlayout.go). Zero means
	// the default: 4,096 writes and at least a quarter as many as there are pods; negative means
	// never. Only the speed of a run depends on it, never its report.
	RelayoutPodWrites int
	// SampleInterval is the step of the report's time series (analysis.Observation's); zero
	// picks a round one from the run's length. The simulation itself does not use it.
	SampleInterval time.Duration
	// ControlPlane are the settings of the modelled control plane components, named as their
	// flags (node lifecycle, pod GC, DefaultTolerationSeconds); nil means the real defaults.
	ControlPlane *controlplane.Flags
	// UnpacedScheduler takes the token bucket off the scheduler's client, whatever the
	// configuration's clientConnection.qps says (kwoksim run --pacing instant): bindings are
	// then not paced at all.
	UnpacedScheduler bool
	// NoDRAFilterCache leaves DynamicResources' Filter to run on every node the scheduler
	// checks, as kube-scheduler does, without the cache that gives its earlier answers
	// (drafiltercache.go). The placements are the same; kwoksim perf sets it, because what it
	// measures is the scheduler's own cost, and the tests set it to compare.
	NoDRAFilterCache bool
	// FeatureGates are set before the scheduler is built (kube-scheduler's --feature-gates),
	// over kube-scheduler's defaults and the gates the simulator turns off to stay
	// deterministic (see features.go and NondeterministicGates). Gates are process-wide: two
	// simulators with different gates must not run at once in one process.
	FeatureGates map[string]bool
	// DisableAdmissionPlugins turns off admission plugins of the simulated apiserver, named as
	// kube-apiserver's --disable-admission-plugins names them (AdmissionPlugins lists those
	// kwoksim runs). scheduler_perf's apiserver runs without Priority, so that a pod may give
	// spec.priority without a class.
	DisableAdmissionPlugins []string
	// Plugins are out-of-tree scheduler plugins by the name a scheduler configuration enables
	// them with, as kube-scheduler's app.WithPlugin registers them; nil means none. They join
	// the in-tree plugins in every framework the simulator builds (CheckPlugins refuses a name
	// an in-tree plugin or one of kwoksim's own has) and run where SchedulerConfig enables them.
	// A run stays reproducible from its seed only if they read no wall clock and draw from no
	// global random source.
	Plugins frameworkruntime.Registry
}

// DefaultMaxEventsPerInstant is the default of Config.MaxEventsPerInstant.
const DefaultMaxEventsPerInstant = 1_000_000

func (c *Config) validate() error {
	if c.Parallelism == 0 {
		c.Parallelism = 1
	}
	if c.Parallelism < 0 {
		return fmt.Errorf("parallelism must be positive, got %d", c.Parallelism)
	}
	if c.Until < 0 {
		return fmt.Errorf("until must not be negative, got %v", c.Until)
	}
	if err := CheckUntil("until", c.Until); err != nil {
		return err
	}
	if c.ControlPlane == nil {
		d := controlplane.Defaults()
		c.ControlPlane = &d
	} else if err := c.ControlPlane.Validate(); err != nil {
		return err
	}
	if err := CheckAdmissionPlugins(c.DisableAdmissionPlugins); err != nil {
		return err
	}
	if c.MaxEventsPerInstant == 0 {
		c.MaxEventsPerInstant = DefaultMaxEventsPerInstant
	}
	if err := CheckPlugins(c.Plugins); err != nil {
		return err
	}
	if c.SchedulerConfig != nil {
		if err := validation.ValidateKubeSchedulerConfiguration(c.SchedulerConfig); err != nil {
			return &SchedulerConfigError{Err: err}
		}
		if err := checkSimulable(c.SchedulerConfig); err != nil {
			return &SchedulerConfigError{Err: err}
		}
	}
	return c.validateLimits()
}

// ErrStopped is what Run returns when Config.Stop was closed.
var ErrStopped = errors.New("the run was stopped before its end")

// Failure is an error of the simulation itself (as opposed to bad input): a livelock, the
// scheduler failing to settle, or a Watcher breaking the Watcher rule.
type Failure struct{ Msg string }

func (f *Failure) Error() string { return f.Msg }

// StageError is a stage that could not be evaluated or performed (a template or expression
// failing on an object, a cost limit exceeded): bad input found while running.
type StageError struct{ Err error }

func (e *StageError) Error() string { return "stage: " + e.Err.Error() }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*StageError) BadInput() {}

func (e *StageError) Unwrap() error { return e.Err }

// Simulator is one simulated cluster. It is not safe for concurrent use: one goroutine owns
// the event loop, and everything the scheduler does in other goroutines is fenced by it.
type Simulator struct {
	cfg    Config
	clock  *clock.Virtual
	api    *API
	driver *driver
	rec    *Recorder
	stages *stageRunner
	// terminations ends graceful pod deletions when their grace period is over (termination.go).
	terminations *terminations
	// flushArmed is whether the next unschedulable flush is scheduled.
	flushArmed bool
	// aborted is the error a clock event stopped the run with.
	aborted error
	cancel  context.CancelFunc
	ctx     context.Context
	// attached are the run's components other packages look up by key (Attach).
	attached map[string]any
}

// New builds a simulator with an empty cluster at virtual time zero.
func New(ctx context.Context, cfg Config) (*Simulator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Simulator{cfg: cfg, clock: clock.NewVirtual(Epoch), ctx: ctx, cancel: cancel}
	s.api = newAPI(s.clock, cfg.Seed)
	s.api.layout.threshold = cfg.RelayoutNodeWrites
	s.api.podLayout.threshold = cfg.RelayoutPodWrites
	s.api.objects = objectLimit{max: cfg.MaxObjects, abort: s.Abort}
	s.api.objects.memory = memoryLimit{max: cfg.MaxMemory, note: cfg.MaxMemoryNote, elapsed: s.Elapsed,
		stored: func() int { return s.api.objects.stored }}
	s.api.abort = s.Abort
	s.rec = newRecorder(s.clock)
	s.api.evictionRefused = s.rec.EvictionRefused
	d, err := newDriver(ctx, s.api, newClockAdapter(s.clock), s.rec, schedulerOptions{
		parallelism: cfg.Parallelism, preemptionRand: s.Rand(streamPreemption), config: cfg.SchedulerConfig, unpaced: cfg.UnpacedScheduler,
		featureGates: cfg.FeatureGates, plugins: cfg.Plugins, NoDRAFilterCache: cfg.NoDRAFilterCache})
	if err != nil {
		cancel()
		return nil, err
	}
	s.driver = d
	s.api.admission.tolerations = newDefaultTolerationSeconds(*cfg.ControlPlane)
	if len(cfg.DisableAdmissionPlugins) > 0 {
		s.api.admission.disabled = map[string]bool{}
		for _, n := range cfg.DisableAdmissionPlugins {
			s.api.admission.disabled[n] = true
		}
	}
	if err := s.api.bootstrap(s.Rand(streamBootstrap)); err != nil {
		cancel()
		return nil, err
	}
	s.api.Watch(s.rec.observe)
	s.api.OnRelaid(s.rec.relaid)
	s.api.Watch(func(ev WatchEvent) {
		if ev.Type == watch.Deleted && ev.Kind.Name() == "Pod" {
			d.forget(ev.Object.(metav1.Object).GetUID())
		}
	})
	s.terminations = newTerminations(s.api, s.clock)
	s.api.Watch(s.terminations.observe)
	if len(cfg.Stages) > 0 {
		r, err := newStageRunner(s.api, s.clock, s.rec, cfg.Stages, s.Rand(streamStages))
		if err != nil {
			cancel()
			return nil, err
		}
		r.seed, r.keepRenewals = cfg.Seed, cfg.KeepRenewals
		s.stages = r
		s.api.Watch(r.observe)
	}
	d.armFlush = s.armFlush
	d.armRetry = s.armRetry
	d.stopped = s.stopped
	d.beforeCycle = s.relayoutPods
	d.resume = func(at time.Time) { s.clock.At(at, func() {}) }
	d.afterNow = func(fn func()) { s.clock.AfterDelay(0, fn) }
	d.at = func(t time.Time, fn func()) interface{ Cancel() bool } { return s.clock.At(t, fn) }
	d.daemonAt = func(at time.Time, fn func()) interface{ Cancel() bool } { return s.clock.Daemon(at, fn) }
	s.api.Watch(d.watchParked)
	return s, nil
}

// Close stops the scheduler's background goroutines, and ends the binding cycles still
// waiting for their volumes (see ParkedPods) without touching their pods.
func (s *Simulator) Close() {
	s.driver.releaseParked()
	s.cancel()
}

// API is the simulated apiserver.
func (s *Simulator) API() *API { return s.api }

// Scheduler is the scheduler the simulator drives, for inspection: benchmarks read its
// snapshot. Running it (Run, ScheduleOne) from outside would break the run's determinism.
func (s *Simulator) Scheduler() *scheduler.Scheduler { return s.driver.sched }

// Clock is the virtual clock; events scheduled on it run inside Run.
func (s *Simulator) Clock() *clock.Virtual { return s.clock }

// Recorder holds what the run observed.
func (s *Simulator) Recorder() *Recorder { return s.rec }

// ControlPlane are the control plane's settings (Config.ControlPlane, defaulted).
func (s *Simulator) ControlPlane() controlplane.Flags { return *s.cfg.ControlPlane }

// Seed is the run's seed.
func (s *Simulator) Seed() uint64 { return s.cfg.Seed }

// Rand returns a new RNG for one purpose, derived from the run's seed. Purposes are small
// integers chosen by the caller; the same purpose always yields the same sequence.
func (s *Simulator) Rand(purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.cfg.Seed, 0x6b776f6b73696d00|purpose))
}

// Attach keeps a component of the run that several packages reach without importing each
// other's setup: the load model (workloads/load), which the trace's load operations set and
// the HPA controller reads. Attaching a key twice replaces the first.
func (s *Simulator) Attach(key string, v any) {
	if s.attached == nil {
		s.attached = map[string]any{}
	}
	s.attached[key] = v
}

// Attached is the component attached under key, or nil.
func (s *Simulator) Attached(key string) any { return s.attached[key] }

// Elapsed is the virtual time since the start.
func (s *Simulator) Elapsed() time.Duration { return s.clock.Now().Sub(Epoch) }

// armFlush schedules the queue's leftover flush on its real cadence, every 30 s from the start
// of the run, while some pod is unschedulable; with none, the tick would do nothing.
func (s *Simulator) armFlush() {
	if s.flushArmed {
		return
	}
	s.flushArmed = true
	elapsed := s.clock.Now().Sub(Epoch)
	next := Epoch.Add((elapsed/unschedulableFlushPeriod + 1) * unschedulableFlushPeriod)
	s.clock.Daemon(next, func() {
		s.flushArmed = false
		if s.driver.flushUnschedulable() {
			s.armFlush()
		}
	})
}

// Run processes events until the end condition of the Config, scheduling after each virtual
// instant: every event due at an instant runs first, then the scheduler drains its queue, then
// time moves on. It returns a *Failure when the simulation cannot make progress.
func (s *Simulator) Run() error {
	_, err := s.run(Epoch.Add(s.cfg.Until), s.cfg.Until > 0, nil)
	return err
}

// RunUntil runs as Run does with Config.Until set to until (a virtual time since Epoch, not
// before the current one), but returns as soon as done, asked whenever every event due at an
// instant has run and the scheduler has drained its queue, reports true; it returns whether
// done did. It is how a harness (kwoksim perf) waits on a condition, as scheduler_perf polls
// its informer, with until as the timeout; called again, the run goes on from where it stopped.
func (s *Simulator) RunUntil(until time.Duration, done func() bool) (bool, error) {
	if err := CheckUntil("until", until); err != nil {
		return false, err
	}
	return s.run(Epoch.Add(until), true, done)
}

// RunEndingWhen runs as Run does, but ends the run as soon as done, asked whenever every event
// due at an instant has run and the scheduler has drained its queue, reports true: the run then
// ends at that instant, complete, as it would at Config.Until. It returns whether done did. A
// nil done is Run. It is how a replay ends on a condition of what it observed (kwoksim run
// --until-unschedulable); done must only read.
func (s *Simulator) RunEndingWhen(done func() bool) (bool, error) {
	return s.run(Epoch.Add(s.cfg.Until), s.cfg.Until > 0, done)
}

func (s *Simulator) run(until time.Time, bounded bool, done func() bool) (bool, error) {
	instant, atInstant := s.clock.Now(), 0
	for {
		// Stages run inside writes, including the scheduler's binds during a drain; their
		// errors are collected and surface here, before anything else happens.
		if err := s.runErr(); err != nil {
			return false, err
		}
		if err := s.ctx.Err(); err != nil {
			return false, err
		}
		if s.stopped() {
			return false, ErrStopped
		}
		if err := s.api.objects.memory.stepped(s.clock.Processed()); err != nil {
			return false, err
		}
		next, ok := s.clock.NextAt()
		if !ok || next.After(s.clock.Now()) {
			// Nothing else is due now: let the scheduler work at this instant.
			s.api.relayoutNodes()
			if _, err := s.driver.drain(s.ctx, s.cfg.MaxEventsPerInstant); errors.Is(err, ErrStopped) {
				return false, err
			} else if err != nil {
				return false, &Failure{Msg: fmt.Sprintf("at t=%s: %v", s.Elapsed(), err)}
			}
			// The fake clientset keeps a deep copy of every call it served; nothing reads them.
			s.api.client.ClearActions()
			next, ok = s.clock.NextAt()
			if ok && !next.After(s.clock.Now()) {
				continue // scheduling produced work at this instant
			}
			if done != nil && done() {
				return true, s.runErr()
			}
		}
		if bounded {
			if !ok || next.After(until) {
				if until.After(s.clock.Now()) {
					s.clock.RunUntil(until)
				}
				return false, s.runErr()
			}
		} else if !s.clock.HasWork() && (!ok || next.After(s.clock.Now())) {
			// Only periodic background work is left: the cluster has settled. Background
			// work due at this instant runs first, and the scheduler after it: a pod created
			// by the last foreground event is not left without a scheduling attempt because a
			// periodic pass (node health, every 5 s) falls at the same instant.
			return false, s.runErr()
		}
		if next.Equal(instant) {
			atInstant++
			if atInstant > s.cfg.MaxEventsPerInstant {
				return false, &Failure{Msg: fmt.Sprintf("livelock: more than %d events at virtual time t=%s without time moving; %s (if the run is sound, raise the limit with %s)",
					s.cfg.MaxEventsPerInstant, next.Sub(Epoch), s.lastActivity(), MaxEventsPerInstantFlag)}
			}
		} else {
			instant, atInstant = next, 1
		}
		s.clock.Step()
		if s.cfg.Progress != nil {
			if n := s.clock.Processed(); n%ProgressEvery == 0 {
				s.cfg.Progress(s.Elapsed(), n)
			}
		}
	}
}

// stopped reports whether Config.Stop is closed.
func (s *Simulator) stopped() bool {
	select {
	case <-s.cfg.Stop:
		return true
	default:
		return false
	}
}

// Abort stops the run: Run returns err once the current event has finished. For work
// scheduled on the clock (a trace event) that cannot go on.
func (s *Simulator) Abort(err error) {
	if s.aborted == nil {
		s.aborted = err
	}
}

func (s *Simulator) runErr() error {
	if s.aborted != nil {
		return s.aborted
	}
	return s.stageErr()
}

// stageErr is the stage runner's error: a *Failure when the stages livelocked, else a
// *StageError (a stage that cannot be evaluated is bad input).
func (s *Simulator) stageErr() error {
	if s.stages == nil || s.stages.err == nil {
		return nil
	}
	var f *Failure
	if errors.As(s.stages.err, &f) {
		return f
	}
	return &StageError{Err: s.stages.err}
}

// lastActivity describes what the run was doing, for livelock messages: the last stage
// transition names the stage and object that keep matching their own output.
func (s *Simulator) lastActivity() string {
	if s.stages != nil && len(s.stages.log) > 0 {
		t := s.stages.log[len(s.stages.log)-1]
		return fmt.Sprintf("last stage transition: stage %q on %s %s", t.Stage, t.Kind, key(t.Namespace, t.Name))
	}
	return s.rec.lastActivity()
}

// Transitions returns the stage transition log.
func (s *Simulator) Transitions() []Transition {
	if s.stages == nil {
		return nil
	}
	return s.stages.log
}

// Observe returns what the run observed, for analysis.Build.
func (s *Simulator) Observe() (analysis.Observation, error) {
	var err error
	o := analysis.Observation{Seed: s.cfg.Seed, Elapsed: s.Elapsed(), Pods: s.rec.Pods(), Transitions: s.Transitions(),
		TraceErrors: s.rec.traceErrors, Warnings: s.rec.warnings, History: s.rec.History(), SampleInterval: s.cfg.SampleInterval,
		RefusedEvictions: append([]analysis.RefusedEvictionRecord(nil), s.rec.refusedEvictions...), Drains: s.rec.drainRecords()}
	// A copy: the recorder keeps its own slice.
	o.Warnings = append(o.Warnings[:len(o.Warnings):len(o.Warnings)], s.parkedWarnings()...)
	o.WorkloadSizes, o.NodeHistory = s.rec.sizes.records()
	o.Claims = s.rec.claims.records()
	o.GPU = s.rec.gpu.record()
	o.Autoscaler = s.rec.autoscaler
	if s.rec.hpas != nil {
		o.HPAs = s.rec.hpas()
	}
	if s.rec.usage != nil {
		o.Usage = s.rec.usage()
	}
	s.explainUnclaimed(o.Pods)
	s.explainGated(o.Pods)
	o.SyncFailures = s.rec.currentSyncFailures()
	if o.Workloads, err = s.workloadObjects(); err != nil {
		return o, err
	}
	if s.stages != nil {
		o.TransitionTallies = s.stages.renewalTallies()
	}
	nodes, err := s.api.List(kinds["Node"])
	if err != nil {
		return o, err
	}
	for _, n := range nodes {
		o.Nodes = append(o.Nodes, n.(*corev1.Node))
	}
	budgets, err := s.api.List(kinds["PodDisruptionBudget"])
	if err != nil {
		return o, err
	}
	for _, b := range budgets {
		o.Budgets = append(o.Budgets, b.(*policyv1.PodDisruptionBudget))
	}
	return o, nil
}

// explainUnclaimed gives the pods no profile is responsible for a reason: kube-scheduler
// ignores a pod whose spec.schedulerName none of its profiles has, so without one such a pod
// would sit Pending with no attempt and no word on why. With the reason the report counts it
// as unschedulable and groups it under that reason.
func (s *Simulator) explainUnclaimed(pods []analysis.PodRecord) {
	known := make(map[string]bool, len(s.driver.profiles))
	for _, name := range s.driver.profiles {
		known[name] = true
	}
	for i := range pods {
		p := pods[i].Pod
		if p == nil || p.Spec.NodeName != "" || pods[i].Reason != "" || known[p.Spec.SchedulerName] {
			continue
		}
		pods[i].Reason = noProfileReason(p.Spec.SchedulerName, s.driver.profiles)
	}
}
