package plots

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
)

// gpuFigures is the figure of a report's gpu section; none without the section or without
// samples of its series, so the plots of a run without GPUs are unchanged. The report samples
// the series whenever it has the section, so, unlike the HPA figures, there is no empty section
// to draw as "(no data)".
func gpuFigures(r *analysis.Report) []Figure {
	if r.GPU == nil {
		return nil
	}
	if allocated, stranded := gpuLines(r, 0, unitFor(0)); len(allocated) == 0 && len(stranded) == 0 {
		return nil
	}
	return []Figure{{"gpu", "GPU allocated and stranded over time",
		"The GPU-milli allocated, and the GPU-milli stranded (unallocated, but of no use to the run's GPU pods), each over " +
			"the GPU capacity of the nodes at the time (the report's timeseries.gpu).",
		func() (*plot.Plot, error) { return gpuOverTime(r) }}}
}

// gpuLines are the lines the gpu figure draws, in unit u and held to end: timeseries.gpu as
// percentages, the GPU-milli allocated and stranded, each over the GPU-milli capacity of the GPU
// nodes existing at the sample (GPUReport's Allocation and Stranded). A series with fewer
// values than sample times is cut to its values.
func gpuLines(r *analysis.Report, end float64, u timeUnit) (allocated, stranded plotter.XYs) {
	ts := r.Timeseries
	if ts.GPU == nil {
		return nil, nil
	}
	percents := func(v []float64) plotter.XYs {
		var pts plotter.XYs
		for i := range min(len(ts.T), len(v)) {
			pts = append(pts, plotter.XY{X: ts.T[i], Y: 100 * v[i]})
		}
		return inUnit(holdTo(pts, end), u)
	}
	return percents(ts.GPU.Allocation), percents(ts.GPU.Stranded)
}

// gpuOverTime draws the GPU allocated and stranded as step lines over the run.
func gpuOverTime(r *analysis.Report) (*plot.Plot, error) {
	p, end, u := timePlot(r, "GPU allocated and stranded over time", "of GPU-milli capacity (%)")
	p.Y.Max = 100
	allocated, stranded := gpuLines(r, end, u)
	for i, s := range []struct {
		name string
		pts  plotter.XYs
	}{{"allocated", allocated}, {"stranded", stranded}} {
		if len(s.pts) == 0 {
			continue
		}
		for _, pt := range s.pts {
			p.Y.Max = math.Max(p.Y.Max, pt.Y)
		}
		if err := addSeries(p, s.name, s.pts, i); err != nil {
			return nil, err
		}
	}
	return p, nil
}
