package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/workloads"
)

type runFlags struct {
	nodes       []string
	workload    []string
	stages      []string
	seed        uint64
	until       time.Duration
	output      string
	report      string
	parallelism int32
	traces      []string
	strict      bool
	keepRenew   bool
	limits      limitFlags
}

func newRunCommand() *cobra.Command {
	f := &runFlags{seed: 1, output: "table", parallelism: 1, limits: defaultLimits()}
	cmd := &cobra.Command{
		Use:   "run --nodes PATH --workload PATH",
		Short: "Simulate nodes and workloads and report where pods land and how they fare",
		Example: `  kwoksim run --nodes node.yaml --workload pod.yaml
  kwoksim run --nodes nodes/ --workload apps/ --until 24h -o json --report report.json
  kwoksim run --nodes nodes.yaml --trace trace.jsonl --strict`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runE(c, f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.nodes, "nodes", nil, "Node manifests: a file (multi-document YAML or a List) or a directory of them; repeatable")
	fl.StringArrayVar(&f.workload, "workload", nil, "workload manifests (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Pod, PriorityClass, Namespace), applied at t=0: a file or a directory; repeatable")
	fl.StringArrayVar(&f.traces, "trace", nil, "trace of timed events (apply, delete, scale, patch) replayed on top of --nodes and --workload:\na YAML Trace (kwoksim/v1alpha1) or JSON Lines (.jsonl, streamed); repeatable, merged by time")
	fl.BoolVar(&f.strict, "strict", false, "fail (exit 2) on a trace event that cannot be carried out, e.g. one naming a missing object,\ninstead of listing it under traceErrors in the report")
	fl.StringArrayVar(&f.stages, "stages", nil, "KWOK Stage files (kwok.x-k8s.io/v1alpha1): a file or a directory; repeatable.\nReplaces the built-in stage-fast set; to keep it, list it too")
	fl.Uint64Var(&f.seed, "seed", f.seed, "seed of every random choice in the run; the same inputs and seed give the same report")
	fl.DurationVar(&f.until, "until", 0, "virtual time to run for (e.g. 90s, 24h); default: until only periodic background work is left")
	fl.StringVarP(&f.output, "output", "o", f.output, "output format: table or json")
	fl.StringVar(&f.report, "report", "", "also write the JSON report to this file (atomically: temp file, then rename)")
	fl.Int32Var(&f.parallelism, "parallelism", f.parallelism, "scheduler parallelism for filtering and scoring; values above 1 are faster on large clusters\nbut make placements depend on goroutine timing, so runs are no longer reproducible")
	fl.BoolVar(&f.keepRenew, "keep-renewals", false, "perform every transition of a periodic stage (node heartbeats) one by one; by default those that only\nrenew timestamps are counted, not performed. For stage sets that read heartbeat times; slow over long runs")
	f.limits.register(fl)
	_ = cmd.MarkFlagRequired("nodes")
	return cmd
}

func runE(c *cobra.Command, f *runFlags) error {
	if f.output != "table" && f.output != "json" {
		return usageError{fmt.Errorf("--output must be table or json, not %q", f.output)}
	}
	if f.parallelism < 1 {
		return usageError{fmt.Errorf("--parallelism must be at least 1, got %d", f.parallelism)}
	}
	if f.until < 0 {
		return usageError{fmt.Errorf("--until must not be negative, got %v", f.until)}
	}
	if err := f.limits.validate(); err != nil {
		return err
	}
	nodes, err := workloads.Load(f.nodes, workloads.LoadOptions{Kinds: map[string]bool{"Node": true}, MaxDocumentBytes: f.limits.maxDocumentBytes})
	if err != nil {
		return err
	}
	var objs []workloads.Object
	if len(f.workload) > 0 {
		objs, err = workloads.Load(f.workload, workloads.LoadOptions{Kinds: workloads.WorkloadKinds, MaxDocumentBytes: f.limits.maxDocumentBytes})
		if err != nil {
			return err
		}
	}
	set, err := loadStages(c.ErrOrStderr(), f.stages)
	if err != nil {
		return err
	}
	report, err := workloads.Run(c.Context(), workloads.Scenario{
		Nodes: nodes, Workloads: objs, Stages: set, Seed: f.seed, Until: f.until, Parallelism: f.parallelism,
		Traces: f.traces, Strict: f.strict, KeepRenewals: f.keepRenew,
		MaxDocumentBytes: f.limits.maxDocumentBytes, MaxObjects: f.limits.maxObjects, MaxEventsPerInstant: f.limits.maxEventsPerInstant,
	})
	if err != nil {
		return err
	}
	if f.report != "" {
		if err := analysis.WriteFileAtomic(f.report, func(w io.Writer) error { return analysis.WriteJSON(w, report) }); err != nil {
			return err
		}
	}
	if f.output == "json" {
		return analysis.WriteJSON(c.OutOrStdout(), report)
	}
	return analysis.WriteTable(c.OutOrStdout(), report)
}
