package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/kwoksim/kwoksim/analysis"
)

// WriteJSON writes the comparison as indented JSON.
func WriteJSON(w io.Writer, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteRunJSON writes one combination's run as indented JSON.
func WriteRunJSON(w io.Writer, run *Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the comparison for a person: a line of counts, a row per combination,
// then the error of each that failed.
func WriteTable(w io.Writer, res *Result) error {
	fmt.Fprintf(w, "Sweep of %d combinations: %d done", len(res.Combinations), res.Count(StatusDone))
	for _, s := range []string{StatusIncomplete, StatusFailed, StatusNotRun} {
		if n := res.Count(s); n > 0 {
			fmt.Fprintf(w, ", %d %s", n, s)
		}
	}
	fmt.Fprint(w, ".\n\n")
	resources := res.Resources()
	autoscaling, gpu, arrivals := res.HasAutoscaling(), res.HasGPU(), res.HasArrivals()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "#\tCOMBINATION\tSTATUS\tPODS\tSCHEDULED\tUNSCHEDULABLE\tNODES\tUSED\tSCHED P50\tSCHED P99\tSTARTUP P50\tSTARTUP P99")
	for _, r := range resources {
		fmt.Fprintf(tw, "\t%s", r)
	}
	if autoscaling {
		fmt.Fprint(tw, autoscalingHeads)
	}
	if arrivals {
		fmt.Fprint(tw, arrivalsHeads)
	}
	if gpu {
		fmt.Fprint(tw, gpuHeads)
	}
	fmt.Fprintln(tw)
	for _, row := range res.Combinations {
		fmt.Fprintf(tw, "%d\t%s\t%s", row.Index, row.Label, row.Status)
		if row.Figures == nil {
			n := 9 + len(resources)
			if autoscaling {
				n += autoscalingColumns
			}
			if arrivals {
				n += arrivalsColumns
			}
			if gpu {
				n += gpuColumns
			}
			for range n {
				fmt.Fprint(tw, "\t-")
			}
			fmt.Fprintln(tw)
			continue
		}
		s, l := row.Summary, row.Latency
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s", s.Pods.Total, s.Pods.Scheduled, s.Pods.Unschedulable,
			s.Nodes.Total, s.Nodes.Used, analysis.FormatSeconds(l.Scheduling.P50), analysis.FormatSeconds(l.Scheduling.P99),
			analysis.FormatSeconds(l.Startup.P50), analysis.FormatSeconds(l.Startup.P99))
		for _, r := range resources {
			if u, ok := row.Utilization[r]; ok {
				fmt.Fprintf(tw, "\t%.1f%%", 100*u.Mean)
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		if autoscaling {
			writeAutoscalingCells(tw, row.Autoscaling)
		}
		if arrivals {
			writeArrivalsCells(tw, row.Arrivals)
		}
		if gpu {
			writeGPUCells(tw, row.GPU)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(resources) > 0 {
		fmt.Fprintln(w, "\nResource columns: mean utilization (requested / allocatable) across the nodes at the end.")
	}
	if arrivals {
		fmt.Fprintln(w, "\nACCEPTED counts the arriving pods the scheduler placed before the run ended; ENDED AT is when --until-unschedulable ended it.")
	}
	if gpu {
		fmt.Fprintln(w, "\nGPU columns at the end: GPU-milli allocated and stranded (unallocated GPU the run's GPU pods cannot use,\n"+
			"as the report's gpu section defines it) over the GPU capacity, and stranded over the unallocated.")
	}
	if autoscaling {
		fmt.Fprintln(w, "\nCOST and NODE-HOURS are over every pool's nodes, each billed from its launch to its deletion or the end of the run;\n"+
			"WAIT is how long pods found unschedulable waited for capacity (created to bound).")
	}
	for _, row := range res.Combinations {
		if row.Error != "" {
			fmt.Fprintf(w, "\ncombination %d (%s) failed: %s\n", row.Index, row.Label, row.Error)
		}
	}
	return nil
}

// CSVFile is the name of the comparison's CSV file in --csv DIR.
const CSVFile = "sweep.csv"

// WriteCSV writes one row per combination: index, label, the axis values, status, error, then
// the figures (empty for a combination without a report) and the mean and max utilization of
// each resource; the autoscaling columns and the featureGates axis value follow when the
// sweep has them, last, so that the other columns keep their places.
func WriteCSV(w io.Writer, res *Result) error {
	resources := res.Resources()
	cw := csv.NewWriter(w)
	header := []string{"index", "label", "schedulerConfig", "nodes", "replicaScale", "seed", "status", "error",
		"simulatedSeconds", "pods.total", "pods.scheduled", "pods.unschedulable", "pods.running", "pods.succeeded", "pods.failed",
		"nodes.total", "nodes.ready", "nodes.used",
		"latency.scheduling.p50", "latency.scheduling.p90", "latency.scheduling.p99", "latency.scheduling.max",
		"latency.startup.p50", "latency.startup.p90", "latency.startup.p99", "latency.startup.max", "traceErrors"}
	for _, r := range resources {
		header = append(header, "utilization."+r+".mean", "utilization."+r+".max")
	}
	autoscaling := res.HasAutoscaling()
	if autoscaling {
		header = append(header, autoscalingCSVHeader...)
	}
	// The columns before the featureGates one: a row's own, which it fills or pads.
	width := len(header)
	gates := res.HasFeatureGates()
	if gates {
		header = append(header, "featureGates")
	}
	// The arrivals and GPU columns come last of all, after the featureGates one, so that a
	// reader of the earlier columns finds them where they were.
	arrivals, gpu := res.HasArrivals(), res.HasGPU()
	if arrivals {
		header = append(header, arrivalsCSVHeader...)
	}
	if gpu {
		header = append(header, gpuCSVHeader...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, row := range res.Combinations {
		rec := []string{strconv.Itoa(row.Index), row.Label, "", "", "", "", row.Status, row.Error}
		if v := row.Values.SchedulerConfig; v != nil {
			rec[2] = *v
		}
		if v := row.Values.Nodes; v != nil {
			rec[3] = *v
		}
		if v := row.Values.ReplicaScale; v != nil {
			rec[4] = f(*v)
		}
		if v := row.Values.Seed; v != nil {
			rec[5] = strconv.FormatUint(*v, 10)
		}
		if row.Figures == nil {
			rec = append(rec, make([]string, width-len(rec))...)
		} else {
			s, l := row.Summary, row.Latency
			rec = append(rec, f(row.SimulatedSeconds))
			for _, n := range []int{s.Pods.Total, s.Pods.Scheduled, s.Pods.Unschedulable, s.Pods.Running, s.Pods.Succeeded,
				s.Pods.Failed, s.Nodes.Total, s.Nodes.Ready, s.Nodes.Used} {
				rec = append(rec, strconv.Itoa(n))
			}
			for _, d := range []analysis.Distribution{l.Scheduling, l.Startup} {
				rec = append(rec, f(d.P50), f(d.P90), f(d.P99), f(d.Max))
			}
			rec = append(rec, strconv.Itoa(row.TraceErrors))
			for _, r := range resources {
				if u, ok := row.Utilization[r]; ok {
					rec = append(rec, f(u.Mean), f(u.Max))
				} else {
					rec = append(rec, "", "")
				}
			}
			if autoscaling {
				rec = append(rec, autoscalingCSV(row.Values.Autoscaler, row.Autoscaling)...)
			}
		}
		if autoscaling && row.Figures == nil && row.Values.Autoscaler != nil {
			// No figures: the autoscaler axis value still goes in its column.
			rec[width-len(autoscalingCSVHeader)] = *row.Values.Autoscaler
		}
		if gates {
			v := ""
			if row.Values.FeatureGates != nil {
				v = *row.Values.FeatureGates
			}
			rec = append(rec, v)
		}
		if arrivals {
			rec = append(rec, arrivalsCSV(row.Figures)...)
		}
		if gpu {
			rec = append(rec, gpuCSV(row.Figures)...)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
