package analysis

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// BillingNote says how the autoscaling section bills nodes: kwoksim's choice, which the table
// and the HTML page print beside the cost.
const BillingNote = "each node is billed from its launch (the scale-up decision; t=0 for a node present then) " +
	"to its deletion or the end of the run, at its shape's price per hour (kwoksim's accounting, not the autoscaler's)"

// writeAutoscaling is the autoscaling block: nodes and cost per pool, the scale events, the
// pods' wait for capacity, the pods no pool could take (loudly), the nodes that could not be
// removed and what kwoksim leaves out of the autoscaler. Nothing for a run without one.
func writeAutoscaling(w io.Writer, r *Report) error {
	a := r.Autoscaling
	if a == nil {
		return nil
	}
	fmt.Fprintf(w, "\nAutoscaling (%s): %d pool node(s) at the end, peak %d; %s node-hours, cost %s\n",
		a.Autoscaler, a.Nodes, a.PeakNodes, Hours(a.NodeHours), Money(a.Cost))
	fmt.Fprintf(w, "  scale-ups: %d (%d node(s) added); scale-downs: %d (%d node(s) removed)", a.ScaleUps, a.NodesAdded, a.ScaleDowns, a.NodesRemoved)
	if a.FailedLaunches > 0 {
		fmt.Fprintf(w, "; %d launch(es) never registered", a.FailedLaunches)
	}
	fmt.Fprintf(w, "\n  Billing: %s.\n\n", BillingNote)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tMIN\tMAX\tNODES\tPEAK\tNODE-HOURS\tCOST\tSHAPES (added, at the end, cost)")
	for _, p := range a.Pools {
		shapes := make([]string, 0, len(p.Shapes))
		for _, s := range p.Shapes {
			shapes = append(shapes, fmt.Sprintf("%s %d, %d, %s", s.Name, s.NodesAdded, s.Nodes, Money(s.Cost)))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", p.Name, p.Min, p.Max, p.Nodes, p.PeakNodes,
			Hours(p.NodeHours), Money(p.Cost), strings.Join(shapes, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAPACITY WAIT\tPODS\tP50\tP90\tP99\tMAX")
	d, name := a.CapacityWait, "created → bound, pods found unschedulable"
	if d.Count == 0 {
		fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\n", name)
	} else {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", name, d.Count, formatSeconds(d.P50), formatSeconds(d.P90), formatSeconds(d.P99), formatSeconds(d.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(a.Events) > 0 {
		fmt.Fprintf(w, "\nScale events (%d):\n", len(a.Events))
		for i, e := range a.Events {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "  … %d more (see -o json)\n", len(a.Events)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(w, "  t=%s %s\n", formatSeconds(e.At), ScaleEventLine(e))
		}
	}
	if len(a.NoScaleUp) > 0 {
		fmt.Fprintf(w, "\nWARNING: %d pod(s) no pool could take, %d never bound; the autoscaler launched no node for them:\n",
			len(a.NoScaleUp), a.NoScaleUpUnresolved)
		for i, p := range a.NoScaleUp {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "  … and %d more (see -o json)\n", len(a.NoScaleUp)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(w, "  %s: %s (t=%s)%s\n", objectName(p.Namespace, p.Name), p.Reason, formatSeconds(p.At), resolved(p.Resolved))
		}
	}
	if len(a.Unremovable) > 0 {
		fmt.Fprintf(w, "\nNodes the autoscaler would remove but could not, at the end (%d):\n", len(a.Unremovable))
		for i, u := range a.Unremovable {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "  … and %d more (see -o json)\n", len(a.Unremovable)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(w, "  %s (pool %s, t=%s): %s\n", u.Node, u.Pool, formatSeconds(u.At), UnremovableLine(u))
		}
	}
	if len(a.NotModelled) > 0 {
		fmt.Fprintf(w, "\nNot modelled of %s, and what a real one does:\n", a.Autoscaler)
		for _, s := range a.NotModelled {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

// ScaleEventLine is one scale event as the table and the HTML page show it (without its time):
// type, node group, the nodes' count and the upstream reason and message.
func ScaleEventLine(e ScaleEventReport) string {
	var b strings.Builder
	b.WriteString(e.Type)
	if e.Pool != "" {
		b.WriteString(" " + e.Pool)
		if e.Shape != "" {
			b.WriteString("/" + e.Shape)
		}
	}
	fmt.Fprintf(&b, " %d node(s)", e.Count)
	if e.Pods > 0 {
		fmt.Fprintf(&b, ", %d pod(s)", e.Pods)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// UnremovableLine is a node's unremovable reason with its detail.
func UnremovableLine(u UnremovableReport) string {
	if u.Detail == "" {
		return u.Reason
	}
	return u.Reason + ": " + u.Detail
}

func resolved(at *float64) string {
	if at == nil {
		return ""
	}
	return fmt.Sprintf("; bound at t=%s after all", formatSeconds(*at))
}

// Hours shows node-hours with two decimals; the JSON report keeps every digit.
func Hours(h float64) string { return strconv.FormatFloat(h, 'f', 2, 64) }

// Money shows a cost with two decimals, in the currency of the pools' prices (a NodePool's
// pricePerHour has no unit); the JSON report keeps every digit.
func Money(c float64) string { return strconv.FormatFloat(c, 'f', 2, 64) }
