// Package app is the kwoksim command: its cobra commands, flags, inputs and outputs. The
// kwoksim binary's main calls Main; so does a kwoksim built with a plugin author's own
// scheduler plugins, as kube-scheduler's cmd/kube-scheduler/app is used.
package app

import (
	"fmt"
	"os"
	"runtime/debug"

	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kwoksim/kwoksim/sim"
)

// Option configures the registry of out-of-tree scheduler plugins a kwoksim build has, as
// kube-scheduler's app.Option does its own (cmd/kube-scheduler/app/server.go): Main applies
// the options in order to one registry, which every simulation the command builds gets.
type Option func(frameworkruntime.Registry) error

// WithPlugin registers an out-of-tree scheduler plugin under name, the name a scheduler
// configuration (--scheduler-config) enables it with; factory builds it for each profile
// that does, its args the profile's pluginConfig for name (a *runtime.Unknown, which
// frameworkruntime.DecodeInto decodes). It is kube-scheduler's app.WithPlugin. A name taken
// twice, or one an in-tree plugin or kwoksim's own has, makes every command fail (exit 3).
func WithPlugin(name string, factory frameworkruntime.PluginFactory) Option {
	return func(r frameworkruntime.Registry) error { return r.Register(name, factory) }
}

// Main runs kwoksim on the process's arguments, with the out-of-tree scheduler plugins opts
// register, and returns its exit code: a plugin author's main is
//
//	func main() { os.Exit(app.Main(app.WithPlugin(nodecost.Name, nodecost.New))) }
func Main(opts ...Option) int {
	// A simulation is a batch job that allocates heavily and briefly; trading memory for less
	// garbage collection makes it markedly faster. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	return executeWith(notifyInterrupts(os.Stderr), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, opts...)
}

const gcPercent = 400

// newRegistry applies opts to an empty registry, as kube-scheduler's Setup does, and checks
// the result against the plugins kwoksim already has. An error is the build's fault, not the
// command line's: not bad input.
func newRegistry(opts []Option) (frameworkruntime.Registry, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	r := frameworkruntime.Registry{}
	for _, opt := range opts {
		if err := opt(r); err != nil {
			return nil, fmt.Errorf("out-of-tree scheduler plugins: %w", err)
		}
	}
	if err := sim.CheckPlugins(r); err != nil {
		return nil, fmt.Errorf("out-of-tree scheduler plugins: %w", err)
	}
	return r, nil
}
