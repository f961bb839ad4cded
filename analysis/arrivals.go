package analysis

import (
	"fmt"
	"io"
)

// The replay modes of ArrivalsReport.Mode.
const (
	// ReplayAsRecorded performs every event of the traces.
	ReplayAsRecorded = "as-recorded"
	// ReplayArrivalsOnly leaves out the traces' Pod deletions (kwoksim run --arrivals-only):
	// pods keep arriving and none leaves, the replay of packing studies such as Weng et al.,
	// "Beware of Fragmentation" (USENIX ATC '23) on the Alibaba GPU trace.
	ReplayArrivalsOnly = "arrivals-only"
)

// EndUntilUnschedulable is ArrivalsEnd.Reason for a run that --until-unschedulable ended.
const EndUntilUnschedulable = "until-unschedulable"

// ArrivalsReport is what a trace replay tells of the pods it created: how it was replayed,
// what became of each arriving pod at its first scheduling attempt, and the arrival that
// ended the run. Present only when kwoksim run was given --arrivals-only or
// --until-unschedulable, so that the reports of other runs are unchanged.
//
// A pod the trace creates gets its verdict at the end of the virtual instant of its first
// scheduling attempt (once every event due then has run and the scheduler has drained its
// queue): accepted when it is bound by then, unschedulable when it is not and its last attempt
// was rejected (Unschedulable or UnschedulableAndUnresolvable; a pod that made the scheduler
// preempt counts as unschedulable, as its attempt did fail). A pod whose attempt failed with
// an error, or that waits for its volumes, gets its verdict at the first instant that settles
// it; a pod never attempted (gated, no profile takes it) or deleted first gets none. Verdicts
// are taken in order of their instant, then of creation: that is the order "consecutive"
// refers to.
type ArrivalsReport struct {
	// Mode is ReplayAsRecorded or ReplayArrivalsOnly.
	Mode string `json:"mode"`
	// DeletionsSkipped counts the traces' Pod delete events not performed (arrivals-only),
	// as the replay reached them: those after the end of the run are not counted.
	DeletionsSkipped int `json:"deletionsSkipped"`
	// UntilUnschedulable is --until-unschedulable: the run ends once that many arriving pods
	// in a row are unschedulable; 0 when off.
	UntilUnschedulable int `json:"untilUnschedulable"`
	// Created counts the Pods the traces' apply events created (not the pods of workloads
	// a trace created: their controllers make those).
	Created int `json:"created"`
	// Accepted and Unschedulable count the verdicts, up to and including the pod that ended
	// the run: pods created at that instant after it are in Created only.
	Accepted      int `json:"accepted"`
	Unschedulable int `json:"unschedulable"`
	// Scheduled counts the created pods ever bound: the accepted ones, and those bound after
	// a verdict of unschedulable or without a verdict.
	Scheduled int `json:"scheduled"`
	// End is the arrival that ended the run; null when the run ended otherwise.
	End *ArrivalsEnd `json:"end"`
}

// ArrivalsEnd is the arrival that ended the run.
type ArrivalsEnd struct {
	// Reason is EndUntilUnschedulable.
	Reason string `json:"reason"`
	// At is when, in virtual seconds: the end of the run.
	At float64 `json:"at"`
	// Pod is the last of the Consecutive unschedulable pods, namespace/name, and Message the
	// scheduler's message on it.
	Pod         string `json:"pod"`
	Consecutive int    `json:"consecutive"`
	Message     string `json:"message"`
}

// writeArrivals is the table's account of a replay's arrivals: one line, and one more on the
// arrival that ended the run.
func writeArrivals(w io.Writer, r *Report) {
	a := r.Arrivals
	if a == nil {
		return
	}
	fmt.Fprintf(w, "Arrivals: %s", a.Mode)
	if a.Mode == ReplayArrivalsOnly {
		fmt.Fprintf(w, " (%s skipped)", plural(a.DeletionsSkipped, "pod deletion"))
	}
	fmt.Fprintf(w, "; %s created by the trace: %d accepted and %d unschedulable at arrival, %d scheduled\n",
		plural(a.Created, "pod"), a.Accepted, a.Unschedulable, a.Scheduled)
	if e := a.End; e != nil {
		fmt.Fprintf(w, "          ended at t=%s by --until-unschedulable %d: %s in a row, the last %s: %s\n",
			formatSeconds(e.At), a.UntilUnschedulable, plural(e.Consecutive, "unschedulable arrival"), e.Pod, e.Message)
	}
}
