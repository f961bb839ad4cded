package plots

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// newPlot returns a plot with the house look: sans-serif text (set per plot, not through
// gonum/plot's package-wide default, so other users of the library are unaffected), a light
// grid.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	// Sizes are chosen for a figure shown at about half its width, as the HTML page does.
	for _, f := range []struct {
		style *text.Style
		size  vg.Length
	}{
		{&p.Title.TextStyle, 15}, {&p.X.Label.TextStyle, 13}, {&p.Y.Label.TextStyle, 13},
		{&p.X.Tick.Label, 12}, {&p.Y.Tick.Label, 12}, {&p.Legend.TextStyle, 13},
	} {
		f.style.Font.Variant = "Sans"
		f.style.Font.Size = f.size
	}
	p.Title.Padding = vg.Points(8)
	p.Legend.Padding = vg.Points(3)
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	return p
}

// addSeries draws one named series as a step line in the i-th colour: a sample holds until the
// next one. A single sample gets a dot, since a line through one point draws nothing.
func addSeries(p *plot.Plot, name string, pts plotter.XYs, i int) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.StepStyle = plotter.PostStep
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(0)
	p.Add(l)
	p.Legend.Add(name, l)
	if len(pts) == 1 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: l.Color, Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
	return nil
}

// integerTicks keeps only the whole-number ticks of the default marker, labelled as integers
// ("1", not "1.0"), for axes that count pods or nodes.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value != math.Trunc(t.Value) {
			continue
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
		}
		out = append(out, t)
	}
	return out
}

// plainTicks is the default marker with trailing zeros dropped from its labels ("25", not
// "25.00"; "0.5", not "0.50").
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := (plot.DefaultTicks{}).Ticks(min, max)
	for i, t := range ticks {
		if strings.Contains(t.Label, ".") && !strings.ContainsAny(t.Label, "eE") {
			ticks[i].Label = strings.TrimSuffix(strings.TrimRight(t.Label, "0"), ".")
		}
	}
	return ticks
}

// noData marks a title whose plot has nothing to show, so an empty frame is not mistaken for
// a flat line.
func noData(title string) string { return title + " (no data)" }
