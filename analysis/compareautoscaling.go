package analysis

import (
	"slices"
)

// autoscalerOf names the autoscaler of a report, "" without one.
func autoscalerOf(r *Report) string {
	if r.Autoscaling == nil {
		return ""
	}
	return r.Autoscaling.Autoscaler
}

// autoscalingFigures adds the autoscaling section's key figures: what the pools cost, how many
// nodes they had and how long pods waited for capacity, in total and per pool
// ("autoscaling.pools[<name>].cost"), so that cluster-autoscaler and Karpenter on one trace
// read side by side.
func autoscalingFigures(f map[string]float64, a *AutoscalingReport) {
	if a == nil {
		return
	}
	f["autoscaling.cost"], f["autoscaling.nodeHours"] = a.Cost, a.NodeHours
	f["autoscaling.nodes"], f["autoscaling.peakNodes"] = float64(a.Nodes), float64(a.PeakNodes)
	f["autoscaling.scaleUps"], f["autoscaling.scaleDowns"] = float64(a.ScaleUps), float64(a.ScaleDowns)
	f["autoscaling.nodesAdded"], f["autoscaling.nodesRemoved"] = float64(a.NodesAdded), float64(a.NodesRemoved)
	f["autoscaling.failedLaunches"] = float64(a.FailedLaunches)
	d := a.CapacityWait
	f["autoscaling.capacityWait.p50"], f["autoscaling.capacityWait.p90"] = d.P50, d.P90
	f["autoscaling.capacityWait.p99"], f["autoscaling.capacityWait.max"] = d.P99, d.Max
	f["autoscaling.capacityWait.count"] = float64(d.Count)
	f["autoscaling.noScaleUp"], f["autoscaling.noScaleUpUnresolved"] = float64(len(a.NoScaleUp)), float64(a.NoScaleUpUnresolved)
	f["autoscaling.unremovable"] = float64(len(a.Unremovable))
	for _, p := range a.Pools {
		n := poolFigureNames(p.Name)
		f[n[0]], f[n[1]], f[n[2]] = p.Cost, p.NodeHours, float64(p.PeakNodes)
	}
}

// autoscalingTotals are the section's figure names, in the order the comparison shows them.
var autoscalingTotals = []string{
	"autoscaling.cost", "autoscaling.nodeHours", "autoscaling.nodes", "autoscaling.peakNodes",
	"autoscaling.scaleUps", "autoscaling.scaleDowns", "autoscaling.nodesAdded", "autoscaling.nodesRemoved",
	"autoscaling.failedLaunches",
	"autoscaling.capacityWait.p50", "autoscaling.capacityWait.p90", "autoscaling.capacityWait.p99",
	"autoscaling.capacityWait.max", "autoscaling.capacityWait.count",
	"autoscaling.noScaleUp", "autoscaling.noScaleUpUnresolved", "autoscaling.unremovable",
}

// poolFigureNames are one pool's figures: cost, node-hours, peak nodes.
func poolFigureNames(pool string) []string {
	pre := "autoscaling.pools[" + pool + "]"
	return []string{pre + ".cost", pre + ".nodeHours", pre + ".peakNodes"}
}

// autoscalingFigureNames are compared when either run had an autoscaler (a run without has
// none of these figures: null); then the pools of a, in input order, and those only b has.
func autoscalingFigureNames(a, b *Report) []string {
	if a.Autoscaling == nil && b.Autoscaling == nil {
		return nil
	}
	names := slices.Clone(autoscalingTotals)
	seen := map[string]bool{}
	for _, r := range []*Report{a, b} {
		if r.Autoscaling == nil {
			continue
		}
		for _, p := range r.Autoscaling.Pools {
			if !seen[p.Name] {
				seen[p.Name] = true
				names = append(names, poolFigureNames(p.Name)...)
			}
		}
	}
	return names
}
