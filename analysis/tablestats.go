package analysis

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// writeStatistics writes the pod latency and attempt distributions and, per resource, how
// evenly the nodes are used: the figures a person reads first after the totals.
func writeStatistics(w io.Writer, r *Report) error {
	if r.Summary.Pods.Total > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POD STATISTIC\tPODS\tP50\tP90\tP99\tMAX")
		row := func(name string, d Distribution, format func(float64) string) {
			if d.Count == 0 {
				fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\n", name)
				return
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", name, d.Count, format(d.P50), format(d.P90), format(d.P99), format(d.Max))
		}
		row("scheduling latency", r.Latency.Scheduling, formatSeconds)
		row("startup latency", r.Latency.Startup, formatSeconds)
		row("scheduling attempts", r.Attempts, func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) })
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Utilization) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "UTILIZATION\tNODES\tMEAN\tSTDDEV\tMAX")
		for _, name := range resourceNames(r.Utilization) {
			u := r.Utilization[name]
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", name, u.Nodes, percent(u.Mean), percent(u.Stddev), percent(u.Max))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if ot := r.OverTime; ot.Emptier() && len(ot.Utilization) > 0 {
		// The block above is across nodes at the end; this one is the whole cluster over time,
		// shown when the run ended emptier than it was.
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CLUSTER UTILIZATION\tFINAL\tPEAK\tPEAK AT\tMEAN OVER TIME")
		for _, name := range resourceNames(ot.Utilization) {
			f := ot.Utilization[name]
			fmt.Fprintf(tw, "%s\t%s\t%s\tt=%s\t%s\n", name, percent(f.Final), percent(f.Peak), formatSeconds(f.PeakAt), percent(f.Mean))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(w, "(requested/allocatable summed over the nodes; the run ended emptier than it was, so the final figures alone mislead)")
	}
	return nil
}

func percent(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
