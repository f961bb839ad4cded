package workloads

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/cronjob"
	"github.com/kwoksim/kwoksim/workloads/daemonset"
	"github.com/kwoksim/kwoksim/workloads/deployment"
	"github.com/kwoksim/kwoksim/workloads/disruption"
	"github.com/kwoksim/kwoksim/workloads/dradriver"
	"github.com/kwoksim/kwoksim/workloads/job"
	usage "github.com/kwoksim/kwoksim/workloads/load"
	"github.com/kwoksim/kwoksim/workloads/manager"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/nodeautoscaler"
	"github.com/kwoksim/kwoksim/workloads/nodelifecycle"
	"github.com/kwoksim/kwoksim/workloads/persistentvolume"
	"github.com/kwoksim/kwoksim/workloads/podautoscaler"
	"github.com/kwoksim/kwoksim/workloads/podgc"
	"github.com/kwoksim/kwoksim/workloads/replicaset"
	"github.com/kwoksim/kwoksim/workloads/resourceclaim"
	"github.com/kwoksim/kwoksim/workloads/resourcequota"
	"github.com/kwoksim/kwoksim/workloads/statefulset"
	"github.com/kwoksim/kwoksim/workloads/tainteviction"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// Scenario is one simulation to run: the simulator's settings, the cluster's nodes, the
// workloads applied at t=0 and the traces replayed on top.
type Scenario struct {
	// Config is the simulator's. Its Stages replace KWOK's default stage-fast set when
	// non-nil; nil means that default set (sim.Config alone would mean no stages at all).
	sim.Config
	Nodes     []manifest.Object
	Workloads []manifest.Object
	// NodePools are the *autoscaling.NodePool inputs. They are not stored in the simulated
	// apiserver: the autoscaler Autoscaling chooses acts on them; with none, the report lists
	// them as not acted on.
	NodePools []manifest.Object
	// Autoscaling is the node autoscaler of the run and its flags (see autoscaling.Options):
	// with Autoscaler cluster-autoscaler or karpenter, the NodePools grow and shrink
	// (workloads/nodeautoscaler). kwoksim run resolves it (Options.Resolve: None, or
	// ClusterAutoscaler when NodePools are given and no autoscaler was chosen) and validates it.
	Autoscaling autoscaling.Options
	// Traces are trace files replayed on top of Nodes and Workloads (see package trace).
	Traces []string
	// Arrivals, when set, are the replay modes of packing studies (kwoksim run --arrivals-only,
	// --until-unschedulable) and the report gets its arrivals section; nil replays the traces
	// as recorded, without that section.
	Arrivals *trace.ArrivalOptions
	// Strict makes a trace event that cannot be carried out end the run with an error,
	// instead of a traceErrors entry in the report.
	Strict bool
	// MaxDocumentBytes bounds a trace's JSON Lines line or YAML document (see
	// manifest.LoadOptions); zero means the default.
	MaxDocumentBytes int
	// WriteState, when set, is given the cluster's final state after the run (sim.API.State),
	// the form a snapshot is loaded from; a stopped run gives the state it reached.
	WriteState func([]runtime.Object) error
	// Skipped are the input objects left out (see CountSkipped), listed in the report.
	Skipped []analysis.SkippedKind
	// Started, when set, is called once every input is read, the traces checked whole
	// included, before the simulator is built: from then on nothing blocks on input for ever
	// (short of a trace that is a named pipe, read twice), and Config.Stop is honoured, at
	// the latest by the first event.
	Started func()
}

// InputError is an object the simulated apiserver rejected, with where it came from.
type InputError struct {
	Source manifest.Source
	Err    error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*InputError) BadInput() {}

func (e *InputError) Unwrap() error { return e.Err }

