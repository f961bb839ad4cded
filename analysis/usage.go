package analysis

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// usageReport builds the usage section from the load model's record and the node history (the
// allocatable of the existing nodes over time, as the time series sweeps it); nil without a
// record, which leaves the section out of the JSON.
func usageReport(rec *UsageRecord, h History, elapsed time.Duration) *UsageReport {
	if rec == nil {
		return nil
	}
	points, times := usagePoints(rec.Cluster, h, elapsed)
	u := &UsageReport{Workloads: make([]WorkloadUsageReport, 0, len(rec.Workloads)), OverTime: points}
	series := func(value func(UsagePoint) float64) []stepValue {
		out := make([]stepValue, len(points))
		for i, p := range points {
			out[i] = stepValue{times[i], value(p)}
		}
		return out
	}
	resource := func(use, req, alloc func(UsagePoint) float64) UsageResourceReport {
		return UsageResourceReport{
			Usage:                 stepFigure(series(use), elapsed),
			Requested:             stepFigure(series(req), elapsed),
			UtilizationByUsage:    stepFigure(series(func(p UsagePoint) float64 { return share(use(p), alloc(p)) }), elapsed),
			UtilizationByRequests: stepFigure(series(func(p UsagePoint) float64 { return share(req(p), alloc(p)) }), elapsed),
		}
	}
	u.CPU = resource(func(p UsagePoint) float64 { return p.CPU }, func(p UsagePoint) float64 { return p.RequestedCPU },
		func(p UsagePoint) float64 { return p.AllocatableCPU })
	u.Memory = resource(func(p UsagePoint) float64 { return p.Memory }, func(p UsagePoint) float64 { return p.RequestedMemory },
		func(p UsagePoint) float64 { return p.AllocatableMemory })
	for _, w := range rec.Workloads {
		u.Workloads = append(u.Workloads, workloadUsage(w, elapsed))
	}
	return u
}

// share is x/of, 0 when of is not above 0.
func share(x, of float64) float64 {
	if of <= 0 {
		return 0
	}
	return x / of
}

// cores is millicores in cores.
func cores(milli int64) float64 { return float64(milli) / 1000 }

// usagePoints merges the cluster's usage steps with the allocatable of the existing nodes:
// a point at t=0 and at every later instant, up to the end of the run, at which either
// changed, each holding the state after every change made at that instant; and the points'
// times.
func usagePoints(steps []UsageStep, h History, elapsed time.Duration) ([]UsagePoint, []time.Duration) {
	type node struct {
		cpu, memory int64
		exists      bool
	}
	nodes := map[string]*node{}
	var allocCPU, allocMemory int64
	var cur UsageStep
	points := []UsagePoint{}
	var times []time.Duration
	si, ni := 0, 0
	now := time.Duration(0)
	for {
		for ; si < len(steps) && steps[si].At <= now; si++ {
			cur = steps[si]
		}
		for ; ni < len(h.Nodes) && h.Nodes[ni].At <= now; ni++ {
			c := h.Nodes[ni]
			n := nodes[c.Name]
			if n == nil {
				n = &node{}
				nodes[c.Name] = n
			}
			if n.exists {
				allocCPU, allocMemory = allocCPU-n.cpu, allocMemory-n.memory
			}
			if c.Allocatable != nil {
				q, m := c.Allocatable[corev1.ResourceCPU], c.Allocatable[corev1.ResourceMemory]
				n.cpu, n.memory = q.MilliValue(), m.Value()
			}
			n.exists = !c.Gone
			if n.exists {
				allocCPU, allocMemory = allocCPU+n.cpu, allocMemory+n.memory
			}
		}
		p := UsagePoint{At: now.Seconds(), CPU: cores(cur.CPU), Memory: float64(cur.Memory),
			RequestedCPU: cores(cur.RequestedCPU), RequestedMemory: float64(cur.RequestedMemory),
			AllocatableCPU: cores(allocCPU), AllocatableMemory: float64(allocMemory)}
		if n := len(points); n == 0 || !samePoint(points[n-1], p) {
			points = append(points, p)
			times = append(times, now)
		}
		next, more := time.Duration(0), false
		if si < len(steps) {
			next, more = steps[si].At, true
		}
		if ni < len(h.Nodes) && (!more || h.Nodes[ni].At < next) {
			next, more = h.Nodes[ni].At, true
		}
		if !more || next > elapsed {
			return points, times
		}
		now = next
	}
}

