// Command kwoksim simulates a Kubernetes cluster offline: the real kube-scheduler and a
// KWOK-compatible stage engine on a virtual clock, reproducible from a seed.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	// A simulation is a batch job that allocates heavily and briefly; trading memory for less
	// garbage collection makes it markedly faster. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(execute(notifyInterrupts(os.Stderr), os.Args[1:], os.Stdout, os.Stderr))
}

const gcPercent = 400