// Run simulates the scenario and returns its report. Bad input is an *InputError (or a
// *manifest.LoadError from a trace); a simulation that cannot progress is a *sim.Failure. When
// sc.Stop ends the run early, the report so far comes back, marked incomplete, with
// sim.ErrStopped.
func Run(ctx context.Context, sc Scenario) (*analysis.Report, error) {
	wall := time.Now() // only for the report's runtime section
	// A trace is checked whole before the run, so that a bad line fails at once rather than
	// hours into the simulation.
	for _, p := range sc.Traces {
		if _, err := trace.Check(p, sc.MaxDocumentBytes); err != nil {
			return nil, err
		}
	}
	if sc.Started != nil {
		sc.Started()
	}
	cfg := sc.Config
	if cfg.Stages == nil {
		cfg.Stages = stages.Default()
	}
	s, err := sim.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	Install(s)
	nodes, notes := RegisterNodes(sc.Nodes)
	if !s.HasKubelets() && len(nodes) > 0 {
		notes = append(notes, noKubeletsNote)
	}
	if err := load(s, append(append([]manifest.Object(nil), nodes...), sc.Workloads...)); err != nil {
		return nil, err
	}
	pools := sc.NodePools
	if autoscaled(sc.Autoscaling) && len(sc.NodePools) > 0 {
		np := make([]*autoscaling.NodePool, 0, len(sc.NodePools))
		for _, o := range sc.NodePools {
			np = append(np, o.Obj.(*autoscaling.NodePool))
		}
		if _, err := nodeautoscaler.Start(s, np, sc.Autoscaling); err != nil {
			return nil, err
		}
		pools = nil
	}
	rp, err := trace.Start(s, sc.Traces, sc.Strict, sc.MaxDocumentBytes)
	if err != nil {
		return nil, err
	}
	defer rp.Close()
	if sc.Arrivals != nil {
		rp.SetArrivals(*sc.Arrivals)
	}
	_, runErr := s.RunEndingWhen(rp.EndCondition())
	if runErr != nil && !errors.Is(runErr, sim.ErrStopped) {
		return nil, runErr
	}
	if sc.WriteState != nil {
		state, err := s.API().State()
		if err != nil {
			return nil, err
		}
		if err := sc.WriteState(state); err != nil {
			return nil, err
		}
	}
	obs, err := s.Observe()
	if err != nil {
		return nil, err
	}
	if err := analysis.CheckSampleInterval(obs.Elapsed, obs.SampleInterval); err != nil {
		return nil, err
	}
	r := analysis.Build(obs)
	r.Skipped, r.NotActedOn, r.Notes = sc.Skipped, CountNotActedOn(sc.Nodes, sc.Workloads, pools), append(notes, rp.Notes()...)
	r.Arrivals = rp.Arrivals()
	r.Runtime = analysis.Runtime{WallSeconds: time.Since(wall).Seconds(), EventsProcessed: s.Clock().Processed()}
	// A stopped run still reports what it reached, marked incomplete, with sim.ErrStopped.
	r.Incomplete = runErr != nil
	return r, runErr
}

// autoscaled is whether o asks for a node autoscaler.
func autoscaled(o autoscaling.Options) bool {
	return o.Autoscaler == autoscaling.ClusterAutoscaler || o.Autoscaler == autoscaling.Karpenter
}

// noKubeletsNote says what a run without stages leaves out (see sim/nodetaint.go and
// workloads/nodelifecycle).
const noKubeletsNote = "no stages: no kubelet reports node status, so new nodes do not get the " +
	"node.kubernetes.io/not-ready taint and silent nodes are not marked Unknown; a real cluster " +
	"would do both, and would schedule nothing on nodes whose kubelet never reports Ready"

// load puts the t=0 objects in the cluster: first, all at once, the stored state a snapshot
// holds (objects with a UID, see sim.IsStored), then the others, created in order as requests.
func load(s *sim.Simulator, objs []manifest.Object) error {
	var stored []manifest.Object
	var restore []runtime.Object
	for _, o := range objs {
		if sim.IsStored(o.Obj) {
			stored = append(stored, o)
			restore = append(restore, o.Obj)
		}
	}
	if len(restore) > 0 {
		if err := s.API().Restore(restore); err != nil {
			var re *sim.RestoreError
			if errors.As(err, &re) {
				o := stored[re.Index]
				return &InputError{Source: o.Source, Err: describe(o, re.Err)}
			}
			return err
		}
	}
	for _, o := range objs {
		if sim.IsStored(o.Obj) {
			continue
		}
		if _, err := s.API().Create(o.Obj); err != nil {
			return &InputError{Source: o.Source, Err: describe(o, err)}
		}
	}
	return nil
}

// Install starts the workload controllers on s, in the order in which they see each change.
func Install(s *sim.Simulator) *manager.Manager {
	// The load model follows pods from their creation on: before any exists.
	usage.Of(s)
	m := manager.New(s)
	deployment.New(m)
	replicaset.New(m)
	replicaset.NewReplicationManager(m)
	job.New(m)
	cronjob.New(m)
	statefulset.New(m)
	daemonset.New(m)
	disruption.New(m)
	nodelifecycle.New(m)
	tainteviction.New(m)
	podgc.New(m)
	persistentvolume.New(m)
	resourceclaim.New(m)
	podautoscaler.New(m)
	dradriver.New(m)
	// Last: after a pod goes, the ReplicaSet controller's create reaches the apiserver before
	// the quota controller's replenished status does (that takes one more write and watch), so
	// a replacement under a full quota waits for the ReplicaSet's rate-limited retry.
	resourcequota.New(m)
	m.Start()
	return m
}

// describe names the object in an error that does not already: the apiserver's own status
// errors ("Deployment.apps "x" is invalid: …") are kept verbatim, as kubectl shows them.
func describe(o manifest.Object, err error) error {
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	m, merr := meta.Accessor(o.Obj)
	if merr != nil {
		return err
	}
	kind := o.Obj.GetObjectKind().GroupVersionKind().Kind
	name := m.GetName()
	if m.GetNamespace() != "" {
		name = m.GetNamespace() + "/" + name
	}
	return fmt.Errorf("%s %s: %w", kind, name, err)
}
