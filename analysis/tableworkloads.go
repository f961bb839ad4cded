package analysis

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// maxTableWorkloads bounds the workload table; the JSON report lists them all.
const maxTableWorkloads = 40

// WorkloadsFailingFirst is the report's workloads with the failing ones first, each part in
// the report's order (kind, namespace, name): the order the table and the HTML page show.
func WorkloadsFailingFirst(r *Report) []WorkloadReport {
	out := append([]WorkloadReport(nil), r.Workloads...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Failing && !out[j].Failing })
	return out
}

// FailingConditions are the conditions that make a workload failing, as "Type (Reason):
// message", the reason left out when it repeats the type.
func FailingConditions(w WorkloadReport) []string {
	var out []string
	for _, c := range w.Conditions {
		if !WorkloadFailing(w.Kind, c) {
			continue
		}
		head := c.Type
		if c.Reason != "" && c.Reason != c.Type {
			head += " (" + c.Reason + ")"
		}
		out = append(out, head+": "+c.Message)
	}
	return out
}

// writeFailingWorkloads lists the failing workloads with what makes each fail. It comes right
// after the totals: a workload that creates no pods leaves no other trace in the table.
func writeFailingWorkloads(w io.Writer, r *Report) {
	if r.Summary.Workloads.Failing == 0 {
		return
	}
	fmt.Fprintf(w, "\nFailing workloads (%d):\n", r.Summary.Workloads.Failing)
	shown := 0
	for _, wl := range WorkloadsFailingFirst(r) {
		if !wl.Failing {
			break
		}
		if shown == maxReasonTableLength {
			fmt.Fprintf(w, "  … %d more (see -o json)\n", r.Summary.Workloads.Failing-shown)
			break
		}
		shown++
		fmt.Fprintf(w, "  %s %s: %d/%d ready\n", wl.Kind, objectName(wl.Namespace, wl.Name), wl.Ready, wl.Desired)
		for _, c := range FailingConditions(wl) {
			fmt.Fprintf(w, "    %s\n", c)
		}
	}
}

// writeWorkloadTable is one line per workload, the failing ones first.
func writeWorkloadTable(w io.Writer, r *Report) error {
	if len(r.Workloads) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tWORKLOAD\tDESIRED\tCURRENT\tREADY\tSTATUS")
	for i, wl := range WorkloadsFailingFirst(r) {
		if i == maxTableWorkloads {
			fmt.Fprintf(tw, "… %d more workloads (see -o json)\t\t\t\t\t\n", len(r.Workloads)-maxTableWorkloads)
			break
		}
		status := "ok"
		if wl.Failing {
			var reasons []string
			for _, c := range wl.Conditions {
				if WorkloadFailing(wl.Kind, c) {
					reasons = append(reasons, c.Reason)
				}
			}
			status = "failing: " + strings.Join(reasons, ", ")
		}
		if vw := wl.VolumeWait; vw != nil && wl.Failing {
			status += "; " + VolumeWaitStatus(*vw)
		} else if vw != nil {
			status = VolumeWaitStatus(*vw)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", wl.Kind, objectName(wl.Namespace, wl.Name), wl.Desired, wl.Current, wl.Ready, status)
	}
	return tw.Flush()
}

// VolumeWaitStatus is a workload's volume wait as its row shows it.
func VolumeWaitStatus(vw WorkloadVolumeWait) string {
	return fmt.Sprintf("%d pod(s) waiting for volumes: %s", vw.Pods, vw.Reason)
}

// GatedByReason groups the pods the report counts as gated by their reason, largest group
// first, then by reason; each group's pods in the report's order.
func GatedByReason(r *Report) (reasons []string, pods map[string][]string) {
	pods = map[string][]string{}
	for _, pr := range r.Pods {
		if gated(pr) {
			pods[pr.GatedReason] = append(pods[pr.GatedReason], pr.Namespace+"/"+pr.Name)
		}
	}
	for reason := range pods {
		reasons = append(reasons, reason)
	}
	sort.Slice(reasons, func(i, j int) bool {
		a, b := reasons[i], reasons[j]
		if len(pods[a]) != len(pods[b]) {
			return len(pods[a]) > len(pods[b])
		}
		return a < b
	})
	return reasons, pods
}

// writeGated lists the pods the scheduling queue holds before any attempt, by reason.
func writeGated(w io.Writer, r *Report) {
	if r.Summary.Pods.Gated == 0 {
		return
	}
	reasons, by := GatedByReason(r)
	fmt.Fprintf(w, "\nPods held before scheduling (%d), never attempted, by reason:\n", r.Summary.Pods.Gated)
	for i, reason := range reasons {
		if i == maxReasonTableLength {
			fmt.Fprintf(w, "… %d more reasons (see -o json)\n", len(reasons)-maxReasonTableLength)
			break
		}
		fmt.Fprintf(w, "\n  %d pod(s): %s\n", len(by[reason]), reason)
		for j, name := range by[reason] {
			if j == maxPodsPerReason {
				fmt.Fprintf(w, "    … and %d more\n", len(by[reason])-maxPodsPerReason)
				break
			}
			fmt.Fprintf(w, "    %s\n", name)
		}
	}
}
