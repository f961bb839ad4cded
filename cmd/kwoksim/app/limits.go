package app

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/workloads/manifest"
)

// limitFlags bound what a run may grow to, so that a runaway input fails with a message
// naming the limit instead of exhausting the machine. The defaults are generous.
type limitFlags struct {
	maxObjects          int
	maxEventsPerInstant int
	maxDocumentBytes    int
	maxMemory           memoryFlag
	// memoryShare divides the default memory limit: a plan or sweep running that many runs
	// at once gives each its share (the hidden --memory-share; 1 when run alone).
	memoryShare int
}

func defaultLimits() limitFlags {
	return limitFlags{
		maxObjects:          sim.DefaultMaxObjects,
		maxEventsPerInstant: sim.DefaultMaxEventsPerInstant,
		maxDocumentBytes:    manifest.DefaultMaxDocumentBytes,
		memoryShare:         1,
	}
}

func (l *limitFlags) register(fl *pflag.FlagSet) {
	fl.IntVar(&l.maxObjects, sim.MaxObjectsFlag[2:], l.maxObjects,
		"most objects the simulated apiserver stores at once; inputs that declare more fail before the run,\nand the create that would pass it fails the run (exit 3)")
	fl.Var(&l.maxMemory, sim.MaxMemoryFlag[2:], fmt.Sprintf("most memory the run may hold, in bytes with a unit (6Gi, 512Mi, 8G), 0 for no limit; past it the run fails (exit 3),\n"+
		"and inputs that declare more objects than fit (%s each) fail before the run. Default: %d%% of the memory\n"+
		"available to the process (its cgroup's limit, else MemTotal), %s where that cannot be read",
		sim.FormatBytes(declaredObjectBytes), defaultMemoryPercent, sim.FormatBytes(fallbackMaxMemory)))
	fl.IntVar(&l.memoryShare, memoryShareFlag[2:], l.memoryShare, "runs sharing the machine's memory at once (set by plan and sweep for their runs): each gets that share of the default --max-memory")
	_ = fl.MarkHidden(memoryShareFlag[2:])
	fl.IntVar(&l.maxEventsPerInstant, sim.MaxEventsPerInstantFlag[2:], l.maxEventsPerInstant,
		"most events run at one virtual instant before the run fails as a livelock (exit 3)")
	fl.IntVar(&l.maxDocumentBytes, manifest.MaxDocumentBytesFlag[2:], l.maxDocumentBytes,
		"largest manifest document, YAML trace or JSON Lines trace line, in bytes; a larger one is bad input (exit 2)")
}

func (l *limitFlags) validate() error {
	for _, f := range []struct {
		name  string
		value int
	}{
		{sim.MaxObjectsFlag, l.maxObjects},
		{sim.MaxEventsPerInstantFlag, l.maxEventsPerInstant},
		{manifest.MaxDocumentBytesFlag, l.maxDocumentBytes},
		{memoryShareFlag, l.memoryShare},
	} {
		if f.value < 1 {
			return usageError{fmt.Errorf("%s must be at least 1, got %d", f.name, f.value)}
		}
	}
	return nil
}
