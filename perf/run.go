package perf

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	schedulerapi "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/kwoksim/kwoksim/controlplane"
	"github.com/kwoksim/kwoksim/sim"
)

// Options are a perf run's settings.
type Options struct {
	// Seed feeds the simulator's random choices (generated names, node names, UUIDs).
	Seed uint64
	// TestCases and Workloads select by name (regular expressions matched whole, as the parts
	// of go test -bench); empty selects all.
	TestCases, Workloads string
	// Labels is upstream's label filter (-perf-scheduling-label-filter), see Selected.
	Labels string
	// FeatureGates are set over each workload's own (the test case's, then the workload's).
	FeatureGates map[string]bool
	// ThresholdFactor scales every threshold, for hardware slower or faster than upstream's
	// CI; zero means 1.
	ThresholdFactor float64
	// Topic picks a threshold given by topic name; empty takes the single value.
	Topic string
	// SchedulerQPS and SchedulerBurst pace the scheduler's bindings in virtual time; zero
	// means scheduler_perf's client settings (QPS 5000, burst 5000, util.go mustSetupCluster).
	SchedulerQPS   float32
	SchedulerBurst int32
	// Configure, when set, adjusts each workload's simulator configuration (out-of-tree
	// plugins, limits) before it is built.
	Configure func(*sim.Config)
	// Stop, when closed, ends the run at the next workload boundary or wait.
	Stop <-chan struct{}
	// Progress, when set, is told as each workload starts.
	Progress func(testCase, workload string)
	// KeepFinal keeps each workload's simulated apiserver in its Result (Final), for tests
	// that inspect the cluster a workload left; without it each is released as the next starts.
	KeepFinal bool
}

// scheduler_perf's client settings (util.go, mustSetupCluster: cfg.QPS, cfg.Burst).
const (
	perfQPS   = 5000
	perfBurst = 5000
)

// disabledAdmission are the admission plugins scheduler_perf's apiserver runs without
// (util.go mustSetupCluster: --disable-admission-plugins=ServiceAccount,TaintNodesByCondition,
// Priority), of those the simulator runs: ServiceAccount is not modelled at all.
var disabledAdmission = []string{"TaintNodesByCondition", "Priority"}

// Result is one workload's outcome.
type Result struct {
	TestCase string   `json:"testCase"`
	Workload string   `json:"workload"`
	Labels   []string `json:"labels,omitempty"`
	// FeatureGates are the gates the workload set, test case's and workload's merged.
	FeatureGates map[string]bool `json:"featureGates,omitempty"`
	// NotRun says why the workload was not run (an op kwoksim does not support).
	NotRun string `json:"notRun,omitempty"`
	// Error is why the workload failed, as scheduler_perf would fail it: pods that were never
	// scheduled within the timeout, a refused object, an unused parameter.
	Error string `json:"error,omitempty"`
	// Ops are the measured ops.
	Ops []MeasuredOp `json:"ops,omitempty"`
	// Threshold is the workload's threshold scaled by the factor (0: none), compared with the
	// selected value of each measured op.
	Threshold       float64                  `json:"threshold,omitempty"`
	ThresholdMetric *ThresholdMetricSelector `json:"thresholdMetric,omitempty"`
	// ThresholdFailures are the comparisons that failed.
	ThresholdFailures []string `json:"thresholdFailures,omitempty"`
	// Notes say what kwoksim did differently from scheduler_perf, and what background ops did.
	Notes []string `json:"notes,omitempty"`
	// Churn is what each churn op did before the workload ended.
	Churn []ChurnSummary `json:"churn,omitempty"`
	// PendingDeletions are the rate-limited deletions (deletePods with skipWaitToCompletion)
	// that had not happened when the workload ended; upstream cancels them then too.
	PendingDeletions int `json:"pendingDeletions,omitempty"`
	// VirtualSeconds is the virtual time the workload took; WallSeconds its wall time.
	VirtualSeconds float64 `json:"virtualSeconds"`
	WallSeconds    float64 `json:"wallSeconds"`
	// Nondeterministic lists gates that make the run depend on timing.
	Nondeterministic []string `json:"nondeterministic,omitempty"`

	// Final is the cluster a workload left, with Options.KeepFinal.
	Final *sim.API `json:"-"`
}

// ChurnSummary is what one churn op did.
type ChurnSummary struct {
	Op int `json:"op"`
	// Kinds are the kinds of its templates, in order.
	Kinds []string `json:"kinds"`
	// Ticks, Created, Deleted and Refused count its ticks, the objects it created and deleted,
	// and the creates the simulated apiserver refused (upstream ignores those).
	Ticks   int `json:"ticks"`
	Created int `json:"created"`
	Deleted int `json:"deleted"`
	Refused int `json:"refused"`
}

