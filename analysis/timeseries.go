package analysis

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

const (
	// maxDefaultSteps bounds the default time series to about a thousand points.
	maxDefaultSteps = 1000
	// MaxSamples is the most points a time series may have: a million points of seven
	// series already make a report of about a hundred megabytes.
	MaxSamples = 1_000_000
)

// roundIntervals are the default sample intervals, shortest first; runs too long for the
// last one are sampled in whole days.
var roundIntervals = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// DefaultSampleInterval is the shortest round interval (1s, 2s, 5s, 10s, 15s, 30s, 1m, 2m,
// 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, then whole days) that cuts a run of the given
// length into at most 1,000 steps, so the series has at most 1,001 points.
func DefaultSampleInterval(elapsed time.Duration) time.Duration {
	for _, d := range roundIntervals {
		if steps(elapsed, d) <= maxDefaultSteps {
			return d
		}
	}
	day := 24 * time.Hour
	return time.Duration(steps(elapsed, maxDefaultSteps*day)) * day
}

// steps is how many intervals it takes to cover elapsed, rounding up. It divides first, so an
// elapsed time near the largest time.Duration does not overflow (elapsed + interval - 1 would).
func steps(elapsed, interval time.Duration) int64 {
	n := int64(elapsed / interval)
	if elapsed%interval != 0 {
		n++
	}
	return n
}

// SamplingError is a sample interval that gives too many points for the run.
type SamplingError struct {
	Interval, Elapsed time.Duration
	Samples           int64
}

func (e *SamplingError) Error() string {
	return fmt.Sprintf("--sample-interval %v gives %d points over %v of cluster time; at most %d are kept, choose a longer interval",
		e.Interval, e.Samples, e.Elapsed, MaxSamples)
}

// BadInput marks the error as bad input (kwoksim exits 2).
func (*SamplingError) BadInput() {}

// CheckSampleInterval tells whether a sample interval (0 for the default) can sample a run of
// the given length.
func CheckSampleInterval(elapsed, interval time.Duration) error {
	if interval < 0 {
		return fmt.Errorf("sample interval must not be negative, got %v", interval)
	}
	if interval == 0 {
		return nil
	}
	if n := steps(elapsed, interval) + 1; n > MaxSamples {
		return &SamplingError{Interval: interval, Elapsed: elapsed, Samples: n}
	}
	return nil
}

// sampleTimes are 0, interval, 2·interval, … below elapsed, then elapsed itself, so the last
// point is the state the rest of the report describes.
func sampleTimes(elapsed, interval time.Duration) []time.Duration {
	n := steps(elapsed, interval)
	out := make([]time.Duration, 0, n+1)
	// i·interval < elapsed for every i < n, so no step overflows (t += interval past the
	// largest time.Duration would wrap to a negative time and never end).
	for i := int64(0); i < n; i++ {
		out = append(out, time.Duration(i)*interval)
	}
	return append(out, elapsed)
}

// Pod phases as the series counts them; a phase the API does not define counts as pending,
// as the summary counts it.
const (
	phasePending = iota
	phaseRunning
	phaseSucceeded
	phaseFailed
)

func phaseIndex(p corev1.PodPhase) int {
	switch p {
	case corev1.PodRunning:
		return phaseRunning
	case corev1.PodSucceeded:
		return phaseSucceeded
	case corev1.PodFailed:
		return phaseFailed
	}
	return phasePending
}

// sweepNode is what the sweep knows of one node name. Requests are kept whether or not the
// node exists, so a pod bound to a node that is gone, or not there yet, is counted once it is;
// active counts those pods.
type sweepNode struct {
	exists, ready bool
	active        int
	alloc, req    []int64
}

// sweepPod is what the sweep knows of one pod; active means its requests count on its node
// (it exists, is bound and has not terminated).
type sweepPod struct {
	exists, active bool
	phase          int
}

// timeseries is the sampled half of sweep.
func timeseries(o Observation) Timeseries {
	ts, _ := sweep(o)
	return ts
}

