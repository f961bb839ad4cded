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

// maxCDFSteps bounds the steps the CDF is drawn with: a figure is some 600 points wide, so more
// steps draw nothing more and only make the SVG larger.
const maxCDFSteps = 1000

// cdfPoints returns the empirical CDF of the sorted xs in unit u, in percent, as the corners of
// a step function: (x₀, 0), then for each distinct x the share of observations ≤ x. With more
// than maxCDFSteps distinct values it keeps evenly spaced ones, the last included, each still
// exact at its x.
func cdfPoints(xs []float64, u timeUnit) plotter.XYs {
	n := float64(len(xs))
	steps := make(plotter.XYs, 0, len(xs))
	for i, x := range xs {
		pt := plotter.XY{X: x / u.Seconds, Y: 100 * float64(i+1) / n}
		if k := len(steps); k > 0 && steps[k-1].X == pt.X {
			steps[k-1] = pt
			continue
		}
		steps = append(steps, pt)
	}
	if len(steps) > maxCDFSteps {
		kept := make(plotter.XYs, maxCDFSteps)
		for i := range kept {
			kept[i] = steps[i*(len(steps)-1)/(maxCDFSteps-1)]
		}
		steps = kept
	}
	return append(plotter.XYs{{X: xs[0] / u.Seconds, Y: 0}}, steps...)
}

// startupLatencyCDF draws the empirical CDF of startup latency: the share of pods that were
// Running within x of being created. It is a step function that rises by 1/n at each
// observation, starting from 0 at the smallest.
func startupLatencyCDF(r *analysis.Report) (*plot.Plot, error) {
	xs := startupLatencies(r)
	p := newPlot("Startup latency CDF", "", "pods Running by then (%)")
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
	l, err := plotter.NewLine(cdfPoints(xs, u))
	if err != nil {
		return nil, err
	}
	l.StepStyle = plotter.PostStep
	l.Width = 2
	p.Add(l)
	return p, nil
}
