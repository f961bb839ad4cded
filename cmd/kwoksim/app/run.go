package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/kwoksim/kwoksim/workloads/manifest"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/version"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/input"
)

type runFlags struct {
	nodes       []string
	template    templateFlags
	workload    []string
	files       []string
	strictKinds bool
	stages      []string
	visual      visualFlags
	seed        uint64
	until       time.Duration
	out         outputs
	parallelism int32
	traces      []string
	strict      bool
	keepRenew   bool
	asserts     []string
	sample      time.Duration
	limits      limitFlags
	schedConfig string
	scale       float64
	stateOut    stateOut
	control     *controlPlaneFlags
	gates       gateFlags
	autoscaler  autoscalerFlags
	arrivals    arrivalFlags
}

// newRunCommand is `kwoksim run`, whose simulation has the out-of-tree scheduler plugins
// plugins (nil: none).
func newRunCommand(plugins frameworkruntime.Registry) *cobra.Command {
	f := &runFlags{seed: 1, out: outputs{format: "table"}, parallelism: 1, limits: defaultLimits(), scale: 1, control: newControlPlaneFlags()}
	cmd := &cobra.Command{
		Use:   "run --nodes PATH --workload PATH | -f PATH",
		Short: "Simulate nodes and workloads and report where pods land and how they fare",
		Example: `  kwoksim run --nodes node.yaml --workload pod.yaml
  helm template my-chart | kwoksim run -f - --nodes nodes/
  kwoksim run --nodes node.yaml --workload pod.yaml --plots plots/ --html report.html
  kwoksim run --nodes nodes/ --workload apps/ --until 24h -o json --report report.json
  kwoksim run --nodes nodes/ --workload apps/ --csv out/ --sample-interval 1m
  kwoksim run --nodes nodes.yaml --trace trace.jsonl --strict
  kwoksim run --nodes nodes/ --workload apps/ --assert 'summary.pods.unschedulable == 0' --assert 'latency.startup.p99 < 30.0'`,
		Args: noArgsOrGlob,
		RunE: func(c *cobra.Command, _ []string) error { return runE(c, f, plugins) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.nodes, "nodes", nil, "Node manifests: a file (multi-document YAML or a List), a directory of them, or - for standard input; repeatable")
	fl.StringArrayVar(&f.workload, "workload", nil, "workload manifests (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Pod, PriorityClass, Namespace, …), applied at t=0\nas -f is: a file, a directory or -; repeatable. Kinds kwoksim does not simulate are skipped and listed")
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "manifests of any mix of kinds (Nodes and workloads together, as helm template or kubectl kustomize print them), applied at t=0:\na file, a directory or -; repeatable. Nodes first, then the rest in Helm's install order;\nkinds kwoksim does not simulate are skipped and listed")
	fl.BoolVar(&f.strictKinds, "strict-kinds", false, "fail (exit 2) when --workload or -f holds kinds kwoksim does not simulate, instead of skipping them")
	fl.StringArrayVar(&f.traces, "trace", nil, "trace of timed events (apply, delete, scale, patch, evict, cordon, uncordon, drain, fail, recover, load) replayed on top of --nodes and --workload:\na YAML Trace (kwoksim/v1alpha1) or JSON Lines (.jsonl, streamed); repeatable, merged by time")
	f.template.register(fl)
	f.visual.register(fl)
	fl.BoolVar(&f.strict, "strict", false, "fail (exit 2) on a trace event that cannot be carried out, e.g. one naming a missing object,\ninstead of listing it under traceErrors in the report")
	fl.StringArrayVar(&f.stages, "stages", nil, "KWOK Stage files (kwok.x-k8s.io/v1alpha1): a file, a directory or -; repeatable.\nReplaces the built-in stage-fast set; to keep it, list it too. none: no stages at all (no kubelet,\nas in scheduler_perf: nodes stay as created, bound pods Pending)")
	fl.Uint64Var(&f.seed, "seed", f.seed, "seed of every random choice in the run; the same inputs and seed give the same report")
	fl.DurationVar(&f.until, "until", 0, "virtual time to run for (e.g. 90s, 24h); default: until only periodic background work is left")
	fl.StringVarP(&f.out.format, "output", "o", f.out.format, "output format: table, json or yaml")
	fl.StringVar(&f.out.report, "report", "", "also write the JSON report to this file (atomically: temp file, then rename)")
	fl.StringVar(&f.out.csvDir, "csv", "", "also write run.csv (seed, simulatedSeconds, incomplete), pods.csv, nodes.csv, timeseries.csv and\ntransitions.csv to this directory (created if missing; each file atomically)")
	fl.DurationVar(&f.sample, "sample-interval", 0, "step of the report's time series in virtual time (e.g. 10s, 5m);\ndefault: a round interval giving at most 1,001 points over the run")
	fl.Int32Var(&f.parallelism, "parallelism", f.parallelism, "scheduler parallelism for filtering and scoring; values above 1 are faster on large clusters\nbut make placements depend on goroutine timing, so runs are no longer reproducible")
	fl.BoolVar(&f.keepRenew, "keep-renewals", false, "perform every transition of a periodic stage (node heartbeats) one by one; by default those that only\nrenew timestamps are counted, not performed. For stage sets that read heartbeat times; slow over long runs")
	fl.StringArrayVar(&f.asserts, "assert", nil, "CEL expression over the JSON report that must hold, e.g. 'summary.pods.unschedulable == 0'; repeatable.\nChecked before the run (exit 2 if invalid); after it, each failure is listed with the values it saw (exit 1)")
	fl.StringVar(&f.schedConfig, "scheduler-config", "", "KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) the scheduler runs with: profiles, plugins, plugin arguments")
	fl.Float64Var(&f.scale, "scale-replicas", f.scale, "multiply the replicas of --workload's and -f's Deployments, ReplicaSets and StatefulSets, and Jobs'\nparallelism and completions, by this factor, rounding up (a count above 0 stays at least 1)")
	fl.StringVar((*string)(&f.stateOut), "state-out", "", "also write the cluster's final state to this file as a v1 List in YAML, the form of kubectl get -o yaml,\nwhich a later run loads as a snapshot (atomically: temp file, then rename)")
	f.limits.register(fl)
	f.control.register(fl)
	f.gates.register(fl)
	f.autoscaler.register(fl)
	f.arrivals.register(fl)
	return cmd
}

