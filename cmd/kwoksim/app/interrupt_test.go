package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/analysis"
)

// The test binary doubles as kwoksim for tests that need a real process to signal.
func TestMain(m *testing.M) {
	if os.Getenv("KWOKSIM_TEST_AS_MAIN") == "1" {
		os.Exit(Main(childPlugins()...))
	}
	// Plans and sweeps run their simulations as child processes of this binary.
	childEnv = []string{"KWOKSIM_TEST_AS_MAIN=1"}
	os.Exit(m.Run())
}

// startKwoksim starts kwoksim as a process of its own.
func startKwoksim(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "KWOKSIM_TEST_AS_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stdout, &stderr
}

// waitExit waits for the process and returns its exit code, failing if it takes longer than
// a minute.
func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatal("kwoksim did not exit within a minute of the signal")
		return -1
	}
}

// A year of heartbeats, each performed, takes minutes; an interrupt stops it at the next event
// and writes the report it reached, marked incomplete, with exit code 130.
func TestInterruptWritesThePartialReport(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report.json")
			csvDir := filepath.Join(t.TempDir(), "csv")
			cmd, stdout, stderr := startKwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload,
				"--until", "8760h", "--keep-renewals", "-o", "json", "--report", report, "--csv", csvDir)
			time.Sleep(time.Second) // let it simulate for a while
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
			}
			data, err := os.ReadFile(report)
			if err != nil {
				t.Fatalf("no report after the interrupt: %v", err)
			}
			var r analysis.Report
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if !r.Incomplete || r.SimulatedSeconds <= 0 || r.SimulatedSeconds >= 8760*3600 {
				t.Errorf("report: incomplete=%v simulatedSeconds=%v, want an incomplete report that got past t=0 but not to the end",
					r.Incomplete, r.SimulatedSeconds)
			}
			if r.Summary.Pods.Running != 10 {
				t.Errorf("%d pods running in the partial report, want the seed's 10", r.Summary.Pods.Running)
			}
			if !bytes.Equal(data, stdout.Bytes()) {
				t.Errorf("stdout and the report file differ")
			}
			// The CSV files say so too: run.csv's incomplete column, with the time reached.
			runCSV, err := os.ReadFile(filepath.Join(csvDir, "run.csv"))
			if err != nil {
				t.Fatalf("no run.csv after the interrupt: %v", err)
			}
			want := fmt.Sprintf("seed,simulatedSeconds,incomplete\n%d,%s,true\n", r.Seed, strconv.FormatFloat(r.SimulatedSeconds, 'f', -1, 64))
			if string(runCSV) != want {
				t.Errorf("run.csv = %q, want %q", runCSV, want)
			}
			if !strings.Contains(stderr.String(), "interrupted at virtual time t=") {
				t.Errorf("stderr does not say where the run stopped:\n%s", stderr)
			}
		})
	}
}

// A second interrupt does not wait for anything. (Two signals sent to a process back to back
// can merge into one, so this is checked on the handler itself.)
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	sig := make(chan os.Signal) // unbuffered: a send succeeds only while the handler listens
	cancelled, exited := make(chan struct{}), make(chan int, 2)
	var stderr bytes.Buffer
	go onInterrupts(sig, &stderr, func() bool { return true }, func() { close(cancelled) }, func(code int) { exited <- code })
	send := func(s os.Signal) {
		select {
		case sig <- s:
		case <-time.After(10 * time.Second):
			t.Fatalf("the handler no longer listens for %v", s)
		}
	}
	send(syscall.SIGINT)
	<-cancelled
	send(syscall.SIGTERM) // fails if the first signal already ended the handler
	if code := <-exited; code != exitInterrupted {
		t.Errorf("exit %d on the second signal, want %d", code, exitInterrupted)
	}
	if len(exited) != 0 {
		t.Errorf("exit was called more than once")
	}
	if !strings.Contains(stderr.String(), "interrupt again to quit at once") {
		t.Errorf("the first signal did not say how to quit at once: %q", stderr.String())
	}
}

// While the inputs are read nothing listens for the cancellation, and a read can block for
// ever: a FIFO as --nodes that no one writes. The first signal then ends the process at
// once, with exit code 130 and nothing written.
func TestInterruptWhileReadingInputs(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "nodes.yaml")
			if err := mkfifo(fifo); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			report := filepath.Join(dir, "report.json")
			cmd, stdout, stderr := startKwoksim(t, "run", "--nodes", fifo, "--workload", seedWorkload, "--report", report)
			time.Sleep(time.Second) // let it block opening the FIFO
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if code := waitExit(t, cmd); code != exitInterrupted {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("exited %v after the signal, want at once", took)
			}
			if !strings.Contains(stderr.String(), "interrupted while reading the inputs: nothing was written") {
				t.Errorf("stderr does not say what happened:\n%s", stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if _, err := os.Stat(report); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a report was written (%v)", err)
			}
		})
	}
}

// The handler itself: before anything listens, the first signal exits without cancelling.
func TestInterruptBeforeListeningExits(t *testing.T) {
	sig := make(chan os.Signal, 1)
	exited := make(chan int, 1)
	var stderr bytes.Buffer
	sig <- syscall.SIGTERM
	onInterrupts(sig, &stderr, func() bool { return false }, func() { t.Error("cancelled instead of exiting") }, func(code int) { exited <- code })
	if code := <-exited; code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
}
