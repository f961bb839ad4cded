package analysis

import (
	"cmp"
	"slices"
	"time"
)

// The autoscaling section (issue 21) is built from what the node autoscaler recorded. These are
// kwoksim's accounting choices, not an upstream one (neither cluster-autoscaler nor Karpenter
// reports a cost); the table and the HTML page say them:
//
//   - Billing: a node is billed from its launch (AutoscaledNodeRecord.LaunchedAt, the scale-up
//     decision, 0 for a node present at t=0), as a cloud bills an instance from its launch, to
//     its deletion, or to the end of the run if it was never deleted. A launch that failed to
//     register is billed the same way, up to when it was given up (its DeletedAt), and counts
//     as a failed launch, not a removal. Node-hours
//     are those seconds / 3600 and cost is node-hours × the node's price per hour, per shape,
//     per pool and in total; nothing is rounded here, only on display.
//   - Nodes over time count instances: launched and not yet deleted, registered or not.
//   - Capacity wait is created → bound over the pods that were found unschedulable at least
//     once (any failed scheduling cycle, whatever the reason) and bound later.
//   - A Consolidation event counts as a scale-down when it removed nodes (Count > 0); a
//     replacement's launch is the ScaleUp event the autoscaler records beside it.

// autoscalingReport builds the section from the record; nil without an autoscaler, which
// leaves the section out of the JSON.
func autoscalingReport(rec *AutoscalerRecord, pods []PodRecord, elapsed time.Duration) *AutoscalingReport {
	if rec == nil {
		return nil
	}
	a := &AutoscalingReport{
		Autoscaler:   rec.Autoscaler,
		CapacityWait: capacityWait(pods),
		Pools:        make([]PoolReport, 0, len(rec.Pools)),
		Events:       make([]ScaleEventReport, 0, len(rec.Events)),
		NoScaleUp:    make([]NoScaleUpReport, 0, len(rec.NoScaleUp)),
		Unremovable:  make([]UnremovableReport, 0, len(rec.Unremovable)),
		NotModelled:  append([]string{}, rec.NotModelled...),
	}
	pool := map[string]int{}
	shape := map[[2]string]int{}
	for _, p := range rec.Pools {
		pool[p.Name] = len(a.Pools)
		pr := PoolReport{Name: p.Name, Min: p.Min, Max: p.Max, Shapes: make([]ShapeReport, 0, len(p.Shapes))}
		for _, s := range p.Shapes {
			shape[[2]string{p.Name, s.Name}] = len(pr.Shapes)
			pr.Shapes = append(pr.Shapes, ShapeReport{Name: s.Name, PricePerHour: s.PricePerHour})
		}
		a.Pools = append(a.Pools, pr)
	}
	// changes are the +1/-1 steps of the node count, per pool and over every pool.
	type change struct {
		at    time.Duration
		delta int
		// price is the node's price per hour, for the pool's cost over time.
		price float64
	}
	perPool := make([][]change, len(a.Pools))
	var all []change
	for _, n := range rec.Nodes {
		// A node of a pool or shape the record does not list still counts and is billed,
		// under its own name, rather than vanish from the totals.
		pi, ok := pool[n.Pool]
		if !ok {
			pi = len(a.Pools)
			pool[n.Pool] = pi
			a.Pools = append(a.Pools, PoolReport{Name: n.Pool, Shapes: []ShapeReport{}})
			perPool = append(perPool, nil)
		}
		pr := &a.Pools[pi]
		si, ok := shape[[2]string{n.Pool, n.Shape}]
		if !ok {
			si = len(pr.Shapes)
			shape[[2]string{n.Pool, n.Shape}] = si
			pr.Shapes = append(pr.Shapes, ShapeReport{Name: n.Shape, PricePerHour: n.PricePerHour})
		}
		sr := &pr.Shapes[si]
		end := elapsed
		if n.DeletedAt != nil {
			end = *n.DeletedAt
		}
		hours := max(end-n.LaunchedAt, 0).Hours()
		cost := hours * n.PricePerHour
		sr.NodeHours += hours
		sr.Cost += cost
		pr.NodeHours += hours
		pr.Cost += cost
		a.NodeHours += hours
		a.Cost += cost
		if !n.Initial {
			sr.NodesAdded++
			a.NodesAdded++
		}
		// A launch that went away without its Node ever registering (given up at the
		// provisioning timeout, or its Node could not be created) is a failed launch, not a
		// removal.
		failed := n.FailedToRegister || (n.RegisteredAt == nil && n.DeletedAt != nil)
		if failed {
			a.FailedLaunches++
		}
		launched := change{n.LaunchedAt, +1, n.PricePerHour}
		perPool[pi] = append(perPool[pi], launched)
		all = append(all, launched)
		if n.DeletedAt == nil {
			sr.Nodes++
			pr.Nodes++
			a.Nodes++
			continue
		}
		if !failed {
			a.NodesRemoved++
		}
		deleted := change{*n.DeletedAt, -1, n.PricePerHour}
		perPool[pi] = append(perPool[pi], deleted)
		all = append(all, deleted)
	}
	// overTime is the count after every instant that changed it, from [0, count at 0]; a
	// launch and a deletion at one instant make one point, none when they cancel out.
	overTime := func(cs []change) (points [][2]float64, peak int) {
		slices.SortStableFunc(cs, func(x, y change) int { return cmp.Compare(x.at, y.at) })
		n := 0
		for i := 0; i < len(cs) && cs[i].at <= 0; i++ {
			n += cs[i].delta
		}
		points, peak = [][2]float64{{0, float64(n)}}, n
		for i := 0; i < len(cs); {
			at := cs[i].at
			before := n
			for ; i < len(cs) && cs[i].at == at; i++ {
				if at > 0 {
					n += cs[i].delta
				}
			}
			if at > 0 && n != before {
				points = append(points, [2]float64{at.Seconds(), float64(n)})
			}
			peak = max(peak, n)
		}
		return points, peak
	}
	// costOverTime is the cost so far at t=0, after every instant that changed what the pool
	// pays per hour, and at the end: the sum of its nodes' prices is constant in between, so
	// the cost grows linearly from point to point, and the last point is the pool's cost.
	costOverTime := func(cs []change) [][2]float64 {
		slices.SortStableFunc(cs, func(x, y change) int { return cmp.Compare(x.at, y.at) })
		rate, cost, last := 0.0, 0.0, time.Duration(0)
		i := 0
		for ; i < len(cs) && cs[i].at <= 0; i++ {
			rate += float64(cs[i].delta) * cs[i].price
		}
		points := [][2]float64{{0, 0}}
		for i < len(cs) {
			at := cs[i].at
			cost += rate * (at - last).Hours()
			last = at
			for ; i < len(cs) && cs[i].at == at; i++ {
				rate += float64(cs[i].delta) * cs[i].price
			}
			points = append(points, [2]float64{at.Seconds(), cost})
		}
		if elapsed > last {
			points = append(points, [2]float64{elapsed.Seconds(), cost + rate*(elapsed-last).Hours()})
		}
		return points
	}
	for i := range a.Pools {
		a.Pools[i].NodesOverTime, a.Pools[i].PeakNodes = overTime(perPool[i])
		a.Pools[i].CostOverTime = costOverTime(perPool[i])
	}
	_, a.PeakNodes = overTime(all)
	for _, e := range rec.Events {
		switch {
		case e.Type == ScaleUp:
			a.ScaleUps++
		case e.Type == ScaleDown, e.Type == Consolidation && e.Count > 0:
			a.ScaleDowns++
		}
		a.Events = append(a.Events, ScaleEventReport{At: e.At.Seconds(), Type: e.Type, Pool: e.Pool, Shape: e.Shape,
			Nodes: slices.Clone(e.Nodes), Count: e.Count, Pods: e.Pods, Reason: e.Reason, Message: e.Message})
	}
	for _, p := range rec.NoScaleUp {
		a.NoScaleUp = append(a.NoScaleUp, NoScaleUpReport{Namespace: p.Namespace, Name: p.Name, At: p.At.Seconds(),
			Reason: p.Reason, Resolved: seconds(p.Resolved)})
		if p.Resolved == nil {
			a.NoScaleUpUnresolved++
		}
	}
	for _, u := range rec.Unremovable {
		a.Unremovable = append(a.Unremovable, UnremovableReport{Node: u.Node, Pool: u.Pool, At: u.At.Seconds(),
			Reason: u.Reason, Detail: u.Detail})
	}
	return a
}

// capacityWait is created → bound over the pods, not restored, that some scheduling cycle
// found unschedulable (the recorder keeps the last failure's message in Reason even after the
// pod is bound) and that were bound later.
func capacityWait(pods []PodRecord) Distribution {
	var xs []float64
	for _, p := range pods {
		if p.Restored || p.CreatedAt == nil || p.ScheduledAt == nil || (p.Reason == "" && p.Outcome == nil) {
			continue
		}
		xs = append(xs, (*p.ScheduledAt - *p.CreatedAt).Seconds())
	}
	return distribution(xs)
}
