package analysis

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// CSVFiles are the files WriteCSV writes, in the order it writes them.
var CSVFiles = []string{"run.csv", "pods.csv", "nodes.csv", "timeseries.csv", "transitions.csv"}

// WriteCSV writes the report's tables to dir (created if missing) as CSV files with a header
// row: run.csv, pods.csv, nodes.csv, timeseries.csv and transitions.csv. run.csv is one row
// about the run itself, seed, simulatedSeconds and incomplete (true for a run stopped by an
// interrupt, as the JSON report's incomplete), so that a reader of CSV alone can tell a
// partial run from a finished one, even one with no pods. Cells are plain numbers a
// spreadsheet reads as such: times and delays in seconds, CPU in cores, every other quantity
// in its base unit (bytes, pods, devices), utilization as a fraction; an empty cell is a
// time that never came. A report with an autoscaling section adds AutoscalingCSVFiles, one
// with a horizontalPodAutoscalers section HPACSVFiles, one with a usage section UsageCSVFiles
// (and a report without removes them, so that a reused directory shows no earlier run's
// pools or HPAs). Every
// file is rendered before the first is written, and each is written atomically.
func WriteCSV(dir string, r *Report) error {
	tables := [][][]string{runRows(r), podRows(r), nodeRows(r), timeseriesRows(r), transitionRows(r)}
	names := slices.Clone(CSVFiles)
	if r.Autoscaling != nil {
		tables = append(tables, autoscalingRows(r.Autoscaling), autoscalingNodeRows(r.Autoscaling))
		names = append(names, AutoscalingCSVFiles...)
	}
	if r.HorizontalPodAutoscalers != nil {
		tables = append(tables, hpaRows(r.HorizontalPodAutoscalers), hpaReplicaRows(r.HorizontalPodAutoscalers))
		names = append(names, HPACSVFiles...)
	}
	if r.Usage != nil {
		tables = append(tables, usageRows(r.Usage))
		names = append(names, UsageCSVFiles...)
	}
	files := make([][]byte, len(tables))
	for i, rows := range tables {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(rows); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
		files[i] = buf.Bytes()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A directory written by an earlier run with an autoscaler, HPAs or usage data must not
	// show them beside this run's tables.
	var stale []string
	if r.Autoscaling == nil {
		stale = append(stale, AutoscalingCSVFiles...)
	}
	if r.HorizontalPodAutoscalers == nil {
		stale = append(stale, HPACSVFiles...)
	}
	if r.Usage == nil {
		stale = append(stale, UsageCSVFiles...)
	}
	for _, f := range stale {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for i, b := range files {
		if err := WriteFileAtomic(filepath.Join(dir, names[i]), func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// runRows is run.csv: the run's seed, the virtual time it reached and whether it was
// stopped before its end.
func runRows(r *Report) [][]string {
	return [][]string{{"seed", "simulatedSeconds", "incomplete"},
		{strconv.FormatUint(r.Seed, 10), csvNumber(r.SimulatedSeconds), strconv.FormatBool(r.Incomplete)}}
}

func podRows(r *Report) [][]string {
	rows := [][]string{{"namespace", "name", "node", "phase", "createdAt", "scheduledAt", "runningAt", "deletedAt",
		"schedulingLatency", "startupLatency", "attempts", "unschedulableReason",
		"terminatingAt", "evictedAt", "evictionReason", "deletionRequestedAt"}}
	for _, p := range r.Pods {
		rows = append(rows, []string{p.Namespace, p.Name, p.Node, p.Phase,
			optSeconds(p.CreatedAt), optSeconds(p.ScheduledAt), optSeconds(p.RunningAt), optSeconds(p.DeletedAt),
			since(p.CreatedAt, p.ScheduledAt), since(p.CreatedAt, p.RunningAt),
			strconv.Itoa(p.Attempts), p.UnschedulableReason,
			optSeconds(p.TerminatingAt), optSeconds(p.EvictedAt), p.EvictionReason, optSeconds(p.DeletionRequestedAt)})
	}
	return rows
}

// nodeRows has three columns per resource any node lists: allocatable, requested and
// utilization.
func nodeRows(r *Report) [][]string {
	set := map[string]bool{}
	for _, n := range r.Nodes {
		for name := range n.Allocatable {
			set[name] = true
		}
		for name := range n.Requested {
			set[name] = true
		}
	}
	names := resourceNames(set)
	header := []string{"name", "ready", "pods", "taints"}
	for _, name := range names {
		header = append(header, name+".allocatable", name+".requested", name+".utilization")
	}
	rows := [][]string{header}
	for _, n := range r.Nodes {
		row := []string{n.Name, strconv.FormatBool(n.Ready), strconv.Itoa(n.Pods), strings.Join(n.Taints, " ")}
		for _, name := range names {
			util := ""
			if u, ok := n.Utilization[name]; ok {
				util = csvNumber(u)
			}
			row = append(row, quantity(name, n.Allocatable[name]), quantity(name, n.Requested[name]), util)
		}
		rows = append(rows, row)
	}
	return rows
}

func timeseriesRows(r *Report) [][]string {
	ts := r.Timeseries
	names := resourceNames(ts.Utilization)
	header := []string{"t", "pending", "running", "succeeded", "failed", "readyNodes"}
	for _, name := range names {
		header = append(header, "utilization."+name)
	}
	if ts.GPU != nil {
		// Last, so that the other columns keep their places.
		header = append(header, "gpu.allocation", "gpu.stranded")
	}
	rows := [][]string{header}
	for k, t := range ts.T {
		row := []string{csvNumber(t), strconv.Itoa(ts.Pending[k]), strconv.Itoa(ts.Running[k]),
			strconv.Itoa(ts.Succeeded[k]), strconv.Itoa(ts.Failed[k]), strconv.Itoa(ts.ReadyNodes[k])}
		for _, name := range names {
			row = append(row, csvNumber(ts.Utilization[name][k]))
		}
		if ts.GPU != nil {
			row = append(row, csvNumber(ts.GPU.Allocation[k]), csvNumber(ts.GPU.Stranded[k]))
		}
		rows = append(rows, row)
	}
	return rows
}

func transitionRows(r *Report) [][]string {
	rows := [][]string{{"kind", "stage", "count", "delayP50", "delayP90", "delayP99", "delayMax"}}
	for _, t := range r.Transitions {
		d := t.DelaySeconds
		rows = append(rows, []string{t.Kind, t.Stage, strconv.Itoa(t.Count), csvNumber(d.P50), csvNumber(d.P90), csvNumber(d.P99), csvNumber(d.Max)})
	}
	return rows
}

// csvNumber prints a float in plain decimal notation, never with an exponent, with as few digits
// as identify it.
func csvNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func optSeconds(s *float64) string {
	if s == nil {
		return ""
	}
	return csvNumber(*s)
}

// since is to-from in seconds, empty if either never came. Both are whole nanoseconds, so the
// difference is rounded to one: 4.7-2.1 is 2.6, not 2.6000000000000005.
func since(from, to *float64) string {
	if from == nil || to == nil {
		return ""
	}
	return csvNumber(time.Duration(math.Round((*to - *from) * 1e9)).Seconds())
}

// quantity prints a report quantity in its base unit: CPU in cores ("0.5", not "500m"),
// anything else as a whole number of bytes or units ("274877906944", not "256Gi"). An empty or
// unparsable quantity is kept as it is.
func quantity(name, s string) string {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return s
	}
	if !fits(corev1.ResourceName(name), q) {
		// Past int64 MilliValue and Value wrap: the exact decimal instead.
		return q.AsDec().String()
	}
	if name == string(corev1.ResourceCPU) {
		return csvNumber(float64(q.MilliValue()) / 1000)
	}
	return strconv.FormatInt(q.Value(), 10)
}
