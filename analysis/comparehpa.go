package analysis

// The comparison of the horizontalPodAutoscalers and usage sections.

// hpaFigures adds each HPA's key figures by namespace/name
// ("horizontalPodAutoscalers[default/web].peakReplicas"), so that two runs of one trace (the
// legacy and the behavior path, two sync periods) read side by side.
func hpaFigures(f map[string]float64, h *HPAReport) {
	if h == nil {
		return
	}
	for _, it := range h.HPAs {
		n := hpaFigureNames(it)
		f[n[0]], f[n[1]], f[n[2]] = float64(it.PeakReplicas), float64(it.FinalReplicas), float64(it.ScaleUps)
		f[n[3]], f[n[4]], f[n[5]] = float64(it.ScaleDowns), it.SecondsAtMax, float64(it.FailedReconciles)
	}
}

// hpaFigureNames are one HPA's figures: peak and final replicas, scale-ups, scale-downs, time
// at max, failed reconciles.
func hpaFigureNames(it HPAReportItem) []string {
	pre := "horizontalPodAutoscalers[" + objectName(it.Namespace, it.Name) + "]"
	return []string{pre + ".peakReplicas", pre + ".finalReplicas", pre + ".scaleUps", pre + ".scaleDowns",
		pre + ".secondsAtMax", pre + ".failedReconciles"}
}

// hpaComparedNames are the HPAs' figures, those of a in creation order then those only b has;
// none when neither run had an HPA. An HPA one run lacks reads null on that side.
func hpaComparedNames(a, b *Report) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range []*Report{a, b} {
		if r.HorizontalPodAutoscalers == nil {
			continue
		}
		for _, it := range r.HorizontalPodAutoscalers.HPAs {
			if key := objectName(it.Namespace, it.Name); !seen[key] {
				seen[key] = true
				names = append(names, hpaFigureNames(it)...)
			}
		}
	}
	return names
}

// usageTotals are the usage section's figures the comparison shows: the cluster's CPU
// utilization by usage and by requests, peak and mean.
var usageTotals = []string{
	"usage.cpu.utilizationByUsage.peak", "usage.cpu.utilizationByUsage.mean",
	"usage.cpu.utilizationByRequests.peak", "usage.cpu.utilizationByRequests.mean",
}

// usageFigures adds usageTotals for a report with a usage section.
func usageFigures(f map[string]float64, u *UsageReport) {
	if u == nil {
		return
	}
	f[usageTotals[0]], f[usageTotals[1]] = u.CPU.UtilizationByUsage.Peak, u.CPU.UtilizationByUsage.Mean
	f[usageTotals[2]], f[usageTotals[3]] = u.CPU.UtilizationByRequests.Peak, u.CPU.UtilizationByRequests.Mean
}

// usageComparedNames are usageTotals when either run had usage data, none otherwise.
func usageComparedNames(a, b *Report) []string {
	if a.Usage == nil && b.Usage == nil {
		return nil
	}
	return usageTotals
}
