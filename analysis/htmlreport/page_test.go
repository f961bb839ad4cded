package htmlreport

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/kwoksim/kwoksim/analysis"
	"github.com/kwoksim/kwoksim/version"
)

func ptr(f float64) *float64 { return &f }

// sampleReport has a little of everything the page shows, and a message that would be markup
// if the page did not escape it.
func sampleReport() *analysis.Report {
	return &analysis.Report{
		APIVersion: analysis.APIVersion, Kind: analysis.ReportKind, Seed: 7, SimulatedSeconds: 5400,
		Summary: analysis.Summary{
			Pods:  analysis.PodSummary{Total: 4, Scheduled: 3, Unschedulable: 1, Pending: 1, Running: 3},
			Nodes: analysis.NodeSummary{Total: 2, Ready: 1, Used: 2},
		},
		Pods: []analysis.PodReport{
			{Namespace: "shop", Name: "web-0", Node: "node-a", Phase: "Running", CreatedAt: ptr(0), RunningAt: ptr(3)},
			{Namespace: "shop", Name: "web-1", Node: "node-a", Phase: "Running", CreatedAt: ptr(0), RunningAt: ptr(5)},
			{Namespace: "shop", Name: "web-2", Node: "node-b", Phase: "Running", CreatedAt: ptr(60), RunningAt: ptr(61)},
			{Namespace: "shop", Name: "big-0", Phase: "Pending", CreatedAt: ptr(60), Attempts: 4,
				UnschedulableReason: "0/2 nodes are available: 2 Insufficient cpu."},
		},
		Nodes: []analysis.NodeReport{
			{Name: "node-a", Ready: true, Pods: 2,
				Allocatable: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110", "nvidia.com/gpu": "1"},
				Requested:   map[string]string{"cpu": "3", "memory": "2Gi", "pods": "2"},
				Taints:      []string{"dedicated=web:NoSchedule"},
				Utilization: map[string]float64{"cpu": 0.75, "memory": 0.25, "pods": 2.0 / 110, "nvidia.com/gpu": 0}},
			{Name: "node-b", Ready: false, Pods: 1,
				Allocatable: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"},
				Requested:   map[string]string{"cpu": "1", "memory": "1Gi", "pods": "1"},
				Utilization: map[string]float64{"cpu": 0.25, "memory": 0.125, "pods": 1.0 / 110}},
		},
		Transitions: []analysis.TransitionReport{{Kind: "Pod", Stage: "pod-ready", Count: 3,
			DelaySeconds: analysis.Percentiles{P50: 3, P90: 5, P99: 5, Max: 5}}},
		TraceErrors: []analysis.TraceErrorReport{{At: 120, File: "trace.yaml", Line: 9,
			Message: `Deployment "<script>alert(1)</script>" not found`}},
		Latency: analysis.Latency{
			Scheduling: analysis.Distribution{P50: 0, P90: 0, P99: 0, Max: 0, Count: 3},
			Startup:    analysis.Distribution{P50: 3, P90: 5, P99: 5, Max: 5, Count: 3},
		},
		Attempts:             analysis.Distribution{P50: 1, P90: 4, P99: 4, Max: 4, Count: 4},
		Utilization:          map[string]analysis.UtilizationStats{"cpu": {Mean: 0.5, Stddev: 0.25, Max: 0.75}},
		UnschedulableReasons: []analysis.ReasonCount{{Reason: "0/2 nodes are available: 2 Insufficient cpu.", Count: 1}},
		Timeseries: analysis.Timeseries{
			T: []float64{0, 60, 5400}, Pending: []int{2, 1, 1}, Running: []int{0, 3, 3},
			Utilization: map[string][]float64{"cpu": {0, 0.5, 0.5}},
		},
		Runtime: analysis.Runtime{WallSeconds: 0.25, EventsProcessed: 42},
	}
}

func render(t *testing.T, r *analysis.Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The page refers to nothing outside itself: no script, no stylesheet or font to fetch, every
// image a data: URI holding an SVG document.
func TestPageIsSelfContained(t *testing.T) {
	page := render(t, sampleReport())
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	images := 0
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script", "link", "iframe", "object", "embed", "base":
			t.Errorf("page has a <%s> element", n.Data)
		case "style":
			if css := n.FirstChild.Data; strings.Contains(css, "url(") || strings.Contains(css, "@import") {
				t.Error("the stylesheet refers to another resource")
			}
		}
		for _, a := range n.Attr {
			switch a.Key {
			case "href", "src", "srcset", "action", "poster", "data":
				if n.Data != "img" || a.Key != "src" {
					t.Errorf("<%s %s=%.40q>: a reference", n.Data, a.Key, a.Val)
					continue
				}
				images++
				b64, ok := strings.CutPrefix(a.Val, "data:image/svg+xml;base64,")
				if !ok {
					t.Errorf("image source %.40q is not an inline SVG", a.Val)
					continue
				}
				svg, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					t.Errorf("image data: %v", err)
					continue
				}
				var root struct{ XMLName xml.Name }
				if err := xml.Unmarshal(svg, &root); err != nil || root.XMLName.Local != "svg" {
					t.Errorf("image is not an SVG document (root %v, %v)", root.XMLName, err)
				}
			}
		}
	}
	if images != 4 {
		t.Errorf("%d inline images, want the 4 plots", images)
	}
}