// MeasuredOp is one op that collected metrics.
type MeasuredOp struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Pods is how many pods the op measured; Scheduled how many of them were scheduled.
	Pods      int `json:"pods"`
	Scheduled int `json:"scheduled"`
	// Attempts are the scheduler's attempts during the op, by result.
	Attempts map[string]int `json:"attempts"`
	// Throughput is SchedulingThroughput, nil when the op was too short to sample.
	Throughput *DataItem `json:"throughput,omitempty"`
	// OverallThroughput is the op's scheduled pods over its wall time (not upstream's
	// figure: it is there for ops too short for a sample).
	OverallThroughput float64 `json:"overallThroughput"`
	// Histograms are the scheduler's latency histograms during the op.
	Histograms []DataItem `json:"histograms,omitempty"`
	// VirtualSeconds and WallSeconds are the op's durations.
	VirtualSeconds float64 `json:"virtualSeconds"`
	WallSeconds    float64 `json:"wallSeconds"`
}

// Passed reports whether the workload ran without error and met its threshold.
func (r *Result) Passed() bool {
	return r.NotRun == "" && r.Error == "" && len(r.ThresholdFailures) == 0
}

// Run runs the selected workloads of cfg one after another, each on a simulator of its own,
// and returns their results in the file's order. An error is bad input (a selection that
// matches nothing, an invalid expression) or the run being stopped.
func Run(ctx context.Context, cfg *Config, opts Options) ([]*Result, error) {
	tcRE, err := wholeRE("--test-case", opts.TestCases)
	if err != nil {
		return nil, err
	}
	wRE, err := wholeRE("--workload", opts.Workloads)
	if err != nil {
		return nil, err
	}
	if opts.ThresholdFactor == 0 {
		opts.ThresholdFactor = 1
	}
	var results []*Result
	for _, tc := range cfg.TestCases {
		if !tcRE.MatchString(tc.Name) {
			continue
		}
		for _, w := range tc.Workloads {
			if !wRE.MatchString(w.Name) || !Selected(opts.Labels, append(append([]string(nil), tc.Labels...), w.Labels...)...) {
				continue
			}
			select {
			case <-opts.Stop:
				return results, sim.ErrStopped
			default:
			}
			if opts.Progress != nil {
				opts.Progress(tc.Name, w.Name)
			}
			r, err := runWorkload(ctx, cfg, tc, w, opts)
			if err != nil {
				return results, err
			}
			results = append(results, r)
		}
	}
	if len(results) == 0 {
		return nil, &ConfigError{Path: cfg.Path, Err: fmt.Errorf("no workload matches --test-case %q, --workload %q and --label %q", opts.TestCases, opts.Workloads, opts.Labels)}
	}
	return results, nil
}

// wholeRE compiles a name filter matched against the whole name; empty matches all.
func wholeRE(flag, expr string) (*regexp.Regexp, error) {
	if expr == "" {
		expr = ".*"
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return nil, &ConfigError{Path: flag, Err: err}
	}
	return re, nil
}

