package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/perf"
	"github.com/kwoksim/kwoksim/sim"
)

// perfFailure is a perf run with workloads that failed or missed their threshold (listed in
// the output already): exit 1, as a failed assertion.
type perfFailure struct{ failed, total int }

func (e perfFailure) Error() string {
	return fmt.Sprintf("%d of %d workloads failed or missed their threshold", e.failed, e.total)
}

func newPerfCommand(plugins frameworkruntime.Registry) *cobra.Command {
	var (
		config, testCase, workload, label, gates, topic, output string
		seed                                                    uint64  = 1
		factor                                                  float64 = 1
		qps                                                     float32
		burst                                                   int32
		limits                                                  = defaultLimits()
	)
	cmd := &cobra.Command{
		Use:   "perf --config performance-config.yaml",
		Short: "Run Kubernetes' scheduler benchmark (scheduler_perf) configurations on virtual time",
		Long: `perf runs the test cases of a performance-config.yaml of Kubernetes'
test/integration/scheduler_perf as they are: workloads with their parameters and feature gates,
node and pod templates, and the ops (createNodes with its preparer strategies, createNamespaces,
createPods, createPodSets, createAny, deletePods, churn, barrier, sleep, start/stopCollectingMetrics)
on the simulator's virtual time, each workload on a fresh cluster. For every op that collects
metrics it reports the pods scheduled, SchedulingThroughput sampled every second of wall time as
upstream samples it, the scheduler's attempts and its latency histograms, and compares the
workload's threshold, scaled by --threshold-factor, with the selected value. Placements are
reproducible from --seed; throughput and latencies are wall-clock measurements.`,
		Example: `  kwoksim perf --config testdata/schedulerperf/misc/performance-config.yaml --label integration-test
  kwoksim perf --config misc/performance-config.yaml --test-case SchedulingBasic --workload 5000Nodes_10000Pods -o benchstat`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "table" && output != "json" && output != "benchstat" {
				return usageError{fmt.Errorf("--output must be table, json or benchstat, not %q", output)}
			}
			if !(factor > 0) {
				return usageError{fmt.Errorf("--threshold-factor must be positive, not %g", factor)}
			}
			if qps < 0 || burst < 0 {
				return usageError{errors.New("--scheduler-qps and --scheduler-burst must not be negative")}
			}
			if err := limits.validate(); err != nil {
				return err
			}
			maxMemory, memoryNote := limits.maxMemory.limit(1)
			fg, err := sim.ParseFeatureGates(gates)
			if err != nil {
				return usageError{fmt.Errorf("--feature-gates: %w", err)}
			}
			// The command line's gates are checked here, once; a workload's own from the
			// file that cannot be set make that workload not run, with why.
			if err := sim.CheckFeatureGates(fg); err != nil {
				return usageError{fmt.Errorf("--feature-gates: %w", err)}
			}
			cfg, err := perf.Load(config)
			if err != nil {
				return err
			}
			stoppable.Store(true)
			// The interrupt stops the run through Stop, between two events, where a workload
			// can still be written; a cancelled context would fail the simulator instead.
			results, err := perf.Run(context.WithoutCancel(c.Context()), cfg, perf.Options{
				Seed: seed, TestCases: testCase, Workloads: workload, Labels: label, FeatureGates: fg,
				ThresholdFactor: factor, Topic: topic, SchedulerQPS: qps, SchedulerBurst: burst,
				// A configuration is input like a trace: its counts are bounded by the same
				// limits as a run's, so that a typo of a few zeros fails instead of filling
				// the machine.
				Configure: func(sc *sim.Config) {
					sc.Plugins = plugins
					sc.MaxObjects, sc.MaxEventsPerInstant = limits.maxObjects, limits.maxEventsPerInstant
					sc.MaxMemory, sc.MaxMemoryNote = maxMemory, memoryNote
				},
				Stop: c.Context().Done(),
				Progress: func(tc, w string) {
					if output == "table" {
						fmt.Fprintf(c.ErrOrStderr(), "kwoksim perf: running %s/%s\n", tc, w)
					}
				},
			})
			if errors.Is(err, sim.ErrStopped) {
				if werr := writePerf(c.OutOrStdout(), output, results, factor); werr != nil {
					return werr
				}
				return interrupted{msg: fmt.Sprintf("interrupted: the %d workloads that ended are written; the one running was not", len(results))}
			}
			if err != nil {
				return err
			}
			if err := writePerf(c.OutOrStdout(), output, results, factor); err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if r.NotRun == "" && !r.Passed() {
					failed++
				}
			}
			if failed > 0 {
				return perfFailure{failed: failed, total: len(results)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&config, "config", "", "a scheduler_perf performance-config.yaml; template paths in it are relative to its directory, as upstream runs it")
	fl.StringVar(&testCase, "test-case", "", "the test cases to run: a regular expression matched against the whole name (default all)")
	fl.StringVar(&workload, "workload", "", "the workloads to run: a regular expression matched against the whole name (default all)")
	fl.StringVar(&label, "label", "", `upstream's label filter (-perf-scheduling-label-filter): comma-separated labels a workload
must have ("+performance" or "performance") or must not have ("-short"); e.g. integration-test
selects every test case's smallest workload`)
	fl.Uint64Var(&seed, "seed", seed, "seed of every random choice (node names, generated names, UUIDs); placements are reproducible from it")
	fl.StringVar(&gates, "feature-gates", "", "scheduler feature gates set over each workload's own, as kube-scheduler's flag: Name=true,Other=false")
	fl.Float64Var(&factor, "threshold-factor", factor, "scale every threshold by this factor, for a machine slower (< 1) or faster (> 1) than upstream's CI")
	fl.StringVar(&topic, "topic", "", "the topic name whose threshold applies when a workload gives thresholds by topic")
	fl.Float32Var(&qps, "scheduler-qps", 0, `the scheduler client's qps, which paces its bindings on virtual time (default scheduler_perf's
5000); e.g. --scheduler-qps 500 --scheduler-burst 1 lets virtual time pass while pods are
scheduled, so that churn and rate-limited deletions interleave with scheduling`)
	fl.Int32Var(&burst, "scheduler-burst", 0, "the scheduler client's burst (default scheduler_perf's 5000)")
	fl.IntVar(&limits.maxObjects, sim.MaxObjectsFlag[2:], limits.maxObjects, "most objects a workload's simulated apiserver stores at once; the create that would pass it fails the run (exit 3)")
	fl.Var(&limits.maxMemory, sim.MaxMemoryFlag[2:], "most memory a workload may hold, as run's --max-memory (default: a share of the machine's memory); past it the run fails (exit 3)")
	fl.IntVar(&limits.maxEventsPerInstant, sim.MaxEventsPerInstantFlag[2:], limits.maxEventsPerInstant, "most events at one virtual instant before a workload fails as a livelock (exit 3)")
	fl.StringVarP(&output, "output", "o", "table", "table, json (upstream's DataItems with kwoksim's per-op figures) or benchstat (lines benchstat compares)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

// writePerf writes the results in the chosen format.
func writePerf(w io.Writer, output string, results []*perf.Result, factor float64) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(perfJSON{Version: "v1", Results: results, DataItems: perfDataItems(results)})
	case "benchstat":
		return writeBenchstat(w, results)
	}
	return writePerfTable(w, results, factor)
}

// perfJSON is perf -o json: upstream's DataItems (version v1, the perf-dash format) and the
// results with kwoksim's own figures.
type perfJSON struct {
	Version   string          `json:"version"`
	DataItems []perf.DataItem `json:"dataItems"`
	Results   []*perf.Result  `json:"results"`
}

func perfDataItems(results []*perf.Result) []perf.DataItem {
	items := []perf.DataItem{}
	for _, r := range results {
		for _, op := range r.Ops {
			if op.Throughput != nil {
				items = append(items, *op.Throughput)
			}
			items = append(items, op.Histograms...)
		}
	}
	return items
}

// writeBenchstat writes one benchmark line per measured op in the form of go test -bench, as
// upstream's BenchmarkPerfScheduling reports it (b.ReportMetric with the DataItems' metric and
// bucket names), so that benchstat compares two runs.
func writeBenchstat(w io.Writer, results []*perf.Result) error {
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: k8s.io/kubernetes/test/integration/scheduler_perf\n", runtime.GOOS, runtime.GOARCH)
	for _, r := range results {
		for _, op := range r.Ops {
			name := "BenchmarkPerfScheduling/" + r.TestCase + "/" + r.Workload
			if len(r.Ops) > 1 {
				name += "/" + op.Name[strings.LastIndex(op.Name, "/")+1:]
			}
			var b strings.Builder
			fmt.Fprintf(&b, "%s-%d\t1\t0 ns/op", name, runtime.GOMAXPROCS(0))
			items := op.Histograms
			if op.Throughput != nil {
				items = append([]perf.DataItem{*op.Throughput}, items...)
			}
			for _, it := range items {
				for _, bucket := range slices.Sorted(maps.Keys(it.Data)) {
					fmt.Fprintf(&b, "\t%g %s", it.Data[bucket], benchstatName(it, bucket))
				}
			}
			fmt.Fprintf(&b, "\t%.3f runtime_seconds", r.WallSeconds)
			if _, err := fmt.Fprintln(w, b.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchstatName is perf's metric naming for b.ReportMetric (see perf.DataItem).
func benchstatName(it perf.DataItem, bucket string) string {
	m := strings.ReplaceAll(it.Labels["Metric"], "_seconds", "_"+it.Unit)
	for _, l := range []string{"result", "extension_point"} {
		if v := it.Labels[l]; v != "" {
			m += "_" + v
		}
	}
	return m + "/" + bucket
}

// writePerfTable is the default output: one row per measured op, then what did not run or
// failed, and the notes. The wall-clock figures make the last column, so that the others line
// up the same from one run to the next.
func writePerfTable(w io.Writer, results []*perf.Result, factor float64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TEST CASE/WORKLOAD\tOP\tPODS\tSCHEDULED\tATTEMPTS\tVIRTUAL\tTHRESHOLD\tRESULT\tTHROUGHPUT avg (p50/p90/p99), overall")
	for _, r := range results {
		name := r.TestCase + "/" + r.Workload
		if r.NotRun != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\tnot run\t-\n", name)
			continue
		}
		th := "-"
		if r.Threshold > 0 {
			th = fmt.Sprintf("%g", r.Threshold)
			if factor != 1 {
				th = fmt.Sprintf("%g×%g", r.Threshold/factor, factor)
			}
		}
		if len(r.Ops) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\t%s\t-\n", name, th, verdict(r))
		}
		for _, op := range r.Ops {
			tp := "too short"
			if op.Throughput != nil {
				d := op.Throughput.Data
				tp = fmt.Sprintf("%.0f (%.0f/%.0f/%.0f) pods/s", d["Average"], d["Perc50"], d["Perc90"], d["Perc99"])
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%.3fs\t%s\t%s\t%s, overall %.0f pods/s\n", name, op.Index, op.Pods, op.Scheduled,
				formatAttempts(op.Attempts), op.VirtualSeconds, th, verdict(r), tp, op.OverallThroughput)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var notes []string
	for _, r := range results {
		name := r.TestCase + "/" + r.Workload
		if r.NotRun != "" {
			notes = append(notes, fmt.Sprintf("%s not run: %s", name, r.NotRun))
		}
		if r.Error != "" {
			notes = append(notes, fmt.Sprintf("%s failed: %s", name, r.Error))
		}
		for _, f := range r.ThresholdFailures {
			notes = append(notes, fmt.Sprintf("%s: %s", name, f))
		}
		if len(r.Nondeterministic) > 0 {
			notes = append(notes, fmt.Sprintf("%s: not reproducible: %s turned on (decisions on wall-clock time or goroutine timing)", name, strings.Join(r.Nondeterministic, ", ")))
		}
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("%s: %s", name, n))
		}
	}
	if len(notes) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.Join(notes, "\n"))
	return err
}

func verdict(r *perf.Result) string {
	switch {
	case r.Error != "":
		return "FAILED"
	case len(r.ThresholdFailures) > 0:
		return "BELOW THRESHOLD"
	}
	return "ok"
}

func formatAttempts(a map[string]int) string {
	parts := make([]string, 0, len(a))
	for _, k := range slices.Sorted(maps.Keys(a)) {
		parts = append(parts, fmt.Sprintf("%d %s", a[k], k))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}
