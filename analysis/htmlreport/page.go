package htmlreport

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/analysis/plots"
)

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"seconds": analysis.FormatSeconds,
	"percent": percent,
	// optseconds formats a time that may not have happened ("–").
	"optseconds": func(s *float64) string {
		if s == nil {
			return "–"
		}
		return analysis.FormatSeconds(*s)
	},
	"requires":     analysis.BudgetRequires,
	"storageclass": analysis.StorageClassName,
	"hours":        analysis.Hours,
	"money":        analysis.Money,
	"scaleevent":   analysis.ScaleEventLine,
	"unremovable":  analysis.UnremovableLine,
	"clock":        analysis.ClockSeconds,
	"hpafailure":   analysis.HPAFailureLine,
	"cores":        analysis.FormatCores,
	"bytes":        analysis.FormatBytes,
}).Parse(pageSource))

// Limits that keep the page quick to open on large clusters; the JSON report has everything.
const (
	maxNodes       = 1000
	maxPodsPerRow  = 5
	maxTraceErrors = 500
)

// Write renders r as an HTML page. The plots are SVG documents in data: URIs, so the page needs
// no other file; its Content-Security-Policy forbids any other source, which a browser enforces.
func Write(w io.Writer, r *analysis.Report) error {
	v, err := newView(r)
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, v)
}

// view is what the template reads: the report plus the rows prepared for it.
type view struct {
	R *analysis.Report
	// Figures are the plots the page shows together; GPUFigure is the gpu plot, shown in the
	// GPU section beside the figures it draws over time, nil without one.
	Figures      []figure
	GPUFigure    *figure
	Distribution []distribution
	Utilization  []utilization
	// OverTime are the rows of the figures over the whole run (see analysis.OverTime);
	// Emptier says the run ended below its peaks. Empty for a report without them.
	OverTime     []overTimeRow
	Emptier      bool
	Resources    []string
	Nodes        []nodeRow
	MoreNodes    int
	Reasons      []reason
	Workloads    []workloadRow
	MoreWorkload int
	Gated        []gatedRow
	TraceErrors  []analysis.TraceErrorReport
	MoreErrors   int
	// Recovery are the workloads' disruption episodes; the disruptions section shows when
	// it, the evictions, the budgets or the drains are not empty.
	Recovery     []analysis.RecoveryRow
	MoreRecovery int
	Budgets      bool
	Disruptions  bool
	// Warnings are the simulated controllers' warnings, as the table lists them.
	Warnings     []analysis.WarningReport
	MoreWarnings int
	// Orphans are the pods still bound to a node that is gone, with their phase, and
	// Quarantine the pod garbage collector's wait, which the page explains as the table does.
	Orphans     []string
	MoreOrphans int
	OrphanCount int
	Quarantine  string
	// Waiting are the pods waiting for volumes (see analysis.VolumesReport), the first
	// maxNodes of them.
	Waiting     []analysis.PodVolumeWait
	MoreWaiting int
	// ScaleEvents are the autoscaler's events, the first maxTraceErrors of them, and
	// BillingNote how the autoscaling section bills nodes (see analysis.AutoscalingReport).
	ScaleEvents     []analysis.ScaleEventReport
	MoreScaleEvents int
	BillingNote     string
	// HPAs are the horizontalPodAutoscalers section's HPAs, each with its first
	// maxTraceErrors rescales.
	HPAs []hpaRow
	// Command is the provenance's command line, quoted for a POSIX shell; empty without a
	// provenance.
	Command string
}

type figure struct {
	Name, Title, About string
	Src                template.URL
}

type distribution struct {
	Name string
	analysis.Distribution
	Seconds bool
}

type utilization struct {
	Resource string
	analysis.UtilizationStats
}

// hpaRow is one HPA and the rescales the page lists.
type hpaRow struct {
	analysis.HPAReportItem
	Shown        []analysis.HPARescale
	MoreRescales int
}

// overTimeRow is one figure over the run, rendered.
type overTimeRow struct {
	Name, Final, Peak, PeakAt, Mean string
}

type nodeRow struct {
	analysis.NodeReport
	Usage []usage
}

// usage is one resource of one node: the table's text and, when the statistics give it, the
// utilization bar's width in percent.
type usage struct {
	Text    string
	Percent float64
	Known   bool
}

// workloadRow is one workload and, when it is failing, the conditions that make it so.
type workloadRow struct {
	analysis.WorkloadReport
	Failures []string
}

