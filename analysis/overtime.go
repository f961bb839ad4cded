package analysis

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// OverTime is the run over its whole length, where Summary, Nodes and Utilization describe
// its last instant: a trace replay that deletes every pod before it ends reads 0 there, while
// its peak and mean are what it was. Each figure follows the state after every change of the
// run (the exact event timeline, not the time series' samples), over [0, simulatedSeconds].
type OverTime struct {
	// PodsRunning counts the existing pods in phase Running; PodsPending those in phase
	// Pending (bound or not, as the summary counts them); PodsBound the pods bound to a node
	// that have not terminated (Succeeded or Failed), which are the pods whose requests count.
	PodsRunning OverTimeFigure `json:"podsRunning"`
	PodsPending OverTimeFigure `json:"podsPending"`
	PodsBound   OverTimeFigure `json:"podsBound"`
	// NodesUsed counts the existing nodes holding at least one such pod (summary.nodes.used
	// at the end).
	NodesUsed OverTimeFigure `json:"nodesUsed"`
	// Utilization is, per resource any node offered during the run, the cluster's
	// requested/allocatable: the requests of the bound, not terminated pods on existing nodes
	// over those nodes' allocatable, summed over the nodes (0 while no node offers it), as
	// the time series' utilization.
	Utilization map[string]OverTimeFigure `json:"utilization"`
}

// OverTimeFigure is one quantity over a run: its value at the end, its largest value and the
// first instant (virtual seconds) it took it, and its mean over time, each value weighted by
// how long it held. Before the first change every count and utilization is 0, so Peak is
// never below 0; for a run of no length Mean is Final.
type OverTimeFigure struct {
	Final  float64 `json:"final"`
	Peak   float64 `json:"peak"`
	PeakAt float64 `json:"peakAt"`
	Mean   float64 `json:"mean"`
}

// Emptier is the figure having ended below its peak: the run ended emptier than it was.
func (f OverTimeFigure) Emptier() bool { return f.Final < f.Peak }

// Emptier tells whether any figure ended below its peak: the last instant alone misleads.
func (o OverTime) Emptier() bool {
	if o.PodsRunning.Emptier() || o.PodsBound.Emptier() || o.NodesUsed.Emptier() {
		return true
	}
	for _, f := range o.Utilization {
		if f.Emptier() {
			return true
		}
	}
	return false
}

// overTimeCounts is how many counts come before the utilizations in overTime's state: pods
// running, pending, bound, nodes used.
const overTimeCounts = 4

// overTime follows one state vector (the counts, then one utilization per resource) through
// the run: the largest value of each and when it was first reached, and the sum of value ×
// seconds held.
type overTime struct {
	state, peak, integral []float64
	peakAt                []time.Duration
}

func newOverTime(names []corev1.ResourceName) *overTime {
	n := overTimeCounts + len(names)
	return &overTime{state: make([]float64, n), peak: make([]float64, n), integral: make([]float64, n), peakAt: make([]time.Duration, n)}
}

// hold adds the state as it held for d.
func (a *overTime) hold(state []float64, d time.Duration) {
	if d <= 0 {
		return
	}
	for i, x := range state {
		a.integral[i] += x * d.Seconds()
	}
}

// reach takes the state reached at t.
func (a *overTime) reach(state []float64, t time.Duration) {
	for i, x := range state {
		if x > a.peak[i] {
			a.peak[i], a.peakAt[i] = x, t
		}
	}
}

// result is the figures of a run of the given length that ended in the current state.
func (a *overTime) result(names []corev1.ResourceName, elapsed time.Duration) OverTime {
	figure := func(i int) OverTimeFigure {
		f := OverTimeFigure{Final: a.state[i], Peak: a.peak[i], PeakAt: a.peakAt[i].Seconds(), Mean: a.state[i]}
		if elapsed > 0 {
			f.Mean = a.integral[i] / elapsed.Seconds()
		}
		return f
	}
	out := OverTime{
		PodsRunning: figure(0),
		PodsPending: figure(1),
		PodsBound:   figure(2),
		NodesUsed:   figure(3),
		Utilization: make(map[string]OverTimeFigure, len(names)),
	}
	for i, name := range names {
		out.Utilization[string(name)] = figure(overTimeCounts + i)
	}
	return out
}