// What a reader looks for is on the page, as text, with markup from the inputs escaped.
func TestPageContent(t *testing.T) {
	page := render(t, sampleReport())
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && n.Parent.Data != "style" {
			text.WriteString(n.Data)
			text.WriteByte(' ')
		}
	}
	got := strings.Join(strings.Fields(text.String()), " ")
	for _, want := range []string{
		"Simulated 1.5h of cluster time with seed 7",
		"4 pods", "1 unschedulable", "2 nodes", "1 nodes ready", "2 nodes used",
		"Startup latency (created → Running) 3s 5s 5s 5s 3",
		"Scheduling attempts per pod 1 4 4 4 4",
		"cpu 50.0% 25.0% 75.0%",
		"node-a yes 2 3/4 (75%) 2Gi/8Gi (25%) 2/110 (2%) 0/1 (0%) dedicated=web:NoSchedule",
		"node-b no 1 1/4 (25%) 1Gi/8Gi (12%) 1/110 (1%) -",
		"1 0/2 nodes are available: 2 Insufficient cpu. shop/big-0",
		"Pod pod-ready 3 3s 5s 5s 5s",
		`2.0m trace.yaml:9 Deployment "<script>alert(1)</script>" not found`,
		"42 events",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page text lacks %q:\n%s", want, got)
		}
	}
	if bytes.Contains(page, []byte("<script>")) {
		t.Error("a trace error's message became markup")
	}
	// The utilization bar is sized from the statistics, in CSS html/template accepted.
	if !bytes.Contains(page, []byte(`style="width: 75.0%"`)) || bytes.Contains(page, []byte("ZgotmplZ")) {
		t.Error("node-a's cpu bar is not 75% wide")
	}
}

// Same report, same bytes.
func TestPageIsDeterministic(t *testing.T) {
	first := render(t, sampleReport())
	for range 3 {
		if !bytes.Equal(first, render(t, sampleReport())) {
			t.Fatal("two renderings of the same report differ")
		}
	}
}

