package plots

import (
	"gonum.org/v1/plot"

	"github.com/kwoksim/kwoksim/analysis/sweep"
)

// The figures of a sweep of GPU packing policies (testdata/sweep/openb-gpu.yaml): how many
// arriving pods each policy placed, and how much GPU it left allocated and stranded. Each
// figure is drawn only when some combination has its section, as the table adds the columns
// only then, so the plots of a sweep without GPUs or arrivals are unchanged.

// sweepArrivalsFigures compare the arriving pods accepted (the table's ACCEPTED), when some
// combination's report has an arrivals section.
func sweepArrivalsFigures(res *sweep.Result) []Figure {
	if !res.HasArrivals() {
		return nil
	}
	return []Figure{{"sweep-arrivals", "Accepted arrivals by combination",
		"The arriving pods each combination's scheduler placed before the run ended (the report's arrivals.accepted).",
		func() (*plot.Plot, error) {
			return sweepBars(res, "Accepted arrivals by combination", "pods", true, sweepArrivalsSeries)
		}}}
}

// sweepArrivalsSeries is the one bar of sweep-arrivals. A combination without the section
// (or without a report) has no bar, as in the other sweep figures; the table shows it as "-".
var sweepArrivalsSeries = []sweepSeries{
	{"accepted", func(f *sweep.Figures) float64 {
		if f.Arrivals == nil {
			return 0
		}
		return float64(f.Arrivals.Accepted)
	}},
}

// sweepGPUFigures compare the GPU allocated and stranded at the end of each run, when some
// combination's report has a gpu section.
func sweepGPUFigures(res *sweep.Result) []Figure {
	if !res.HasGPU() {
		return nil
	}
	return []Figure{{"sweep-gpu", "GPU allocated and stranded by combination",
		"The GPU-milli allocated, and the GPU-milli stranded (unallocated, but of no use to the run's GPU pods), at the " +
			"end of each combination's run, over the GPU capacity (the table's GPU ALLOCATED and GPU STRANDED).",
		func() (*plot.Plot, error) {
			return sweepBars(res, "GPU allocated and stranded by combination", "of GPU-milli capacity (%)", false, sweepGPUSeries)
		}}}
}

// sweepGPUSeries are the bars of sweep-gpu, side by side so that a policy's stranded share
// reads next to what it allocated, in the colours of the run's gpu figure. They are the final
// values, as the table's columns are, not the means over the run: a sweep of arrivals-only
// runs compares the clusters where each policy stopped. The y axis is scaled to the tallest
// bar, not held at 100%, so that small stranded shares stay apart. A combination without the
// section (or without a report) has no bar, as in the other sweep figures.
var sweepGPUSeries = []sweepSeries{
	{"allocated", func(f *sweep.Figures) float64 {
		if f.GPU == nil {
			return 0
		}
		return 100 * f.GPU.Allocation
	}},
	{"stranded", func(f *sweep.Figures) float64 {
		if f.GPU == nil {
			return 0
		}
		return 100 * f.GPU.Stranded
	}},
}
