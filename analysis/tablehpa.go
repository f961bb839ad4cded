package analysis

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/api/resource"
)

// writeHPAs is the horizontal pod autoscaling block: a line per HPA, its rescales, a WARNING
// per HPA whose reconciles failed (loudly: a failing HPA scales nothing, which its replica
// line alone would not tell) and what kwoksim leaves out of the controller. Nothing for a run
// without HPAs.
func writeHPAs(w io.Writer, r *Report) error {
	h := r.HorizontalPodAutoscalers
	if h == nil {
		return nil
	}
	fmt.Fprintf(w, "\nHorizontal pod autoscaling (%d HPA(s)):\n", len(h.HPAs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HPA\tTARGET\tMIN–MAX\tREPLICAS (initial → peak → final)\tSCALE-UPS\tSCALE-DOWNS\tAT MAX\tPATH")
	for _, it := range h.HPAs {
		fmt.Fprintf(tw, "%s\t%s\t%d–%d\t%d → %d → %d\t%d\t%d\t%s\t%s\n", objectName(it.Namespace, it.Name), it.Target,
			it.MinReplicas, it.MaxReplicas, it.InitialReplicas, it.PeakReplicas, it.FinalReplicas, it.ScaleUps, it.ScaleDowns,
			ClockSeconds(it.SecondsAtMax), it.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, it := range h.HPAs {
		if len(it.Rescales) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nRescales of %s (%d):\n", objectName(it.Namespace, it.Name), len(it.Rescales))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for i, rs := range it.Rescales {
			if i == maxReasonTableLength {
				fmt.Fprintf(tw, "  … %d more (see -o json)\n", len(it.Rescales)-maxReasonTableLength)
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", ClockSeconds(rs.At), fmt.Sprintf("%d → %d", rs.From, rs.To), rs.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, it := range h.HPAs {
		switch {
		case it.FailedReconciles > it.StartupFailures || it.FailedReconciles == it.Reconciles && it.Reconciles > 0:
			fmt.Fprintf(w, "\nWARNING: %s\n", HPAFailureLine(it))
		case it.StartupFailures > 0:
			// Expected when the HPA came with its target: not a failure to warn of.
			fmt.Fprintf(w, "\nhpa %s: the first %d reconcile(s) computed no replica count, before its target's pods had metrics, "+
				"as on a real cluster when an HPA and its target are applied together\n", objectName(it.Namespace, it.Name), it.StartupFailures)
		}
	}
	if len(h.NotModelled) > 0 {
		fmt.Fprintln(w, "\nNot modelled of the HPA controller, and what a real one does:")
		for _, s := range h.NotModelled {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	return nil
}

// HPAFailureLine says how many of an HPA's reconciles computed no replica count, and the last
// failure, as the table's WARNING line and the HTML page show it.
func HPAFailureLine(it HPAReportItem) string {
	s := fmt.Sprintf("hpa %s: %d of %d reconciles computed no replica count", objectName(it.Namespace, it.Name),
		it.FailedReconciles, it.Reconciles)
	if it.LastFailure != "" {
		s += ": " + it.LastFailure
	}
	if strings.Contains(it.LastFailure, noMetrics) {
		s += " (" + noUsageHint + ")"
	}
	return s
}

// noMetrics is the resource metrics API's answer when no pod of the target has usage data
// (metrics/client.go), and noUsageHint what gives the pods some.
const (
	noMetrics   = "no metrics returned from resource metrics API"
	noUsageHint = "no usage data for the target's pods: give them the kwoksim.io/cpu-usage annotation or the trace a load operation"
)

// ClockSeconds renders virtual seconds as a clock reads ("45s", "10m00s", "1h02m30s"), with
// milliseconds only when the time has some: for times of day in a run, where formatSeconds'
// one decimal of a minute would merge 10m00s and 10m03s.
func ClockSeconds(s float64) string {
	ms := int64(math.Round(s * 1000))
	h, m, sec, frac := ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000
	secs := fmt.Sprintf("%02d", sec)
	if frac != 0 {
		secs = fmt.Sprintf("%02d.%03d", sec, frac)
	}
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%ss", h, m, secs)
	case m > 0:
		return fmt.Sprintf("%dm%ss", m, secs)
	}
	return strings.TrimPrefix(secs, "0") + "s"
}

// writeUsage is the usage block: the cluster's utilization by usage beside its utilization by
// requests, per resource, then a line per workload. Nothing for a run without usage data.
func writeUsage(w io.Writer, r *Report) error {
	u := r.Usage
	if u == nil {
		return nil
	}
	fmt.Fprintln(w, "\nUsage (what the pods with usage data demand, before CPU limits and node contention; utilization over the allocatable of the existing nodes):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tBY USAGE PEAK\tMEAN\tBY REQUESTS PEAK\tMEAN\tUSED PEAK\tMEAN\tREQUESTED PEAK\tMEAN")
	for _, res := range []struct {
		name   string
		r      UsageResourceReport
		format func(float64) string
	}{{"cpu", u.CPU, FormatCores}, {"memory", u.Memory, FormatBytes}} {
		if res.r.Usage.Peak == 0 && res.r.Requested.Peak == 0 {
			continue // no pod had usage data for it
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", res.name,
			percent(res.r.UtilizationByUsage.Peak), percent(res.r.UtilizationByUsage.Mean),
			percent(res.r.UtilizationByRequests.Peak), percent(res.r.UtilizationByRequests.Mean),
			res.format(res.r.Usage.Peak), res.format(res.r.Usage.Mean),
			res.format(res.r.Requested.Peak), res.format(res.r.Requested.Mean))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(u.Workloads) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tREADY PODS PEAK\tCPU PEAK\tMEAN\tUSAGE/REQUESTS\tMEMORY PEAK\tMEAN\tUSAGE/REQUESTS\tLOADS")
	for i, wl := range u.Workloads {
		if i == maxReasonTableLength {
			fmt.Fprintf(tw, "… %d more (see -o json)\t\t\t\t\t\t\t\t\n", len(u.Workloads)-maxReasonTableLength)
			break
		}
		fmt.Fprintf(tw, "%s/%s\t%d\t%s\t%s\t%d\n", wl.Kind, objectName(wl.Namespace, wl.Name), wl.PeakReadyPods,
			usageColumns(wl.CPU, FormatCores), usageColumns(wl.Memory, FormatBytes), len(wl.Loads))
	}
	return tw.Flush()
}

// usageColumns are a workload's peak, mean and usage/requests of one resource, or dashes when
// its pods never used any (no usage data for the resource).
func usageColumns(u WorkloadResourceUsage, format func(float64) string) string {
	if u.Peak == 0 && u.Mean == 0 {
		return "-\t-\t-"
	}
	return format(u.Peak) + "\t" + format(u.Mean) + "\t" + percent(u.UsageToRequests)
}

// FormatCores renders cores as a CPU quantity, to the millicore ("500m", "6").
func FormatCores(c float64) string {
	return resource.NewMilliQuantity(int64(math.Round(c*1000)), resource.DecimalSI).String()
}

// FormatBytes renders bytes in the largest binary unit that leaves a number below 1024, with
// at most two decimals ("1.5Gi", "512Mi"); whole bytes below a KiB.
func FormatBytes(b float64) string {
	units := []string{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	if math.Abs(b) < 1024 {
		return fmt.Sprintf("%d", int64(math.Round(b)))
	}
	x, unit := b, ""
	for _, u := range units {
		if math.Abs(x) < 1024 {
			break
		}
		x, unit = x/1024, u
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".") + unit
}
