package plots

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/sweep"
)

func ptr(f float64) *float64 { return &f }

// sampleReport is a small run as the statistics fill it: 3 nodes, 4 pods, a time series of an
// hour and a half.
func sampleReport() *analysis.Report {
	return &analysis.Report{
		SimulatedSeconds: 5400,
		Pods: []analysis.PodReport{
			{Name: "a", CreatedAt: ptr(0), RunningAt: ptr(2)},
			{Name: "b", CreatedAt: ptr(0), RunningAt: ptr(4)},
			{Name: "c", CreatedAt: ptr(60), RunningAt: ptr(62)},
			{Name: "d", CreatedAt: ptr(60)}, // never Running: not in the CDF
		},
		Nodes: []analysis.NodeReport{
			{Name: "n1", Utilization: map[string]float64{"cpu": 0.05, "memory": 0.5}},
			{Name: "n2", Utilization: map[string]float64{"cpu": 0.55, "memory": 1}},
			{Name: "n3", Utilization: map[string]float64{"cpu": 0.5, "memory": 0.999}},
		},
		Timeseries: analysis.Timeseries{
			T:       []float64{0, 60, 1800, 5400},
			Pending: []int{4, 1, 1, 1},
			Running: []int{0, 3, 3, 3},
			Utilization: map[string][]float64{
				"cpu":    {0, 0.3, 0.35, 0.35},
				"memory": {0, 0.6, 0.83, 0.83},
			},
		},
	}
}

// svgDoc is what a test reads of an SVG: the root's size and every text and stroke colour
// drawn.
type svgDoc struct {
	root    xml.Name
	width   string
	height  string
	texts   []string
	strokes map[string]int
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	doc := svgDoc{strokes: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if doc.root.Local == "" {
				doc.root = el.Name
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "width":
						doc.width = a.Value
					case "height":
						doc.height = a.Value
					}
				}
			}
			inText = el.Name.Local == "text"
			for _, a := range el.Attr {
				if a.Name.Local == "style" {
					for _, decl := range strings.Split(a.Value, ";") {
						if c, ok := strings.CutPrefix(decl, "stroke:"); ok {
							doc.strokes[c]++
						}
					}
				}
			}
		case xml.CharData:
			if inText {
				doc.texts = append(doc.texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return doc
}

func renderSVG(t *testing.T, f Figure) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Each figure is an SVG of the documented size that names its series, and rendering it twice
// gives the same bytes (the report's maps are iterated in Go's random order).
func TestFiguresSVG(t *testing.T) {
	want := map[string][]string{
		"utilization":      {"Cluster utilization over time", "cpu", "memory", "virtual time (min)"},
		"pods":             {"Pending and running pods over time", "pending", "running", "virtual time (min)"},
		"startup-latency":  {"Startup latency CDF (3 pods)", "startup latency, created → Running (s)"},
		"node-utilization": {"Per-node utilization (3 nodes)", "cpu", "memory", "0–10", "90–100", "requested / allocatable (%)"},
	}
	r := sampleReport()
	figs := Figures(r)
	if len(figs) != len(want) {
		t.Fatalf("%d figures, want %d", len(figs), len(want))
	}
	for i, f := range figs {
		t.Run(f.Name, func(t *testing.T) {
			data := renderSVG(t, f)
			doc := parseSVG(t, data)
			if doc.root.Local != "svg" || doc.root.Space != "http://www.w3.org/2000/svg" {
				t.Errorf("root element %v, want svg", doc.root)
			}
			if doc.width != "648pt" || doc.height != "360pt" {
				t.Errorf("size %s × %s, want 648pt × 360pt (9 × 5 in)", doc.width, doc.height)
			}
			for _, s := range want[f.Name] {
				if !slices.Contains(doc.texts, s) {
					t.Errorf("no text %q in %q", s, doc.texts)
				}
			}
			for range 3 {
				if again := renderSVG(t, Figures(r)[i]); !bytes.Equal(data, again) {
					t.Fatal("two renderings of the same report differ")
				}
			}
		})
	}
}

// A series is drawn in its legend colour: each resource of the utilization plot has a line
// besides its legend sample, so its colour strokes at least two paths.
func TestSeriesAreDrawn(t *testing.T) {
	doc := parseSVG(t, renderSVG(t, Figures(sampleReport())[0]))
	colours := 0
	for c, n := range doc.strokes {
		if c != "#000000" && n >= 2 {
			colours++
		}
	}
	if colours < 2 {
		t.Errorf("strokes %v: want two coloured series (cpu, memory), each a line and a legend sample", doc.strokes)
	}
	empty := parseSVG(t, renderSVG(t, Figures(&analysis.Report{})[0]))
	for c := range empty.strokes {
		if c != "#000000" && !strings.HasPrefix(c, "#E1E1E1") {
			t.Errorf("a report without samples strokes %s", c)
		}
	}
}

// Each figure is a PNG of PNGWidth × PNGHeight pixels with something drawn on it, the same
// bytes each time.
func TestFiguresPNG(t *testing.T) {
	for _, f := range Figures(sampleReport()) {
		var b bytes.Buffer
		if err := f.WritePNG(&b); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		var again bytes.Buffer
		if err := f.WritePNG(&again); err != nil || !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Errorf("%s: two PNG renderings of the same report differ (%v)", f.Name, err)
		}
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", f.Name, err)
		}
		if got := img.Bounds().Size(); got.X != PNGWidth || got.Y != PNGHeight || PNGWidth != 864 || PNGHeight != 480 {
			t.Errorf("%s: %v pixels, want 864 × 480", f.Name, got)
		}
		colours := map[[4]uint32]bool{}
		for y := 0; y < PNGHeight; y += 2 {
			for x := 0; x < PNGWidth; x += 2 {
				r, g, bl, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, bl, a}] = true
			}
		}
		if len(colours) < 3 {
			t.Errorf("%s: %d colours: the image is blank", f.Name, len(colours))
		}
	}
}

