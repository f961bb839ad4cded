package plots

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
)

// hpaReport is docs/hpa.md's worked timeline by hand (2 → 4 → 8 → 16 → 20, then 4 at 44m45s)
// and an HPA that never had metrics, over an hour, with a usage series.
func hpaReport() *analysis.Report {
	r := sampleReport()
	r.SimulatedSeconds = 3600
	r.HorizontalPodAutoscalers = &analysis.HPAReport{HPAs: []analysis.HPAReportItem{
		{Namespace: "default", Name: "web", Target: "Deployment/web", MinReplicas: 2, MaxReplicas: 20,
			ReplicasOverTime: []analysis.HPAReplicasPoint{{At: 0, Current: 2, Desired: 4, Proposal: 4}, {At: 15, Current: 4, Desired: 4, Proposal: 4},
				{At: 600, Current: 4, Desired: 8, Proposal: 24}, {At: 615, Current: 8, Desired: 16, Proposal: 24},
				{At: 630, Current: 16, Desired: 20, Proposal: 24}, {At: 645, Current: 20, Desired: 20, Proposal: 24},
				{At: 2685, Current: 20, Desired: 4, Proposal: 4}, {At: 2700, Current: 4, Desired: 4, Proposal: 4}}},
		{Namespace: "default", Name: "api", Target: "Deployment/api", MinReplicas: 1, MaxReplicas: 10,
			ReplicasOverTime: []analysis.HPAReplicasPoint{{At: 0, Current: 3, Desired: 0, Proposal: -1}}},
	}}
	r.Usage = &analysis.UsageReport{OverTime: []analysis.UsagePoint{
		{At: 0, AllocatableCPU: 8},
		{At: 600, CPU: 2, RequestedCPU: 4, AllocatableCPU: 8},
		{At: 2400, CPU: 1, RequestedCPU: 2, AllocatableCPU: 8},
		{At: 3000, CPU: 1, RequestedCPU: 2, AllocatableCPU: 16},
	}}
	return r
}

// hpa-replicas and usage come last, only with their sections, and draw their series.
func TestHPAFigures(t *testing.T) {
	var names []string
	for _, f := range Figures(hpaReport()) {
		names = append(names, f.Name)
	}
	if want := []string{"utilization", "pods", "startup-latency", "node-utilization", "hpa-replicas", "usage"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}
	if n := len(Figures(sampleReport())); n != 4 {
		t.Errorf("%d figures without HPAs or usage, want 4", n)
	}
	figs := Figures(hpaReport())
	for _, tc := range []struct {
		fig   Figure
		texts []string
	}{
		{figs[4], []string{"HPA replicas over time", "default/web current", "default/web desired", "default/web max",
			"default/api current", "default/api max", "replicas", "virtual time (min)"}},
		{figs[5], []string{"Cluster CPU utilization by usage and by requests", "by usage", "by requests", "of allocatable CPU (%)"}},
	} {
		doc := parseSVG(t, renderSVG(t, tc.fig))
		for _, s := range tc.texts {
			if !slices.Contains(doc.texts, s) {
				t.Errorf("%s: no text %q in %q", tc.fig.Name, s, doc.texts)
			}
		}
		var png bytes.Buffer
		if err := tc.fig.WritePNG(&png); err != nil || png.Len() == 0 {
			t.Errorf("%s as PNG: %v", tc.fig.Name, err)
		}
	}
	// Sections without HPAs or points say they have no data.
	r := sampleReport()
	r.HorizontalPodAutoscalers = &analysis.HPAReport{}
	r.Usage = &analysis.UsageReport{}
	for _, f := range Figures(r)[4:] {
		doc := parseSVG(t, renderSVG(t, f))
		if !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.HasSuffix(s, "(no data)") }) {
			t.Errorf("%s without data: %q", f.Name, doc.texts)
		}
	}
}

// A step series holds its last value to the end; utilization is 0 without allocatable.
func TestHoldToAndPercentOf(t *testing.T) {
	got := holdTo(plotter.XYs{{X: 0, Y: 2}, {X: 600, Y: 4}}, 3600)
	if want := (plotter.XYs{{X: 0, Y: 2}, {X: 600, Y: 4}, {X: 3600, Y: 4}}); !slices.Equal(got, want) {
		t.Errorf("holdTo %v, want %v", got, want)
	}
	if got := holdTo(plotter.XYs{{X: 0, Y: 2}}, 0); len(got) != 1 {
		t.Errorf("holdTo to its own end: %v", got)
	}
	if percentOf(2, 8) != 25 || percentOf(1, 0) != 0 {
		t.Errorf("percentOf(2, 8) %v, percentOf(1, 0) %v", percentOf(2, 8), percentOf(1, 0))
	}
}
