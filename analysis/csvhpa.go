package analysis

import (
	"strconv"
)

// HPACSVFiles are the files WriteCSV adds for a report with a horizontalPodAutoscalers
// section: hpa.csv, one row per HPA with its figures, and hpa-replicas.csv, each HPA's state
// after every reconcile that changed it (its replicasOverTime).
var HPACSVFiles = []string{"hpa.csv", "hpa-replicas.csv"}

// UsageCSVFiles are the files WriteCSV adds for a report with a usage section: usage.csv, the
// cluster's usage, requests and allocatable after every change (its overTime), CPU in cores
// and memory in bytes.
var UsageCSVFiles = []string{"usage.csv"}

func hpaRows(h *HPAReport) [][]string {
	rows := [][]string{{"namespace", "name", "target", "minReplicas", "maxReplicas", "path", "initialReplicas", "finalReplicas",
		"peakReplicas", "lowestReplicas", "scaleUps", "scaleDowns", "reconciles", "failedReconciles", "secondsAtMax",
		"secondsLimited", "lastFailure"}}
	for _, it := range h.HPAs {
		rows = append(rows, []string{it.Namespace, it.Name, it.Target, i32(it.MinReplicas), i32(it.MaxReplicas), it.Path,
			i32(it.InitialReplicas), i32(it.FinalReplicas), i32(it.PeakReplicas), i32(it.LowestReplicas),
			strconv.Itoa(it.ScaleUps), strconv.Itoa(it.ScaleDowns), strconv.Itoa(it.Reconciles), strconv.Itoa(it.FailedReconciles),
			csvNumber(it.SecondsAtMax), csvNumber(it.SecondsLimited), it.LastFailure})
	}
	return rows
}

// hpaReplicaRows is every HPA's step series, one row per point, HPA by HPA.
func hpaReplicaRows(h *HPAReport) [][]string {
	rows := [][]string{{"namespace", "name", "t", "current", "desired", "proposal"}}
	for _, it := range h.HPAs {
		for _, p := range it.ReplicasOverTime {
			rows = append(rows, []string{it.Namespace, it.Name, csvNumber(p.At), i32(p.Current), i32(p.Desired), i32(p.Proposal)})
		}
	}
	return rows
}

func usageRows(u *UsageReport) [][]string {
	rows := [][]string{{"t", "cpu", "memory", "requestedCPU", "requestedMemory", "allocatableCPU", "allocatableMemory"}}
	for _, p := range u.OverTime {
		rows = append(rows, []string{csvNumber(p.At), csvNumber(p.CPU), csvNumber(p.Memory), csvNumber(p.RequestedCPU),
			csvNumber(p.RequestedMemory), csvNumber(p.AllocatableCPU), csvNumber(p.AllocatableMemory)})
	}
	return rows
}

func i32(n int32) string { return strconv.FormatInt(int64(n), 10) }
