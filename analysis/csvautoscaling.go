package analysis

import (
	"cmp"
	"slices"
	"strconv"
)

// AutoscalingCSVFiles are the files WriteCSV adds for a report with an autoscaling section:
// autoscaling.csv, one row per pool and shape with its price, nodes and cost (billed as the
// section says: from launch to deletion or the end of the run), and autoscaling-nodes.csv, the
// node count of every pool after each instant that changed one of them.
var AutoscalingCSVFiles = []string{"autoscaling.csv", "autoscaling-nodes.csv"}

func autoscalingRows(a *AutoscalingReport) [][]string {
	rows := [][]string{{"autoscaler", "pool", "shape", "pricePerHour", "nodesAdded", "nodes", "nodeHours", "cost"}}
	for _, p := range a.Pools {
		for _, s := range p.Shapes {
			rows = append(rows, []string{a.Autoscaler, p.Name, s.Name, csvNumber(s.PricePerHour), strconv.Itoa(s.NodesAdded),
				strconv.Itoa(s.Nodes), csvNumber(s.NodeHours), csvNumber(s.Cost)})
		}
	}
	return rows
}

// autoscalingNodeRows has a column per pool, in the section's order, and a row per instant at
// which some pool's count changed, each pool's count holding until its next point.
func autoscalingNodeRows(a *AutoscalingReport) [][]string {
	header := []string{"t"}
	var times []float64
	for _, p := range a.Pools {
		header = append(header, p.Name)
		for _, pt := range p.NodesOverTime {
			times = append(times, pt[0])
		}
	}
	slices.SortFunc(times, cmp.Compare[float64])
	times = slices.Compact(times)
	rows := [][]string{header}
	next := make([]int, len(a.Pools))
	count := make([]float64, len(a.Pools))
	for _, t := range times {
		row := []string{csvNumber(t)}
		for i, p := range a.Pools {
			for next[i] < len(p.NodesOverTime) && p.NodesOverTime[next[i]][0] <= t {
				count[i] = p.NodesOverTime[next[i]][1]
				next[i]++
			}
			row = append(row, csvNumber(count[i]))
		}
		rows = append(rows, row)
	}
	return rows
}
