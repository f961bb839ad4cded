package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/capacity"
	"github.com/kwoksim/kwoksim/sim"
)

type planFlags struct {
	templates []string
	asserts   []string
	maxNodes  int
	parallel  int
	format    string
	report    string
}

// newPlanCommand is `kwoksim plan`. Its runs are child processes of this executable, which
// has the same out-of-tree scheduler plugins; plugins is for reading the configuration first.
func newPlanCommand(plugins frameworkruntime.Registry) *cobra.Command {
	f := &planFlags{maxNodes: 1000, parallel: runtime.NumCPU(), format: "table"}
	cmd := &cobra.Command{
		Use:   "plan --node-template FILE --workload PATH",
		Short: "Find how many nodes of a template the workload needs by simulating candidate counts, or with NodePools what autoscaling costs",
		Example: `  kwoksim plan --node-template node.yaml --workload apps/
  kwoksim plan --node-template m5.yaml --node-template c5.yaml --nodes base/ --workload apps/ -o json
  kwoksim plan --node-template node.yaml --workload apps/ --assert 'latency.startup.p99 < 30.0' --max-nodes 200
  kwoksim plan --nodes base/ -f pools.yaml --trace day.jsonl --autoscaler karpenter`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return planE(c, f, plugins) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.templates, "node-template", nil, "a file holding one Node, the shape of the nodes added; repeatable: each template is searched\non its own and the answers are set side by side (with the kwoksim.io/cost annotation, at what cost).\n"+
		"With NodePools (kwoksim/v1alpha1) in -f or --workload, leave it out: the plan runs the inputs once with --autoscaler\n"+
		"(default cluster-autoscaler) scaling the pools and answers with their cost, node-hours, peak nodes, how long pods\n"+
		"waited for capacity and the pods no pool could take")
	fl.StringArrayVar(&f.asserts, "assert", nil, "the goal of a run: a CEL expression over its JSON report that must hold; repeatable.\nDefault goal: every pod that exists at the end bound to a node")
	fl.IntVar(&f.maxNodes, "max-nodes", f.maxNodes, "the most nodes of a template tried")
	fl.IntVar(&f.parallel, "parallel", f.parallel, "how many runs to simulate at once, each in a process of its own; the default is the number of CPUs")
	fl.StringVarP(&f.format, "output", "o", f.format, "output format: table or json")
	fl.StringVar(&f.report, "report", "", "also write the JSON plan to this file (atomically: temp file, then rename)")
	addForwardedFlags(fl)
	return cmd
}

func planE(c *cobra.Command, f *planFlags, plugins frameworkruntime.Registry) error {
	in, err := checkPlan(c.ErrOrStderr(), c.Flags(), f, plugins)
	if err != nil {
		return err
	}
	if in.dynamic {
		return planDynamic(c, f, in)
	}
	forwarded := forwardArgs(c.Flags())
	var mu sync.Mutex // runs end in several goroutines at once
	eval := func(ctx context.Context, i, n int) (capacity.Run, error) {
		args := append([]string{"run"}, forwarded...)
		args = append(args, "--node-template", f.templates[i], "--template-nodes", strconv.Itoa(n))
		args = append(args, memoryShareArgs(c.Flags().Changed(sim.MaxMemoryFlag[2:]), f.parallel)...)
		res := runChild(ctx, args)
		switch {
		case res.Interrupted():
			return capacity.Run{}, capacity.ErrIncomplete
		case res.Err != nil:
			return capacity.Run{}, childFailure{exit: res.Exit, err: res.Err}
		}
		run, err := capacity.Judge(res.Report, in.checks)
		if err == nil {
			mu.Lock()
			fmt.Fprintf(c.ErrOrStderr(), "kwoksim: plan: %d × %s: %s\n", n, in.templates[i].Name, outcome(run))
			mu.Unlock()
		}
		return run, err
	}
	listenForInterrupts() // the runs stop at an interrupt and the plan reports what finished
	plan, err := capacity.Search(c.Context(), in.templates, capacity.Options{
		MaxNodes: f.maxNodes, Parallel: f.parallel, GivenNodes: in.givenNodes, Assertions: f.asserts,
	}, eval)
	if err != nil {
		var child childFailure
		if errors.As(err, &child) && child.exit == exitBadInput {
			return inputError{err}
		}
		return err
	}
	if err := writePlan(c.OutOrStdout(), f, plan); err != nil {
		return err
	}
	return planOutcome(plan)
}

// outcome says how a run fared, for the line each finished run writes to stderr (in the
// order they finish, unlike the plan).
func outcome(r capacity.Run) string {
	switch {
	case r.Passed:
		return "goal met"
	case len(r.FailedAssertions) > 0:
		return fmt.Sprintf("not met, failed: %s", strings.Join(r.FailedAssertions, "; "))
	case len(r.FailingWorkloads) > 0 && r.Unbound == 0:
		return fmt.Sprintf("not met, %d workload(s) failing: %s", len(r.FailingWorkloads), strings.Join(r.FailingWorkloads, "; "))
	case len(r.FailingWorkloads) > 0:
		return fmt.Sprintf("not met, %d pod(s) unbound, %d workload(s) failing", r.Unbound, len(r.FailingWorkloads))
	}
	return fmt.Sprintf("not met, %d pod(s) unbound", r.Unbound)
}

// childFailure is a run that failed in its process: the plan ends with its message and exit
// code.
type childFailure struct {
	exit int
	err  error
}

func (e childFailure) Error() string { return e.err.Error() }

// writePlan writes the file first, then stdout, as run does.
func writePlan(stdout io.Writer, f *planFlags, p *capacity.Plan) error {
	if f.report != "" {
		if err := analysis.WriteFileAtomic(f.report, func(w io.Writer) error { return capacity.WriteJSON(w, p) }); err != nil {
			return err
		}
	}
	if f.format == "json" {
		return capacity.WriteJSON(stdout, p)
	}
	return capacity.WriteTable(stdout, p)
}

// planOutcome is the exit status: interrupted (130) before all else, then a template whose
// goal was not met up to --max-nodes (1, like a failed assertion).
func planOutcome(p *capacity.Plan) error {
	if p.Incomplete {
		return planInterrupted{}
	}
	var none []string
	for _, t := range p.Templates {
		if t.NodesNeeded == nil {
			none = append(none, t.Name)
		}
	}
	if len(none) > 0 {
		return goalNotMet{templates: none, maxNodes: p.MaxNodes}
	}
	return nil
}

type planInterrupted struct{}

func (planInterrupted) Error() string {
	return "interrupted: the plan holds the runs that finished, marked incomplete"
}
func (planInterrupted) Unwrap() error { return interrupted{} }

type goalNotMet struct {
	templates []string
	maxNodes  int
}

func (e goalNotMet) Error() string {
	return fmt.Sprintf("the goal was not met with up to %d nodes of %s", e.maxNodes, strings.Join(e.templates, ", "))
}
func (goalNotMet) Unwrap() error { return assertionFailure{} }
