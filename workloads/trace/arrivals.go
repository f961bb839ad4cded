package trace

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/sim"
)

// ArrivalOptions are the replay modes of packing studies, which replay a trace's arrivals
// until the cluster is full (Weng et al., "Beware of Fragmentation", USENIX ATC '23, on the
// Alibaba GPU trace: kwoksim import openb).
type ArrivalOptions struct {
	// Only leaves out the traces' Pod deletions: a delete event of kind Pod is counted and
	// not performed. Every other event is performed as recorded, deletions of other kinds
	// included (a Deployment a trace deletes still takes its pods with it), and so is what
	// the simulation itself deletes (stages, controllers, evictions, the trace's evict and
	// drain operations, which are disruptions the trace's author injected, not departures).
	Only bool
	// UntilUnschedulable, above zero, ends the run at the instant that many pods the traces
	// created are unschedulable in a row (see analysis.ArrivalsReport for what a verdict is).
	UntilUnschedulable int
}

// arrivals follows the pods the traces create, for analysis.ArrivalsReport. It only reads
// the simulation (the recorder's records), at instants the simulation has settled: it is no
// Watcher and writes nothing.
type arrivals struct {
	opts ArrivalOptions
	s    *sim.Simulator
	rec  *sim.Recorder
	// pending are the created pods without a verdict, in creation order; rejected those
	// found unschedulable, to tell at the end which were bound later.
	pending  []arrival
	rejected []types.UID
	report   analysis.ArrivalsReport
	streak   int
}

type arrival struct {
	uid  types.UID
	name string
}

// SetArrivals sets the replay's arrival modes; called before the simulation runs. Without it
// the replay is as recorded and follows no arrivals.
func (rp *Replay) SetArrivals(o ArrivalOptions) {
	mode := analysis.ReplayAsRecorded
	if o.Only {
		mode = analysis.ReplayArrivalsOnly
	}
	rp.arrivals = &arrivals{opts: o, s: rp.s, rec: rp.s.Recorder(),
		report: analysis.ArrivalsReport{Mode: mode, UntilUnschedulable: o.UntilUnschedulable}}
}

// skips reports whether the event is left out of the replay, and counts it.
func (a *arrivals) skips(ev *Event) bool {
	if a == nil || !a.opts.Only || ev.Op != OpDelete || ev.Target.Kind != "Pod" {
		return false
	}
	a.report.DeletionsSkipped++
	return true
}

// created notes an object the trace's apply created.
func (a *arrivals) created(obj any) {
	if a == nil {
		return
	}
	if p, ok := obj.(*corev1.Pod); ok {
		a.report.Created++
		a.pending = append(a.pending, arrival{uid: p.UID, name: p.Namespace + "/" + p.Name})
	}
}

// EndCondition is the function sim.Simulator.RunEndingWhen ends the run on: true once
// UntilUnschedulable arriving pods in a row are unschedulable. Asked at every settled
// instant, it is also what gives each arriving pod its verdict at the end of the instant of
// its first attempt, so it is set whenever SetArrivals was called; nil otherwise, so that a
// run without arrivals asks nothing at every instant.
func (rp *Replay) EndCondition() func() bool {
	if rp.arrivals == nil {
		return nil
	}
	return rp.arrivals.settle
}

// settle gives the pending pods their verdicts, in creation order, and reports whether the
// run ends here. Called when every event due at the instant has run and the scheduler has
// drained, so a pod attempted at this instant has its outcome.
func (a *arrivals) settle() bool {
	if a.report.End != nil {
		return true
	}
	kept := a.pending[:0]
	for i, p := range a.pending {
		r, ok := a.rec.Pod(p.uid)
		switch {
		case !ok || r.DeletedAt != nil && r.ScheduledAt == nil:
			// Gone before its verdict: neither accepted nor rejected.
		case r.ScheduledAt != nil:
			a.report.Accepted++
			a.streak = 0
		case r.Attempts > 0 && rejected(r.Outcome):
			a.report.Unschedulable++
			a.rejected = append(a.rejected, p.uid)
			a.streak++
			if n := a.opts.UntilUnschedulable; n > 0 && a.streak >= n {
				a.report.End = &analysis.ArrivalsEnd{Reason: analysis.EndUntilUnschedulable,
					At: a.s.Elapsed().Seconds(), Pod: p.name, Consecutive: a.streak, Message: r.Reason}
				// The pods after it keep no verdict: the run ends at this one.
				a.pending = append(kept, a.pending[i+1:]...)
				return true
			}
		default:
			kept = append(kept, p) // not attempted yet, in error backoff, or waiting for volumes
		}
	}
	clear(a.pending[len(kept):])
	a.pending = kept
	return false
}

// rejected is whether a failed attempt's outcome is a rejection, not an error.
func rejected(o *analysis.SchedulingOutcome) bool {
	return o != nil && (o.Code == "Unschedulable" || o.Code == "UnschedulableAndUnresolvable")
}

// Arrivals is the report's arrivals section, nil when SetArrivals was not called. Verdicts
// are only those taken at settled instants (EndCondition): an interrupted run leaves the pods
// of the instant it stopped in without one, rather than judge them half way.
func (rp *Replay) Arrivals() *analysis.ArrivalsReport {
	a := rp.arrivals
	if a == nil {
		return nil
	}
	out := a.report
	out.Scheduled = out.Accepted
	for _, uid := range a.rejected {
		if r, ok := a.rec.Pod(uid); ok && r.ScheduledAt != nil {
			out.Scheduled++
		}
	}
	for _, p := range a.pending {
		if r, ok := a.rec.Pod(p.uid); ok && r.ScheduledAt != nil {
			out.Scheduled++
		}
	}
	return &out
}

// Notes are what the report's notes say of the replay: never silent about what it left out.
func (rp *Replay) Notes() []string {
	a := rp.arrivals
	if a == nil {
		return nil
	}
	var notes []string
	if a.opts.Only {
		notes = append(notes, fmt.Sprintf("arrivals only (--arrivals-only): %d of the trace's Pod deletions not performed; "+
			"the pods it created stay until the simulation itself removes them", a.report.DeletionsSkipped))
	}
	if e := a.report.End; e != nil {
		what := fmt.Sprintf("%d pods the trace created were unschedulable in a row, the last %s", e.Consecutive, e.Pod)
		if e.Consecutive == 1 {
			what = fmt.Sprintf("%s, a pod the trace created, was unschedulable", e.Pod)
		}
		notes = append(notes, fmt.Sprintf("the run ended at t=%s (--until-unschedulable %d): %s; the trace's later events were not replayed",
			analysis.FormatSeconds(e.At), a.opts.UntilUnschedulable, what))
	}
	return notes
}
