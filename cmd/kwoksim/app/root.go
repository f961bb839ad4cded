package app

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
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/sim"
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

// badInput is the mark of an error that is bad input: the command line or an input file
// (manifests, a trace, stages, a scheduler configuration, a sweep matrix, a CSV to import) is
// wrong, the message says where, and running again with the same input fails the same way.
// kwoksim exits 2 (exitBadInput) when the error, or any error its chain wraps (errors.As),
// has the method; an interruption, a failed assertion or a *sim.Failure in the chain takes
// precedence (an object limit reached while creating a manifest's objects is the run's).
// Error types in any package mark themselves with an empty method:
//
//	// BadInput marks the error as bad input (kwoksim exits 2).
//	func (*LoadError) BadInput() {}
//
// An error type without the method exits 3, a failed simulation.
type badInput interface {
	error
	BadInput()
}

// usageError marks bad flags or arguments, cobra's own included (see markUsageErrors).
type usageError struct{ error }

// BadInput marks the error as bad input (kwoksim exits 2).
func (usageError) BadInput() {}

// inputError marks an input file the command cannot use (its message names the file).
type inputError struct{ error }

func (e inputError) Unwrap() error { return e.error }

// BadInput marks the error as bad input (kwoksim exits 2).
func (inputError) BadInput() {}

// assertionFailure is a run whose report failed some --assert expressions (listed already).
type assertionFailure struct{ failed, total int }

func (e assertionFailure) Error() string {
	if e.total == 1 {
		return "the assertion failed"
	}
	return fmt.Sprintf("%d of %d assertions failed", e.failed, e.total)
}

