// Package app is the kwoksim command: its cobra commands, flags, inputs and outputs. The
// kwoksim binary's main calls Main; so does a kwoksim built with a plugin author's own
// scheduler plugins, as kube-scheduler's cmd/kube-scheduler/app is used.
package app

import (
	"os"
	"runtime/debug"
)

// Main runs kwoksim on the process's arguments and returns its exit code.
func Main() int {
	// A simulation is a batch job that allocates heavily and briefly; trading memory for less
	// garbage collection makes it markedly faster. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	return execute(notifyInterrupts(os.Stderr), os.Args[1:], os.Stdout, os.Stderr)
}

const gcPercent = 400
