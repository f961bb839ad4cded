package plots

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
)

// gpuSweep is a sweep of GPU packing policies by hand: two combinations with the arrivals and
// gpu sections (shares in binary fractions, so that the percentages are exact), one done
// without them (a run without GPUs), one failed.
func gpuSweep() *sweep.Result {
	res := sweep.NewResult([]sweep.Combination{{Index: 0, Label: "schedulerConfig=least.yaml"},
		{Index: 1, Label: "schedulerConfig=most.yaml"}, {Index: 2, Label: "schedulerConfig=cpu-only.yaml"},
		{Index: 3, Label: "schedulerConfig=bad.yaml"}})
	for i, f := range []struct {
		accepted                int
		allocation, stranded    float64
		meanAlloc, meanStranded float64
	}{{1639, 0.1875, 0.03125, 0.25, 0.125}, {7532, 0.875, 0.0625, 0.5, 0.25}} {
		r := sampleReport()
		r.Arrivals = &analysis.ArrivalsReport{Mode: "arrivals-only", Accepted: f.accepted, Unschedulable: 1}
		// The means differ from the final values, so that a bar drawn from them shows.
		r.GPU = &analysis.GPUReport{Model: "dra", Cards: 8,
			Allocation: analysis.OverTimeFigure{Final: f.allocation, Mean: f.meanAlloc},
			Stranded:   analysis.OverTimeFigure{Final: f.stranded, Mean: f.meanStranded}, StrandedOfIdle: 0.5}
		res.SetReport(i, r)
	}
	res.SetReport(2, sampleReport())
	res.SetError(3, "bad config")
	return res
}

func sweepFigure(figs []Figure, name string) (Figure, bool) {
	i := slices.IndexFunc(figs, func(f Figure) bool { return f.Name == name })
	if i < 0 {
		return Figure{}, false
	}
	return figs[i], true
}

// With the arrivals and gpu sections, the sweep adds sweep-arrivals and sweep-gpu, last, in
// the order of the table's columns; their bars are the table's ACCEPTED, GPU ALLOCATED and GPU
// STRANDED (final shares, in percent), and a combination without the section, or without a
// report, has none.
func TestSweepGPUFigures(t *testing.T) {
	res := gpuSweep()
	figs := SweepFigures(res)
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	if want := []string{"sweep-nodes", "sweep-pods", "sweep-latency", "sweep-utilization", "sweep-arrivals", "sweep-gpu"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}

	for _, c := range []struct {
		name   string
		series []sweepSeries
		want   []plotter.Values
	}{
		{"sweep-gpu", sweepGPUSeries, []plotter.Values{{18.75, 87.5, 0, 0}, {3.125, 6.25, 0, 0}}},
		{"sweep-arrivals", sweepArrivalsSeries, []plotter.Values{{1639, 7532, 0, 0}}},
	} {
		if len(c.series) != len(c.want) {
			t.Fatalf("%s: %d series, want %d", c.name, len(c.series), len(c.want))
		}
		for i, s := range c.series {
			if got := sweepValues(res, s); !slices.Equal(got, c.want[i]) {
				t.Errorf("%s %s: bars %v, want %v", c.name, s.name, got, c.want[i])
			}
		}
	}

	for name, want := range map[string][]string{
		"sweep-gpu": {"GPU allocated and stranded by combination", "allocated", "stranded", "of GPU-milli capacity (%)",
			"combination", "0", "1", "2", "3"},
		"sweep-arrivals": {"Accepted arrivals by combination", "accepted", "pods", "combination", "0", "1", "2", "3"},
	} {
		f, ok := sweepFigure(figs, name)
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		svg := renderSVG(t, f)
		doc := parseSVG(t, svg)
		for _, w := range want {
			if !slices.Contains(doc.texts, w) {
				t.Errorf("%s: no text %q in %q", name, w, doc.texts)
			}
		}
		if slices.ContainsFunc(doc.texts, func(s string) bool { return strings.HasSuffix(s, "(no data)") }) {
			t.Errorf("%s titled as having no data: %q", name, doc.texts)
		}
		// The same result gives the same bytes, SVG and PNG.
		if !bytes.Equal(svg, renderSVG(t, f)) {
			t.Errorf("%s: two SVG renderings differ", name)
		}
		var png, again bytes.Buffer
		if err := f.WritePNG(&png); err != nil || png.Len() == 0 {
			t.Fatalf("%s as PNG: %v", name, err)
		}
		if err := f.WritePNG(&again); err != nil || !bytes.Equal(png.Bytes(), again.Bytes()) {
			t.Errorf("%s: two PNG renderings differ (%v)", name, err)
		}
	}

	dir := t.TempDir()
	paths, err := WriteSweepDir(dir, res)
	if err != nil || len(paths) != 12 || paths[10] != filepath.Join(dir, "sweep-gpu.png") {
		t.Errorf("WriteSweepDir: %v, %v", err, paths)
	}
}

// Without the sections there are no such figures, the failed combinations' included: a sweep
// without GPUs draws what it drew before.
func TestSweepGPUFiguresOnlyWithTheSections(t *testing.T) {
	res := gpuSweep()
	for i := range 2 {
		res.SetReport(i, sampleReport())
	}
	for _, f := range SweepFigures(res) {
		if f.Name == "sweep-gpu" || f.Name == "sweep-arrivals" {
			t.Errorf("a sweep without gpu or arrivals sections has %s", f.Name)
		}
	}
	// Arrivals without GPUs (a replay of a trace without GPU pods): the arrivals figure alone.
	r := sampleReport()
	r.Arrivals = &analysis.ArrivalsReport{Accepted: 3}
	res.SetReport(0, r)
	figs := SweepFigures(res)
	if _, ok := sweepFigure(figs, "sweep-gpu"); ok {
		t.Error("a sweep without a gpu section has sweep-gpu")
	}
	if _, ok := sweepFigure(figs, "sweep-arrivals"); !ok {
		t.Error("a sweep with an arrivals section has no sweep-arrivals")
	}
	// A sweep whose every combination failed has nothing to compare: no gpu figure.
	none := sweep.NewResult([]sweep.Combination{{Index: 0, Label: "a"}})
	none.SetError(0, "failed")
	if _, ok := sweepFigure(SweepFigures(none), "sweep-gpu"); ok {
		t.Error("a sweep without reports has sweep-gpu")
	}
}
