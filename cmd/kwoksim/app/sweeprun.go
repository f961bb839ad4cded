package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
	"github.com/kwoksim/kwoksim/autoscaling"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/input"
	"github.com/kwoksim/kwoksim/workloads/manifest"
	"github.com/kwoksim/kwoksim/workloads/trace"
)

// sweepStopped is a sweep that an interrupt stopped: the comparison of what finished is
// written; it is an interruption (exit 130) like a run's.
type sweepStopped struct{ done, total int }

func (e sweepStopped) Error() string {
	return fmt.Sprintf("interrupted: %d of %d combinations finished; the comparison so far is written", e.done, e.total)
}

func (e sweepStopped) Unwrap() error { return interrupted{} }

// checkSweepInputs loads every input the matrix names once, with the loaders `kwoksim run`
// uses, so that a bad one fails now, naming the matrix field, and not in every child run.
// plugins are the build's out-of-tree scheduler plugins, which a configuration may enable.
func checkSweepInputs(m *sweep.Matrix, plugins frameworkruntime.Registry) error {
	seen := map[string]bool{}
	var workload []manifest.Object
	for _, in := range m.Inputs() {
		if seen[in.Kind+"\x00"+in.Resolved] {
			continue
		}
		seen[in.Kind+"\x00"+in.Resolved] = true
		var err error
		switch in.Kind {
		case sweep.InputNodes:
			_, err = manifest.Load([]string{in.Resolved}, manifest.LoadOptions{Kinds: map[string]bool{"Node": true}})
		case sweep.InputWorkload:
			var objs []manifest.Object
			objs, _, err = manifest.LoadMixed([]string{in.Resolved}, manifest.LoadOptions{}, workloads.Served)
			workload = append(workload, objs...)
		case sweep.InputNodeTemplate:
			_, err = manifest.LoadNodeTemplate(in.Resolved, manifest.LoadOptions{})
		case sweep.InputTrace:
			_, err = trace.Check(in.Resolved, 0)
		case sweep.InputStages:
			_, err = loadStages(io.Discard, new(input.Reader), []string{in.Resolved}, 0)
		case sweep.InputSchedulerConfig:
			_, err = loadSchedulerConfig(new(input.Reader), in.Resolved, 0, plugins)
		}
		if err != nil {
			return inputError{m.InputError(in, err)}
		}
	}
	// An autoscaler with no NodePool to scale fails here, naming the matrix field.
	havePools := slices.ContainsFunc(workload, func(o manifest.Object) bool { _, ok := o.Obj.(*autoscaling.NodePool); return ok })
	if err := m.CheckAutoscalerPools(havePools); err != nil {
		return inputError{err}
	}
	// A replica scale that takes a count past its limit fails here too, not in every run.
	for _, scale := range m.ReplicaScales() {
		objs := make([]manifest.Object, len(workload))
		for i, o := range workload {
			objs[i] = manifest.Object{Obj: o.Obj.DeepCopyObject(), Source: o.Source}
		}
		if err := manifest.ScaleReplicas(objs, scale.Value); err != nil {
			return inputError{m.Fail(err.Error(), scale.Path...)}
		}
	}
	return nil
}

// checkSweepGates refuses the matrix's feature gates and admission plugins that `kwoksim run`
// would refuse (gateFlags.check), naming the matrix field: each set of gates its runs get,
// and the plugins to turn off. It reads no input, so it serves --index as well.
func checkSweepGates(m *sweep.Matrix) error {
	for _, set := range m.FeatureGateSets() {
		if err := sim.CheckFeatureGates(set.Gates); err != nil {
			var fe *sim.FeatureGateError
			if errors.As(err, &fe) {
				err = fe.Err // "feature gates: " would only repeat the field's name
			}
			return inputError{m.Fail(err.Error(), set.Path...)}
		}
	}
	if err := sim.CheckAdmissionPlugins(m.Base.DisableAdmissionPlugins); err != nil {
		var pe *sim.AdmissionPluginError
		i := 0
		if errors.As(err, &pe) {
			i = slices.Index(m.Base.DisableAdmissionPlugins, pe.Name)
		}
		return inputError{m.Fail(err.Error(), "base", "disableAdmissionPlugins", i)}
	}
	return nil
}

// warnSweepGates says once, before the runs, which of them are not reproducible because of
// their gates (sim.NondeterministicGates), as plan does for its runs: each run's own warning
// goes to a stderr the sweep reads only when the run fails, and its note to a report the
// comparison does not show.
func warnSweepGates(stderr io.Writer, m *sweep.Matrix) {
	var fields []string
	union := map[string]bool{}
	which := ""
	for _, set := range m.FeatureGateSets() {
		names := sim.NondeterministicGates(set.Gates)
		if len(names) == 0 {
			continue
		}
		for _, n := range names {
			union[n] = set.Gates[n]
		}
		if set.Field == "base.featureGates" {
			// Every run has the base's gates: naming the axis values would only repeat it.
			which = "every run is"
			break
		}
		fields = append(fields, set.Field)
		which = "the runs of " + strings.Join(fields, ", ") + " are"
	}
	if which == "" {
		return
	}
	fmt.Fprintf(stderr, "kwoksim: warning: %s: %s not reproducible (featureGates): %s; the same inputs and seed may give another report\n",
		m.File, which, gateHazards(union))
}

