package app

import (
	"fmt"
	"io"

	"github.com/kwoksim/kwoksim/sim"
	"github.com/kwoksim/kwoksim/stages"
	"github.com/kwoksim/kwoksim/workloads/input"
)

// loadStages reads the --stages paths through in, each document bounded by maxDocumentBytes
// (0: the default); none means the built-in default (nil). A stage for a kind the simulation
// does not store can never run, which is worth a warning, not an error: KWOK's own stage
// directories mix pod, node and volume stages.
// noStages is the --stages value for a run without any stage (a file of that name is ./none).
const noStages = "none"

func loadStages(stderr io.Writer, in *input.Reader, paths []string, maxDocumentBytes int) ([]*stages.Stage, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	if len(paths) == 1 && paths[0] == noStages {
		// No kubelet at all, as in scheduler_perf: nodes stay as created, bound pods Pending.
		return []*stages.Stage{}, nil
	}
	set, skipped, err := in.Stages(paths, maxDocumentBytes)
	if err != nil {
		return nil, inputError{err}
	}
	for _, s := range skipped {
		fmt.Fprintf(stderr, "kwoksim: note: %s\n", s)
	}
	// A file named on its own must hold stages: one that holds none was given by mistake.
	from := map[string]bool{}
	for _, s := range set {
		from[s.Source()] = true
	}
	for _, p := range paths {
		if !input.IsDir(p) && !from[input.Name(p)] {
			return nil, inputError{fmt.Errorf("%s: no Stage (kwok.x-k8s.io/v1alpha1) documents in the file", input.Name(p))}
		}
	}
	if len(set) == 0 {
		return nil, inputError{fmt.Errorf("--stages %v: no Stage documents found", paths)}
	}
	for _, s := range set {
		if _, err := sim.KindNamed(s.Kind); err != nil {
			fmt.Fprintf(stderr, "kwoksim: warning: stage %q (%s) never runs: %v\n", s.Name, s.Source(), err)
		}
	}
	return set, nil
}
