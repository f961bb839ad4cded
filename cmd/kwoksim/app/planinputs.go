package app

import (
	"fmt"
	"io"

	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"

	"github.com/spf13/pflag"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/capacity"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// forwardedFlags are run's flags that a plan passes unchanged to each of its runs; their
// names, defaults and help are run's own. Adding one is adding its name here.
var forwardedFlags = []string{
	"nodes", "workload", "filename", "strict-kinds", "trace", "stages", "seed", "until", "scheduler-config", "keep-renewals", "strict",
	sim.MaxObjectsFlag[2:], sim.MaxEventsPerInstantFlag[2:], manifest.MaxDocumentBytesFlag[2:], sim.MaxMemoryFlag[2:],
	"kcm-flag", "apiserver-flag", "pacing", "feature-gates", "disable-admission-plugins", "autoscaler", "autoscaler-flag",
	"arrivals-only", "until-unschedulable",
}

// addForwardedFlags defines the forwarded flags on a plan, taking their definitions from a
// run command made for the purpose.
func addForwardedFlags(fl *pflag.FlagSet) {
	run := newRunCommand(nil).Flags()
	for _, name := range forwardedFlags {
		fl.AddFlag(run.Lookup(name))
	}
}

// forwardArgs is the forwarded flags the user set, as arguments of a run.
func forwardArgs(fl *pflag.FlagSet) []string {
	var args []string
	for _, name := range forwardedFlags {
		f := fl.Lookup(name)
		if !f.Changed {
			continue
		}
		if s, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range s.GetSlice() {
				args = append(args, "--"+name+"="+v)
			}
			continue
		}
		args = append(args, "--"+name+"="+f.Value.String())
	}
	return args
}

// planInputs are what the plan itself needs from its inputs.
type planInputs struct {
	templates  []capacity.Template
	givenNodes int
	checks     []*analysis.Assertion
	// dynamic is a plan over NodePools: one run with the node autoscaler (autoscaler)
	// instead of a search over the templates; note is the report's note when kwoksim chose
	// the autoscaler.
	dynamic    bool
	autoscaler autoscaling.Options
	note       string
}

