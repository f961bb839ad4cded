package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// interrupted is a run stopped by a signal: its outputs were written, the report marked
// incomplete.
type interrupted struct {
	reached time.Duration
	// msg, when set, is the whole message (a perf run says what it wrote).
	msg string
}

func (e interrupted) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("interrupted at virtual time t=%s: the report so far is written, marked incomplete", e.reached)
}

// stoppable is set once something listens for the interrupt context's cancellation: a
// simulation, which then stops at the next event and writes the report so far, or a plan's
// or sweep's runs. Before that, while the inputs are read, nothing would notice the
// cancellation (a read can block for ever: a FIFO that no one writes), so an interrupt exits
// at once; nothing has been written yet.
var stoppable atomic.Bool

// listenForInterrupts marks the point from which an interrupt stops the command gracefully.
func listenForInterrupts() { stoppable.Store(true) }

// notifyInterrupts returns a context that the first SIGINT or SIGTERM cancels; `run` then
// stops at the next event boundary and writes what it has. A second signal exits at once, as
// does the first while the inputs are still being read.
func notifyInterrupts(stderr io.Writer) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go onInterrupts(sig, stderr, stoppable.Load, cancel, os.Exit)
	return ctx
}

// onInterrupts cancels on the first signal and exits on the second; it exits on the first
// when nothing is listening for the cancellation yet (graceful false).
func onInterrupts(sig <-chan os.Signal, stderr io.Writer, graceful func() bool, cancel func(), exit func(int)) {
	<-sig
	if !graceful() {
		fmt.Fprintln(stderr, "kwoksim: interrupted while reading the inputs: nothing was written")
		exit(exitInterrupted)
		return
	}
	fmt.Fprintln(stderr, "kwoksim: interrupted: stopping at the next event to write the report so far (interrupt again to quit at once)")
	cancel()
	<-sig
	exit(exitInterrupted)
}
