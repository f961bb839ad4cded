package plots

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kwoksim/kwoksim/analysis"
)

// autoscalingFigures are the figures of a report's autoscaling section; none without one, so
// the plots of a run without an autoscaler are unchanged.
func autoscalingFigures(r *analysis.Report) []Figure {
	if r.Autoscaling == nil {
		return nil
	}
	return []Figure{
		{"autoscaling-nodes", "Pool nodes over time",
			"How many nodes each NodePool had (launched and not yet deleted) over the run, as the autoscaler grew and shrank it.",
			func() (*plot.Plot, error) { return poolNodesOverTime(r) }},
		{"autoscaling-cost", "Cumulative cost over time",
			"What the pools' nodes had cost so far, per pool and in total (the report's costOverTime: each node billed at its " +
				"shape's price from its launch to its deletion), so each line ends at the pool's cost.",
			func() (*plot.Plot, error) { return costOverTime(r) }},
	}
}

// poolSteps is a pool's node count as a step function over [0, end]: the count before its
// first change is 0 (NodesOverTime lists the count after every change, a node present at t=0
// included as a change at 0), and the last count holds to the end.
func poolSteps(pool analysis.PoolReport, end float64) plotter.XYs {
	var pts plotter.XYs
	if len(pool.NodesOverTime) == 0 || pool.NodesOverTime[0][0] > 0 {
		pts = append(pts, plotter.XY{X: 0, Y: 0})
	}
	for _, c := range pool.NodesOverTime {
		if n := len(pts); n > 0 && pts[n-1].X == c[0] {
			pts[n-1].Y = c[1] // several changes at one instant: the last count holds
			continue
		}
		pts = append(pts, plotter.XY{X: c[0], Y: c[1]})
	}
	if last := pts[len(pts)-1]; end > last.X {
		pts = append(pts, plotter.XY{X: end, Y: last.Y})
	}
	return pts
}

// autoscalingSpan is the time the autoscaling axes cover: the run, or the last change if one
// lies beyond it.
func autoscalingSpan(r *analysis.Report) float64 {
	end := span(r)
	for _, p := range r.Autoscaling.Pools {
		if n := len(p.NodesOverTime); n > 0 {
			end = math.Max(end, p.NodesOverTime[n-1][0])
		}
	}
	return end
}

// inUnit scales the x values of seconds to unit u.
func inUnit(pts plotter.XYs, u timeUnit) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, pt := range pts {
		out[i] = plotter.XY{X: pt.X / u.Seconds, Y: pt.Y}
	}
	return out
}

// autoscalingPlot is an autoscaling figure's frame: its title naming the autoscaler, and a
// time axis over the run in a round unit, from 0; it returns the run's end in seconds and
// that unit.
func autoscalingPlot(r *analysis.Report, title, yLabel string) (*plot.Plot, float64, timeUnit) {
	p := newPlot(title+" ("+r.Autoscaling.Autoscaler+")", "", yLabel)
	end := autoscalingSpan(r)
	u := unitFor(end)
	p.X.Label.Text = "virtual time (" + u.Name + ")"
	p.X.Min, p.X.Max = 0, math.Max(end/u.Seconds, 1)
	p.Y.Min = 0
	return p, end, u
}

// poolNodesOverTime draws each pool's node count, a step line per pool.
func poolNodesOverTime(r *analysis.Report) (*plot.Plot, error) {
	p, end, u := autoscalingPlot(r, "Pool nodes over time", "nodes")
	p.Y.Max = 1
	p.Y.Tick.Marker = integerTicks{}
	if len(r.Autoscaling.Pools) == 0 {
		p.Title.Text = noData(p.Title.Text)
		return p, nil
	}
	for i, pool := range r.Autoscaling.Pools {
		pts := poolSteps(pool, end)
		for _, pt := range pts {
			p.Y.Max = math.Max(p.Y.Max, pt.Y)
		}
		if err := addSeries(p, pool.Name, inUnit(pts, u), i); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// poolCost is a pool's cost so far as a curve: the report's CostOverTime points, linear in
// between.
func poolCost(pool analysis.PoolReport) plotter.XYs {
	out := make(plotter.XYs, 0, len(pool.CostOverTime))
	for _, pt := range pool.CostOverTime {
		out = append(out, plotter.XY{X: pt[0], Y: pt[1]})
	}
	return out
}

// costOverTime draws the cumulative cost of each pool and, with more than one pool, of all.
// Lines join the points (cost grows linearly between changes), unlike the step lines of
// counts.
func costOverTime(r *analysis.Report) (*plot.Plot, error) {
	p, _, u := autoscalingPlot(r, "Cumulative cost over time", "cost")
	p.Y.Max = 0.01
	pools := r.Autoscaling.Pools
	if len(pools) == 0 {
		p.Title.Text = noData(p.Title.Text)
		return p, nil
	}
	var curves []plotter.XYs
	for _, pool := range pools {
		curves = append(curves, poolCost(pool))
	}
	if len(pools) > 1 {
		curves = append(curves, sumCurves(curves))
	}
	for i, c := range curves {
		name := "total"
		if i < len(pools) {
			name = pools[i].Name
		}
		for _, pt := range c {
			p.Y.Max = math.Max(p.Y.Max, pt.Y)
		}
		if err := addLine(p, name, inUnit(c, u), i); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// sumCurves adds piecewise-linear curves over the union of their x values.
func sumCurves(curves []plotter.XYs) plotter.XYs {
	var xs []float64
	for _, c := range curves {
		for _, pt := range c {
			xs = append(xs, pt.X)
		}
	}
	sortUnique(&xs)
	out := make(plotter.XYs, len(xs))
	for i, x := range xs {
		sum := 0.0
		for _, c := range curves {
			sum += interpolate(c, x)
		}
		out[i] = plotter.XY{X: x, Y: sum}
	}
	return out
}

// interpolate is the curve's value at x, linear between points and flat past the ends.
func interpolate(c plotter.XYs, x float64) float64 {
	if len(c) == 0 {
		return 0
	}
	if x <= c[0].X {
		return c[0].Y
	}
	for i := 1; i < len(c); i++ {
		if x <= c[i].X {
			a, b := c[i-1], c[i]
			if b.X == a.X {
				return b.Y
			}
			return a.Y + (b.Y-a.Y)*(x-a.X)/(b.X-a.X)
		}
	}
	return c[len(c)-1].Y
}

// addLine draws one named series as a straight line through its points in the i-th colour.
func addLine(p *plot.Plot, name string, pts plotter.XYs, i int) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// sortUnique sorts xs and drops repeats.
func sortUnique(xs *[]float64) {
	sort.Float64s(*xs)
	*xs = slices.Compact(*xs)
}
