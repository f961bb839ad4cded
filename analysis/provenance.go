package analysis

import "github.com/kwoksim/kwoksim/version"

// Provenance says what was simulated, and by what: the command line, the input files as
// given and the kwoksim binary (the seed is the report's own). Like Runtime it is not a
// function of the inputs and the seed alone: the same inputs read from a file or from
// standard input, or simulated by another build, give another provenance and the same
// figures. Tests that compare reports leave both out; the same command line run by the same
// binary gives the same provenance.
type Provenance struct {
	// Command is the command line, the program name first: ["kwoksim", "run", "--nodes", …].
	Command []string `json:"command"`
	// Inputs are the input files, each with the flag that named it, as given on the command
	// line ("-" for standard input), flag by flag in a fixed order (see the README).
	Inputs []InputFile `json:"inputs"`
	// FeatureGates are the scheduler's feature gates the command line set (--feature-gates),
	// and DisabledAdmissionPlugins the admission plugins it turned off
	// (--disable-admission-plugins), as given; each absent when none were. Set apart from the
	// command line because they change what a run decides, and a report that turned
	// OpportunisticBatching or SchedulerAsyncPreemption back on is not reproducible.
	FeatureGates             map[string]bool `json:"featureGates,omitempty"`
	DisabledAdmissionPlugins []string        `json:"disabledAdmissionPlugins,omitempty"`
	// ArrivalsOnly and UntilUnschedulable are --arrivals-only and --until-unschedulable, each
	// absent when not given: set apart for the same reason, the replay they ask for is not
	// the trace as recorded (the arrivals section has what came of it).
	ArrivalsOnly       bool `json:"arrivalsOnly,omitempty"`
	UntilUnschedulable int  `json:"untilUnschedulable,omitempty"`
	// Kwoksim is the binary: its version, commit, and the Kubernetes and Go it was built with.
	Kwoksim version.Info `json:"kwoksim"`
}

// InputFile is one input path as the command line gave it.
type InputFile struct {
	Flag string `json:"flag"`
	Path string `json:"path"`
}
