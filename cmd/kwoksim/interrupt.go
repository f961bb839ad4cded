package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// interrupted is a run stopped by a signal: its outputs were written, the report marked
// incomplete.
type interrupted struct{ reached time.Duration }

func (e interrupted) Error() string {
	return fmt.Sprintf("interrupted at virtual time t=%s: the report so far is written, marked incomplete", e.reached)
}

// notifyInterrupts returns a context that the first SIGINT or SIGTERM cancels; `run` then
// stops at the next event boundary and writes what it has. A second signal exits at once.
func notifyInterrupts(stderr io.Writer) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go onInterrupts(sig, stderr, cancel, os.Exit)
	return ctx
}

// onInterrupts cancels on the first signal and exits on the second.
func onInterrupts(sig <-chan os.Signal, stderr io.Writer, cancel func(), exit func(int)) {
	<-sig
	fmt.Fprintln(stderr, "kwoksim: interrupted: stopping at the next event to write the report so far (interrupt again to quit at once)")
	cancel()
	<-sig
	exit(exitInterrupted)
}