// gatedRow is a reason the scheduling queue holds pods before any attempt, and those pods.
type gatedRow struct {
	Reason string
	Count  int
	Pods   []string
	More   int
}

type reason struct {
	analysis.ReasonCount
	Pods []string
	More int
	// Hint is what the table adds under the reason (analysis.UnschedulableHint), or "".
	Hint string
}

func newView(r *analysis.Report) (*view, error) {
	v := &view{R: r, Resources: resources(r)}
	if r.Volumes != nil {
		v.Waiting = r.Volumes.PodsWaiting
		if len(v.Waiting) > maxNodes {
			v.MoreWaiting, v.Waiting = len(v.Waiting)-maxNodes, v.Waiting[:maxNodes]
		}
	}
	if a := r.Autoscaling; a != nil {
		v.ScaleEvents, v.BillingNote = a.Events, analysis.BillingNote
		if len(v.ScaleEvents) > maxTraceErrors {
			v.MoreScaleEvents, v.ScaleEvents = len(v.ScaleEvents)-maxTraceErrors, v.ScaleEvents[:maxTraceErrors]
		}
	}
	if h := r.HorizontalPodAutoscalers; h != nil {
		for _, it := range h.HPAs {
			row := hpaRow{HPAReportItem: it, Shown: it.Rescales}
			if len(row.Shown) > maxTraceErrors {
				row.MoreRescales, row.Shown = len(row.Shown)-maxTraceErrors, row.Shown[:maxTraceErrors]
			}
			v.HPAs = append(v.HPAs, row)
		}
	}
	for _, f := range plots.Figures(r) {
		var b bytes.Buffer
		if err := f.WriteSVG(&b); err != nil {
			return nil, err
		}
		src := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
		fig := figure{Name: f.Name, Title: f.Title, About: f.About, Src: template.URL(src)}
		if f.Name == "gpu" {
			v.GPUFigure = &fig
			continue
		}
		v.Figures = append(v.Figures, fig)
	}
	v.Distribution = []distribution{
		{"Scheduling latency (created → bound)", r.Latency.Scheduling, true},
		{"Startup latency (created → Running)", r.Latency.Startup, true},
		{"Scheduling attempts per pod", r.Attempts, false},
	}
	for _, res := range sortedKeys(r.Utilization) {
		v.Utilization = append(v.Utilization, utilization{res, r.Utilization[res]})
	}
	v.OverTime, v.Emptier = overTimeRows(r.OverTime), r.OverTime.Emptier()
	for i, n := range r.Nodes {
		if i == maxNodes {
			v.MoreNodes = len(r.Nodes) - maxNodes
			break
		}
		row := nodeRow{NodeReport: n}
		for _, res := range v.Resources {
			u, ok := n.Utilization[res]
			row.Usage = append(row.Usage, usage{Text: analysis.FormatUsage(n, res), Percent: 100 * min(max(u, 0), 1), Known: ok})
		}
		v.Nodes = append(v.Nodes, row)
	}
	v.Reasons = reasons(r)
	for i := range v.Reasons {
		v.Reasons[i].Hint = analysis.UnschedulableHint(r, v.Reasons[i].Reason)
	}
	v.Warnings = r.Warnings
	if len(v.Warnings) > maxTraceErrors {
		v.MoreWarnings = len(v.Warnings) - maxTraceErrors
		v.Warnings = v.Warnings[:maxTraceErrors]
	}
	v.Orphans = analysis.PodsOnUnknownNodes(r)
	v.OrphanCount = len(v.Orphans)
	if len(v.Orphans) > maxNodes {
		v.MoreOrphans = len(v.Orphans) - maxNodes
		v.Orphans = v.Orphans[:maxNodes]
	}
	v.Quarantine = analysis.FormatSeconds(analysis.PodGCQuarantine.Seconds())
	if r.Provenance != nil {
		v.Command = shellQuote(r.Provenance.Command)
	}
	for i, w := range analysis.WorkloadsFailingFirst(r) {
		if i == maxNodes {
			v.MoreWorkload = len(r.Workloads) - maxNodes
			break
		}
		v.Workloads = append(v.Workloads, workloadRow{WorkloadReport: w, Failures: analysis.FailingConditions(w)})
	}
	gatedReasons, gatedPods := analysis.GatedByReason(r)
	for _, g := range gatedReasons {
		row := gatedRow{Reason: g, Count: len(gatedPods[g]), Pods: gatedPods[g]}
		if len(row.Pods) > maxPodsPerRow {
			row.More, row.Pods = len(row.Pods)-maxPodsPerRow, row.Pods[:maxPodsPerRow]
		}
		v.Gated = append(v.Gated, row)
	}
	v.Recovery = analysis.RecoveryRows(r)
	if len(v.Recovery) > maxNodes {
		v.MoreRecovery = len(v.Recovery) - maxNodes
		v.Recovery = v.Recovery[:maxNodes]
	}
	v.Budgets = analysis.ShowBudgets(r)
	v.Disruptions = len(r.Evictions) > 0 || v.Budgets || len(r.Drains) > 0 || len(v.Recovery) > 0
	v.TraceErrors = r.TraceErrors
	if len(v.TraceErrors) > maxTraceErrors {
		v.MoreErrors = len(v.TraceErrors) - maxTraceErrors
		v.TraceErrors = v.TraceErrors[:maxTraceErrors]
	}
	return v, nil
}

