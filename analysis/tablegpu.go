package analysis

import (
	"fmt"
	"io"
)

// writeGPU writes the gpu section's lines under the summary: cards, what is allocated and what
// is stranded at the end, and both over the run.
func writeGPU(w io.Writer, r *Report) {
	g := r.GPU
	if g == nil {
		return
	}
	fmt.Fprintf(w, "GPUs:  %d cards (%s) on %d nodes, %d busy, %d idle; %s of GPU-milli allocated, %s stranded",
		g.Cards, g.Model, g.Nodes, g.BusyCards, g.IdleCards, percent(g.Allocation.Final), percent(g.Stranded.Final))
	if g.CapacityMilli > g.AllocatedMilli {
		fmt.Fprintf(w, " (%s of the unallocated)", percent(g.StrandedOfIdle))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "       over the run: allocated %s; stranded %s\n", peakMean(g.Allocation, percent), peakMean(g.Stranded, percent))
	if g.Unresolved > 0 {
		fmt.Fprintf(w, "       %d pods left out of the stranded figure: their claim or template was missing when they were created\n", g.Unresolved)
	}
}
