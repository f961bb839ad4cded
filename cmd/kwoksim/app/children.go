package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/kwoksim/kwoksim/analysis"
)

// Plans and sweeps run each simulation in a process of its own. The scheduler registers
// global metrics and feature gates, so two simulations in one process would share state;
// processes also give each run its own heap and garbage collector, which is what lets two
// runs use two cores without slowing each other down.

// selfExecutable is the kwoksim binary that child runs execute; childEnv is added to their
// environment. Tests point both at the test binary acting as kwoksim.
var (
	selfExecutable = os.Executable
	childEnv       []string
)

// childWaitDelay is how long an interrupted child gets to write its partial report before
// it is killed.
const childWaitDelay = 30 * time.Second

// childResult is how one child run ended.
type childResult struct {
	// Report is the run's JSON report: set when the run finished (exit 0, or 1 when an
	// assertion failed) and when it was interrupted (then marked incomplete).
	Report *analysis.Report
	Exit   int
	// Err is set when the run did not finish: its message is the child's own (stderr).
	Err error
}

// Interrupted reports whether the run was stopped by an interrupt before it finished.
func (r childResult) Interrupted() bool { return r.Exit == exitInterrupted }

// runChild runs `kwoksim ARGS -o json` in a process of its own. When ctx is cancelled the
// child is interrupted (SIGINT), as if the user had pressed Ctrl-C in its terminal: it writes
// what it reached and exits 130.
func runChild(ctx context.Context, args []string) childResult {
	exe, err := selfExecutable()
	if err != nil {
		return childResult{Exit: exitSimulationErr, Err: fmt.Errorf("finding the kwoksim executable: %w", err)}
	}
	cmd := exec.CommandContext(ctx, exe, append(append([]string(nil), args...), "-o", "json")...)
	cmd.Env = append(os.Environ(), childEnv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = childWaitDelay
	ownProcessGroup(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	res := childResult{}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Exit = exit.ExitCode()
		if res.Exit < 0 { // killed by a signal it did not handle
			res.Exit = exitInterrupted
		}
	case err != nil && ctx.Err() != nil:
		// Interrupted before the child started (exec.Cmd.Start checks the context first):
		// a run that did not happen, like one the interrupt stopped before any report.
		return childResult{Exit: exitInterrupted, Err: fmt.Errorf("not started: %w", err)}
	case err != nil:
		return childResult{Exit: exitSimulationErr, Err: fmt.Errorf("running kwoksim: %w", err)}
	}
	switch res.Exit {
	case exitOK, exitAssertion, exitInterrupted:
		var r analysis.Report
		if derr := json.Unmarshal(stdout.Bytes(), &r); derr == nil && r.Kind == "Report" {
			res.Report = &r
		} else if res.Exit != exitInterrupted {
			res.Err = fmt.Errorf("reading the report of a child run: %v", derr)
			res.Exit = exitSimulationErr
		}
	}
	if res.Report == nil && res.Err == nil {
		msg := strings.TrimSpace(stderr.String())
		msg = strings.TrimPrefix(msg, "kwoksim: ")
		if msg == "" {
			msg = fmt.Sprintf("exit code %d", res.Exit)
		}
		res.Err = errors.New(msg)
	}
	return res
}

// forEachParallel calls run(i) for every i in [0, n), at most parallel at a time, starting
// them in index order. Once ctx is done no new call starts; those running are left to notice
// ctx themselves. It returns when every started call has returned.
func forEachParallel(ctx context.Context, n, parallel int, run func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(parallel, 1))
	for i := 0; i < n; i++ {
		select {
		case <-ctx.Done():
		case slots <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			run(i)
		}()
	}
	wg.Wait()
}
