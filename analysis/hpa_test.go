package analysis

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

const (
	gi = int64(1) << 30
	// hpaRunEnd is the hand-made run's length: 241 reconciles, every 15 s from 0 to 1h.
	hpaRunEnd = time.Hour
)

// Rescale reasons, as the HPA controller writes them (docs/hpa.md part 5).
const (
	aboveTarget = "cpu resource utilization (percentage of request) above target"
	belowTarget = "All metrics below target"
)

func rescaleEvent(at time.Duration, size int, reason string) HPAEventRecord {
	return HPAEventRecord{At: at, LastAt: at, Count: 1, Type: "Normal", Reason: successfulRescale,
		Message: "New size: " + strconv.Itoa(size) + "; reason: " + reason}
}

// hpaObservation is an hour with two HPAs and a usage record. default/web follows docs/hpa.md's
// worked timeline (part 5, the behavior path): 2 → 4 at t=0, → 8 at 10m00s, → 16 at 10m15s,
// → 20 (max) at 10m30s, held back by ScaleUpLimit then TooManyReplicas until 40m, then → 4 at
// 44m45s after the downscale stabilization. default/api never has metrics: every reconcile
// fails, status.desiredReplicas stays 0 and its 3 replicas are never touched. The usage
// record: nothing until 10m, then 2 cores and 4Gi used of 4 cores and 8Gi requested, from 40m
// 1 core and 2Gi of 2 cores and 4Gi; one node of 8 cores and 16Gi from t=0, a second from 50m.
func hpaObservation() Observation {
	s := func(sec int) time.Duration { return time.Duration(sec) * time.Second }
	util := func(u int32) []HPAMetricValue { return []HPAMetricValue{{Name: "cpu", Utilization: &u}} }
	web := &HPARecord{
		Namespace: "default", Name: "web", TargetKind: "Deployment", TargetName: "web",
		MinReplicas: 2, MaxReplicas: 20, Metrics: []string{"cpu utilization 50% of requests"}, Behavior: true,
		Samples: []HPASample{
			{At: 0, CurrentReplicas: 2, DesiredReplicas: 4, Proposal: 4, ReadyPods: 2, Metrics: util(100)},
			{At: s(15), CurrentReplicas: 4, DesiredReplicas: 4, Proposal: 4, ReadyPods: 4, Metrics: util(50)},
			{At: s(600), CurrentReplicas: 4, DesiredReplicas: 8, Proposal: 24, ReadyPods: 4, Metrics: util(300), Limited: "ScaleUpLimit"},
			{At: s(615), CurrentReplicas: 8, DesiredReplicas: 16, Proposal: 24, ReadyPods: 8, Metrics: util(150), Limited: "ScaleUpLimit"},
			{At: s(630), CurrentReplicas: 16, DesiredReplicas: 20, Proposal: 24, ReadyPods: 16, Metrics: util(75), Limited: "TooManyReplicas"},
			{At: s(645), CurrentReplicas: 20, DesiredReplicas: 20, Proposal: 24, ReadyPods: 20, Metrics: util(60), Limited: "TooManyReplicas"},
			{At: s(2400), CurrentReplicas: 20, DesiredReplicas: 20, Proposal: 4, ReadyPods: 20, Metrics: util(10), Stabilized: true},
			{At: s(2685), CurrentReplicas: 20, DesiredReplicas: 4, Proposal: 4, ReadyPods: 20, Metrics: util(10)},
			{At: s(2700), CurrentReplicas: 4, DesiredReplicas: 4, Proposal: 4, ReadyPods: 4, Metrics: util(50)},
		},
		Reconciles: 241,
		Events: []HPAEventRecord{
			rescaleEvent(0, 4, aboveTarget), rescaleEvent(s(600), 8, aboveTarget), rescaleEvent(s(615), 16, aboveTarget),
			rescaleEvent(s(630), 20, aboveTarget), rescaleEvent(s(2685), 4, belowTarget),
		},
		Conditions: []HPAConditionRecord{
			{At: 0, Type: "AbleToScale", Status: "True", Reason: "SucceededRescale", Message: "the HPA controller was able to update the target scale to 4"},
			{At: 0, Type: "ScalingActive", Status: "True", Reason: "ValidMetricFound", Message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
			{At: 0, Type: scalingLimited, Status: "False", Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range"},
			{At: s(600), Type: scalingLimited, Status: "True", Reason: "ScaleUpLimit", Message: "the desired replica count is increasing faster than the maximum scale rate"},
			{At: s(630), Type: scalingLimited, Status: "True", Reason: "TooManyReplicas", Message: "the desired replica count is more than the maximum replica count"},
			{At: s(2400), Type: "AbleToScale", Status: "True", Reason: "ScaleDownStabilized", Message: "recent recommendations were higher than current one, applying the highest recent recommendation"},
			{At: s(2400), Type: scalingLimited, Status: "False", Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range"},
			{At: s(2685), Type: "AbleToScale", Status: "True", Reason: "SucceededRescale", Message: "the HPA controller was able to update the target scale to 4"},
		},
	}
	noMetrics := "failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
	api := &HPARecord{
		Namespace: "default", Name: "api", TargetKind: "Deployment", TargetName: "api",
		MinReplicas: 1, MaxReplicas: 10, Metrics: []string{"cpu utilization 60% of requests", "pods metric requests_per_second (not modelled)"},
		Samples:    []HPASample{{At: 0, CurrentReplicas: 3, DesiredReplicas: 0, Proposal: -1}},
		Reconciles: 241, FailedReconciles: 241,
		Events: []HPAEventRecord{
			{At: 0, LastAt: 0, Count: 1, Type: "Warning", Reason: "FailedGetResourceMetric", Message: noMetrics},
			{At: 0, LastAt: 0, Count: 1, Type: "Warning", Reason: "FailedComputeMetricsReplicas",
				Message: "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: " + noMetrics},
		},
		Conditions: []HPAConditionRecord{
			{At: 0, Type: "AbleToScale", Status: "True", Reason: "SucceededGetScale", Message: "the HPA controller was able to get the target's current scale"},
			{At: 0, Type: "ScalingActive", Status: "False", Reason: "FailedGetResourceMetric", Message: "the HPA was unable to compute the replica count: " + noMetrics},
		},
		NotModelled: []string{"default/api: the Pods metric requests_per_second is not read; a real HPA reads it from custom.metrics.k8s.io"},
	}
	node := func(at time.Duration, name string) NodeChange {
		return NodeChange{At: at, Name: name, Ready: true, Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi")}}
	}
	usage := &UsageRecord{
		Cluster: []UsageStep{
			{At: 0},
			{At: s(600), CPU: 2000, Memory: 4 * gi, RequestedCPU: 4000, RequestedMemory: 8 * gi},
			{At: s(2400), CPU: 1000, Memory: 2 * gi, RequestedCPU: 2000, RequestedMemory: 4 * gi},
		},
		Workloads: []WorkloadUsageRecord{{Kind: "Deployment", Namespace: "default", Name: "web",
			Loads: []LoadStep{{At: s(600), CPU: 2000, Memory: -1}, {At: s(2400), CPU: 1000, Memory: -1}},
			Steps: []WorkloadUsageStep{
				{UsageStep: UsageStep{At: s(600), CPU: 2000, Memory: 4 * gi, RequestedCPU: 4000, RequestedMemory: 8 * gi}, ReadyPods: 4},
				{UsageStep: UsageStep{At: s(2400), CPU: 1000, Memory: 2 * gi, RequestedCPU: 2000, RequestedMemory: 4 * gi}, ReadyPods: 2},
			}}},
	}
	return Observation{Elapsed: hpaRunEnd, HPAs: []*HPARecord{web, api}, Usage: usage,
		History: History{Nodes: []NodeChange{node(0, "n1"), node(s(3000), "n2")}}}
}

// The figures of docs/hpa.md's timeline, by hand; the failing HPA scales nothing, and its
// status.desiredReplicas of 0 is no scale-down.
func TestHPAFigures(t *testing.T) {
	h := Build(hpaObservation()).HorizontalPodAutoscalers
	if h == nil || len(h.HPAs) != 2 {
		t.Fatalf("section %+v", h)
	}
	web, api := h.HPAs[0], h.HPAs[1]
	if web.Target != "Deployment/web" || web.Path != "behavior" || web.MinReplicas != 2 || web.MaxReplicas != 20 {
		t.Errorf("web spec %+v", web)
	}
	if web.InitialReplicas != 2 || web.PeakReplicas != 20 || web.LowestReplicas != 2 || web.FinalReplicas != 4 {
		t.Errorf("web replicas initial %d peak %d lowest %d final %d, want 2 20 2 4",
			web.InitialReplicas, web.PeakReplicas, web.LowestReplicas, web.FinalReplicas)
	}
	if web.ScaleUps != 4 || web.ScaleDowns != 1 {
		t.Errorf("web scale-ups %d, scale-downs %d, want 4, 1", web.ScaleUps, web.ScaleDowns)
	}
	// 20 replicas from 10m30s to 44m45s; ScalingLimited True from 10m00s to 40m00s.
	if web.SecondsAtMax != 2685-630 || web.SecondsLimited != 2400-600 {
		t.Errorf("web at max %vs, limited %vs, want 2055, 1800", web.SecondsAtMax, web.SecondsLimited)
	}
	want := []HPARescale{{0, 2, 4, aboveTarget}, {600, 4, 8, aboveTarget}, {615, 8, 16, aboveTarget},
		{630, 16, 20, aboveTarget}, {2685, 20, 4, belowTarget}}
	if !equalJSON(web.Rescales, want) {
		t.Errorf("web rescales %+v, want %+v", web.Rescales, want)
	}
	if len(web.ReplicasOverTime) != 9 || web.ReplicasOverTime[2] != (HPAReplicasPoint{At: 600, Current: 4, Desired: 8, Proposal: 24}) {
		t.Errorf("web replicas over time %+v", web.ReplicasOverTime)
	}
	wantConds := []HPAConditionReport{
		{Type: "AbleToScale", Status: "True", Reason: "SucceededRescale", Message: "the HPA controller was able to update the target scale to 4", Since: 2685},
		{Type: "ScalingActive", Status: "True", Reason: "ValidMetricFound", Since: 0,
			Message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
		{Type: scalingLimited, Status: "False", Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range", Since: 2400},
	}
	if !equalJSON(web.FinalConditions, wantConds) {
		t.Errorf("web final conditions %+v", web.FinalConditions)
	}
	if web.LastFailure != "" || web.FailedReconciles != 0 || web.Reconciles != 241 {
		t.Errorf("web failures %q %d of %d", web.LastFailure, web.FailedReconciles, web.Reconciles)
	}

	if api.InitialReplicas != 3 || api.PeakReplicas != 3 || api.LowestReplicas != 3 || api.FinalReplicas != 3 ||
		api.ScaleUps != 0 || api.ScaleDowns != 0 || len(api.Rescales) != 0 || api.SecondsAtMax != 0 || api.Path != "legacy" {
		t.Errorf("api %+v", api)
	}
	if !strings.HasPrefix(api.LastFailure, "FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1)") || api.FailedReconciles != 241 {
		t.Errorf("api last failure %q, failed %d", api.LastFailure, api.FailedReconciles)
	}
	if len(api.FinalConditions) != 2 || api.FinalConditions[1].Status != "False" || len(api.Events) != 2 {
		t.Errorf("api conditions %+v events %+v", api.FinalConditions, api.Events)
	}
	// The HPA's own line, then the general ones.
	if len(h.NotModelled) != 1+len(HPANotModelled) || !strings.HasPrefix(h.NotModelled[0], "default/api: the Pods metric") ||
		h.NotModelled[1] != HPANotModelled[0] {
		t.Errorf("not modelled %q", h.NotModelled)
	}

	// A deleted HPA counts its time at max up to its deletion.
	o := hpaObservation()
	o.HPAs[0].DeletedAt = at(1000 * time.Second)
	if got := Build(o).HorizontalPodAutoscalers.HPAs[0]; got.SecondsAtMax != 1000-630 || got.SecondsLimited != 1000-600 {
		t.Errorf("deleted at 1000s: at max %v, limited %v, want 370, 400", got.SecondsAtMax, got.SecondsLimited)
	}
	// A run of identical rescale events is one record: each reconcile it covers that set the
	// size is a rescale.
	o = hpaObservation()
	rec := o.HPAs[0]
	rec.Samples = []HPASample{{At: 0, CurrentReplicas: 2, DesiredReplicas: 4, Proposal: 4}, {At: 15 * time.Second, CurrentReplicas: 3, DesiredReplicas: 4, Proposal: 4},
		{At: 30 * time.Second, CurrentReplicas: 4, DesiredReplicas: 4, Proposal: 4}}
	rec.Events = []HPAEventRecord{{At: 0, LastAt: 15 * time.Second, Count: 2, Type: "Normal", Reason: successfulRescale, Message: "New size: 4; reason: " + aboveTarget}}
	if got := Build(o).HorizontalPodAutoscalers.HPAs[0]; got.ScaleUps != 2 || len(got.Rescales) != 2 || got.Rescales[1].From != 3 {
		t.Errorf("merged events: %+v", got.Rescales)
	}
	// Without its events, a reconcile that computed a proposal and set another count is still
	// a rescale; the failing HPA's desired 0 is still none.
	o = hpaObservation()
	o.HPAs[0].Events, o.HPAs[1].Events = nil, nil
	h = Build(o).HorizontalPodAutoscalers
	if got := h.HPAs[0]; got.ScaleUps != 4 || got.ScaleDowns != 1 || got.FinalReplicas != 4 || got.Rescales[4] != (HPARescale{At: 2685, From: 20, To: 4}) {
		t.Errorf("without events: %+v", got.Rescales)
	}
	if got := h.HPAs[1]; got.ScaleDowns != 0 || got.FinalReplicas != 3 {
		t.Errorf("failing HPA without events: %+v", got)
	}
}

// The usage figures by hand: cpu used 0 until 10m, 2 cores to 40m, 1 core to 1h: peak 2,
// mean (2×1800 + 1×1200)/3600 = 4/3; over 8 cores, then 16 from 50m: by usage peak 25%, mean
// (0.25×1800 + 0.125×600 + 0.0625×600)/3600 = 15.625%; by requests twice that.
func TestUsageFigures(t *testing.T) {
	u := Build(hpaObservation()).Usage
	if u == nil {
		t.Fatal("no usage section")
	}
	c := u.CPU
	for _, tc := range []struct {
		name   string
		got    OverTimeFigure
		final  float64
		peak   float64
		peakAt float64
		mean   float64
	}{
		{"cpu usage", c.Usage, 1, 2, 600, 4.0 / 3},
		{"cpu requested", c.Requested, 2, 4, 600, 8.0 / 3},
		{"cpu by usage", c.UtilizationByUsage, 0.0625, 0.25, 600, 0.15625},
		{"cpu by requests", c.UtilizationByRequests, 0.125, 0.5, 600, 0.3125},
		{"memory usage", u.Memory.Usage, float64(2 * gi), float64(4 * gi), 600, float64(gi) * 8 / 3},
		{"memory by usage", u.Memory.UtilizationByUsage, 0.0625, 0.25, 600, 0.15625},
	} {
		f := tc.got
		if !near(f.Final, tc.final) || !near(f.Peak, tc.peak) || f.PeakAt != tc.peakAt || !near(f.Mean, tc.mean) {
			t.Errorf("%s: %+v, want final %v peak %v at %v mean %v", tc.name, f, tc.final, tc.peak, tc.peakAt, tc.mean)
		}
	}
	want := []UsagePoint{
		{At: 0, AllocatableCPU: 8, AllocatableMemory: float64(16 * gi)},
		{At: 600, CPU: 2, Memory: float64(4 * gi), RequestedCPU: 4, RequestedMemory: float64(8 * gi), AllocatableCPU: 8, AllocatableMemory: float64(16 * gi)},
		{At: 2400, CPU: 1, Memory: float64(2 * gi), RequestedCPU: 2, RequestedMemory: float64(4 * gi), AllocatableCPU: 8, AllocatableMemory: float64(16 * gi)},
		{At: 3000, CPU: 1, Memory: float64(2 * gi), RequestedCPU: 2, RequestedMemory: float64(4 * gi), AllocatableCPU: 16, AllocatableMemory: float64(32 * gi)},
	}
	if !equalJSON(u.OverTime, want) {
		t.Errorf("over time %+v\nwant %+v", u.OverTime, want)
	}
	if len(u.Workloads) != 1 {
		t.Fatalf("workloads %+v", u.Workloads)
	}
	w := u.Workloads[0]
	// Half the requests all along; 4 ready pods at most.
	if w.PeakReadyPods != 4 || w.CPU.Peak != 2 || !near(w.CPU.Mean, 4.0/3) || w.CPU.UsageToRequests != 0.5 || w.Memory.UsageToRequests != 0.5 {
		t.Errorf("workload %+v", w)
	}
	if len(w.Loads) != 2 || *w.Loads[0].CPU != 2 || w.Loads[0].Memory != nil || *w.Loads[1].CPU != 1 {
		t.Errorf("loads %+v", w.Loads)
	}
}

// A run without HPAs or usage data has neither section: nothing in the JSON, the table or
// among the CSV files (stale ones removed); assertions read an empty list and zeros.
func TestNoHPAOrUsageSection(t *testing.T) {
	r := Build(Observation{Elapsed: time.Minute})
	if r.HorizontalPodAutoscalers != nil || r.Usage != nil {
		t.Fatalf("sections %+v %+v", r.HorizontalPodAutoscalers, r.Usage)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"horizontalPodAutoscalers"`) || strings.Contains(buf.String(), `"usage"`) {
		t.Error("HPA or usage section in the JSON of a run without them")
	}
	buf.Reset()
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Horizontal pod autoscaling") || strings.Contains(buf.String(), "Usage") {
		t.Errorf("HPA or usage block in the table:\n%s", buf.String())
	}
	for _, expr := range []string{"size(horizontalPodAutoscalers.hpas) == 0", "usage.cpu.usage.peak == 0.0",
		"size(usage.workloads) == 0"} {
		if res := checkOne(t, expr, r); !res.Passed || res.Err != nil {
			t.Errorf("%s: passed %v, error %v", expr, res.Passed, res.Err)
		}
	}
	dir := t.TempDir()
	for _, f := range append(append([]string{}, HPACSVFiles...), UsageCSVFiles...) {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("from an earlier run\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteCSV(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(append([]string{}, HPACSVFiles...), UsageCSVFiles...) {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left from an earlier run: %v", f, err)
		}
	}
}

// spaces collapses runs of blanks, so table lines compare whatever the column widths.
var spaces = regexp.MustCompile(` {2,}`)

// The table shows each HPA, its rescales, a WARNING for the failing one and the lines not
// modelled, then the usage block; assertions, CSV and the schema read the same figures.
func TestHPATableAssertCSVSchema(t *testing.T) {
	r := Build(hpaObservation())
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := spaces.ReplaceAllString(buf.String(), " ")
	for _, want := range []string{
		"\nHorizontal pod autoscaling (2 HPA(s)):\n",
		"\ndefault/web Deployment/web 2–20 2 → 20 → 4 4 1 34m15s behavior\n",
		"\ndefault/api Deployment/api 1–10 3 → 3 → 3 0 0 0s legacy\n",
		"\nRescales of default/web (5):\n 0s 2 → 4 " + aboveTarget + "\n 10m00s 4 → 8 " + aboveTarget + "\n 10m15s 8 → 16 " + aboveTarget,
		"\n 44m45s 20 → 4 All metrics below target\n",
		"\nWARNING: hpa default/api: 241 of 241 reconciles computed no replica count: FailedComputeMetricsReplicas: invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API (no usage data for the target's pods: give them the kwoksim.io/cpu-usage annotation or the trace a load operation)\n",
		"\nNot modelled of the HPA controller, and what a real one does:\n - default/api: the Pods metric",
		"\n - usage is instantaneous",
		"\nUsage (what the pods with usage data demand, before CPU limits and node contention; utilization over the allocatable of the existing nodes):\n",
		"\ncpu 25.0% 15.6% 50.0% 31.2% 2 1333m 4 2667m\n",
		"\nmemory 25.0% 15.6% 50.0% 31.2% 4Gi 2.67Gi 8Gi 5.33Gi\n",
		"\nDeployment/default/web 4 2 1333m 50.0% 4Gi 2.67Gi 50.0% 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the table:\n%s", want, out)
		}
	}
	if strings.Contains(out, "WARNING: hpa default/web") {
		t.Error("a WARNING for the HPA that did not fail")
	}
	// Failures before the first success are a note, not a WARNING; one after it warns.
	for _, c := range []struct {
		failed, startup int
		want            string
	}{
		{1, 1, "\nhpa default/web: the first 1 reconcile(s) computed no replica count, before its target's pods had metrics"},
		{2, 1, "\nWARNING: hpa default/web: 2 of 241 reconciles computed no replica count"},
	} {
		o2 := hpaObservation()
		o2.HPAs[0].FailedReconciles, o2.HPAs[0].StartupFailures = c.failed, c.startup
		var b strings.Builder
		if err := WriteTable(&b, Build(o2)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("%d failed, %d at startup: no %q in the table", c.failed, c.startup, c.want)
		}
	}
	for _, tc := range []struct {
		expr string
		pass bool
	}{
		{"horizontalPodAutoscalers.hpas[0].peakReplicas == 20", true},
		{"horizontalPodAutoscalers.hpas[0].finalReplicas == 2", false},
		{"horizontalPodAutoscalers.hpas.all(h, h.failedReconciles == 0)", false},
		{`horizontalPodAutoscalers.hpas.exists(h, h.name == "web" && h.secondsAtMax >= 2000.0 && size(h.rescales) == 5)`, true},
		{`horizontalPodAutoscalers.hpas[1].lastFailure.startsWith("FailedComputeMetricsReplicas")`, true},
		{"usage.cpu.utilizationByUsage.peak == 0.25 && usage.cpu.utilizationByRequests.peak == 0.5", true},
		{"usage.workloads[0].peakReadyPods == 4", true},
	} {
		res := checkOne(t, tc.expr, r)
		if res.Err != nil || res.Passed != tc.pass {
			t.Errorf("%s: passed %v (error %v), want %v", tc.expr, res.Passed, res.Err, tc.pass)
		}
	}

	dir := t.TempDir()
	if err := WriteCSV(dir, r); err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hpaCSV := read("hpa.csv")
	for _, want := range []string{
		"namespace,name,target,minReplicas,maxReplicas,path,initialReplicas,finalReplicas,peakReplicas,lowestReplicas,scaleUps,scaleDowns,reconciles,failedReconciles,secondsAtMax,secondsLimited,lastFailure\n",
		"default,web,Deployment/web,2,20,behavior,2,4,20,2,4,1,241,0,2055,1800,\n",
		"default,api,Deployment/api,1,10,legacy,3,3,3,3,0,0,241,241,0,0,\"FailedComputeMetricsReplicas: invalid metrics",
	} {
		if !strings.Contains(hpaCSV, want) {
			t.Errorf("no %q in hpa.csv:\n%s", want, hpaCSV)
		}
	}
	if got := read("hpa-replicas.csv"); !strings.HasPrefix(got, "namespace,name,t,current,desired,proposal\ndefault,web,0,2,4,4\ndefault,web,15,4,4,4\ndefault,web,600,4,8,24\n") ||
		!strings.HasSuffix(got, "default,web,2700,4,4,4\ndefault,api,0,3,0,-1\n") {
		t.Errorf("hpa-replicas.csv:\n%s", got)
	}
	if got, want := read("usage.csv"), "t,cpu,memory,requestedCPU,requestedMemory,allocatableCPU,allocatableMemory\n"+
		"0,0,0,0,0,8,17179869184\n600,2,4294967296,4,8589934592,8,17179869184\n"+
		"2400,1,2147483648,2,4294967296,8,17179869184\n3000,1,2147483648,2,4294967296,16,34359738368\n"; got != want {
		t.Errorf("usage.csv:\n%s\nwant:\n%s", got, want)
	}

	sch := compileSchema(t)
	buf.Reset()
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := validate(sch, buf.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"a path that is none", func(m map[string]any) {
			hpa(m)["path"] = "sideways"
		}, "/horizontalPodAutoscalers/hpas/0/path"},
		{"an HPA without its peak", func(m map[string]any) { delete(hpa(m), "peakReplicas") }, "missing property 'peakReplicas'"},
		{"a proposal below -1", func(m map[string]any) {
			hpa(m)["replicasOverTime"].([]any)[0].(map[string]any)["proposal"] = -2
		}, "/horizontalPodAutoscalers/hpas/0/replicasOverTime/0/proposal"},
		{"usage without its series", func(m map[string]any) { delete(m["usage"].(map[string]any), "overTime") }, "missing property 'overTime'"},
		{"a negative usage", func(m map[string]any) {
			m["usage"].(map[string]any)["cpu"].(map[string]any)["usage"].(map[string]any)["peak"] = -1
		}, "/usage/cpu/usage/peak"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(sch, b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// hpa is the first HPA of a report decoded as JSON.
func hpa(m map[string]any) map[string]any {
	return m["horizontalPodAutoscalers"].(map[string]any)["hpas"].([]any)[0].(map[string]any)
}

// compare sets the HPAs of two runs side by side by namespace/name, and the CPU utilization by
// usage and by requests; runs without HPAs or usage data compare none of these figures.
func TestHPACompare(t *testing.T) {
	a := Build(hpaObservation())
	o := hpaObservation()
	o.HPAs = o.HPAs[:1]
	o.HPAs[0].MaxReplicas = 16
	o.HPAs[0].Samples = o.HPAs[0].Samples[:4]
	o.HPAs[0].Events = o.HPAs[0].Events[:3]
	b := Build(o)
	c := Compare(a, b, "a.json", "b.json")
	figures := map[string]FigureDiff{}
	for _, f := range c.Figures {
		figures[f.Name] = f
	}
	peak := figures["horizontalPodAutoscalers[default/web].peakReplicas"]
	if peak.A == nil || peak.B == nil || *peak.A != 20 || *peak.B != 16 || *peak.Diff != -4 {
		t.Errorf("web peak %+v", peak)
	}
	if f := figures["horizontalPodAutoscalers[default/api].failedReconciles"]; f.A == nil || *f.A != 241 || f.B != nil {
		t.Errorf("api failed reconciles %+v, want 241 beside null", f)
	}
	if f := figures["usage.cpu.utilizationByUsage.peak"]; f.A == nil || *f.A != 0.25 || f.B == nil || *f.B != 0.25 {
		t.Errorf("usage peak %+v", f)
	}
	plain := Build(Observation{Elapsed: time.Minute})
	for _, f := range Compare(plain, plain, "a.json", "b.json").Figures {
		if strings.HasPrefix(f.Name, "horizontalPodAutoscalers") || strings.HasPrefix(f.Name, "usage.") {
			t.Errorf("figure %s compared between runs without HPAs or usage", f.Name)
		}
	}
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func TestClockSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0s"}, {5, "5s"}, {45, "45s"}, {0.25, "0.250s"}, {600, "10m00s"}, {615, "10m15s"}, {2685, "44m45s"},
		{3750, "1h02m30s"}, {90061.5, "25h01m01.500s"},
	} {
		if got := ClockSeconds(tc.in); got != tc.want {
			t.Errorf("ClockSeconds(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