// An empty report (the time series and utilization unfilled) still gives every figure, each
// titled as having no data rather than drawn as a flat line.
func TestEmptyReport(t *testing.T) {
	for _, f := range Figures(&analysis.Report{}) {
		doc := parseSVG(t, renderSVG(t, f))
		if !slices.ContainsFunc(doc.texts, func(s string) bool { return strings.HasSuffix(s, "(no data)") }) {
			t.Errorf("%s: no '(no data)' title in %q", f.Name, doc.texts)
		}
		var b bytes.Buffer
		if err := f.WritePNG(&b); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "plots")
	paths, err := WriteDir(dir, sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"node-utilization.png", "node-utilization.svg", "pods.png", "pods.svg",
		"startup-latency.png", "startup-latency.svg", "utilization.png", "utilization.svg"}
	if !slices.Equal(names, want) || len(paths) != len(want) {
		t.Errorf("files %v (returned %v), want %v and no temporary files", names, paths, want)
	}
}

func TestUnitFor(t *testing.T) {
	for _, tc := range []struct {
		span float64
		want string
	}{{0, "s"}, {119, "s"}, {120, "min"}, {5400, "min"}, {7200, "h"}, {36 * 3600, "h"}, {2 * 86400, "d"}, {149 * 86400, "d"}} {
		if got := unitFor(tc.span).Name; got != tc.want {
			t.Errorf("unitFor(%v) = %s, want %s", tc.span, got, tc.want)
		}
	}
}

func TestBinOf(t *testing.T) {
	for _, tc := range []struct {
		u    float64
		want int
	}{{-0.1, 0}, {0, 0}, {0.0999, 0}, {0.1, 1}, {0.55, 5}, {0.999, 9}, {1, 9}, {1.7, 9}} {
		if got := binOf(tc.u); got != tc.want {
			t.Errorf("binOf(%v) = %d, want %d", tc.u, got, tc.want)
		}
	}
}

// The CDF counts only pods that reached Running, from their own creation.
func TestStartupLatencies(t *testing.T) {
	if got := startupLatencies(sampleReport()); !slices.Equal(got, []float64{2, 2, 4}) {
		t.Errorf("latencies %v, want [2 2 4]", got)
	}
}

// Count axes carry whole numbers only, labelled without decimals.
func TestIntegerTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		labels   []string
	}{{0, 1, []string{"0", "1"}}, {0, 4, []string{"0", "2", "4"}}, {0, 10, []string{"0", "5", "10"}}} {
		var labels []string
		for _, tick := range (integerTicks{}).Ticks(tc.min, tc.max) {
			if tick.Value != float64(int(tick.Value)) {
				t.Errorf("[%v, %v]: tick at %v", tc.min, tc.max, tick.Value)
			}
			if tick.Label != "" {
				labels = append(labels, tick.Label)
			}
		}
		if !slices.Equal(labels, tc.labels) {
			t.Errorf("[%v, %v]: labels %q, want %q", tc.min, tc.max, labels, tc.labels)
		}
	}
}

func TestPlainTicks(t *testing.T) {
	var labels []string
	for _, tick := range (plainTicks{}).Ticks(0, 50) {
		if tick.Label != "" {
			labels = append(labels, tick.Label)
		}
	}
	if !slices.Equal(labels, []string{"0", "25", "50"}) {
		t.Errorf("labels %q, want 0 25 50", labels)
	}
	labels = nil
	for _, tick := range (plainTicks{}).Ticks(0, 1) {
		if tick.Label != "" {
			labels = append(labels, tick.Label)
		}
	}
	if !slices.Equal(labels, []string{"0", "0.5", "1"}) {
		t.Errorf("labels %q, want 0 0.5 1", labels)
	}
}

