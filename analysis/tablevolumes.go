package analysis

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// writeVolumes is the volumes block: claims by phase, the provisioning and binding latency,
// the claims per storage class and the pods waiting for volumes with why. Nothing for a run
// without claims.
func writeVolumes(w io.Writer, r *Report) error {
	v := r.Volumes
	if v == nil {
		return nil
	}
	c := v.Claims
	fmt.Fprintf(w, "\nVolumes: %d claims: %d bound, %d pending, %d lost", c.Total, c.Bound, c.Pending, c.Lost)
	if c.Terminating > 0 {
		fmt.Fprintf(w, " (%d terminating)", c.Terminating)
	}
	if c.Deleted > 0 {
		fmt.Fprintf(w, ", %d deleted", c.Deleted)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLAIM STATISTIC\tCLAIMS\tP50\tP90\tP99\tMAX")
	for _, row := range []struct {
		name string
		d    Distribution
	}{{"provisioning (provisionable → Bound)", v.Provisioning}, {"binding (created → Bound)", v.Binding}} {
		if row.d.Count == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\n", row.name)
			continue
		}
		d := row.d
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", row.name, d.Count, formatSeconds(d.P50), formatSeconds(d.P90), formatSeconds(d.P99), formatSeconds(d.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STORAGE CLASS\tCLAIMS\tBOUND\tPENDING\tLOST\tDELETED")
	for _, sc := range v.StorageClasses {
		n := sc.Claims
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", StorageClassName(sc.StorageClass), n.Total, n.Bound, n.Pending, n.Lost, n.Deleted)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.PodsWaiting) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nPods waiting for volumes (%d):\n", len(v.PodsWaiting))
	for i, p := range v.PodsWaiting {
		if i == maxReasonTableLength {
			fmt.Fprintf(w, "  … %d more (see -o json)\n", len(v.PodsWaiting)-maxReasonTableLength)
			break
		}
		fmt.Fprintf(w, "  %s (claim %s, %s): %s\n", objectName(p.Namespace, p.Name), p.Claim, p.ClaimPhase, p.Reason)
	}
	return nil
}

// StorageClassName is a claim's class as the report shows it: "(none)" for a claim without
// one, which binds only to a volume without a class.
func StorageClassName(name string) string {
	if name == "" {
		return "(none)"
	}
	return name
}
