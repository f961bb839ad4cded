package plots

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/kwoksim/kwoksim/analysis"
)

// hpaFigures are the figures of a report's horizontalPodAutoscalers and usage sections; none
// without them, so the plots of a run without HPAs or usage data are unchanged.
func hpaFigures(r *analysis.Report) []Figure {
	var out []Figure
	if r.HorizontalPodAutoscalers != nil {
		out = append(out, Figure{"hpa-replicas", "HPA replicas over time",
			"Each HPA's target replicas as its reconciles read them (current) and status.desiredReplicas after them " +
				"(desired), with its maxReplicas dashed.",
			func() (*plot.Plot, error) { return hpaReplicas(r) }})
	}
	if r.Usage != nil {
		out = append(out, Figure{"usage", "Cluster CPU utilization by usage and by requests",
			"What the pods with usage data used and what they requested, over the allocatable CPU of the existing nodes.",
			func() (*plot.Plot, error) { return usageOverTime(r) }})
	}
	return out
}

// timePlot is a figure over the run: a time axis from 0 to the run's end in a round unit. It
// returns the end in seconds and the unit.
func timePlot(r *analysis.Report, title, yLabel string) (*plot.Plot, float64, timeUnit) {
	p := newPlot(title, "", yLabel)
	end := span(r)
	u := unitFor(end)
	p.X.Label.Text = "virtual time (" + u.Name + ")"
	p.X.Min, p.X.Max = 0, math.Max(end/u.Seconds, 1)
	p.Y.Min = 0
	return p, end, u
}

// holdTo extends a step series to end: its last value holds until then.
func holdTo(pts plotter.XYs, end float64) plotter.XYs {
	if n := len(pts); n > 0 && end > pts[n-1].X {
		pts = append(pts, plotter.XY{X: end, Y: pts[n-1].Y})
	}
	return pts
}

// hpaReplicas draws, per HPA, its current and desired replicas as step lines and its max as a
// dashed line, in the HPA's colour.
func hpaReplicas(r *analysis.Report) (*plot.Plot, error) {
	p, end, u := timePlot(r, "HPA replicas over time", "replicas")
	p.Y.Max = 1
	p.Y.Tick.Marker = integerTicks{}
	hpas := r.HorizontalPodAutoscalers.HPAs
	if len(hpas) == 0 {
		p.Title.Text = noData(p.Title.Text)
		return p, nil
	}
	for i, it := range hpas {
		name := it.Name
		if it.Namespace != "" {
			name = it.Namespace + "/" + name
		}
		until := end
		if it.DeletedAt != nil {
			until = math.Min(until, *it.DeletedAt)
		}
		var current, desired plotter.XYs
		for _, pt := range it.ReplicasOverTime {
			current = append(current, plotter.XY{X: pt.At, Y: float64(pt.Current)})
			desired = append(desired, plotter.XY{X: pt.At, Y: float64(pt.Desired)})
			p.Y.Max = math.Max(p.Y.Max, math.Max(float64(pt.Current), float64(pt.Desired)))
		}
		p.Y.Max = math.Max(p.Y.Max, float64(it.MaxReplicas)+1)
		if len(current) > 0 {
			if err := addSeries(p, name+" current", inUnit(holdTo(current, until), u), i); err != nil {
				return nil, err
			}
			if err := addStep(p, name+" desired", inUnit(holdTo(desired, until), u), i, plotutil.Dashes(2)); err != nil {
				return nil, err
			}
		}
		from := it.CreatedAt
		maxLine := plotter.XYs{{X: from / u.Seconds, Y: float64(it.MaxReplicas)}, {X: math.Max(until, from) / u.Seconds, Y: float64(it.MaxReplicas)}}
		l, err := plotter.NewLine(maxLine)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(l)
		p.Legend.Add(name+" max", l)
	}
	return p, nil
}

// addStep draws a step line like addSeries, with the given dashes.
func addStep(p *plot.Plot, name string, pts plotter.XYs, i int, dashes []vg.Length) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.StepStyle = plotter.PostStep
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// usageOverTime draws the cluster's CPU utilization by usage and by requests as step lines.
func usageOverTime(r *analysis.Report) (*plot.Plot, error) {
	p, end, u := timePlot(r, "Cluster CPU utilization by usage and by requests", "of allocatable CPU (%)")
	p.Y.Max = 100
	pts := r.Usage.OverTime
	if len(pts) == 0 {
		p.Title.Text = noData(p.Title.Text)
		return p, nil
	}
	byUsage, byRequests := make(plotter.XYs, len(pts)), make(plotter.XYs, len(pts))
	for i, pt := range pts {
		byUsage[i] = plotter.XY{X: pt.At, Y: percentOf(pt.CPU, pt.AllocatableCPU)}
		byRequests[i] = plotter.XY{X: pt.At, Y: percentOf(pt.RequestedCPU, pt.AllocatableCPU)}
		p.Y.Max = math.Max(p.Y.Max, math.Max(byUsage[i].Y, byRequests[i].Y))
	}
	if err := addSeries(p, "by usage", inUnit(holdTo(byUsage, end), u), 0); err != nil {
		return nil, err
	}
	return p, addSeries(p, "by requests", inUnit(holdTo(byRequests, end), u), 1)
}

// percentOf is 100·x/of, 0 when of is not above 0 (no node offers the resource).
func percentOf(x, of float64) float64 {
	if of <= 0 {
		return 0
	}
	return 100 * x / of
}
