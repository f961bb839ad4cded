package main

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
}

func defaultLimits() limitFlags {
	return limitFlags{
		maxObjects:          sim.DefaultMaxObjects,
		maxEventsPerInstant: sim.DefaultMaxEventsPerInstant,
		maxDocumentBytes:    manifest.DefaultMaxDocumentBytes,
	}
}

func (l *limitFlags) register(fl *pflag.FlagSet) {
	fl.IntVar(&l.maxObjects, sim.MaxObjectsFlag[2:], l.maxObjects,
		"most objects the simulated apiserver stores at once; the create that would pass it fails the run (exit 3)")
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
	} {
		if f.value < 1 {
			return usageError{fmt.Errorf("%s must be at least 1, got %d", f.name, f.value)}
		}
	}
	return nil
}
