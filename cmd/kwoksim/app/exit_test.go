package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&manifest.LoadError{File: "x.yaml", Msg: "bad"}, exitBadInput},
		{fmt.Errorf("wrapped: %w", &workloads.InputError{Err: errors.New("invalid")}), exitBadInput},
		{&sim.StageError{Err: errors.New("template failed")}, exitBadInput},
		{usageError{errors.New("--output must be table or json")}, exitBadInput},
		{commandLineError("rnu"), exitBadInput}, // cobra's: unknown command "rnu" for "kwoksim"
		{assertionFailure{failed: 1, total: 2}, exitAssertion},
		{&sim.Failure{Msg: "livelock"}, exitSimulationErr},
		// A limit reached while creating the manifests' objects is the simulation's, not the file's.
		{&workloads.InputError{Err: &sim.Failure{Msg: "object limit reached"}}, exitSimulationErr},
		{errors.New("something else broke"), exitSimulationErr},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// commandLineError is the error kwoksim's command line ends with, as exitCode gets it.
func commandLineError(args ...string) error {
	return executeArgs(context.Background(), newRootCommand(nil), args, io.Discard, io.Discard)
}

// testBadInput is an error type kwoksim does not know, marked as bad input.
type testBadInput struct{}

func (testBadInput) Error() string { return "bad input defined in a test" }
func (testBadInput) BadInput()     {}

// testUnmarked is an error type kwoksim does not know, without the mark.
type testUnmarked struct{}

func (testUnmarked) Error() string { return "unknown command: not marked, so not bad input" }

// Bad input is whatever carries the mark, in any package: no list of types to keep up to date.
// An error without it is a failed simulation, whatever its message says.
func TestBadInputIsMarkedNotListed(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"a marked type", testBadInput{}, exitBadInput},
		{"a marked pointer type", &testBadInput{}, exitBadInput},
		{"a marked type, wrapped", fmt.Errorf("loading: %w", testBadInput{}), exitBadInput},
		{"a marked type, joined", errors.Join(errors.New("first"), testBadInput{}), exitBadInput},
		{"a marked type wrapping a Failure", &workloads.InputError{Err: &sim.Failure{Msg: "object limit reached"}}, exitSimulationErr},
		{"an unmarked type", testUnmarked{}, exitSimulationErr},
		{"an unmarked type, wrapped", fmt.Errorf("loading: %w", testUnmarked{}), exitSimulationErr},
		{"a message that reads like cobra's", errors.New(`unknown flag: --nodez`), exitSimulationErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// Cobra's own command-line errors come back as usageErrors from the hooks cobra calls them
// in, with cobra's messages unchanged, including those of the commands cobra adds itself
// (help, completion, __complete) and of a command run on its own (sweep --index).
func TestCobraErrorsAreUsageErrors(t *testing.T) {
	standaloneRun := func(args ...string) error {
		run := newRunCommand(nil)
		run.SilenceErrors, run.SilenceUsage = true, true
		return executeArgs(context.Background(), run, args, io.Discard, io.Discard)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // in the message
	}{
		{"unknown command", commandLineError("rnu"), `unknown command "rnu" for "kwoksim"`},
		{"unknown command, suggested", commandLineError("rnu"), "Did you mean this?\n\trun"},
		{"unknown flag", commandLineError("run", "--nodez", "x"), "unknown flag: --nodez\nsee 'kwoksim run --help'"},
		{"unknown shorthand flag", commandLineError("run", "-z"), "unknown shorthand flag: 'z' in -z\nsee 'kwoksim run --help'"},
		{"flag needs an argument", commandLineError("run", "--nodes"), "flag needs an argument: --nodes\nsee 'kwoksim run --help'"},
		{"invalid argument", commandLineError("run", "--seed", "abc"), `invalid argument "abc" for "--seed" flag`},
		{"an argument where none is accepted", commandLineError("run", "extra"), `unknown command "extra" for "kwoksim run"`},
		{"too few arguments", commandLineError("compare", "a.json"), "accepts 2 arg(s), received 1"},
		{"a required flag", commandLineError("import", "openb", "--nodes", "n.csv", "--pods", "p.csv"), `required flag(s) "out" not set`},
		{"completion with an argument too many", commandLineError("completion", "bash", "extra"), `unknown command "extra" for "kwoksim completion bash"`},
		{"__complete without arguments", commandLineError("__complete"), "requires at least 1 arg(s), only received 0"},
		{"a flag error of a command run on its own", standaloneRun("--nodez"), "unknown flag: --nodez"},
		{"an args error of a command run on its own", standaloneRun("extra"), `unknown command "extra" for "run"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var usage usageError
			if !errors.As(tc.err, &usage) {
				t.Fatalf("%T %v, want a usageError", tc.err, tc.err)
			}
			if msg := tc.err.Error(); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q, want %q", msg, tc.want)
			}
			if got := exitCode(tc.err); got != exitBadInput {
				t.Errorf("exit %d, want %d", got, exitBadInput)
			}
		})
	}
}
