package plots

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kwoksim/kwoksim/analysis"
)

// utilizationBins is the number of equal utilization ranges of the histogram: 0–10%, …,
// 90–100%. Each range holds its lower bound; 100% (and anything above, which a pod bound past
// the scheduler can cause) falls in the last.
const utilizationBins = 10

// binOf returns the histogram bin of a utilization in 0..1.
func binOf(u float64) int {
	return max(0, min(utilizationBins-1, int(math.Floor(u*utilizationBins))))
}

// nodeUtilizationHistogram draws how many nodes sit in each utilization range, one bar per
// resource in each range.
func nodeUtilizationHistogram(r *analysis.Report) (*plot.Plot, error) {
	p := newPlot(fmt.Sprintf("Per-node utilization (%d nodes)", len(r.Nodes)), "requested / allocatable (%)", "nodes")
	p.X.Tick.Label.Font.Size = 11
	p.Y.Tick.Marker = integerTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	counts := map[string]plotter.Values{}
	for _, n := range r.Nodes {
		for res, u := range n.Utilization {
			if counts[res] == nil {
				counts[res] = make(plotter.Values, utilizationBins)
			}
			counts[res][binOf(u)]++
		}
	}
	resources := make([]string, 0, len(counts))
	for res := range counts {
		resources = append(resources, res)
	}
	sort.Strings(resources)

	labels := make([]string, utilizationBins)
	for i := range labels {
		labels[i] = fmt.Sprintf("%d–%d", 100*i/utilizationBins, 100*(i+1)/utilizationBins)
	}
	p.NominalX(labels...)
	if len(resources) == 0 {
		p.Title.Text = noData("Per-node utilization")
		p.X.Min, p.X.Max = -0.5, utilizationBins-0.5
		return p, nil
	}
	// Bars of one range sit side by side, centred on it; the group stays narrower than the
	// distance between ranges however many resources there are.
	width := vg.Points(math.Min(14, 48/float64(len(resources))))
	for i, res := range resources {
		b, err := plotter.NewBarChart(counts[res], width)
		if err != nil {
			return nil, err
		}
		b.Offset = vg.Length(float64(i)-float64(len(resources)-1)/2) * width
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(res, b)
	}
	return p, nil
}
