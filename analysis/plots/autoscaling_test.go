package plots

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
)

// autoscalingReport is docs/autoscaling.md's test timelines 1 and 2 by hand: one pool of c8
// ($0.40/h), one node from t=0, 8 more launched at 1h+10s and removed at 9h10m20s, a 24h run:
// 89.3556 node-hours, $35.74; and a second, one-node pool of two shapes, for the total.
func autoscalingReport() *analysis.Report {
	r := sampleReport()
	r.SimulatedSeconds = 86400
	nodeHours := (3610*1 + 29410*9 + (86400-33020)*1) / 3600.0
	c1 := 3610 / 3600.0 * 0.40
	c2 := c1 + 29410/3600.0*9*0.40
	// spare: a small node (0.20/h) until 12h, then a large one (0.30/h): 2.40 + 3.60.
	r.Autoscaling = &analysis.AutoscalingReport{Autoscaler: "cluster-autoscaler", NodeHours: nodeHours + 24, Cost: nodeHours*0.40 + 6,
		Pools: []analysis.PoolReport{
			{Name: "general", Min: 1, Max: 20, NodeHours: nodeHours, Cost: nodeHours * 0.40, PeakNodes: 9, Nodes: 1,
				Shapes:        []analysis.ShapeReport{{Name: "c8", PricePerHour: 0.40}},
				NodesOverTime: [][2]float64{{0, 1}, {3610, 9}, {33020, 1}},
				CostOverTime:  [][2]float64{{0, 0}, {3610, c1}, {33020, c2}, {86400, c2 + (86400-33020)/3600.0*0.40}}},
			{Name: "spare", Min: 1, Max: 2, NodeHours: 24, Cost: 6, PeakNodes: 1, Nodes: 1,
				Shapes:        []analysis.ShapeReport{{Name: "small", PricePerHour: 0.2}, {Name: "large", PricePerHour: 0.3}},
				NodesOverTime: [][2]float64{{0, 1}},
				CostOverTime:  [][2]float64{{0, 0}, {43200, 2.4}, {86400, 6}}},
		}}
	return r
}

// The autoscaling figures come after the others, only with the section.
func TestAutoscalingFigures(t *testing.T) {
	var names []string
	for _, f := range Figures(autoscalingReport()) {
		names = append(names, f.Name)
	}
	if want := []string{"utilization", "pods", "startup-latency", "node-utilization", "autoscaling-nodes", "autoscaling-cost"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}
	if n := len(Figures(sampleReport())); n != 4 {
		t.Errorf("%d figures without an autoscaler, want 4", n)
	}
	figs := Figures(autoscalingReport())
	for _, tc := range []struct {
		fig   Figure
		texts []string
	}{
		{figs[4], []string{"Pool nodes over time (cluster-autoscaler)", "general", "spare", "nodes", "virtual time (h)"}},
		{figs[5], []string{"Cumulative cost over time (cluster-autoscaler)", "general", "spare", "total", "cost"}},
	} {
		doc := parseSVG(t, renderSVG(t, tc.fig))
		for _, s := range tc.texts {
			if !slices.Contains(doc.texts, s) {
				t.Errorf("%s: no text %q in %q", tc.fig.Name, s, doc.texts)
			}
		}
	}
	// A section without pools says it has no data.
	r := sampleReport()
	r.Autoscaling = &analysis.AutoscalingReport{Autoscaler: "karpenter"}
	for _, f := range Figures(r)[4:] {
		doc := parseSVG(t, renderSVG(t, f))
		if !slices.ContainsFunc(doc.texts, func(s string) bool { return len(s) > 10 && s[len(s)-9:] == "(no data)" }) {
			t.Errorf("%s without pools: %q", f.Name, doc.texts)
		}
	}
}

// The node count is a step function from 0 to the end of the run, and the cumulative cost is
// the report's costOverTime, ending at the pool's cost: $35.74 for timeline 1–2, by hand.
func TestPoolStepsAndCost(t *testing.T) {
	r := autoscalingReport()
	general := r.Autoscaling.Pools[0]
	steps := poolSteps(general, 86400)
	want := []struct{ x, y float64 }{{0, 1}, {3610, 9}, {33020, 1}, {86400, 1}}
	if len(steps) != len(want) {
		t.Fatalf("steps %v", steps)
	}
	for i, w := range want {
		if steps[i].X != w.x || steps[i].Y != w.y {
			t.Errorf("step %d = %v, want %v", i, steps[i], w)
		}
	}
	cost := poolCost(general)
	// 8 × 8h10m10s + 24h = 89.3556 node-hours, × $0.40.
	if got, want := cost[len(cost)-1].Y, (8*(8*3600+10*60+10)+24*3600)/3600.0*0.40; math.Abs(got-want) > 1e-9 || math.Abs(got-35.74) > 0.005 {
		t.Errorf("cost at the end %v, want %v ($35.74)", got, want)
	}
	if got := cost[1].Y; math.Abs(got-3610/3600.0*0.40) > 1e-12 {
		t.Errorf("cost at 1h+10s %v", got)
	}
	// A pool's first change after 0 starts from no node; changes at one instant keep the last.
	late := poolSteps(analysis.PoolReport{NodesOverTime: [][2]float64{{60, 2}, {60, 3}, {120, 0}}}, 100)
	if len(late) != 3 || late[0].Y != 0 || late[1].X != 60 || late[1].Y != 3 || late[2].X != 120 {
		t.Errorf("steps %v", late)
	}
	// The total adds the pools at every change of either.
	total := sumCurves([]plotter.XYs{cost, poolCost(r.Autoscaling.Pools[1])})
	if got := total[len(total)-1].Y; math.Abs(got-r.Autoscaling.Cost) > 1e-9 {
		t.Errorf("total %v, want the section's cost %v", got, r.Autoscaling.Cost)
	}
	// At 12h the spare pool had cost 2.40 (its small node), not half its day's 6.00: a pool
	// of two shapes is not drawn at its mean price.
	if got := interpolate(total, 43200) - interpolate(cost, 43200); math.Abs(got-2.4) > 1e-9 {
		t.Errorf("spare's cost at 12h %v, want 2.40", got)
	}
}

// A sweep whose runs have the autoscaling section adds its cost and capacity-wait bars.
func TestSweepAutoscalingFigures(t *testing.T) {
	res := sweep.NewResult([]sweep.Combination{{Index: 0, Label: "autoscaler=cluster-autoscaler"}, {Index: 1, Label: "autoscaler=karpenter"}})
	for i, cost := range []float64{3.20, 3.00} {
		r := sampleReport()
		r.Autoscaling = &analysis.AutoscalingReport{Autoscaler: "x", Cost: cost, CapacityWait: analysis.Distribution{P50: 80, P99: 100}}
		res.SetReport(i, r)
	}
	var names []string
	for _, f := range SweepFigures(res) {
		names = append(names, f.Name)
	}
	if !slices.Equal(names[len(names)-2:], []string{"sweep-autoscaling-cost", "sweep-capacity-wait"}) {
		t.Errorf("figures %v", names)
	}
	doc := parseSVG(t, renderSVG(t, SweepFigures(res)[len(names)-1]))
	for _, w := range []string{"Capacity wait by combination", "p50", "p99"} {
		if !slices.Contains(doc.texts, w) {
			t.Errorf("no text %q in %q", w, doc.texts)
		}
	}
}