// overTimeRows renders the figures over the run: the counts, then the utilization per
// resource; none for a report written before kwoksim had them.
func overTimeRows(o analysis.OverTime) []overTimeRow {
	if o.Utilization == nil {
		return nil
	}
	count := func(name string, f analysis.OverTimeFigure) overTimeRow {
		return overTimeRow{name, fmt.Sprint(f.Final), fmt.Sprint(f.Peak), analysis.FormatSeconds(f.PeakAt), fmt.Sprintf("%.1f", f.Mean)}
	}
	rows := []overTimeRow{
		count("pods running", o.PodsRunning),
		count("pods pending", o.PodsPending),
		count("pods bound", o.PodsBound),
		count("nodes used", o.NodesUsed),
	}
	for _, res := range sortedKeys(o.Utilization) {
		f := o.Utilization[res]
		rows = append(rows, overTimeRow{res + " utilization", percent(f.Final), percent(f.Peak), analysis.FormatSeconds(f.PeakAt), percent(f.Mean)})
	}
	return rows
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// resources lists the resources the nodes offer: cpu, memory and pods first, as the table
// shows them, then the others by name.
func resources(r *analysis.Report) []string {
	seen := map[string]bool{}
	for _, n := range r.Nodes {
		for res := range n.Allocatable {
			seen[res] = true
		}
	}
	var out []string
	for _, res := range []string{"cpu", "memory", "pods"} {
		if seen[res] {
			out = append(out, res)
			delete(seen, res)
		}
	}
	return append(out, sortedKeys(seen)...)
}

// unschedulable reports whether a pod is one the report counts as unschedulable: it exists,
// is unbound, and the scheduler said why.
func unschedulable(p analysis.PodReport) bool {
	return p.Node == "" && p.UnschedulableReason != "" && p.DeletedAt == nil
}

// reasons pairs each unschedulable reason with the first pods it kept out, most pods first,
// then by reason. A report whose statistics do not group the reasons gets them grouped from
// its pods; one that gives a reason an entry per structured outcome gets them added up, as
// the table shows them.
func reasons(r *analysis.Report) []reason {
	counts := r.UnschedulableReasons
	if len(counts) == 0 {
		by := map[string]int{}
		for _, p := range r.Pods {
			if unschedulable(p) {
				by[p.UnschedulableReason]++
			}
		}
		for _, k := range sortedKeys(by) {
			counts = append(counts, analysis.ReasonCount{Reason: k, Count: by[k]})
		}
		sort.SliceStable(counts, func(i, j int) bool { return counts[i].Count > counts[j].Count })
	}
	// The report may give a message an entry per structured outcome; the page, as the table,
	// shows messages.
	out := make([]reason, 0, len(counts))
	index := map[string]int{}
	for _, rc := range counts {
		if i, ok := index[rc.Reason]; ok {
			out[i].Count += rc.Count
			continue
		}
		index[rc.Reason] = len(out)
		out = append(out, reason{ReasonCount: rc})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	for i, rc := range out {
		index[rc.Reason] = i
	}
	for _, p := range r.Pods {
		i, ok := index[p.UnschedulableReason]
		if !ok || !unschedulable(p) {
			continue
		}
		if len(out[i].Pods) == maxPodsPerRow {
			out[i].More++
			continue
		}
		out[i].Pods = append(out[i].Pods, p.Namespace+"/"+p.Name)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shellQuote joins a command line as a POSIX shell would read it back: an argument with a
// character outside a safe set is single-quoted, each single quote in it closed, escaped and
// reopened.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
