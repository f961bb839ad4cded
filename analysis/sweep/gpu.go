package sweep

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kwoksim/kwoksim/analysis"
)

// GPUFigures are the figures of a report's gpu section that a comparison of scheduling policies
// on a GPU cluster turns on: how much GPU was allocated and how much was left stranded (see
// analysis.GPUReport), at the end of the run and on average over it.
type GPUFigures struct {
	Model          string  `json:"model"`
	Cards          int     `json:"cards"`
	Allocation     float64 `json:"allocation"`
	Stranded       float64 `json:"stranded"`
	StrandedOfIdle float64 `json:"strandedOfIdle"`
	MeanAllocation float64 `json:"meanAllocation"`
	MeanStranded   float64 `json:"meanStranded"`
}

func gpuFigures(r *analysis.Report) *GPUFigures {
	g := r.GPU
	if g == nil {
		return nil
	}
	return &GPUFigures{Model: g.Model, Cards: g.Cards, Allocation: g.Allocation.Final, Stranded: g.Stranded.Final,
		StrandedOfIdle: g.StrandedOfIdle, MeanAllocation: g.Allocation.Mean, MeanStranded: g.Stranded.Mean}
}

// HasGPU reports whether some combination's report has a gpu section.
func (res *Result) HasGPU() bool {
	return slices.ContainsFunc(res.Combinations, func(r Row) bool { return r.Figures != nil && r.GPU != nil })
}

// The table's GPU columns: allocated and stranded at the end, stranded of the unallocated.
const (
	gpuHeads   = "\tGPU ALLOCATED\tGPU STRANDED\tOF IDLE"
	gpuColumns = 3
)

func writeGPUCells(w io.Writer, g *GPUFigures) {
	if g == nil {
		fmt.Fprint(w, strings.Repeat("\t-", gpuColumns))
		return
	}
	fmt.Fprintf(w, "\t%.1f%%\t%.1f%%\t%.1f%%", 100*g.Allocation, 100*g.Stranded, 100*g.StrandedOfIdle)
}

// HasArrivals reports whether some combination's report has an arrivals section.
func (res *Result) HasArrivals() bool {
	return slices.ContainsFunc(res.Combinations, func(r Row) bool { return r.Figures != nil && r.Arrivals != nil })
}

// The table's arrivals columns: the arriving pods accepted, and when the run ended on an
// unschedulable arrival.
const (
	arrivalsHeads   = "\tACCEPTED\tENDED AT"
	arrivalsColumns = 2
)

func writeArrivalsCells(w io.Writer, a *analysis.ArrivalsReport) {
	if a == nil {
		fmt.Fprint(w, strings.Repeat("\t-", arrivalsColumns))
		return
	}
	end := "-"
	if a.End != nil {
		end = analysis.FormatSeconds(a.End.At)
	}
	fmt.Fprintf(w, "\t%d\t%s", a.Accepted, end)
}

// The CSV's arrivals and GPU columns; empty cells for a combination without the section.
var (
	arrivalsCSVHeader = []string{"arrivals.accepted", "arrivals.unschedulable", "arrivals.endedAt"}
	gpuCSVHeader      = []string{"gpu.allocation", "gpu.stranded", "gpu.strandedOfIdle", "gpu.meanAllocation", "gpu.meanStranded"}
)

func arrivalsCSV(f *Figures) []string {
	if f == nil || f.Arrivals == nil {
		return make([]string, len(arrivalsCSVHeader))
	}
	a := f.Arrivals
	end := ""
	if a.End != nil {
		end = csvFloat(a.End.At)
	}
	return []string{strconv.Itoa(a.Accepted), strconv.Itoa(a.Unschedulable), end}
}

func gpuCSV(f *Figures) []string {
	if f == nil || f.GPU == nil {
		return make([]string, len(gpuCSVHeader))
	}
	g := f.GPU
	return []string{csvFloat(g.Allocation), csvFloat(g.Stranded), csvFloat(g.StrandedOfIdle), csvFloat(g.MeanAllocation), csvFloat(g.MeanStranded)}
}

func csvFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