// sweep samples the cluster at sampleTimes by one pass over the change log: the state at a
// sample time t is the state after every change made at t. Counts are of existing pods by
// phase and of existing Ready nodes; utilization is, per resource any node offered during the
// run, the requests of the active pods on existing nodes over those nodes' allocatable (0
// while no node offers the resource). Amounts are integers (see amount, sweepExponents), so
// the figures do not depend on the order of changes within a step.
//
// The same pass follows the state at every instant something changed, not only at the
// samples, and sums it over time: the OverTime figures are exact, not read off the samples
// (see overTime).
func sweep(o Observation) (Timeseries, OverTime) {
	interval := o.SampleInterval
	if interval <= 0 {
		interval = DefaultSampleInterval(o.Elapsed)
	}
	times := sampleTimes(o.Elapsed, interval)
	h := o.History

	index := map[corev1.ResourceName]int{}
	for _, c := range h.Nodes {
		for name := range c.Allocatable {
			index[name] = 0
		}
	}
	names := make([]corev1.ResourceName, 0, len(index))
	for name := range index {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	for i, name := range names {
		index[name] = i
	}

	ts := Timeseries{
		T:           make([]float64, len(times)),
		Pending:     make([]int, len(times)),
		Running:     make([]int, len(times)),
		Succeeded:   make([]int, len(times)),
		Failed:      make([]int, len(times)),
		ReadyNodes:  make([]int, len(times)),
		Utilization: make(map[string][]float64, len(names)),
	}
	util := make([][]float64, len(names))
	for i, name := range names {
		util[i] = make([]float64, len(times))
		ts.Utilization[string(name)] = util[i]
	}

	var (
		phases           [4]int
		ready, used, bnd int
		allocSum, reqSum = make([]int64, len(names)), make([]int64, len(names))
		pods             = make([]sweepPod, len(o.Pods))
		requests         = make([][]int64, len(o.Pods))
		nodes            = map[string]*sweepNode{}
		exps             = sweepExponents(o, names, index, requests)
	)
	node := func(name string) *sweepNode {
		n := nodes[name]
		if n == nil {
			n = &sweepNode{alloc: make([]int64, len(names)), req: make([]int64, len(names))}
			nodes[name] = n
		}
		return n
	}
	podRequests := func(i int32) []int64 {
		if requests[i] == nil {
			requests[i] = podAmounts(o.Pods[i].Pod, index, exps)
		}
		return requests[i]
	}
	applyPod := func(c PodChange) {
		p := &pods[c.Pod]
		if p.exists {
			phases[p.phase]--
		}
		p.exists, p.phase = !c.Gone, phaseIndex(c.Phase)
		if p.exists {
			phases[p.phase]++
		}
		active := p.exists && c.Bound && p.phase != phaseSucceeded && p.phase != phaseFailed
		if active == p.active {
			return
		}
		p.active = active
		sign := int64(1)
		if !active {
			sign = -1
		}
		bnd += int(sign)
		n := node(o.Pods[c.Pod].Pod.Spec.NodeName)
		if n.exists && (n.active == 0) != (n.active+int(sign) == 0) {
			used += int(sign)
		}
		n.active += int(sign)
		for i, a := range podRequests(c.Pod) {
			n.req[i] += sign * a
			if n.exists {
				reqSum[i] += sign * a
			}
		}
	}
	applyNode := func(c NodeChange) {
		n := node(c.Name)
		if n.exists && n.ready {
			ready--
		}
		if c.Gone {
			if n.exists {
				for i := range names {
					allocSum[i] -= n.alloc[i]
					reqSum[i] -= n.req[i]
				}
				if n.active > 0 {
					used--
				}
			}
			n.exists, n.ready = false, false
			return
		}
		if c.Allocatable != nil {
			for i, name := range names {
				a := int64(0)
				if q, ok := c.Allocatable[name]; ok {
					a = scaledAmount(name, q, exps[i])
				}
				if n.exists {
					allocSum[i] += a - n.alloc[i]
				}
				n.alloc[i] = a
			}
		}
		if !n.exists {
			n.exists = true
			for i := range names {
				allocSum[i] += n.alloc[i]
				reqSum[i] += n.req[i]
			}
			if n.active > 0 {
				used++
			}
		}
		n.ready = c.Ready
		if n.ready {
			ready++
		}
	}

	acc := newOverTime(names)
	state := func() []float64 {
		acc.state[0], acc.state[1] = float64(phases[phaseRunning]), float64(phases[phasePending])
		acc.state[2], acc.state[3] = float64(bnd), float64(used)
		for i := range names {
			acc.state[overTimeCounts+i] = ratio(reqSum[i], allocSum[i])
		}
		return acc.state
	}

	// Each round applies every change made at the next instant something changes, after
	// taking the samples before it (they see the state that instant ends) and adding the
	// state that held until it to the sums. Changes after the end of the run, if any, are
	// not the run's.
	pi, ni, k := 0, 0, 0
	now := time.Duration(0)
	for {
		next, more := time.Duration(0), false
		if pi < len(h.Pods) {
			next, more = h.Pods[pi].At, true
		}
		if ni < len(h.Nodes) && (!more || h.Nodes[ni].At < next) {
			next, more = h.Nodes[ni].At, true
		}
		if !more || next > o.Elapsed {
			break
		}
		for ; k < len(times) && times[k] < next; k++ {
			sample(&ts, util, k, times[k], phases, ready, reqSum, allocSum)
		}
		acc.hold(state(), next-now)
		now = next
		for ; pi < len(h.Pods) && h.Pods[pi].At <= next; pi++ {
			applyPod(h.Pods[pi])
		}
		for ; ni < len(h.Nodes) && h.Nodes[ni].At <= next; ni++ {
			applyNode(h.Nodes[ni])
		}
		acc.reach(state(), next)
	}
	for ; k < len(times); k++ {
		sample(&ts, util, k, times[k], phases, ready, reqSum, allocSum)
	}
	acc.hold(state(), o.Elapsed-now)
	return ts, acc.result(names, o.Elapsed)
}

// sample writes the state into the series' point k, at time t.
func sample(ts *Timeseries, util [][]float64, k int, t time.Duration, phases [4]int, ready int, reqSum, allocSum []int64) {
	ts.T[k] = t.Seconds()
	ts.Pending[k], ts.Running[k] = phases[phasePending], phases[phaseRunning]
	ts.Succeeded[k], ts.Failed[k] = phases[phaseSucceeded], phases[phaseFailed]
	ts.ReadyNodes[k] = ready
	for i := range util {
		util[i][k] = ratio(reqSum[i], allocSum[i])
	}
}

// sweepExponents chooses, per resource, the unit the sweep counts it in: amount's unit
// (exponent 0) unless the sums could pass amountLimit, then 10^exp times that, the smallest
// that keeps them within it. The sums are bounded by what every node change offers plus what
// every pod ever bound requests, all counted at once. Scaled amounts are rounded up, one unit
// at most each, which is a share of at most about 1e-18 of the total per pod or node: a
// 1e29-CPU request on a 1e30-CPU node is 10%, where the millicores would wrap.
//
// It fills requests with the bound pods' amounts on the way; they are dropped again (the sweep
// computes them anew) when a unit is not amount's.
func sweepExponents(o Observation, names []corev1.ResourceName, index map[corev1.ResourceName]int, requests [][]int64) []int {
	zero := make([]int, len(names))
	total := make([]float64, len(names))
	for _, c := range o.History.Nodes {
		for name, q := range c.Allocatable {
			total[index[name]] += magnitude(name, q)
		}
	}
	for _, c := range o.History.Pods {
		if !c.Bound || requests[c.Pod] != nil {
			continue
		}
		rl := resourcehelper.PodRequests(o.Pods[c.Pod].Pod, resourcehelper.PodResourcesOptions{})
		for name, q := range rl {
			if i, ok := index[name]; ok {
				total[i] += magnitude(name, q)
			}
		}
		requests[c.Pod] = amounts(rl, index, zero)
	}
	exps := make([]int, len(names))
	scaled := false
	for i := range total {
		// Plus one "pods" per pod, at most as many as changes.
		total[i] += float64(len(o.History.Pods))
		for total[i] >= amountLimit/10 {
			total[i] /= 10
			exps[i]++
			scaled = true
		}
	}
	if scaled {
		clear(requests)
	}
	return exps
}

// podAmounts is what a pod takes of each indexed resource: its requests as the scheduler
// computes them (init containers, overhead), and one "pods".
func podAmounts(p *corev1.Pod, index map[corev1.ResourceName]int, exps []int) []int64 {
	return amounts(resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}), index, exps)
}

// amounts is what pod requests rl take of each indexed resource, in the units exps give, and
// one "pods".
func amounts(rl corev1.ResourceList, index map[corev1.ResourceName]int, exps []int) []int64 {
	out := make([]int64, len(exps))
	for name, q := range rl {
		if i, ok := index[name]; ok {
			out[i] = scaledAmount(name, q, exps[i])
		}
	}
	if i, ok := index[corev1.ResourcePods]; ok {
		out[i] = 1
	}
	return out
}