func runE(c *cobra.Command, f *runFlags, plugins frameworkruntime.Registry) error {
	if err := f.out.check(); err != nil {
		return err
	}
	if err := f.stateOut.check(); err != nil {
		return err
	}
	if f.sample < 0 {
		return usageError{fmt.Errorf("--sample-interval must not be negative, got %v", f.sample)}
	}
	if err := sim.CheckUntil("--until", f.until); err != nil {
		return usageError{err}
	}
	if f.until > 0 {
		if err := analysis.CheckSampleInterval(f.until, f.sample); err != nil {
			return usageError{err}
		}
	}
	if f.parallelism < 1 {
		return usageError{fmt.Errorf("--parallelism must be at least 1, got %d", f.parallelism)}
	}
	if !(f.scale > 0) || math.IsInf(f.scale, 0) {
		return usageError{fmt.Errorf("--scale-replicas must be a positive number, got %v", f.scale)}
	}
	if f.until < 0 {
		return usageError{fmt.Errorf("--until must not be negative, got %v", f.until)}
	}
	if err := f.visual.check(); err != nil {
		return err
	}
	if err := f.limits.validate(); err != nil {
		return err
	}
	controlPlane, err := f.control.settings()
	if err != nil {
		return err
	}
	if err := f.gates.check(); err != nil {
		return err
	}
	if err := f.autoscaler.check(); err != nil {
		return err
	}
	if err := f.arrivals.check(len(f.traces) > 0); err != nil {
		return err
	}
	// Assertions are compiled first: a typo fails now, not after hours of simulation.
	checks, err := analysis.CompileAssertions(f.asserts)
	if err != nil {
		return usageError{fmt.Errorf("--assert: %w", err)}
	}
	if err := f.template.check(slices.Concat(f.nodes, f.files, f.workload)); err != nil {
		return err
	}
	if err := checkStdin(flagPaths{"--nodes", f.nodes}, flagPaths{"--workload", f.workload}, flagPaths{"-f", f.files}, flagPaths{"--stages", f.stages},
		flagPaths{"--trace", f.traces}, flagPaths{"--node-template", []string{f.template.file}},
		flagPaths{"--scheduler-config", []string{f.schedConfig}}); err != nil {
		return err
	}
	in := &input.Reader{Stdin: c.InOrStdin()}
	maxDoc := f.limits.maxDocumentBytes
	schedConfig, err := loadSchedulerConfig(in, f.schedConfig, maxDoc, plugins)
	if err != nil {
		return err
	}
	nodes, err := manifest.Load(f.nodes, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}, MaxDocumentBytes: maxDoc, Input: in})
	if err != nil {
		return err
	}
	if nodes, err = f.template.add(nodes, manifest.LoadOptions{MaxDocumentBytes: maxDoc, Input: in}); err != nil {
		return err
	}
	mixed, err := loadMixed(c.ErrOrStderr(), f.workload, f.files, manifest.LoadOptions{MaxDocumentBytes: maxDoc, Input: in}, f.strictKinds)
	if err != nil {
		return err
	}
	nodes, objs := append(nodes, mixed.nodes...), mixed.objs
	autoscalingOpts, autoscalingNote, err := f.autoscaler.options(len(mixed.pools) > 0)
	if err != nil {
		return err
	}
	// NodePools with an autoscaler bring their own nodes (up to each pool's min at t=0, more
	// as pods need them), so a run of pools alone is a cluster.
	poolsOnly := len(mixed.pools) > 0 && autoscalingOpts.Autoscaler != autoscaling.None
	if len(nodes) == 0 && f.template.file == "" && !poolsOnly {
		return usageError{errors.New(`required flag(s) "nodes" not set: give --nodes, -f with Nodes, --node-template with --template-nodes, or NodePools (kwoksim/v1alpha1) for an autoscaler to scale`)}
	}
	if err := manifest.ScaleReplicas(objs, f.scale); err != nil {
		return usageError{fmt.Errorf("--scale-replicas: %w", err)}
	}
	// Inputs that cannot fit under the object or memory limit fail now, not minutes into the run.
	maxMemory, memoryNote := f.limits.maxMemory.limit(f.limits.memoryShare)
	if err := checkDeclared(manifest.Declare(slices.Concat(nodes, objs)), f.limits.maxObjects, maxMemory, memoryNote); err != nil {
		return err
	}
	noteCronJobsNeedUntil(c.ErrOrStderr(), objs, f.until)
	set, err := loadStages(c.ErrOrStderr(), in, f.stages, maxDoc)
	if err != nil {
		return err
	}
	// Said now, not only with the report: the run may take long, and is not worth waiting for
	// if reproducibility was the point.
	gatesNote := f.gates.nondeterminismNote()
	if gatesNote != "" {
		fmt.Fprintf(c.ErrOrStderr(), "kwoksim: warning: %s\n", gatesNote)
	}
	defer softMemoryLimit(maxMemory)()
	progress := newProgressLine(c.ErrOrStderr(), isTerminal, time.Now)
	// An interrupt (the command's context cancelled) stops the simulation at the next event
	// boundary; the simulator itself keeps running to that point, and the report so far is
	// written as usual, marked incomplete.
	report, err := workloads.Run(context.WithoutCancel(c.Context()), workloads.Scenario{
		Config: sim.Config{
			Stages: set, Seed: f.seed, Until: f.until, Parallelism: f.parallelism, SchedulerConfig: schedConfig,
			KeepRenewals: f.keepRenew, SampleInterval: f.sample, Progress: progress.callback(), Stop: c.Context().Done(),
			MaxObjects: f.limits.maxObjects, MaxEventsPerInstant: f.limits.maxEventsPerInstant, ControlPlane: controlPlane,
			MaxMemory: maxMemory, MaxMemoryNote: memoryNote,
			UnpacedScheduler: f.control.unpacedScheduler(), Plugins: plugins,
			FeatureGates: f.gates.gates.m, DisableAdmissionPlugins: f.gates.disabled,
		},
		Nodes: nodes, Workloads: objs, NodePools: mixed.pools, Autoscaling: autoscalingOpts, Traces: f.traces, Strict: f.strict, MaxDocumentBytes: f.limits.maxDocumentBytes,
		WriteState: f.stateOut.writer(), Skipped: mixed.skipped, Started: listenForInterrupts, Arrivals: f.arrivals.options(),
	})
	progress.clear()
	if report != nil {
		report.Provenance = f.provenance(c.Context())
		if autoscalingNote != "" {
			report.Notes = append(report.Notes, autoscalingNote)
		}
	}
	reportInputs(c.ErrOrStderr(), report)
	// After reportInputs, which prints the report's notes: stderr had this one as the warning.
	if report != nil && gatesNote != "" {
		report.Notes = append(report.Notes, gatesNote)
	}
	stopped := errors.Is(err, sim.ErrStopped)
	if stopped {
		err = nil
	}
	if err == nil {
		err = f.visual.write(report)
	}
	if err != nil {
		return err
	}
	if err := f.out.write(c.OutOrStdout(), report); err != nil {
		return err
	}
	if stopped {
		return interrupted{reached: time.Duration(report.SimulatedSeconds * float64(time.Second))}
	}
	return checkAssertions(c.ErrOrStderr(), report, checks)
}

