package plots

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kwoksim/kwoksim/analysis/sweep"
)

// SweepFigures returns the figures of a sweep: one group of bars per combination, by index
// (the table names each). A combination without a report has no bar. The figures of the
// optional sections (autoscaling, arrivals, GPU) follow, each only when some combination has
// its figures, in the order of the table's columns.
func SweepFigures(res *sweep.Result) []Figure {
	return append([]Figure{
		{"sweep-nodes", "Nodes by combination",
			"The nodes of each combination at the end, and how many of them hold a running pod.",
			func() (*plot.Plot, error) {
				return sweepBars(res, "Nodes by combination", "nodes", true, []sweepSeries{
					{"total", func(f *sweep.Figures) float64 { return float64(f.Summary.Nodes.Total) }},
					{"used", func(f *sweep.Figures) float64 { return float64(f.Summary.Nodes.Used) }},
				})
			}},
		{"sweep-pods", "Pods by combination",
			"The pods each combination scheduled, and those left unschedulable.",
			func() (*plot.Plot, error) {
				return sweepBars(res, "Pods by combination", "pods", true, []sweepSeries{
					{"scheduled", func(f *sweep.Figures) float64 { return float64(f.Summary.Pods.Scheduled) }},
					{"unschedulable", func(f *sweep.Figures) float64 { return float64(f.Summary.Pods.Unschedulable) }},
				})
			}},
		{"sweep-latency", "p99 latency by combination",
			"The 99th percentile of scheduling and startup latency of each combination, in virtual seconds.",
			func() (*plot.Plot, error) {
				return sweepBars(res, "p99 latency by combination", "seconds", false, []sweepSeries{
					{"scheduling", func(f *sweep.Figures) float64 { return f.Latency.Scheduling.P99 }},
					{"startup", func(f *sweep.Figures) float64 { return f.Latency.Startup.P99 }},
				})
			}},
		{"sweep-utilization", "Mean utilization by combination",
			"The mean across nodes of requested / allocatable at the end, per resource.",
			func() (*plot.Plot, error) {
				var series []sweepSeries
				for _, r := range res.Resources() {
					series = append(series, sweepSeries{r, func(f *sweep.Figures) float64 { return 100 * f.Utilization[r].Mean }})
				}
				return sweepBars(res, "Mean utilization by combination", "requested / allocatable (%)", false, series)
			}},
	}, slices.Concat(sweepAutoscalingFigures(res), sweepArrivalsFigures(res), sweepGPUFigures(res))...)
}

// sweepAutoscalingFigures compare the autoscaling figures, when any combination has them: a
// combination without an autoscaler has no pool nodes, so its bars are at 0.
func sweepAutoscalingFigures(res *sweep.Result) []Figure {
	if !res.HasAutoscaling() {
		return nil
	}
	autoscaling := func(get func(*sweep.AutoscalingFigures) float64) func(*sweep.Figures) float64 {
		return func(f *sweep.Figures) float64 {
			if f.Autoscaling == nil {
				return 0
			}
			return get(f.Autoscaling)
		}
	}
	return []Figure{
		{"sweep-autoscaling-cost", "Pool cost by combination",
			"What each combination's NodePools cost over its run, every node billed from its launch to its deletion or the end.",
			func() (*plot.Plot, error) {
				return sweepBars(res, "Pool cost by combination", "cost", false, []sweepSeries{
					{"cost", autoscaling(func(a *sweep.AutoscalingFigures) float64 { return a.Cost })},
				})
			}},
		{"sweep-capacity-wait", "Capacity wait by combination",
			"The 50th and 99th percentiles of how long pods found unschedulable waited for capacity (created → bound), in virtual seconds.",
			func() (*plot.Plot, error) {
				return sweepBars(res, "Capacity wait by combination", "seconds", false, []sweepSeries{
					{"p50", autoscaling(func(a *sweep.AutoscalingFigures) float64 { return a.CapacityWait.P50 })},
					{"p99", autoscaling(func(a *sweep.AutoscalingFigures) float64 { return a.CapacityWait.P99 })},
				})
			}},
	}
}

// sweepSeries is one bar of each combination's group.
type sweepSeries struct {
	name  string
	value func(*sweep.Figures) float64
}

func sweepBars(res *sweep.Result, title, yLabel string, counts bool, series []sweepSeries) (*plot.Plot, error) {
	p := newPlot(title, "combination", yLabel)
	if counts {
		p.Y.Tick.Marker = integerTicks{}
	}
	p.Y.Min, p.Y.Max = 0, 1
	labels := make([]string, len(res.Combinations))
	for i, row := range res.Combinations {
		labels[i] = strconv.Itoa(row.Index)
	}
	p.NominalX(labels...)
	if len(series) == 0 || res.Count(sweep.StatusNotRun)+res.Count(sweep.StatusFailed) == len(res.Combinations) {
		p.Title.Text = noData(title)
		p.X.Min, p.X.Max = -0.5, float64(len(labels))-0.5
		return p, nil
	}
	// A group is narrower than the distance between combinations however many there are.
	group := math.Min(36, 640/float64(max(len(labels), 1)))
	width := vg.Points(group / float64(len(series)))
	for i, s := range series {
		b, err := plotter.NewBarChart(sweepValues(res, s), width)
		if err != nil {
			return nil, err
		}
		b.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * width
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(s.name, b)
	}
	return p, nil
}

// sweepValues are the heights of a series' bars, in combination order: 0, which draws no bar,
// for a combination without a report. Apart from sweepBars because a plot does not give its
// bars back: the tests check the values here.
func sweepValues(res *sweep.Result, s sweepSeries) plotter.Values {
	vals := make(plotter.Values, len(res.Combinations))
	for j, row := range res.Combinations {
		if row.Figures != nil {
			vals[j] = s.value(row.Figures)
		}
	}
	return vals
}

// WriteSweepDir writes every sweep figure as NAME.png and NAME.svg into dir, creating it, each
// file atomically. It returns the paths written, in order.
func WriteSweepDir(dir string, res *sweep.Result) ([]string, error) {
	return writeFigures(dir, SweepFigures(res))
}
