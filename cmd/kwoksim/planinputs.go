package main

import (
	"fmt"
	"io"

	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/capacity"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// forwardedFlags are run's flags that a plan passes unchanged to each of its runs; their
// names, defaults and help are run's own. Adding one is adding its name here.
var forwardedFlags = []string{
	"nodes", "workload", "filename", "strict-kinds", "trace", "stages", "seed", "until", "scheduler-config", "keep-renewals", "strict",
	sim.MaxObjectsFlag[2:], sim.MaxEventsPerInstantFlag[2:], manifest.MaxDocumentBytesFlag[2:], sim.MaxMemoryFlag[2:],
	"kcm-flag", "apiserver-flag", "pacing", "autoscaler", "autoscaler-flag",
}

// addForwardedFlags defines the forwarded flags on a plan, taking their definitions from a
// run command made for the purpose.
func addForwardedFlags(fl *pflag.FlagSet) {
	run := newRunCommand().Flags()
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
}

// checkPlan validates the flags and reads every input once, as a run would, so that bad
// input fails here, once, naming the file, and not in each of the runs.
func checkPlan(stderr io.Writer, fl *pflag.FlagSet, f *planFlags) (*planInputs, error) {
	switch {
	case f.format != "table" && f.format != "json":
		return nil, usageError{fmt.Errorf("--output must be table or json, not %q", f.format)}
	case len(f.templates) == 0:
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
	if _, err := loadSchedulerConfig(reader, schedConfig, limits.maxDocumentBytes); err != nil {
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
	for _, p := range paths("trace") {
		if _, err := trace.Check(p, limits.maxDocumentBytes); err != nil {
			return nil, err
		}
	}
	if _, err := loadStages(stderr, reader, paths("stages"), limits.maxDocumentBytes); err != nil {
		return nil, err
	}
	return in, nil
}