// checkPlan validates the flags and reads every input once, as a run would, so that bad
// input fails here, once, naming the file, and not in each of the runs. plugins are the
// build's out-of-tree scheduler plugins, which the scheduler configuration may enable.
func checkPlan(stderr io.Writer, fl *pflag.FlagSet, f *planFlags, plugins frameworkruntime.Registry) (*planInputs, error) {
	switch {
	case f.format != "table" && f.format != "json":
		return nil, usageError{fmt.Errorf("--output must be table or json, not %q", f.format)}
	case len(f.templates) == 0 && autoscalerOf(fl).autoscaler == autoscaling.None:
		// Without an autoscaler a plan can only search templates; with one, whether the
		// template is needed depends on the inputs having NodePools (below).
		return nil, usageError{fmt.Errorf(`required flag(s) "node-template" not set`)}
	case f.parallel < 1:
		return nil, usageError{fmt.Errorf("--parallel must be at least 1, got %d", f.parallel)}
	case f.maxNodes < 0:
		return nil, usageError{fmt.Errorf("--max-nodes must not be negative, got %d", f.maxNodes)}
	}
	if err := checkOutputFile("--report", f.report); err != nil {
		return nil, err
	}
	checks, err := analysis.CompileAssertions(f.asserts)
	if err != nil {
		return nil, usageError{fmt.Errorf("--assert: %w", err)}
	}
	paths := func(name string) []string { v, _ := fl.GetStringArray(name); return v }
	limit := func(flag string) int { v, _ := fl.GetInt(flag[2:]); return v }
	limits := limitFlags{maxObjects: limit(sim.MaxObjectsFlag), maxEventsPerInstant: limit(sim.MaxEventsPerInstantFlag),
		maxDocumentBytes: limit(manifest.MaxDocumentBytesFlag), memoryShare: 1}
	if err := limits.validate(); err != nil {
		return nil, err
	}
	if until, _ := fl.GetDuration("until"); until < 0 {
		return nil, usageError{fmt.Errorf("--until must not be negative, got %v", until)}
	} else if err := sim.CheckUntil("--until", until); err != nil {
		return nil, usageError{err}
	}
	gates := gatesOf(fl)
	if err := gates.check(); err != nil {
		return nil, err
	}
	arrivalsOnly, _ := fl.GetBool("arrivals-only")
	untilUnschedulable, _ := fl.GetInt("until-unschedulable")
	if err := (&arrivalFlags{only: arrivalsOnly, untilUnschedulable: untilUnschedulable}).check(len(paths("trace")) > 0); err != nil {
		return nil, err
	}
	if len(paths("workload")) == 0 && len(paths("filename")) == 0 && len(paths("trace")) == 0 {
		return nil, usageError{fmt.Errorf(`required flag(s) "workload" not set: give --workload, -f or --trace`)}
	}
	schedConfig, _ := fl.GetString("scheduler-config")
	if err := refuseStdin("a plan", flagPaths{"--node-template", f.templates}, flagPaths{"--nodes", paths("nodes")},
		flagPaths{"--workload", paths("workload")}, flagPaths{"-f", paths("filename")}, flagPaths{"--trace", paths("trace")}, flagPaths{"--stages", paths("stages")},
		flagPaths{"--scheduler-config", []string{schedConfig}}); err != nil {
		return nil, err
	}
	reader := new(input.Reader) // no standard input
	if _, err := loadSchedulerConfig(reader, schedConfig, limits.maxDocumentBytes, plugins); err != nil {
		return nil, err
	}
	opts := manifest.LoadOptions{MaxDocumentBytes: limits.maxDocumentBytes}
	in := &planInputs{checks: checks}
	for _, path := range f.templates {
		t, err := manifest.LoadNodeTemplate(path, opts)
		if err != nil {
			return nil, err
		}
		in.templates = append(in.templates, capacity.Template{Name: t.Name(), File: path, CostPerNode: t.Cost})
	}
	nodes, err := manifest.Load(paths("nodes"), manifest.LoadOptions{Kinds: map[string]bool{"Node": true}, MaxDocumentBytes: limits.maxDocumentBytes})
	if err != nil {
		return nil, err
	}
	strictKinds, _ := fl.GetBool("strict-kinds")
	mixed, err := loadMixed(stderr, paths("workload"), paths("filename"), manifest.LoadOptions{MaxDocumentBytes: limits.maxDocumentBytes}, strictKinds)
	if err != nil {
		return nil, err
	}
	in.givenNodes = len(nodes) + len(mixed.nodes)
	if err := in.chooseMode(fl, f, len(mixed.pools) > 0); err != nil {
		return nil, err
	}
	for _, p := range paths("trace") {
		if _, err := trace.Check(p, limits.maxDocumentBytes); err != nil {
			return nil, err
		}
	}
	if _, err := loadStages(stderr, reader, paths("stages"), limits.maxDocumentBytes); err != nil {
		return nil, err
	}
	// Once, here: a run's own stderr is read only when the run fails.
	if note := gates.nondeterminismNote(); note != "" {
		fmt.Fprintf(stderr, "kwoksim: warning: %s (each run of the plan)\n", note)
	}
	return in, nil
}

// autoscalerOf reads the forwarded --autoscaler and --autoscaler-flag of a plan.
func autoscalerOf(fl *pflag.FlagSet) *autoscalerFlags {
	a := &autoscalerFlags{}
	a.autoscaler, _ = fl.GetString("autoscaler")
	if s, ok := fl.Lookup("autoscaler-flag").Value.(pflag.SliceValue); ok {
		a.flags.given = s.GetSlice()
	}
	return a
}

// chooseMode decides between the static search and the dynamic answer: with NodePools in the
// inputs and an autoscaler (cluster-autoscaler unless --autoscaler says otherwise), the plan
// runs the inputs once with the autoscaler scaling the pools; --autoscaler none keeps the
// search over --node-template, the pools read but not acted on. The autoscaler's flags are
// checked here, once, as each run would check them.
func (in *planInputs) chooseMode(fl *pflag.FlagSet, f *planFlags, havePools bool) error {
	opts, note, err := autoscalerOf(fl).options(havePools)
	if err != nil {
		return err
	}
	in.autoscaler, in.note = opts, note
	in.dynamic = opts.Autoscaler != autoscaling.None
	switch {
	case in.dynamic && len(f.templates) > 0:
		return usageError{fmt.Errorf("the inputs have NodePools, which a plan answers for by running the inputs with %s scaling them; "+
			"--node-template searches a static node count instead: leave it out, or give --autoscaler none to search it with the pools not acted on",
			opts.Autoscaler)}
	case in.dynamic && fl.Changed("max-nodes"):
		return usageError{fmt.Errorf("--max-nodes bounds the search over --node-template; with NodePools the pools' max bound the nodes")}
	case !in.dynamic && len(f.templates) == 0:
		return usageError{fmt.Errorf(`required flag(s) "node-template" not set: give --node-template, or NodePools in --workload or -f for the autoscaler to scale`)}
	}
	return nil
}