// runWorkload is upstream's setupTestCase and runWorkload on a fresh simulator.
func runWorkload(ctx context.Context, cfg *Config, tc *TestCase, w *Workload, opts Options) (*Result, error) {
	wall := time.Now()
	w.Params.used = map[string]bool{}
	gates := map[string]bool{}
	for k, v := range tc.FeatureGates {
		gates[k] = v
	}
	for k, v := range w.FeatureGates {
		gates[k] = v
	}
	r := &Result{TestCase: tc.Name, Workload: w.Name, Labels: append(append([]string(nil), tc.Labels...), w.Labels...),
		ThresholdMetric: w.ThresholdMetricSelector}
	if len(gates) > 0 {
		r.FeatureGates = gates
	}
	if t := w.Threshold.Get(opts.Topic); t > 0 {
		r.Threshold = t * opts.ThresholdFactor
	}
	all := map[string]bool{}
	for k, v := range gates {
		all[k] = v
	}
	for k, v := range opts.FeatureGates {
		all[k] = v
	}
	r.Nondeterministic = sim.NondeterministicGates(all)

	if err := sim.CheckFeatureGates(all); err != nil {
		r.NotRun = err.Error()
		return r, nil
	}
	ops, err := unroll(tc.WorkloadTemplate, w)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	for _, o := range ops {
		if u, ok := o.(*unsupportedOp); ok {
			r.NotRun = fmt.Sprintf("op %s: %s", u.Opcode, u.why)
			return r, nil
		}
		if why := unsupported(o); why != "" {
			r.NotRun = why
			return r, nil
		}
	}

	schedCfg, err := schedulerConfig(cfg, tc, opts)
	if err != nil {
		return nil, err
	}
	// The DynamicResources filter cache is off: scheduler_perf measures what the real
	// plugin's Filter costs on every node.
	simCfg := sim.Config{Seed: opts.Seed, SchedulerConfig: schedCfg, FeatureGates: all,
		DisableAdmissionPlugins: disabledAdmission, Stop: opts.Stop, NoDRAFilterCache: true}
	if needsClaimController(all) {
		// scheduler_perf's controllers share its client (util.go mustSetupCluster: QPS 5000,
		// burst 5000), not kube-controller-manager's --kube-api-qps 20.
		cp := controlplane.Defaults()
		cp.KubeAPIQPS, cp.KubeAPIBurst = perfQPS, perfBurst
		simCfg.ControlPlane = &cp
	}
	if opts.Configure != nil {
		opts.Configure(&simCfg)
	}
	s, err := sim.New(ctx, simCfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if needsClaimController(all) {
		startClaimController(s)
	}
	e := newExecutor(ctx, s, cfg, tc, w, r)
	for i, o := range ops {
		if err := e.runOp(i, o); err != nil {
			if errors.Is(err, sim.ErrStopped) {
				return r, err
			}
			var f *sim.Failure
			if errors.As(err, &f) {
				return nil, err
			}
			r.Error = fmt.Sprintf("op %d: %v", i, err)
			break
		}
	}
	if r.Error == "" {
		if unused := w.Params.unused(); len(unused) > 0 {
			r.Error = fmt.Sprintf("the parameters %v are defined on workload %s, but unused", unused, w.Name)
		}
	}
	e.finish()
	r.VirtualSeconds = s.Elapsed().Seconds()
	r.WallSeconds = time.Since(wall).Seconds()
	if opts.KeepFinal {
		r.Final = s.API()
	}
	r.applyThreshold()
	return r, nil
}

// unroll resolves the parameters of every op and expands createPodSets, as upstream's
// unrollWorkloadTemplate and runWorkload do.
func unroll(tmpl []Op, w *Workload) ([]realOp, error) {
	var out []realOp
	for i, o := range tmpl {
		p, err := o.op.patchParams(w)
		if err != nil {
			return nil, fmt.Errorf("op %d: %w", i, err)
		}
		if sets, ok := p.(*createPodSetsOp); ok {
			for j := range sets.Count {
				c := sets.CreatePodsOp
				ns := fmt.Sprintf("%s-%d", sets.NamespacePrefix, j)
				c.Namespace = &ns
				q, err := c.patchParams(w)
				if err != nil {
					return nil, fmt.Errorf("op %d: %w", i, err)
				}
				out = append(out, q)
			}
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// unsupported says why an op cannot run on the simulator, or "".
func unsupported(o realOp) string {
	switch o := o.(type) {
	case *createPodsOp:
		if o.PersistentVolumeClaimTemplatePath != nil {
			return "createPods with persistent volume templates is not supported by kwoksim perf yet"
		}
	case *createNodesOp:
		if s := o.NodeAllocatableStrategy; s != nil && (len(s.CsiNodeAllocatable) > 0 || len(s.MigratedPlugins) > 0) {
			return "nodeAllocatableStrategy with CSINode allocatable or migrated plugins is not supported by kwoksim perf yet"
		}
	}
	return ""
}

// schedulerConfig is the test case's scheduler configuration (or kube-scheduler's default)
// with the client pace scheduler_perf gives it.
func schedulerConfig(cfg *Config, tc *TestCase, opts Options) (*schedulerapi.KubeSchedulerConfiguration, error) {
	var sc *schedulerapi.KubeSchedulerConfiguration
	var err error
	if tc.SchedulerConfigPath != "" {
		sc, err = sim.LoadSchedulerConfig(newTemplates(cfg.Dir).path(tc.SchedulerConfigPath))
	} else {
		sc, err = sim.DefaultSchedulerConfig()
	}
	if err != nil {
		return nil, err
	}
	sc.ClientConnection.QPS, sc.ClientConnection.Burst = perfQPS, perfBurst
	if opts.SchedulerQPS > 0 {
		sc.ClientConnection.QPS = opts.SchedulerQPS
	}
	if opts.SchedulerBurst > 0 {
		sc.ClientConnection.Burst = opts.SchedulerBurst
	}
	return sc, nil
}

// applyThreshold is upstream's applyThreshold on every measured op.
func (r *Result) applyThreshold() {
	if r.Threshold == 0 || r.Error != "" || r.ThresholdMetric == nil {
		return
	}
	sel := r.ThresholdMetric
	for _, op := range r.Ops {
		items := op.Histograms
		if op.Throughput != nil {
			items = append([]DataItem{*op.Throughput}, items...)
		}
		for _, it := range items {
			if it.Labels["Metric"] != sel.Name || !labelsMatch(it.Labels, sel.Labels) {
				continue
			}
			v, ok := it.Data[sel.DataBucket]
			if !ok {
				r.ThresholdFailures = append(r.ThresholdFailures, fmt.Sprintf("%s: no data present for %q metric %q bucket", op.Name, sel.Name, sel.DataBucket))
				continue
			}
			if sel.ExpectLower && !(v < r.Threshold) {
				r.ThresholdFailures = append(r.ThresholdFailures, fmt.Sprintf("%s: expected %q %q to be lower: got %f, want %f", op.Name, sel.Name, sel.DataBucket, v, r.Threshold))
			} else if !sel.ExpectLower && !(v > r.Threshold) {
				r.ThresholdFailures = append(r.ThresholdFailures, fmt.Sprintf("%s: expected %q %q to be higher: got %f, want %f", op.Name, sel.Name, sel.DataBucket, v, r.Threshold))
			}
		}
		if sel.Name == "SchedulingThroughput" && op.Throughput == nil {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: too short to sample SchedulingThroughput (upstream then reports none and checks no threshold)", op.Name))
		}
	}
}
