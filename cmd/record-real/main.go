// Command record-real records the fidelity suite on a real KWOK cluster: `make record-real`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kwoksim/kwoksim/fidelity/realcluster"
)

func main() {
	work := flag.String("work", "../realcluster-work", "the realcluster work dir (WORK/bin: the binaries of ../shared/realcluster/build.sh)")
	suite := flag.String("suite", "testdata/fidelity", "the fidelity suite's directory")
	scenarios := flag.String("scenarios", "", "scenarios to record, comma-separated (default all)")
	repeats := flag.Int("repeats", 0, "runs per scenario (default: each scenario's repeats)")
	flag.Parse()
	// SIGTERM too, so that a stopped recording still deletes its cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := realcluster.Config{Work: *work, Suite: *suite, Repeats: *repeats, Log: os.Stderr}
	// The command that records one scenario again, written into its observed.json.
	cfg.Command = func(name string) string {
		args := "-scenarios " + name
		if *repeats > 0 {
			args += fmt.Sprintf(" -repeats %d", *repeats)
		}
		return "make record-real RECORDARGS='" + args + "'"
	}
	if *scenarios != "" {
		cfg.Scenarios = strings.Split(*scenarios, ",")
	}
	if err := realcluster.Record(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "record-real:", err)
		os.Exit(1)
	}
}
