package plots

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
)

// gpuReport is sampleReport (samples at 0, 1 min, 30 min and 90 min) with a gpu section and
// its series by hand, in binary fractions so that the percentages are exact.
func gpuReport() *analysis.Report {
	r := sampleReport()
	r.GPU = &analysis.GPUReport{Model: "dra", Nodes: 1, Cards: 2, CapacityMilli: 2000, AllocatedMilli: 1000}
	r.Timeseries.GPU = &analysis.GPUSeries{
		Allocation: []float64{0, 0.25, 0.625, 0.5},
		Stranded:   []float64{0, 0.125, 0.375, 0.5},
	}
	return r
}

// The gpu figure comes after the four others, only with the gpu section and its samples, and
// draws the series as percentages over the run's minutes.
func TestGPUFigure(t *testing.T) {
	var names []string
	for _, f := range Figures(gpuReport()) {
		names = append(names, f.Name)
	}
	if want := []string{"utilization", "pods", "startup-latency", "node-utilization", "gpu"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}
	// Before the optional figures of sections the HTML page shows after its GPU section.
	r := autoscalingReport()
	r.GPU, r.Timeseries.GPU = gpuReport().GPU, &analysis.GPUSeries{Allocation: []float64{0, 0, 0, 0}, Stranded: []float64{0, 0, 0, 0}}
	if got := Figures(r); len(got) != 7 || got[4].Name != "gpu" || got[5].Name != "autoscaling-nodes" {
		t.Errorf("with an autoscaler: %d figures, the fifth %q", len(got), got[min(4, len(got)-1)].Name)
	}

	for name, r := range map[string]*analysis.Report{
		"no gpu section":           sampleReport(),
		"a section without series": func() *analysis.Report { r := gpuReport(); r.Timeseries.GPU = nil; return r }(),
		"a section without samples": func() *analysis.Report {
			r := gpuReport()
			r.Timeseries.GPU = &analysis.GPUSeries{}
			return r
		}(),
		"a series without the section": func() *analysis.Report { r := gpuReport(); r.GPU = nil; return r }(),
	} {
		if slices.ContainsFunc(Figures(r), func(f Figure) bool { return f.Name == "gpu" }) {
			t.Errorf("%s: a gpu figure", name)
		}
	}

	// The lines are the series' values in percent at the sample times in minutes (the run is
	// 90 minutes), the last held to the end.
	allocated, stranded := gpuLines(gpuReport(), 5400, unitFor(5400))
	if want := (plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 25}, {X: 30, Y: 62.5}, {X: 90, Y: 50}}); !slices.Equal(allocated, want) {
		t.Errorf("allocated %v, want %v", allocated, want)
	}
	if want := (plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 12.5}, {X: 30, Y: 37.5}, {X: 90, Y: 50}}); !slices.Equal(stranded, want) {
		t.Errorf("stranded %v, want %v", stranded, want)
	}
	// A run that went on past its last sample holds the last value to its end.
	r = gpuReport()
	r.SimulatedSeconds = 7200
	allocated, _ = gpuLines(r, span(r), unitFor(span(r)))
	if want := (plotter.XYs{{X: 0, Y: 0}, {X: 60.0 / 3600, Y: 25}, {X: 0.5, Y: 62.5}, {X: 1.5, Y: 50}, {X: 2, Y: 50}}); !slices.Equal(allocated, want) {
		t.Errorf("allocated over 2h %v, want %v", allocated, want)
	}

	fig := Figures(gpuReport())[4]
	svg := renderSVG(t, fig)
	doc := parseSVG(t, svg)
	for _, s := range []string{"GPU allocated and stranded over time", "allocated", "stranded",
		"of GPU-milli capacity (%)", "virtual time (min)", "100"} {
		if !slices.Contains(doc.texts, s) {
			t.Errorf("no text %q in %q", s, doc.texts)
		}
	}
	if slices.ContainsFunc(doc.texts, func(s string) bool { return strings.HasSuffix(s, "(no data)") }) {
		t.Errorf("a gpu figure with samples titled as having no data: %q", doc.texts)
	}
	// Each series strokes its line and its legend sample, in a colour of its own.
	colours := 0
	for c, n := range doc.strokes {
		if c != "#000000" && !strings.HasPrefix(c, "#E1E1E1") && n >= 2 {
			colours++
		}
	}
	if colours != 2 {
		t.Errorf("strokes %v: want two coloured series (allocated, stranded)", doc.strokes)
	}
	// The same report gives the same bytes, SVG and PNG.
	if !bytes.Equal(svg, renderSVG(t, Figures(gpuReport())[4])) {
		t.Error("two SVG renderings of the same report differ")
	}
	var png, again bytes.Buffer
	if err := fig.WritePNG(&png); err != nil || png.Len() == 0 {
		t.Fatalf("as PNG: %v", err)
	}
	if err := fig.WritePNG(&again); err != nil || !bytes.Equal(png.Bytes(), again.Bytes()) {
		t.Errorf("two PNG renderings of the same report differ (%v)", err)
	}
}
