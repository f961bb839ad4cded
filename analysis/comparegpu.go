package analysis

// The comparison of the gpu and arrivals sections: per-card against pooled, or one scheduling
// policy against another, on the same trace.

// gpuTotals are the gpu section's figures the comparison shows.
var gpuTotals = []string{
	"gpu.cards", "gpu.busyCards", "gpu.allocatedMilli", "gpu.strandedMilli",
	"gpu.allocation.final", "gpu.allocation.mean", "gpu.stranded.final", "gpu.stranded.mean", "gpu.strandedOfIdle",
}

// gpuFigures adds gpuTotals for a report with a gpu section.
func gpuFigures(f map[string]float64, g *GPUReport) {
	if g == nil {
		return
	}
	for i, v := range []float64{float64(g.Cards), float64(g.BusyCards), float64(g.AllocatedMilli), float64(g.StrandedMilli),
		g.Allocation.Final, g.Allocation.Mean, g.Stranded.Final, g.Stranded.Mean, g.StrandedOfIdle} {
		f[gpuTotals[i]] = v
	}
}

// arrivalsTotals are the arrivals section's figures the comparison shows.
var arrivalsTotals = []string{"arrivals.created", "arrivals.accepted", "arrivals.unschedulable", "arrivals.deletionsSkipped"}

// arrivalsFigures adds arrivalsTotals for a report with an arrivals section.
func arrivalsFigures(f map[string]float64, a *ArrivalsReport) {
	if a == nil {
		return
	}
	for i, v := range []int{a.Created, a.Accepted, a.Unschedulable, a.DeletionsSkipped} {
		f[arrivalsTotals[i]] = float64(v)
	}
}

// gpuComparedNames are the arrivals and gpu figures, each set when either run has its
// section, none otherwise, so that comparisons of other runs read as before.
func gpuComparedNames(a, b *Report) []string {
	var names []string
	if a.Arrivals != nil || b.Arrivals != nil {
		names = append(names, arrivalsTotals...)
	}
	if a.GPU != nil || b.GPU != nil {
		names = append(names, gpuTotals...)
	}
	return names
}
