package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// Exit codes, kept by every command.
const (
	exitOK            = 0
	exitAssertion     = 1
	exitBadInput      = 2
	exitSimulationErr = 3
	// exitInterrupted is what a shell gives a process that SIGINT ended: the run was stopped
	// by a signal, and what it reached was written, marked incomplete.
	exitInterrupted = 130
)

// usageError marks bad flags or arguments.
type usageError struct{ error }

// inputError marks an input file the command cannot use (its message names the file).
type inputError struct{ error }

func (e inputError) Unwrap() error { return e.error }

// assertionFailure is a run whose report failed some --assert expressions (listed already).
type assertionFailure struct{ failed, total int }

func (e assertionFailure) Error() string {
	if e.total == 1 {
		return "the assertion failed"
	}
	return fmt.Sprintf("%d of %d assertions failed", e.failed, e.total)
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "kwoksim",
		Short: "Simulate a Kubernetes cluster offline, on virtual time",
		Long: `kwoksim replays Node and workload manifests through the real kube-scheduler and a
KWOK-compatible stage engine on a virtual clock: hours of cluster time in seconds,
reproducible from a seed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())}
	})
	root.AddCommand(newRunCommand(), newPlanCommand(), newSweepCommand(), newCompareCommand(), newStagesCommand(), newImportCommand())
	return root
}

// execute runs the command line and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return executeIO(ctx, args, os.Stdin, stdout, stderr)
}

// executeIO is execute with the standard input that an input path "-" reads.
func executeIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// Kubernetes libraries log to klog's global logger; their errors may matter, their
	// informational lines (the scheduler's config defaulting notes) are not for a report's reader.
	klog.SetLogger(sim.QuietLogger(textlogger.NewLogger(textlogger.NewConfig())))
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "kwoksim: %v\n", err)
	return exitCode(err)
}

func exitCode(err error) int {
	var (
		load      *manifest.LoadError
		input     *workloads.InputError
		usage     usageError
		inputFile inputError
		failure   *sim.Failure
		stage     *sim.StageError
		assertion assertionFailure
		stopped   interrupted
		sampling  *analysis.SamplingError
		schedCfg  *sim.SchedulerConfigError
	)
	switch {
	case errors.As(err, &stopped):
		return exitInterrupted
	case errors.As(err, &assertion):
		return exitAssertion
	case errors.As(err, &failure):
		return exitSimulationErr
	case errors.As(err, &load), errors.As(err, &input), errors.As(err, &usage), errors.As(err, &inputFile),
		errors.As(err, &stage), errors.As(err, &sampling), errors.As(err, &schedCfg):
		return exitBadInput
	}
	// Cobra's own argument errors (unknown command, wrong arguments) are usage errors too.
	if isCobraUsageError(err) {
		return exitBadInput
	}
	return exitSimulationErr
}

func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires ", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