// A report with nothing in it still renders, saying so instead of showing empty tables.
func TestEmptyPage(t *testing.T) {
	page := string(render(t, &analysis.Report{}))
	for _, want := range []string{"No nodes.", "Every pod the scheduler saw was placed.", "No stage ran.", "The simulated controllers raised no warning.",
		"Startup latency (created → Running)</td><td class=\"num\">–</td>",
		"Every trace event was carried out.", "No utilization statistics in this report."} {
		if !strings.Contains(page, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}

// An interrupted run's page says so at the top, instead of the usual line.
func TestIncompletePage(t *testing.T) {
	r := sampleReport()
	r.Incomplete = true
	page := string(render(t, r))
	if !strings.Contains(page, "Incomplete: the run was interrupted after 1.5h of cluster time (seed 7)") || strings.Contains(page, "Simulated 1.5h") {
		t.Errorf("the page of an interrupted run does not say so at the top")
	}
}

// Without grouped reasons in the report, the page groups the unschedulable pods' own reasons:
// most pods first; bound and deleted pods are not counted.
func TestReasonsFromPods(t *testing.T) {
	r := &analysis.Report{Pods: []analysis.PodReport{
		{Namespace: "a", Name: "p1", UnschedulableReason: "taint"},
		{Namespace: "a", Name: "p2", UnschedulableReason: "cpu"},
		{Namespace: "a", Name: "p3", UnschedulableReason: "cpu"},
		{Namespace: "a", Name: "p4", UnschedulableReason: "cpu", Node: "n1"},
		{Namespace: "a", Name: "p5", UnschedulableReason: "cpu", DeletedAt: ptr(3)},
	}}
	got := reasons(r)
	if len(got) != 2 || got[0].Reason != "cpu" || got[0].Count != 2 || strings.Join(got[0].Pods, " ") != "a/p2 a/p3" ||
		got[1].Reason != "taint" || got[1].Count != 1 {
		t.Errorf("reasons = %+v, want cpu (a/p2, a/p3) then taint", got)
	}
}

// A reason the report gives two entries (one per structured outcome) is one row, placed by its
// total, with its pods.
func TestReasonsAddUpOutcomes(t *testing.T) {
	r := &analysis.Report{
		Pods: []analysis.PodReport{
			{Namespace: "a", Name: "p1", UnschedulableReason: "cpu"},
			{Namespace: "a", Name: "p2", UnschedulableReason: "taint"},
			{Namespace: "a", Name: "p3", UnschedulableReason: "cpu"},
			{Namespace: "a", Name: "p4", UnschedulableReason: "zone"},
			{Namespace: "a", Name: "p5", UnschedulableReason: "zone"},
		},
		UnschedulableReasons: []analysis.ReasonCount{
			{Reason: "zone", Count: 2, Code: "Unschedulable"},
			{Reason: "cpu", Count: 1, Code: "Unschedulable"},
			{Reason: "cpu", Count: 1, Code: "UnschedulableAndUnresolvable"},
			{Reason: "taint", Count: 1, Code: "Unschedulable"},
		},
	}
	got := reasons(r)
	if len(got) != 3 || got[0].Reason != "cpu" || got[0].Count != 2 || strings.Join(got[0].Pods, " ") != "a/p1 a/p3" ||
		got[1].Reason != "zone" || got[1].Count != 2 || strings.Join(got[1].Pods, " ") != "a/p4 a/p5" ||
		got[2].Reason != "taint" || got[2].Count != 1 || strings.Join(got[2].Pods, " ") != "a/p2" {
		t.Errorf("reasons = %+v, want cpu (a/p1, a/p3), zone (a/p4, a/p5), taint (a/p2)", got)
	}
}

// The page of a large run: 5,000 nodes (1,000 shown), 10,000 pods, 1,001 samples. Reports the
// page's size too.
func BenchmarkWrite(b *testing.B) {
	r := &analysis.Report{SimulatedSeconds: 86400}
	ts := &r.Timeseries
	ts.Utilization = map[string][]float64{}
	for i := range 1001 {
		ts.T = append(ts.T, float64(i)*86.4)
		ts.Pending = append(ts.Pending, (i*37)%500)
		ts.Running = append(ts.Running, (i*53)%10000)
		ts.Utilization["cpu"] = append(ts.Utilization["cpu"], float64(i%100)/100)
	}
	for i := range 10000 {
		c := float64(i % 3600)
		r.Pods = append(r.Pods, analysis.PodReport{Namespace: "default", Name: "pod", CreatedAt: ptr(c), RunningAt: ptr(c + float64(i%97)/7)})
	}
	for i := range 5000 {
		r.Nodes = append(r.Nodes, analysis.NodeReport{Name: "node", Ready: true, Pods: 2,
			Allocatable: map[string]string{"cpu": "32", "memory": "256Gi", "pods": "110"},
			Requested:   map[string]string{"cpu": "3", "memory": "2Gi", "pods": "2"},
			Utilization: map[string]float64{"cpu": float64(i%100) / 100, "memory": 0.01, "pods": 2.0 / 110}})
	}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, r); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}

// A large cluster's page lists the first maxNodes nodes and says how many it left out.
func TestPageCapsNodes(t *testing.T) {
	r := &analysis.Report{}
	for i := range maxNodes + 2 {
		r.Nodes = append(r.Nodes, analysis.NodeReport{Name: "node-" + strings.Repeat("x", i%3)})
	}
	page := string(render(t, r))
	if got := strings.Count(page, `<td class="mono">node-`); got != maxNodes {
		t.Errorf("%d node rows, want %d", got, maxNodes)
	}
	if !strings.Contains(page, "… and 2 more nodes") {
		t.Error("the page does not say 2 nodes were left out")
	}
}

// Failing workloads come first in the workload table, with what makes them fail; pods held
// before scheduling are listed with their reason.
func TestPageWorkloadsAndGatedPods(t *testing.T) {
	r := sampleReport()
	r.Summary.Workloads = analysis.WorkloadSummary{Total: 2, Failing: 1}
	r.Workloads = []analysis.WorkloadReport{
		{Kind: "Deployment", Namespace: "default", Name: "api", Desired: 2, Current: 2, Ready: 2},
		{Kind: "Deployment", Namespace: "default", Name: "web", Desired: 3, Failing: true, Conditions: []analysis.WorkloadCondition{
			{Type: "ReplicaFailure", Status: "True", Reason: "FailedCreate", Message: "no PriorityClass with name x was found"}}},
	}
	r.Summary.Pods.Gated = 1
	r.Pods = append(r.Pods, analysis.PodReport{Namespace: "default", Name: "held", Phase: "Pending",
		GatedReason: "SchedulingGates: waiting for scheduling gates: [a]"})
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	web, api := strings.Index(page, "default/web"), strings.Index(page, "default/api")
	if web < 0 || api < 0 || web > api {
		t.Errorf("failing default/web not listed before default/api")
	}
	for _, want := range []string{
		"Workloads (2, 1 failing)",
		"ReplicaFailure (FailedCreate): no PriorityClass with name x was found",
		"Pods held before scheduling (1)",
		"SchedulingGates: waiting for scheduling gates: [a]<ul class=\"pods\"><li class=\"mono\">default/held</li>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// The inputs section appears only when there is something to say, and lists what was skipped,
// what is not acted on and the notes.
func TestInputsSection(t *testing.T) {
	if strings.Contains(string(render(t, sampleReport())), `id="inputs"`) {
		t.Error("an inputs section without skipped kinds, kinds not acted on or notes")
	}
	r := sampleReport()
	r.Skipped = []analysis.SkippedKind{{APIVersion: "example.com/v1", Kind: "Widget", Count: 2, Reason: "custom resource"}}
	r.NotActedOn = []analysis.NotActedOnKind{{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler", Count: 1, Note: "the HPA controller would scale"}}
	r.Notes = []string{"labels set on 1 node"}
	page := string(render(t, r))
	for _, want := range []string{`<h2 id="inputs">Inputs</h2>`,
		`<tr><td class="mono">example.com/v1</td><td>Widget</td><td class="num">2</td><td>custom resource</td></tr>`,
		`<td>HorizontalPodAutoscaler</td><td class="num">1</td><td>the HPA controller would scale</td>`,
		`<li>labels set on 1 node</li>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// The arrivals section shows only with the report's arrivals, and says how the run ended.
func TestArrivalsSection(t *testing.T) {
	if strings.Contains(string(render(t, sampleReport())), `id="arrivals"`) {
		t.Error("an arrivals section without arrivals")
	}
	r := sampleReport()
	r.Arrivals = &analysis.ArrivalsReport{Mode: analysis.ReplayArrivalsOnly, DeletionsSkipped: 1, UntilUnschedulable: 1, Created: 3, Accepted: 2,
		Unschedulable: 1, Scheduled: 2, End: &analysis.ArrivalsEnd{Reason: analysis.EndUntilUnschedulable, At: 30, Pod: "default/c", Consecutive: 1, Message: "0/2 nodes are available"}}
	page := string(render(t, r))
	for _, want := range []string{`<h2 id="arrivals">Arrivals (arrivals-only)</h2>`,
		"3 pods created by the trace: 2 accepted and 1 unschedulable at arrival, 2 scheduled; 1 of the trace's pod deletions skipped.",
		`The run ended at t=30s by --until-unschedulable 1: 1 unschedulable in a row, the last <span class="mono">default/c</span>: 0/2 nodes are available`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// The GPU section shows only with the report's gpu section.
func TestGPUSection(t *testing.T) {
	if strings.Contains(string(render(t, sampleReport())), `id="gpu"`) {
		t.Error("a GPU section without GPUs")
	}
	r := sampleReport()
	r.GPU = &analysis.GPUReport{Model: "dra", Nodes: 1, Cards: 2, BusyCards: 2, Allocation: analysis.OverTimeFigure{Final: 0.6, Peak: 0.6, Mean: 0.3},
		Stranded: analysis.OverTimeFigure{Final: 0.4, Peak: 0.4, PeakAt: 30, Mean: 0.2}, StrandedOfIdle: 1, Shapes: 1, GPUPods: 3}
	page := string(render(t, r))
	for _, want := range []string{`<h2 id="gpu">GPUs (dra)</h2>`, "2 cards on 1 nodes: 2 busy, 0 idle; 60.0% of GPU-milli allocated",
		"40.0% stranded (peak 40.0% at t=30s, mean 20.0%); 100.0% of the unallocated GPU is stranded", "3 GPU pods (1 shapes)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `id="plot-gpu"`) {
		t.Error("a gpu plot without the gpu series")
	}
	// With its series the gpu plot is in the GPU section, once, and not among the others.
	r.Timeseries.GPU = &analysis.GPUSeries{Allocation: []float64{0, 0.6, 0.6}, Stranded: []float64{0, 0.4, 0.4}}
	page = string(render(t, r))
	_, section, _ := strings.Cut(page, `<h2 id="gpu">`)
	section, _, _ = strings.Cut(section, "<h2 ")
	if n := strings.Count(page, `id="plot-gpu"`); n != 1 || !strings.Contains(section, `<figure id="plot-gpu"><img src="data:image/svg`) ||
		!strings.Contains(section, `alt="GPU allocated and stranded over time"`) {
		t.Errorf("the gpu plot is not in the GPU section once (%d on the page); the section:\n%s", n, section)
	}
	if n := strings.Count(page, "<figure "); n != 5 {
		t.Errorf("%d figures on the page, want the 4 plots and the gpu one", n)
	}
}

// The disruptions section shows only when there is something in it: evictions by reason,
// budgets with their refused evictions, drains and the workloads' recovery.
func TestDisruptionsSection(t *testing.T) {
	if strings.Contains(string(render(t, sampleReport())), `id="disruptions"`) {
		t.Error("a disruptions section without evictions, budgets, drains or recovery")
	}
	r := sampleReport()
	r.Summary.Evictions = 3
	r.Evictions = []analysis.EvictionReport{{Reason: "taint", ConditionReason: "DeletionByTaintManager", Count: 3, First: 330, Last: 335, Times: []float64{330, 331, 335}}}
	r.DisruptionBudgets = []analysis.DisruptionBudgetReport{{Namespace: "shop", Name: "web", MinAvailable: "2", RefusedEvictions: 4,
		FirstRefused: ptr(40), LastRefused: ptr(70), CurrentHealthy: 3, DesiredHealthy: 2, DisruptionsAllowed: 1, ExpectedPods: 3}}
	r.Drains = []analysis.DrainReport{{Node: "node-b", Start: 30, Outcome: "in progress", DurationSeconds: 5370, Refused: 4, Skipped: []string{}}}
	r.Workloads = []analysis.WorkloadReport{{Kind: "Deployment", Namespace: "shop", Name: "web", Desired: 3,
		Disruptions: []analysis.WorkloadDisruption{{Start: 330, Pods: 3, Wanted: 3, MinReady: 0, RecoveredAt: ptr(345), RecoverySeconds: ptr(15)}}}}
	page := string(render(t, r))
	for _, want := range []string{`<h2 id="disruptions">Disruptions (3 evictions)</h2>`,
		`<tr><td>taint</td><td class="mono">DeletionByTaintManager</td><td class="num">3</td><td class="num">5.5m</td><td class="num">5.6m</td></tr>`,
		`<td class="mono">shop/web</td><td>minAvailable 2</td><td class="num">3</td><td class="num">2</td><td class="num">1</td><td class="num">4</td><td class="num">40s</td><td class="num">1.2m</td>`,
		`<td class="mono">node-b</td><td class="num">30s</td><td class="num">–</td><td><span class="no">in progress</span></td>`,
		`<td class="mono">Deployment shop/web</td><td class="num">5.5m</td><td class="num">3</td><td class="num">0/3</td><td class="num">5.8m</td><td class="num">15s</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// pageText is the page's text as a reader sees it, whitespace collapsed.
func pageText(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && n.Parent.Data != "style" {
			text.WriteString(n.Data)
			text.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(text.String()), " ")
}

// The page gives the hints and explanations the table gives (every "hint:" line of the table,
// the controllers' warnings, the pods left on a node that is gone and why they stay), and
// says what was simulated: the command line, the seed, the input files and the kwoksim build.
func TestPageHintsAndProvenance(t *testing.T) {
	r := sampleReport()
	taint := "0/2 nodes are available: 1 node(s) had untolerated taint(s), 1 Insufficient cpu."
	r.Summary.Pods.Unschedulable = 2
	r.UnschedulableReasons = append(r.UnschedulableReasons, analysis.ReasonCount{Reason: taint, Count: 1})
	r.Pods = append(r.Pods,
		analysis.PodReport{Namespace: "shop", Name: "tainted-0", Phase: "Pending", UnschedulableReason: taint},
		analysis.PodReport{Namespace: "shop", Name: "ghost", Node: "node-gone", Phase: "Running"})
	r.Warnings = []analysis.WarningReport{{At: 12, Kind: "Deployment", Namespace: "shop", Name: "web", Reason: "FailedCreate",
		Message: "pods \"web-x\" is forbidden: exceeded quota", Count: 3}}
	r.Provenance = &analysis.Provenance{
		Command: []string{"kwoksim", "run", "--nodes", "my nodes/n.yaml", "--workload", "it's.yaml", "--seed", "7", "--html", "r.html"},
		Inputs:  []analysis.InputFile{{Flag: "--nodes", Path: "my nodes/n.yaml"}, {Flag: "--workload", Path: "it's.yaml"}},
		Kwoksim: version.Info{Version: "v0.3.0", Commit: "abc1234", Kubernetes: "v1.37.2", Go: "go1.25.4"},
	}
	got := pageText(t, render(t, r))

	var table bytes.Buffer
	if err := analysis.WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	hints := 0
	for _, line := range strings.Split(table.String(), "\n") {
		if _, hint, ok := strings.Cut(line, "hint: "); ok {
			hints++
			if !strings.Contains(got, "hint: "+hint) {
				t.Errorf("the table's hint %q is not on the page:\n%s", hint, got)
			}
		}
	}
	if hints != 1 {
		t.Errorf("the table gives %d hints, want the taint's:\n%s", hints, table.String())
	}
	for _, want := range []string{
		taint + " hint: the nodes carry taints dedicated=web:NoSchedule (1 node(s)); add a matching toleration to the pod template shop/tainted-0",
		`Warnings from the simulated controllers (1) at object reason message times 12s Deployment shop/web FailedCreate pods "web-x" is forbidden: exceeded quota 3`,
		"Pods still bound to a node that no longer exists when the run ended (1) shop/ghost on node-gone (Running)",
		"deletes such pods once they have been orphaned for 40s (its quarantine)",
		`What was simulated command kwoksim run --nodes 'my nodes/n.yaml' --workload 'it'\''s.yaml' --seed 7 --html r.html seed 7`,
		"input --nodes my nodes/n.yaml input --workload it's.yaml",
		"kwoksim v0.3.0 (commit abc1234) Kubernetes v1.37.2 Go go1.25.4",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page text lacks %q:\n%s", want, got)
		}
	}

	// A report without provenance (not written by kwoksim run) says so.
	r.Provenance = nil
	if got := pageText(t, render(t, r)); !strings.Contains(got, "The report does not record its command line, inputs or kwoksim version") {
		t.Errorf("a report without provenance: the page does not say so:\n%s", got)
	}
}

// The figures over the run are on the page, counts and utilization, saying which is which; a
// run that ended emptier than it was says so. A report written before kwoksim had them shows
// no such section.
func TestOverTimeSection(t *testing.T) {
	if page := string(render(t, sampleReport())); strings.Contains(page, `id="over-time"`) {
		t.Error("a report without overTime has the section")
	}
	r := sampleReport()
	r.OverTime = analysis.OverTime{
		PodsRunning: analysis.OverTimeFigure{Final: 0, Peak: 4, PeakAt: 90, Mean: 2},
		Utilization: map[string]analysis.OverTimeFigure{"cpu": {Final: 0, Peak: 0.5, PeakAt: 90, Mean: 0.25}},
	}
	page := string(render(t, r))
	for _, want := range []string{
		`<th class="num">final</th><th class="num">peak</th><th class="num">peak at</th><th class="num">mean over time</th>`,
		`<td>pods running</td><td class="num">0</td><td class="num">4</td><td class="num">1.5m</td><td class="num">2.0</td>`,
		`<td>cpu utilization</td><td class="num">0.0%</td><td class="num">50.0%</td><td class="num">1.5m</td><td class="num">25.0%</td>`,
		"The run ended emptier than it was",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// The volumes section shows only for a run with claims: claims by phase, the latency, the
// classes and the pods waiting with why; a workload whose pods wait says so instead of ok.
func TestVolumesSection(t *testing.T) {
	if page := string(render(t, sampleReport())); strings.Contains(page, `id="volumes"`) {
		t.Error("a volumes section without claims")
	}
	r := sampleReport()
	reason := "waiting for the volume of claim data-web-0 to be provisioned on node n1"
	r.Workloads = []analysis.WorkloadReport{{Kind: "StatefulSet", Namespace: "default", Name: "web", Desired: 1,
		VolumeWait: &analysis.WorkloadVolumeWait{Pods: 1, Reason: reason}}}
	r.Volumes = &analysis.VolumesReport{
		Claims:       analysis.ClaimCounts{Total: 3, Bound: 1, Pending: 2},
		Provisioning: analysis.Distribution{P50: 12, P90: 12, P99: 12, Max: 12, Count: 1},
		StorageClasses: []analysis.StorageClassClaims{{StorageClass: "", Claims: analysis.ClaimCounts{Total: 1, Pending: 1}},
			{StorageClass: "fast", Claims: analysis.ClaimCounts{Total: 2, Bound: 1, Pending: 1}}},
		PodsWaiting: []analysis.PodVolumeWait{{Namespace: "default", Name: "web-0", Claim: "data-web-0", ClaimPhase: "Pending",
			Provisioning: reason, Reason: reason}},
	}
	page := string(render(t, r))
	for _, want := range []string{
		`<h2 id="volumes">Volumes (3 claims)</h2>`,
		`<div class="card bad"><div class="n">2</div><div class="l">claims pending</div></div>`,
		`<tr><td>Provisioning (provisionable → Bound)</td><td class="num">12s</td><td class="num">12s</td><td class="num">12s</td><td class="num">12s</td><td class="num">1</td></tr>`,
		`<tr><td>Binding (created → Bound)</td><td class="num">–</td><td class="num">–</td><td class="num">–</td><td class="num">–</td><td class="num">0</td></tr>`,
		`<tr><td class="mono">(none)</td><td class="num">1</td>`,
		`<h3>Pods waiting for volumes (1)</h3>`,
		`<tr><td class="mono">default/web-0</td><td class="mono">data-web-0 (Pending)</td><td>` + reason + `</td></tr>`,
		`<span class="no">1 pod(s) waiting for volumes</span><p class="hint">` + reason + `</p>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `<td class="num">0</td><td>ok</td>`) {
		t.Error("the waiting workload shown as ok")
	}
}

// The autoscaling section shows only for a run with an autoscaler: cost and nodes, each pool
// and shape, the wait for capacity, the pods no pool could take (marked as a failure), the
// nodes that could not be removed, the scale events and what is not modelled.
func TestAutoscalingSection(t *testing.T) {
	if page := string(render(t, sampleReport())); strings.Contains(page, `id="autoscaling"`) {
		t.Error("an autoscaling section without an autoscaler")
	}
	r := sampleReport()
	r.Autoscaling = &analysis.AutoscalingReport{
		Autoscaler: "karpenter", NodeHours: 16.5, Cost: 24.754, ScaleUps: 1, NodesAdded: 2, Nodes: 3, PeakNodes: 3,
		CapacityWait: analysis.Distribution{P50: 61, P90: 91, P99: 91, Max: 91, Count: 16},
		Pools: []analysis.PoolReport{{Name: "general", Min: 1, Max: 20, NodeHours: 16.5, Cost: 24.754, Nodes: 3, PeakNodes: 3,
			Shapes:        []analysis.ShapeReport{{Name: "c32", PricePerHour: 1.5, NodesAdded: 2, Nodes: 2, NodeHours: 16, Cost: 24}},
			NodesOverTime: [][2]float64{{0, 1}, {3601, 3}}}},
		Events: []analysis.ScaleEventReport{{At: 3601, Type: analysis.ScaleUp, Pool: "general", Shape: "c32", Count: 2, Pods: 29,
			Reason: "Launched", Message: "<b>2 c32</b>"}},
		NoScaleUp: []analysis.NoScaleUpReport{{Namespace: "default", Name: "ssd", At: 3600,
			Reason: "incompatible with nodepool general, did not match node selector disk=ssd"}},
		NoScaleUpUnresolved: 1,
		Unremovable:         []analysis.UnremovableReport{{Node: "general-0", Pool: "general", At: 5400, Reason: "NotManaged"}},
		NotModelled:         []string{"drift: a real Karpenter replaces nodes whose NodePool changed"},
	}
	page := string(render(t, r))
	for _, want := range []string{
		`<h2 id="autoscaling">Autoscaling (karpenter)</h2>`,
		`<div class="card"><div class="n">24.75</div><div class="l">cost</div></div>`,
		`<div class="card"><div class="n">16.50</div><div class="l">node-hours</div></div>`,
		`<div class="card bad"><div class="n">1</div><div class="l">pods no pool could take</div></div>`,
		`Billing: each node is billed from its launch`,
		`<tr><td class="mono">general</td><td>all</td><td class="num">–</td><td class="num">1</td><td class="num">20</td><td class="num">–</td><td class="num">3</td><td class="num">3</td><td class="num">16.50</td><td class="num">24.75</td></tr>`,
		`<tr><td class="mono">general</td><td class="mono">c32</td><td class="num">1.5</td><td class="num"></td><td class="num"></td><td class="num">2</td><td class="num">2</td><td class="num"></td><td class="num">16.00</td><td class="num">24.00</td></tr>`,
		`<td class="num">1.0m</td><td class="num">1.5m</td><td class="num">1.5m</td><td class="num">1.5m</td><td class="num">16</td>`,
		`<h3 class="no">Pods no pool could take (1, 1 never bound)</h3>`,
		`<td>incompatible with nodepool general, did not match node selector disk=ssd</td><td class="num">–</td>`,
		`<td class="mono">general-0</td><td class="mono">general</td><td class="num">1.5h</td><td>NotManaged</td>`,
		`<td>ScaleUp general/c32 2 node(s), 29 pod(s): Launched: &lt;b&gt;2 c32&lt;/b&gt;</td>`,
		`<li>drift: a real Karpenter replaces nodes whose NodePool changed</li>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// The HPA and usage sections show only with their data: each HPA with its replicas, the
// failing one marked with its failure, the rescales, the conditions and what is not modelled;
// the utilization by usage beside by requests and the workloads.
func TestHPAAndUsageSections(t *testing.T) {
	if page := string(render(t, sampleReport())); strings.Contains(page, `id="hpas"`) || strings.Contains(page, `id="usage"`) {
		t.Error("an HPA or usage section without data")
	}
	r := sampleReport()
	r.HorizontalPodAutoscalers = &analysis.HPAReport{HPAs: []analysis.HPAReportItem{
		{Namespace: "default", Name: "web", Target: "Deployment/web", MinReplicas: 2, MaxReplicas: 20, Path: "behavior",
			Metrics: []string{"cpu utilization 50% of requests"}, InitialReplicas: 2, PeakReplicas: 20, LowestReplicas: 2, FinalReplicas: 4,
			ScaleUps: 4, ScaleDowns: 1, Reconciles: 241, SecondsAtMax: 2055, SecondsLimited: 1800,
			Rescales:        []analysis.HPARescale{{At: 600, From: 4, To: 8, Reason: "cpu resource utilization (percentage of request) above target"}},
			FinalConditions: []analysis.HPAConditionReport{{Type: "ScalingLimited", Status: "False", Reason: "DesiredWithinRange", Since: 2400}}},
		{Namespace: "default", Name: "api", Target: "Deployment/api", MinReplicas: 1, MaxReplicas: 10, Path: "legacy",
			InitialReplicas: 3, PeakReplicas: 3, LowestReplicas: 3, FinalReplicas: 3, Reconciles: 241, FailedReconciles: 241,
			LastFailure: "FailedGetResourceMetric: failed to get cpu utilization"},
	}, NotModelled: analysis.HPANotModelled}
	r.Usage = &analysis.UsageReport{
		CPU: analysis.UsageResourceReport{UtilizationByUsage: analysis.OverTimeFigure{Peak: 0.25, Mean: 0.15625},
			UtilizationByRequests: analysis.OverTimeFigure{Peak: 0.5, Mean: 0.3125}, Usage: analysis.OverTimeFigure{Peak: 2}},
		Workloads: []analysis.WorkloadUsageReport{{Kind: "Deployment", Namespace: "default", Name: "web", PeakReadyPods: 4,
			CPU: analysis.WorkloadResourceUsage{Peak: 2, Mean: 1.5, UsageToRequests: 0.5}}},
		OverTime: []analysis.UsagePoint{{At: 0, AllocatableCPU: 8}},
	}
	page := string(render(t, r))
	for _, want := range []string{
		`<h2 id="hpas">Horizontal pod autoscaling (2 HPA(s))</h2>`,
		`<td class="mono">default/web</td><td class="mono">Deployment/web</td><td class="num">2</td><td class="num">20</td><td>cpu utilization 50% of requests</td><td>behavior</td><td class="num">2</td><td class="num">20</td><td class="num">2</td><td class="num">4</td><td class="num">4</td><td class="num">1</td><td class="num">34m15s</td><td class="num">30m00s</td><td class="num">241</td><td class="num">0</td>`,
		`<td class="num"><span class="no">241</span></td>`,
		`<p class="no">hpa default/api: 241 of 241 reconciles computed no replica count: FailedGetResourceMetric: failed to get cpu utilization</p>`,
		`<tr><td class="num">10m00s</td><td class="num">4</td><td class="num">8</td><td>cpu resource utilization (percentage of request) above target</td></tr>`,
		`<tr><td>ScalingLimited</td><td>False</td><td>DesiredWithinRange</td><td></td><td class="num">40m00s</td></tr>`,
		`<li>usage is instantaneous: a reconcile reads each pod`,
		`<h2 id="usage">Usage</h2>`,
		`<tr><td>cpu</td><td class="num">25.0%</td><td class="num">15.6%</td><td class="num">50.0%</td><td class="num">31.2%</td><td class="num">2</td>`,
		`<td class="mono">Deployment/default/web</td><td class="num">4</td><td class="num">2</td><td class="num">1500m</td><td class="num">50.0%</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
