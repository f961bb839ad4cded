package analysis

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// PodGCQuarantine is how long the pod garbage collector waits before deleting a pod bound to
// a node that does not exist (quarantineTime in pkg/controller/podgc/gc_controller.go).
const PodGCQuarantine = 40 * time.Second

// writeDisruptions writes the sections on evictions, disruption budgets, drains and the
// workloads' recovery, each only when it has something to show, so a run without failures
// reads as before.
func writeDisruptions(w io.Writer, r *Report) error {
	if len(r.Evictions) > 0 {
		fmt.Fprintf(w, "\nEvictions (%d), by reason:\n", r.Summary.Evictions)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  REASON\tCONDITION REASON\tPODS\tFIRST\tLAST")
		for _, e := range r.Evictions {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", e.Reason, e.ConditionReason, e.Count, formatSeconds(e.First), formatSeconds(e.Last))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if ShowBudgets(r) {
		fmt.Fprintf(w, "\nDisruption budgets (%d):\n", len(r.DisruptionBudgets))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  BUDGET\tREQUIRES\tHEALTHY\tALLOWED\tREFUSED EVICTIONS\tFIRST\tLAST")
		for _, b := range r.DisruptionBudgets {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", objectName(b.Namespace, b.Name), BudgetRequires(b),
				budgetHealthy(b), budgetAllowed(b), b.RefusedEvictions, optionalSeconds(b.FirstRefused), optionalSeconds(b.LastRefused))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Drains) > 0 {
		fmt.Fprintf(w, "\nDrains (%d):\n", len(r.Drains))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NODE\tSTART\tEND\tOUTCOME\tEVICTED\tREFUSED\tSKIPPED")
		for _, d := range r.Drains {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\n", d.Node, formatSeconds(d.Start), optionalSeconds(d.End),
				d.Outcome, d.Evicted, d.Refused, len(d.Skipped))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, d := range r.Drains {
			if d.Message != "" {
				fmt.Fprintf(w, "  %s: %s\n", d.Node, d.Message)
			}
		}
	}
	rows := RecoveryRows(r)
	if len(rows) > 0 {
		fmt.Fprintf(w, "\nRecovery of the workloads that lost pods to disruptions:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  WORKLOAD\tDISRUPTED AT\tPODS\tMIN READY\tRECOVERED AT\tRECOVERY")
		for i, row := range rows {
			if i == maxReasonTableLength {
				fmt.Fprintf(tw, "  … %d more (see -o json)\t\t\t\t\t\n", len(rows)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d/%d\t%s\t%s\n", row.Workload, formatSeconds(row.Start), row.Pods,
				row.MinReady, row.Wanted, optionalSeconds(row.RecoveredAt), row.Recovery)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// ShowBudgets tells whether the table and the page show the disruption budgets: when some
// pod was evicted, some eviction refused or some node drained, which is when a budget plays
// a part. The JSON report lists them whenever they exist.
func ShowBudgets(r *Report) bool {
	if len(r.DisruptionBudgets) == 0 {
		return false
	}
	if r.Summary.Evictions > 0 || len(r.Drains) > 0 {
		return true
	}
	for _, b := range r.DisruptionBudgets {
		if b.RefusedEvictions > 0 {
			return true
		}
	}
	return false
}

// RecoveryRow is one disruption episode of a workload, as the table and the HTML page show it.
type RecoveryRow struct {
	// Workload is "Kind namespace/name".
	Workload string
	WorkloadDisruption
	// Recovery is the recovery time, or "not within the run".
	Recovery string
}

// RecoveryRows lists every workload's disruption episodes, in the report's workload order.
func RecoveryRows(r *Report) []RecoveryRow {
	var out []RecoveryRow
	for _, wl := range r.Workloads {
		for _, d := range wl.Disruptions {
			row := RecoveryRow{Workload: wl.Kind + " " + objectName(wl.Namespace, wl.Name), WorkloadDisruption: d,
				Recovery: "not within the run"}
			if d.RecoverySeconds != nil {
				row.Recovery = formatSeconds(*d.RecoverySeconds)
			}
			out = append(out, row)
		}
	}
	return out
}

// BudgetRequires is what a budget asks, as "minAvailable 2" or "maxUnavailable 25%".
func BudgetRequires(b DisruptionBudgetReport) string {
	var parts []string
	if b.MinAvailable != "" {
		parts = append(parts, "minAvailable "+b.MinAvailable)
	}
	if b.MaxUnavailable != "" {
		parts = append(parts, "maxUnavailable "+b.MaxUnavailable)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func budgetHealthy(b DisruptionBudgetReport) string {
	if b.Deleted {
		return "(deleted)"
	}
	return fmt.Sprintf("%d/%d (of %d)", b.CurrentHealthy, b.DesiredHealthy, b.ExpectedPods)
}

func budgetAllowed(b DisruptionBudgetReport) string {
	if b.Deleted {
		return "-"
	}
	return fmt.Sprint(b.DisruptionsAllowed)
}

// optionalSeconds formats a time that may not have happened.
func optionalSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return formatSeconds(*s)
}
