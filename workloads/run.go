package workloads

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
)

// Scenario is one simulation to run: the cluster's nodes, the workloads applied at t=0, the
// stage set and the run's settings.
type Scenario struct {
	Nodes     []Object
	Workloads []Object
	// Stages replaces KWOK's default stage-fast set when non-nil.
	Stages      []*stages.Stage
	Seed        uint64
	Until       time.Duration
	Parallelism int32
	// SchedulerConfig is the scheduler's configuration (sim.LoadSchedulerConfig); nil means
	// kube-scheduler's defaults.
	SchedulerConfig *schedulerapi.KubeSchedulerConfiguration
	// Traces are trace files replayed on top of Nodes and Workloads (see TraceKind).
	Traces []string
	// Strict makes a trace event that cannot be carried out end the run with an error,
	// instead of a traceErrors entry in the report.
	Strict bool
	// KeepRenewals performs every transition of periodic stages (see sim.Config).
	KeepRenewals bool
	// Progress is sim.Config.Progress: called every sim.ProgressEvery events.
	Progress func(elapsed time.Duration, events int64)
	// Stop, when closed, ends the run at the next event boundary (sim.Config.Stop).
	Stop <-chan struct{}
	// SampleInterval is the report's time-series step; 0 picks a round one from the run's
	// length (analysis.DefaultSampleInterval).
	SampleInterval time.Duration
	// Limits of the run; zero values mean the defaults. MaxDocumentBytes bounds a trace's
	// JSON Lines line or YAML document (see LoadOptions); MaxObjects and MaxEventsPerInstant
	// are sim.Config's.
	MaxDocumentBytes    int
	MaxObjects          int
	MaxEventsPerInstant int
	// RelayoutNodeWrites is sim.Config's: a speed knob that never changes the report.
	RelayoutNodeWrites int
}

// InputError is an object the simulated apiserver rejected, with where it came from.
type InputError struct {
	Source Source
	Err    error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

// BadInput marks the error as bad input (kwoksim exits 2).
func (*InputError) BadInput() {}

func (e *InputError) Unwrap() error { return e.Err }

// Run simulates the scenario and returns its report. Bad input is an *InputError (or a
// *LoadError from Load); a simulation that cannot progress is a *sim.Failure. When sc.Stop
// ends the run early, the report so far comes back, marked incomplete, with sim.ErrStopped.
func Run(ctx context.Context, sc Scenario) (*analysis.Report, error) {
	wall := time.Now() // only for the report's runtime section
	// A trace is checked whole before the run, so that a bad line fails at once rather than
	// hours into the simulation.
	for _, p := range sc.Traces {
		if _, err := CheckTrace(p, sc.MaxDocumentBytes); err != nil {
			return nil, err
		}
	}
	st := sc.Stages
	if st == nil {
		st = stages.Default()
	}
	s, err := sim.New(ctx, sim.Config{Seed: sc.Seed, Until: sc.Until, Parallelism: sc.Parallelism, Stages: st, SchedulerConfig: sc.SchedulerConfig,
		KeepRenewals: sc.KeepRenewals, Progress: sc.Progress, Stop: sc.Stop,
		MaxObjects: sc.MaxObjects, MaxEventsPerInstant: sc.MaxEventsPerInstant, RelayoutNodeWrites: sc.RelayoutNodeWrites})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	Install(s)
	for _, group := range [][]Object{sc.Nodes, sc.Workloads} {
		for _, o := range group {
			if _, err := s.API().Create(o.Obj); err != nil {
				return nil, &InputError{Source: o.Source, Err: describe(o, err)}
			}
		}
	}
	rp, err := newReplay(s, sc.Traces, sc.Strict, sc.MaxDocumentBytes)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	runErr := s.Run()
	if runErr != nil && !errors.Is(runErr, sim.ErrStopped) {
		return nil, runErr
	}
	obs, err := s.Observe()
	if err != nil {
		return nil, err
	}
	obs.TraceErrors = rp.TraceErrors()
	obs.History = s.Recorder().History()
	obs.SampleInterval = sc.SampleInterval
	if err := analysis.CheckSampleInterval(obs.Elapsed, sc.SampleInterval); err != nil {
		return nil, err
	}
	r := analysis.Build(obs)
	r.Runtime = analysis.Runtime{WallSeconds: time.Since(wall).Seconds(), EventsProcessed: s.Clock().Processed()}
	// A stopped run still reports what it reached, marked incomplete, with sim.ErrStopped.
	r.Incomplete = runErr != nil
	return r, runErr
}

// describe names the object in an error that does not already: the apiserver's own status
// errors ("Deployment.apps "x" is invalid: …") are kept verbatim, as kubectl shows them.
func describe(o Object, err error) error {
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

// WorkloadKinds are the kinds `--workload` accepts.
var WorkloadKinds = map[string]bool{"Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true, "Job": true, "Pod": true, "Namespace": true, "PriorityClass": true}
