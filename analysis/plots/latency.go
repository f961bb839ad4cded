package plots

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
)

// startupLatencies returns, sorted, how long each pod that reached Running waited after it was
// created, in virtual seconds.
func startupLatencies(r *analysis.Report) []float64 {
	var xs []float64
	for _, p := range r.Pods {
		if p.CreatedAt != nil && p.RunningAt != nil {
			xs = append(xs, *p.RunningAt-*p.CreatedAt)
		}
	}
	sort.Float64s(xs)
	return xs
}

// startupLatencyCDF draws the empirical CDF of startup latency: the share of pods that were
// Running within x of being created. It is a step function that rises by 1/n at each
// observation, starting from 0 at the smallest.
func startupLatencyCDF(r *analysis.Report) (*plot.Plot, error) {
	xs := startupLatencies(r)
	p := newPlot("Startup latency CDF", "", "pods Running within the latency (%)")
	p.Y.Min, p.Y.Max = 0, 100
	var maxX float64
	if len(xs) > 0 {
		maxX = xs[len(xs)-1]
	}
	u := unitFor(maxX)
	p.X.Label.Text = "startup latency, created → Running (" + u.Name + ")"
	p.X.Min, p.X.Max = 0, math.Max(maxX/u.Seconds, 1)
	if len(xs) == 0 {
		p.Title.Text = noData(p.Title.Text)
		return p, nil
	}
	p.Title.Text = fmt.Sprintf("Startup latency CDF (%d pods)", len(xs))
	pts := make(plotter.XYs, 0, len(xs)+1)
	pts = append(pts, plotter.XY{X: xs[0] / u.Seconds, Y: 0})
	for i, x := range xs {
		pts = append(pts, plotter.XY{X: x / u.Seconds, Y: 100 * float64(i+1) / float64(len(xs))})
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	l.Width = 2
	p.Add(l)
	return p, nil
}
