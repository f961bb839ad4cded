package plots

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/kwoksim/kwoksim/analysis"
)

// Every figure is Width × Height; a PNG is drawn at DPI dots per inch, so it is
// PNGWidth × PNGHeight pixels. An SVG carries the same size in points.
const (
	Width     = 9 * vg.Inch
	Height    = 5 * vg.Inch
	DPI       = 96
	PNGWidth  = 9 * DPI
	PNGHeight = 5 * DPI
)

// Figure is one plot of a report. Name is its file stem and About says what it shows; the plot
// is rebuilt for every rendering because drawing adjusts a plot's axes in place.
type Figure struct {
	Name  string
	Title string
	About string
	build func() (*plot.Plot, error)
}

// Figures returns the report's figures in the order a reader meets them; gpu, the autoscaling
// ones (pool nodes and cumulative cost over time), then hpa-replicas and usage, last, each only
// when the report has its section, in the order the HTML page has the sections.
func Figures(r *analysis.Report) []Figure {
	return append([]Figure{
		{"utilization", "Cluster utilization over time",
			"Cluster-wide requested / allocatable of each resource at each sample of the run.",
			func() (*plot.Plot, error) { return utilizationOverTime(r) }},
		{"pods", "Pending and running pods over time",
			"How many pods were Pending (waiting for a node or to start) and Running at each sample.",
			func() (*plot.Plot, error) { return podsOverTime(r) }},
		{"startup-latency", "Startup latency CDF",
			"The share of pods that were Running within a given time of their creation, over the pods that got there.",
			func() (*plot.Plot, error) { return startupLatencyCDF(r) }},
		{"node-utilization", "Per-node utilization",
			"How many nodes end the run in each 10% range of requested / allocatable, one bar per resource.",
			func() (*plot.Plot, error) { return nodeUtilizationHistogram(r) }},
	}, slices.Concat(gpuFigures(r), autoscalingFigures(r), hpaFigures(r))...)
}

// WritePNG draws the figure as a PNG of PNGWidth × PNGHeight pixels.
func (f Figure) WritePNG(w io.Writer) error {
	p, err := f.build()
	if err != nil {
		return fmt.Errorf("plot %s: %w", f.Name, err)
	}
	c := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI))
	drawFigure(p, draw.New(c))
	_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// WriteSVG draws the figure as an SVG document of Width × Height points. Fonts are named, not
// embedded, which keeps each file a few tens of kilobytes; a viewer without Liberation Sans
// substitutes its own sans-serif face.
func (f Figure) WriteSVG(w io.Writer) error {
	p, err := f.build()
	if err != nil {
		return fmt.Errorf("plot %s: %w", f.Name, err)
	}
	c := vgsvg.New(Width, Height)
	drawFigure(p, draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	// gonum/plot names the one face it measured text with; a fallback keeps the labels in a
	// sans-serif face where that font is not installed, instead of the viewer's default serif.
	_, err = w.Write(bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")))
	return err
}

// margin is the white space around a figure, and legendGap the space between the plot and
// the legend to its right.
const (
	margin    = 6 * vg.Millimeter
	legendGap = 4 * vg.Millimeter
)

// drawFigure draws p with its legend, if it has one, in a column of its own to the right of the
// plot, where it cannot hide a line or a bar.
func drawFigure(p *plot.Plot, c draw.Canvas) {
	c = draw.Crop(c, margin/2, -margin, margin/2, -margin/2)
	legend := p.Legend
	p.Legend = plot.NewLegend()
	if w := legend.Rectangle(c).Size().X; w > 0 {
		top := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
		legend.Top, legend.Left = true, true
		legend.Draw(draw.Crop(c, c.Size().X-w, 0, 0, -top))
		c = draw.Crop(c, 0, -(w + legendGap), 0, 0)
	}
	p.Draw(c)
}

// WriteDir writes every figure as NAME.png and NAME.svg into dir, creating it, each file
// atomically. It returns the paths written, in order.
func WriteDir(dir string, r *analysis.Report) ([]string, error) {
	return writeFigures(dir, Figures(r))
}

// writeFigures writes each figure as NAME.png and NAME.svg into dir, creating it.
func writeFigures(dir string, figures []Figure) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots directory: %w", err)
	}
	var written []string
	for _, f := range figures {
		for _, out := range []struct {
			ext   string
			write func(io.Writer) error
		}{{".png", f.WritePNG}, {".svg", f.WriteSVG}} {
			path := filepath.Join(dir, f.Name+out.ext)
			if err := analysis.WriteFileAtomic(path, out.write); err != nil {
				return written, err
			}
			written = append(written, path)
		}
	}
	return written, nil
}