// newRootCommand is kwoksim's command tree; plugins are the build's out-of-tree scheduler
// plugins (Main's options), which every command that builds a simulator or reads a
// scheduler configuration is given.
func newRootCommand(plugins frameworkruntime.Registry) *cobra.Command {
	root := &cobra.Command{
		Use:   "kwoksim",
		Short: "Simulate a Kubernetes cluster offline, on virtual time",
		Long: `kwoksim replays Node and workload manifests through the real kube-scheduler and a
KWOK-compatible stage engine on a virtual clock: hours of cluster time in seconds,
reproducible from a seed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	logLevel := "off"
	root.PersistentFlags().StringVar(&logLevel, "log-level", logLevel, "the Kubernetes libraries' own log lines on standard error: off (what matters is in the report: a pod's\nunschedulable reason includes what preemption said), error (their error lines, such as the scheduler's), or info")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return setKlogLevel(logLevel, c.ErrOrStderr()) }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath())
	})
	root.AddCommand(newRunCommand(plugins), newPlanCommand(plugins), newSweepCommand(plugins), newCompareCommand(), newStagesCommand(plugins),
		newImportCommand(), newVersionCommand(plugins), newPerfCommand(plugins))
	setVersion(root, plugins)
	return root
}

// markUsageErrors makes the errors cobra itself finds on the command line of cmd and its
// subcommands usageErrors, from the hooks cobra calls them in, so that no message has to be
// recognized by its text. In cobra v1.10.2 they come from:
//   - parsing flags (unknown flag, flag needs an argument, invalid argument "x" for "--seed"):
//     cmd's FlagErrorFunc, wrapped here (the subcommands, having none, use their root's);
//   - the Args validators (accepts 1 arg(s), unknown command "x" for "kwoksim run"): wrapped
//     here;
//   - required flags and flag groups (required flag(s) "out" not set): checked here before
//     cobra does, in a PreRunE, with cobra's own ValidateRequiredFlags and ValidateFlagGroups;
//   - the command lookup, which finds an unknown command under the root before any command
//     runs: executeArgs marks its error (an Args or RunE on the root would also change the
//     usage lines of its help).
func markUsageErrors(cmd *cobra.Command) {
	flagErr := cmd.FlagErrorFunc()
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{flagErr(c, err)} })
	markArgsErrors(cmd)
}

func markArgsErrors(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	if cmd.Runnable() {
		preE, pre := cmd.PreRunE, cmd.PreRun
		cmd.PreRunE = func(c *cobra.Command, a []string) error {
			if err := c.ValidateRequiredFlags(); err != nil {
				return usageError{err}
			}
			if err := c.ValidateFlagGroups(); err != nil {
				return usageError{err}
			}
			if preE != nil {
				return preE(c, a)
			}
			if pre != nil {
				pre(c, a)
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markArgsErrors(sub)
	}
}

// execute runs the command line and returns the process exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return executeIO(ctx, args, os.Stdin, stdout, stderr)
}

// executeIO is execute with the standard input that an input path "-" reads.
func executeIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return executeWith(ctx, args, stdin, stdout, stderr)
}

// executeWith is executeIO in a kwoksim built with the out-of-tree scheduler plugins opts
// register (Main's options).
func executeWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) int {
	// Until --log-level is read (see setKlogLevel), nothing from the Kubernetes libraries.
	klog.SetLogger(klog.Logger{})
	plugins, err := newRegistry(opts)
	if err != nil {
		fmt.Fprintf(stderr, "kwoksim: %v\n", err)
		return exitCode(err)
	}
	root := newRootCommand(plugins)
	root.SetIn(stdin)
	err = executeArgs(ctx, root, args, stdout, stderr)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "kwoksim: %v\n", err)
	return exitCode(err)
}

// setKlogLevel points klog's global logger, to which the Kubernetes libraries log (the
// scheduler, through the logger the simulator gives it, included), at stderr as --log-level
// says. By default nothing: the scheduler logs as errors what a run reports anyway (preemption
// failing for a pod no victim can help: "E1203 … Status after running PostFilter plugins",
// whose message the pod's unschedulable reason ends with), and its informational lines (the
// config defaulting notes) are not for a report's reader either.
func setKlogLevel(level string, stderr io.Writer) error {
	switch level {
	case "off":
		klog.SetLogger(klog.Logger{}) // the zero logger drops everything
	case "error":
		klog.SetLogger(sim.QuietLogger(textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(stderr)))))
	case "info":
		klog.SetLogger(textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(stderr))))
	default:
		return usageError{fmt.Errorf("--log-level must be off, error or info, not %q", level)}
	}
	return nil
}

// executeArgs runs the top-level command cmd on the command line args, with cobra's own
// errors about the command line marked as usageErrors (see markUsageErrors).
func executeArgs(ctx context.Context, cmd *cobra.Command, args []string, stdout, stderr io.Writer) error {
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	// Execute adds cobra's help and completion commands; add them first so that they are
	// marked too (both calls do nothing when repeated, as Execute does).
	cmd.InitDefaultHelpCmd()
	cmd.InitDefaultCompletionCmd(args...)
	markUsageErrors(cmd)
	// The command line a report records: a subcommand run on its own (sweep --index runs
	// `run` so) is named as the root would be given it.
	line := args
	if cmd.HasParent() || cmd.Name() != "kwoksim" {
		line = append([]string{cmd.Name()}, args...)
	}
	found, err := cmd.ExecuteContextC(context.WithValue(ctx, commandLineKey{}, line))
	switch {
	case err == nil || found == nil:
		return err
	case found.CalledAs() == "":
		// The command was never called: cobra's command lookup failed, on an unknown command.
		return usageError{err}
	case found.Name() == cobra.ShellCompRequestCmd:
		// The hidden __complete command is created inside Execute, too late to be marked; the
		// only error it returns is its Args validator's.
		return usageError{err}
	}
	return err
}

// commandLineKey is the context key under which executeArgs keeps the command line, for a
// report's provenance.
type commandLineKey struct{}

// commandLine is the command line kwoksim was run with, its name first.
// The hidden --memory-share=N a plan or sweep gives its runs is left out: it is plumbing, not
// what the user asked, and a sweep's run must record the command line the same run alone does.
func commandLine(ctx context.Context) []string {
	args, _ := ctx.Value(commandLineKey{}).([]string)
	out := []string{"kwoksim"}
	for _, a := range args {
		if !strings.HasPrefix(a, memoryShareFlag+"=") {
			out = append(out, a)
		}
	}
	return out
}

// exitCode maps the error a command ended with to the process's exit code.
func exitCode(err error) int {
	var (
		stopped   interrupted
		assertion assertionFailure
		failure   *sim.Failure
		bad       badInput
	)
	switch {
	case errors.As(err, &stopped):
		return exitInterrupted
	case errors.As(err, &assertion), errors.As(err, new(perfFailure)):
		return exitAssertion
	case errors.As(err, &failure):
		return exitSimulationErr
	case errors.As(err, &bad):
		return exitBadInput
	}
	return exitSimulationErr
}