// runSweep runs every combination in a child process, at most --parallel at once, and writes
// the comparison. Rows are filled by index, so nothing depends on the order runs finish in.
func runSweep(c *cobra.Command, m *sweep.Matrix, f *sweepFlags) error {
	ctx, stderr := c.Context(), c.ErrOrStderr()
	combos := m.Combinations()
	res := sweep.NewResult(combos)
	exits := make([]int, len(combos))
	var (
		mu       sync.Mutex
		finished int
		writeErr error
	)
	if f.reportsDir != "" {
		if err := os.MkdirAll(f.reportsDir, 0o755); err != nil {
			return fmt.Errorf("--reports %s: %w", f.reportsDir, err)
		}
	}
	listenForInterrupts() // the runs stop at an interrupt and the sweep compares what finished
	forEachParallel(ctx, len(combos), f.parallel, func(i int) {
		child := runChild(ctx, append(slices.Clip(combos[i].Args), memoryShareArgs(false, f.parallel)...))
		var err error
		if child.Report != nil && f.reportsDir != "" {
			run := sweep.NewRun(combos[i], len(combos), child.Report)
			err = analysis.WriteFileAtomic(filepath.Join(f.reportsDir, runFileName(i, len(combos))),
				func(w io.Writer) error { return sweep.WriteRunJSON(w, run) })
		}
		mu.Lock()
		defer mu.Unlock()
		finished++
		status := "done"
		switch {
		case child.Report != nil && child.Report.Incomplete:
			res.SetReport(i, child.Report)
			status = "interrupted"
		case child.Report != nil:
			res.SetReport(i, child.Report)
		default:
			res.SetError(i, child.Err.Error())
			exits[i] = child.Exit
			status = "failed"
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
		fmt.Fprintf(stderr, "kwoksim: [%d/%d] combination %d %s: %s\n", finished, len(combos), i, status, combos[i].Label)
	})
	if writeErr != nil {
		return writeErr
	}
	if err := f.out.write(c.OutOrStdout(), res); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return sweepStopped{done: res.Count(sweep.StatusDone), total: len(combos)}
	}
	// A combination that failed fails the sweep with its own exit code: the first, by index.
	for i, row := range res.Combinations {
		if row.Status == sweep.StatusFailed {
			return combinationFailure{index: i, label: row.Label, msg: row.Error, failed: res.Count(sweep.StatusFailed), code: exits[i]}
		}
	}
	return nil
}

// combinationFailure is a combination whose run failed; the comparison is written.
type combinationFailure struct {
	index, failed, code int
	label, msg          string
}

// Unwrap makes bad input found only by the run (a replica count past its limit once scaled)
// exit 2, like bad input found up front; anything else is a failed simulation, 3.
func (e combinationFailure) Unwrap() error {
	if e.code == exitBadInput {
		return inputError{errors.New(e.msg)}
	}
	return nil
}

func (e combinationFailure) Error() string {
	return fmt.Sprintf("%d combination(s) failed; the first, %d (%s): %s", e.failed, e.index, e.label, e.msg)
}

// runFileName is <index>.json, zero-padded so that the files sort in index order.
func runFileName(i, total int) string {
	return fmt.Sprintf("%0*d.json", len(strconv.Itoa(max(total-1, 0))), i)
}

// sweepIndex runs one combination in this process: the command each pod of the emitted Job
// runs. Its output names the combination, so a directory of them can be collected.
func sweepIndex(c *cobra.Command, m *sweep.Matrix, f *sweepFlags, plugins frameworkruntime.Registry) error {
	combo, ok := m.Combination(f.index)
	if !ok {
		return usageError{fmt.Errorf("--index %d: %s has %d combinations, 0 to %d", f.index, m.File, m.Len(), m.Len()-1)}
	}
	var stdout bytes.Buffer
	run := newRunCommand(plugins)
	run.SilenceErrors, run.SilenceUsage = true, true
	runErr := executeArgs(c.Context(), run, append(append([]string(nil), combo.Args[1:]...), "-o", "json"), &stdout, c.ErrOrStderr())
	var stopped interrupted
	if runErr != nil && !errors.As(runErr, &stopped) {
		return runErr
	}
	var report analysis.Report
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		return fmt.Errorf("reading the report of combination %d: %w", f.index, err)
	}
	out := sweep.NewRun(combo, m.Len(), &report)
	if f.out.report != "" {
		if err := analysis.WriteFileAtomic(f.out.report, func(w io.Writer) error { return sweep.WriteRunJSON(w, out) }); err != nil {
			return err
		}
	}
	if f.out.format == "json" {
		if err := sweep.WriteRunJSON(c.OutOrStdout(), out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.OutOrStdout(), "Combination %d of %d: %s\n\n", combo.Index, m.Len(), combo.Label)
		if err := analysis.WriteTable(c.OutOrStdout(), &report); err != nil {
			return err
		}
	}
	return runErr
}
