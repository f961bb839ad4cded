package plots

import (
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
)

// span is the virtual time the time axes cover: the whole run, or the last sample if one lies
// beyond it.
func span(r *analysis.Report) float64 {
	s := r.SimulatedSeconds
	if n := len(r.Timeseries.T); n > 0 {
		s = math.Max(s, r.Timeseries.T[n-1])
	}
	return s
}

// timeAxis sets the x axis to [0, span] in the unit a person reads it in and returns the unit.
// A run of no virtual time still gets one unit of axis, rather than a range around zero.
func timeAxis(p *plot.Plot, r *analysis.Report) timeUnit {
	s := span(r)
	u := unitFor(s)
	p.X.Label.Text = "virtual time (" + u.Name + ")"
	p.X.Min, p.X.Max = 0, math.Max(s/u.Seconds, 1)
	return u
}

// series returns the samples of one int series as points in unit u.
func series(t []float64, v []int, u timeUnit) plotter.XYs {
	n := min(len(t), len(v))
	pts := make(plotter.XYs, n)
	for i := range n {
		pts[i] = plotter.XY{X: t[i] / u.Seconds, Y: float64(v[i])}
	}
	return pts
}

// utilizationOverTime draws cluster-wide requested/allocatable, one line per resource.
func utilizationOverTime(r *analysis.Report) (*plot.Plot, error) {
	ts := r.Timeseries
	p := newPlot("Cluster utilization over time", "", "requested / allocatable (%)")
	u := timeAxis(p, r)
	p.Y.Min, p.Y.Max = 0, 100
	resources := make([]string, 0, len(ts.Utilization))
	for res := range ts.Utilization {
		resources = append(resources, res)
	}
	sort.Strings(resources)
	drawn := 0
	for i, res := range resources {
		vals := ts.Utilization[res]
		n := min(len(ts.T), len(vals))
		if n == 0 {
			continue
		}
		pts := make(plotter.XYs, n)
		for j := range n {
			pts[j] = plotter.XY{X: ts.T[j] / u.Seconds, Y: 100 * vals[j]}
			p.Y.Max = math.Max(p.Y.Max, pts[j].Y)
		}
		if err := addSeries(p, res, pts, i); err != nil {
			return nil, err
		}
		drawn++
	}
	if drawn == 0 {
		p.Title.Text = noData(p.Title.Text)
	}
	return p, nil
}

// podsOverTime draws the number of pending and of running pods at each sample.
func podsOverTime(r *analysis.Report) (*plot.Plot, error) {
	ts := r.Timeseries
	p := newPlot("Pending and running pods over time", "", "pods")
	u := timeAxis(p, r)
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = integerTicks{}
	drawn := 0
	for i, s := range []struct {
		name string
		v    []int
	}{{"pending", ts.Pending}, {"running", ts.Running}} {
		pts := series(ts.T, s.v, u)
		if len(pts) == 0 {
			continue
		}
		for _, pt := range pts {
			p.Y.Max = math.Max(p.Y.Max, pt.Y)
		}
		if err := addSeries(p, s.name, pts, i); err != nil {
			return nil, err
		}
		drawn++
	}
	if drawn == 0 {
		p.Title.Text = noData(p.Title.Text)
	}
	return p, nil
}