// samePoint tells whether p changes nothing of the state last.
func samePoint(last, p UsagePoint) bool {
	p.At = last.At
	return p == last
}

// stepValue is a value from at on.
type stepValue struct {
	at time.Duration
	v  float64
}

// stepFigure is a step function over [0, elapsed] as an OverTimeFigure: 0 before its first
// step, each value holding until the next step (of several at one instant, the last), steps
// after elapsed left out. Peak and PeakAt are the largest value and the first instant it was
// reached, the mean weighs each value by how long it held (the final value for a run of no
// length).
func stepFigure(steps []stepValue, elapsed time.Duration) OverTimeFigure {
	var f OverTimeFigure
	integral := 0.0
	for i, s := range steps {
		if s.at > elapsed {
			break
		}
		if i+1 < len(steps) && steps[i+1].at == s.at {
			continue
		}
		until := elapsed
		if i+1 < len(steps) && steps[i+1].at < elapsed {
			until = steps[i+1].at
		}
		integral += s.v * (until - s.at).Seconds()
		if s.v > f.Peak {
			f.Peak, f.PeakAt = s.v, s.at.Seconds()
		}
		f.Final = s.v
	}
	f.Mean = f.Final
	if elapsed > 0 {
		f.Mean = integral / elapsed.Seconds()
	}
	return f
}

// workloadUsage is one workload's figures from its steps.
func workloadUsage(w WorkloadUsageRecord, elapsed time.Duration) WorkloadUsageReport {
	r := WorkloadUsageReport{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Loads: make([]LoadStepReport, 0, len(w.Loads))}
	cpu, memory := make([]stepValue, 0, len(w.Steps)), make([]stepValue, 0, len(w.Steps))
	for _, s := range w.Steps {
		cpu = append(cpu, stepValue{s.At, cores(s.CPU)})
		memory = append(memory, stepValue{s.At, float64(s.Memory)})
		if s.At <= elapsed {
			r.PeakReadyPods = max(r.PeakReadyPods, s.ReadyPods)
		}
	}
	// usageToRequests is the time-weighted mean of use/req over the time req was above 0.
	usageToRequests := func(use, req func(UsageStep) int64) float64 {
		sum, span := 0.0, time.Duration(0)
		for i, s := range w.Steps {
			if s.At > elapsed {
				break
			}
			until := elapsed
			if i+1 < len(w.Steps) {
				until = min(w.Steps[i+1].At, elapsed)
			}
			if req(s.UsageStep) <= 0 || until <= s.At {
				continue
			}
			d := until - s.At
			sum += float64(use(s.UsageStep)) / float64(req(s.UsageStep)) * d.Seconds()
			span += d
		}
		if span == 0 {
			return 0
		}
		return sum / span.Seconds()
	}
	c, m := stepFigure(cpu, elapsed), stepFigure(memory, elapsed)
	r.CPU = WorkloadResourceUsage{Peak: c.Peak, Mean: c.Mean,
		UsageToRequests: usageToRequests(func(s UsageStep) int64 { return s.CPU }, func(s UsageStep) int64 { return s.RequestedCPU })}
	r.Memory = WorkloadResourceUsage{Peak: m.Peak, Mean: m.Mean,
		UsageToRequests: usageToRequests(func(s UsageStep) int64 { return s.Memory }, func(s UsageStep) int64 { return s.RequestedMemory })}
	for _, l := range w.Loads {
		lr := LoadStepReport{At: l.At.Seconds()}
		if l.CPU >= 0 {
			c := cores(l.CPU)
			lr.CPU = &c
		}
		if l.Memory >= 0 {
			m := float64(l.Memory)
			lr.Memory = &m
		}
		r.Loads = append(r.Loads, lr)
	}
	return r
}