// largeReport is a run at the size the time series is capped at: 1,001 samples, with 5,000
// nodes and 10,000 pods.
func largeReport() *analysis.Report {
	r := &analysis.Report{SimulatedSeconds: 86400}
	ts := &r.Timeseries
	ts.Utilization = map[string][]float64{}
	for i := range 1001 {
		ts.T = append(ts.T, float64(i)*86.4)
		ts.Pending = append(ts.Pending, (i*37)%500)
		ts.Running = append(ts.Running, (i*53)%10000)
		for _, res := range []string{"cpu", "memory", "pods"} {
			ts.Utilization[res] = append(ts.Utilization[res], float64((i*len(res))%100)/100)
		}
	}
	for i := range 10000 {
		c := float64(i % 3600)
		r.Pods = append(r.Pods, analysis.PodReport{CreatedAt: ptr(c), RunningAt: ptr(c + float64(i%97))})
	}
	for i := range 5000 {
		r.Nodes = append(r.Nodes, analysis.NodeReport{Utilization: map[string]float64{
			"cpu": float64(i%100) / 100, "memory": float64(i%37) / 37, "pods": float64(i%11) / 110}})
	}
	return r
}

// All figures of a large report, as --plots writes them (PNG and SVG).
func BenchmarkFigures(b *testing.B) {
	r := largeReport()
	for b.Loop() {
		for _, f := range Figures(r) {
			if err := f.WritePNG(io.Discard); err != nil {
				b.Fatal(err)
			}
			if err := f.WriteSVG(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The CDF rises at each distinct latency to the share of pods at most that late, and a long
// list is thinned to evenly spaced steps that keep the first and the last.
func TestCDFPoints(t *testing.T) {
	got := cdfPoints([]float64{2, 2, 4, 60}, unitFor(0))
	want := plotter.XYs{{X: 2, Y: 0}, {X: 2, Y: 50}, {X: 4, Y: 75}, {X: 60, Y: 100}}
	if !slices.Equal(got, want) {
		t.Errorf("cdfPoints = %v, want %v", got, want)
	}
	xs := make([]float64, 5000)
	for i := range xs {
		xs[i] = float64(i)
	}
	got = cdfPoints(xs, unitFor(0))
	if len(got) != maxCDFSteps+1 || got[1] != (plotter.XY{X: 0, Y: 0.02}) || got[len(got)-1] != (plotter.XY{X: 4999, Y: 100}) {
		t.Errorf("thinned CDF: %d points, from %v to %v", len(got), got[1], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i].X < got[i-1].X || got[i].Y < got[i-1].Y || got[i].Y != 100*(got[i].X+1)/5000 {
			t.Fatalf("point %d %v after %v is not on the CDF", i, got[i], got[i-1])
		}
	}
}

// The sweep's figures: a group of bars per combination, labelled by index, the series in the
// legend, the same bytes each time; a sweep with no report at all is titled as having no data.
func TestSweepFigures(t *testing.T) {
	combos := []sweep.Combination{{Index: 0, Label: "seed=1"}, {Index: 1, Label: "seed=2"}, {Index: 2, Label: "seed=3"}}
	res := sweep.NewResult(combos)
	for i, used := range []int{10, 3} {
		r := sampleReport()
		r.Summary.Nodes = analysis.NodeSummary{Total: 10, Ready: 10, Used: used}
		r.Summary.Pods.Scheduled = 12 + i
		r.Utilization = map[string]analysis.UtilizationStats{"cpu": {Mean: 0.3, Nodes: 10}, "memory": {Mean: 0.1 * float64(i+1), Nodes: 10}}
		res.SetReport(i, r)
	}
	res.SetError(2, "the simulation failed")
	want := map[string][]string{
		"sweep-nodes":       {"Nodes by combination", "total", "used", "0", "1", "2"},
		"sweep-pods":        {"Pods by combination", "scheduled", "unschedulable"},
		"sweep-latency":     {"p99 latency by combination", "scheduling", "startup"},
		"sweep-utilization": {"Mean utilization by combination", "cpu", "memory"},
	}
	figs := SweepFigures(res)
	if len(figs) != len(want) {
		t.Fatalf("%d figures, want %d", len(figs), len(want))
	}
	for _, f := range figs {
		svg := renderSVG(t, f)
		if !bytes.Equal(svg, renderSVG(t, f)) {
			t.Errorf("%s: two renderings differ", f.Name)
		}
		doc := parseSVG(t, svg)
		for _, w := range want[f.Name] {
			if !slices.Contains(doc.texts, w) {
				t.Errorf("%s: no text %q in %q", f.Name, w, doc.texts)
			}
		}
	}
	none := sweep.NewResult(combos)
	for _, f := range SweepFigures(none) {
		if texts := parseSVG(t, renderSVG(t, f)).texts; !slices.ContainsFunc(texts, func(s string) bool { return strings.HasSuffix(s, "(no data)") }) {
			t.Errorf("%s of a sweep without reports: no '(no data)' title in %q", f.Name, texts)
		}
	}
	dir := t.TempDir()
	paths, err := WriteSweepDir(dir, res)
	if err != nil || len(paths) != 8 {
		t.Errorf("WriteSweepDir: %v, %d files", err, len(paths))
	}
}
