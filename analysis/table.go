package analysis

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Limits that keep the table readable for large clusters; the JSON report has everything.
const (
	maxTableNodes        = 40
	maxPodsPerReason     = 5
	maxReasonTableLength = 20
)

// WriteTable writes the report for a person: totals, per-node placement, latency and
// utilization statistics, stage transitions and the pods the scheduler could not place,
// grouped by its reason.
func WriteTable(w io.Writer, r *Report) error {
	p, n := r.Summary.Pods, r.Summary.Nodes
	if r.Incomplete {
		fmt.Fprintf(w, "INCOMPLETE: interrupted after %s of cluster time (seed %d); the figures are what the run reached.\n\n", formatSeconds(r.SimulatedSeconds), r.Seed)
	} else {
		fmt.Fprintf(w, "Simulated %s of cluster time (seed %d).\n\n", formatSeconds(r.SimulatedSeconds), r.Seed)
	}
	fmt.Fprintf(w, "Pods:  %d total, %d scheduled, %d unschedulable", p.Total, p.Scheduled, p.Unschedulable)
	if p.Gated > 0 {
		fmt.Fprintf(w, ", %d gated", p.Gated)
	}
	fmt.Fprintf(w, "; %d pending, %d running, %d succeeded, %d failed", p.Pending, p.Running, p.Succeeded, p.Failed)
	if p.Deleted > 0 {
		fmt.Fprintf(w, ", %d deleted", p.Deleted)
	}
	fmt.Fprintln(w)
	ot, overTime := r.OverTime, r.OverTime.Emptier()
	if overTime {
		fmt.Fprintf(w, "       over the run: running %s; bound %s\n", peakMean(ot.PodsRunning, count), peakMean(ot.PodsBound, count))
	}
	fmt.Fprintf(w, "Nodes: %d total, %d ready, %d used\n", n.Total, n.Ready, n.Used)
	if overTime {
		fmt.Fprintf(w, "       over the run: used %s\n", peakMean(ot.NodesUsed, count))
	}
	writeGPU(w, r)
	if wl := r.Summary.Workloads; wl.Total > 0 {
		fmt.Fprintf(w, "Workloads: %d total, %d failing\n", wl.Total, wl.Failing)
	}
	writeFailingWorkloads(w, r)
	writeArrivals(w, r)

	if len(r.Nodes) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tREADY\tPODS\tCPU\tMEMORY")
		for i, nr := range r.Nodes {
			if i == maxTableNodes {
				fmt.Fprintf(tw, "… %d more nodes (see -o json)\t\t\t\t\n", len(r.Nodes)-maxTableNodes)
				break
			}
			fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%s\n", nr.Name, nr.Ready,
				usage(nr, "pods"), usage(nr, "cpu"), usage(nr, "memory"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if err := writeWorkloadTable(w, r); err != nil {
		return err
	}

	if err := writeVolumes(w, r); err != nil {
		return err
	}

	if err := writeAutoscaling(w, r); err != nil {
		return err
	}

	if err := writeHPAs(w, r); err != nil {
		return err
	}

	if err := writeUsage(w, r); err != nil {
		return err
	}

	if orphans := PodsOnUnknownNodes(r); len(orphans) > 0 {
		fmt.Fprintf(w, "\nPods still bound to a node that no longer exists when the run ended (%d), with their phase:\n", len(orphans))
		for i, o := range orphans {
			if i == maxPodsPerReason {
				fmt.Fprintf(w, "  … and %d more\n", len(orphans)-maxPodsPerReason)
				break
			}
			fmt.Fprintf(w, "  %s\n", o)
		}
		fmt.Fprintf(w, "  The pod garbage collector deletes such pods once they have been orphaned for %s (its quarantine),\n"+
			"  in a real cluster as in kwoksim: the run ended before it did.\n", FormatSeconds(PodGCQuarantine.Seconds()))
	}

	if err := writeDisruptions(w, r); err != nil {
		return err
	}

	if err := writeStatistics(w, r); err != nil {
		return err
	}

	if len(r.Transitions) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tSTAGE\tTRANSITIONS\tDELAY P50\tP90\tP99\tMAX")
		for _, t := range r.Transitions {
			d := t.DelaySeconds
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", t.Kind, t.Stage, t.Count,
				formatSeconds(d.P50), formatSeconds(d.P90), formatSeconds(d.P99), formatSeconds(d.Max))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(r.TraceErrors) > 0 {
		fmt.Fprintf(w, "\nTrace events not carried out (%d):\n", len(r.TraceErrors))
		for i, e := range r.TraceErrors {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "  … %d more (see -o json)\n", len(r.TraceErrors)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(w, "  t=%s %s:%d: %s\n", formatSeconds(e.At), e.File, e.Line, e.Message)
		}
	}

	if len(r.Warnings) > 0 {
		fmt.Fprintf(w, "\nWarnings from the simulated controllers (%d):\n", len(r.Warnings))
		for i, e := range r.Warnings {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "  … %d more (see -o json)\n", len(r.Warnings)-maxReasonTableLength)
				break
			}
			times := ""
			if e.Count > 1 {
				times = fmt.Sprintf(" (%d times)", e.Count)
			}
			fmt.Fprintf(w, "  t=%s %s %s: %s: %s%s\n", formatSeconds(e.At), e.Kind, objectName(e.Namespace, e.Name), e.Reason, e.Message, times)
		}
	}

	writeInputs(w, r)

	groups := unschedulableByReason(r)
	if len(groups) > 0 {
		fmt.Fprintf(w, "\nUnschedulable pods (%d), by the scheduler's reason:\n", p.Unschedulable)
		for i, g := range groups {
			if i == maxReasonTableLength {
				fmt.Fprintf(w, "… %d more reasons (see -o json)\n", len(groups)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(w, "\n  %d pod(s): %s\n", len(g.pods), g.reason)
			if hint := UnschedulableHint(r, g.reason); hint != "" {
				fmt.Fprintf(w, "    hint: %s\n", hint)
			}
			for j, name := range g.pods {
				if j == maxPodsPerReason {
					fmt.Fprintf(w, "    … and %d more\n", len(g.pods)-maxPodsPerReason)
					break
				}
				fmt.Fprintf(w, "    %s\n", name)
			}
		}
	}
	writeGated(w, r)
	return nil
}

// usage renders "requested/allocatable (percent)" for one resource of a node.
func usage(nr NodeReport, res string) string {
	alloc, ok := nr.Allocatable[res]
	if !ok {
		return "-"
	}
	req := nr.Requested[res]
	if req == "" {
		req = "0"
	}
	a, errA := resource.ParseQuantity(alloc)
	q, errQ := resource.ParseQuantity(req)
	if errA != nil || errQ != nil || a.IsZero() {
		return req + "/" + alloc
	}
	if r, al, ok := inOneUnit(res, q, a); ok {
		req, alloc = r, al
	}
	return fmt.Sprintf("%s/%s (%.0f%%)", req, alloc, 100*q.AsApproximateFloat64()/a.AsApproximateFloat64())
}

// inOneUnit renders a byte quantity (memory, ephemeral storage, huge pages) and its
// allocatable in the same unit, the largest in which the allocatable is at least 1, with up to
// two decimals: 8332Mi of 15258000Ki is 8.14Gi/14.55Gi, not 8332Mi/15258000Ki. The units are
// binary (Ki, Mi, Gi, …) unless the allocatable was written in decimal ones (16G). ok is false
// for other resources, whose cells stay as the quantities are written (cpu 1500m/4).
func inOneUnit(res string, req, alloc resource.Quantity) (r, a string, ok bool) {
	if res != "memory" && res != "ephemeral-storage" && !strings.HasPrefix(res, "hugepages-") {
		return "", "", false
	}
	base, suffixes := 1024.0, []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	if alloc.Format != resource.BinarySI {
		base, suffixes = 1000, []string{"", "k", "M", "G", "T", "P", "E"}
	}
	av, rv := alloc.AsApproximateFloat64(), req.AsApproximateFloat64()
	unit, i := 1.0, 0
	for i+1 < len(suffixes) && av >= unit*base {
		unit *= base
		i++
	}
	r, a = inUnit(rv, unit), inUnit(av, unit)+suffixes[i]
	if r != "0" {
		r += suffixes[i]
	}
	return r, a, true
}

// inUnit is v/unit with up to two decimals, trailing zeros dropped; a value those two decimals
// would show as 0 gets two significant digits instead. Nothing is 0, without a unit.
func inUnit(v, unit float64) string {
	if v == 0 {
		return "0"
	}
	x := v / unit
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
	if (s == "0" || s == "-0") && x != 0 {
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
	return s
}

// UnschedulableHint is what the table adds under an unschedulable reason, for the user to do
// about it, or "": for a taint no pod tolerates, the taints the nodes carry (the scheduler's
// message no longer names them). The HTML page shows the same.
func UnschedulableHint(r *Report, reason string) string {
	if strings.Contains(reason, "untolerated taint") {
		return fmt.Sprintf("the nodes carry %s; add a matching toleration to the pod template", taintSummary(r))
	}
	return ""
}

// PodsOnUnknownNodes lists the pods that exist at the end of the run whose spec.nodeName
// names no node of the cluster, with their phase: nothing runs them any more, in a real
// cluster or here, but they keep the phase they had until the pod garbage collector deletes
// them.
func PodsOnUnknownNodes(r *Report) []string {
	known := make(map[string]bool, len(r.Nodes))
	for _, n := range r.Nodes {
		known[n.Name] = true
	}
	var out []string
	for _, p := range r.Pods {
		if p.Node != "" && !known[p.Node] && p.DeletedAt == nil {
			phase := p.Phase
			if phase == "" {
				phase = "no phase"
			}
			if p.TerminatingAt != nil {
				phase += ", terminating"
			}
			out = append(out, fmt.Sprintf("%s/%s on %s (%s)", p.Namespace, p.Name, p.Node, phase))
		}
	}
	return out
}

// peakMean renders a figure over the run as "peak P at t=T, mean M" (the mean time-weighted).
func peakMean(f OverTimeFigure, format func(float64) string) string {
	return fmt.Sprintf("peak %s at t=%s, mean %s", format(f.Peak), formatSeconds(f.PeakAt), format(f.Mean))
}

// count renders a count, or a mean of counts to one decimal.
func count(x float64) string {
	if x == math.Trunc(x) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func formatSeconds(s float64) string {
	switch {
	case s < 60:
		return strings.TrimSuffix(fmt.Sprintf("%.3f", s), ".000") + "s"
	case s < 3600:
		return fmt.Sprintf("%.1fm", s/60)
	default:
		return fmt.Sprintf("%.1fh", s/3600)
	}
}

// taintSummary lists the distinct node taints with how many nodes carry each, since the
// scheduler's message no longer names them.
func taintSummary(r *Report) string {
	count := map[string]int{}
	for _, n := range r.Nodes {
		for _, t := range n.Taints {
			count[t]++
		}
	}
	if len(count) == 0 {
		return "no taints"
	}
	keys := make([]string, 0, len(count))
	for t := range count {
		keys = append(keys, t)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, t := range keys {
		parts = append(parts, fmt.Sprintf("%s (%d node(s))", t, count[t]))
	}
	return "taints " + strings.Join(parts, ", ")
}

// objectName is namespace/name, or name for a cluster-scoped object.
func objectName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