// checkAssertions evaluates the assertions on the finished report, listing every failure
// with the values it saw.
func checkAssertions(stderr io.Writer, report *analysis.Report, checks []*analysis.Assertion) error {
	if len(checks) == 0 {
		return nil
	}
	results, err := analysis.CheckAssertions(report, checks)
	if err != nil {
		return err
	}
	failed := analysis.Failed(results)
	if len(failed) == 0 {
		msg := fmt.Sprintf("all %d assertions passed", len(results))
		if len(results) == 1 {
			msg = "the assertion passed"
		}
		_, err := fmt.Fprintf(stderr, "kwoksim: %s\n", msg)
		return err
	}
	if err := analysis.WriteAssertionFailures(stderr, failed); err != nil {
		return err
	}
	return assertionFailure{failed: len(failed), total: len(results)}
}

// provenance is what the report records of the run: its command line, its input files as
// given (flag by flag, in the order of run's flag table: nodes, node template, workloads,
// traces, stages, scheduler configuration), the feature gates and disabled admission plugins
// it set, and the kwoksim build.
func (f *runFlags) provenance(ctx context.Context) *analysis.Provenance {
	p := &analysis.Provenance{Command: commandLine(ctx), Inputs: []analysis.InputFile{}, Kwoksim: version.Get(),
		FeatureGates: f.gates.gates.m, DisabledAdmissionPlugins: f.gates.disabled,
		ArrivalsOnly: f.arrivals.only, UntilUnschedulable: f.arrivals.untilUnschedulable}
	add := func(flag string, paths ...string) {
		for _, path := range paths {
			if path != "" {
				p.Inputs = append(p.Inputs, analysis.InputFile{Flag: flag, Path: path})
			}
		}
	}
	add("--nodes", f.nodes...)
	add("--node-template", f.template.file)
	add("--workload", f.workload...)
	add("-f", f.files...)
	add("--trace", f.traces...)
	add("--stages", f.stages...)
	add("--scheduler-config", f.schedConfig)
	return p
}
