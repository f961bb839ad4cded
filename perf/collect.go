package perf

import (
	"math"
	"slices"
	"sort"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
)

// throughputSampleInterval is upstream's (util.go): SchedulingThroughput is sampled every
// second of wall time.
const throughputSampleInterval = time.Second

// collector measures one op, as upstream's throughputCollector and metricsCollector do
// (util.go): the wall time at which each measured pod became scheduled, and the scheduler's
// histograms over the op.
type collector struct {
	name       string
	namespaces []string
	selector   map[string]string
	start      time.Time
	scheduled  []time.Time
	// opIndex and virtualStart place the op in the workload.
	opIndex      int
	virtualStart time.Duration
}

func (c *collector) measures(ns string, labels map[string]string) bool {
	return slices.Contains(c.namespaces, ns) && labelsMatch(labels, c.selector)
}

// startCollector begins measuring. The scheduler's metrics are reset first, so that the
// histograms describe this op alone: upstream's metricsCollector.init means to (it resets the
// gathered copies of the families, which leaves the registry's counts as they were, so there
// an op's histograms also hold the earlier ops of its workload).
func startCollector(name string, namespaces []string, selector map[string]string) *collector {
	legacyregistry.Reset()
	return &collector{name: name, namespaces: namespaces, selector: selector, start: time.Now()}
}

// DataItem is upstream's DataItem (util.go), the unit of its JSON results and of perf-dash.
type DataItem struct {
	Data   map[string]float64 `json:"data"`
	Unit   string             `json:"unit"`
	Labels map[string]string  `json:"labels,omitempty"`
}

// throughput computes SchedulingThroughput as upstream's throughputCollector samples it, from
// the recorded times: a tick every second of wall time from the collector's start to end;
// ticks before the first scheduled pod are ignored, the first tick after it only starts the
// count, a tick with nothing new is merged into the next, and each interval's pods per second
// is recorded once per tick it spans. The interval after the last tick is not sampled, as
// upstream cancels its collector then. ok is false when no sample was taken (an op shorter
// than about two seconds), as upstream then reports no SchedulingThroughput.
func throughput(start, end time.Time, scheduled []time.Time, labels map[string]string) (DataItem, bool) {
	sort.Slice(scheduled, func(i, j int) bool { return scheduled[i].Before(scheduled[j]) })
	var samples []float64
	started, skipped, last := false, 0, 0
	var lastTime time.Time
	for tick := start.Add(throughputSampleInterval); !tick.After(end); tick = tick.Add(throughputSampleInterval) {
		n := sort.Search(len(scheduled), func(i int) bool { return scheduled[i].After(tick) })
		if n == 0 {
			continue
		}
		if !started {
			started, last, lastTime = true, n, tick
			continue
		}
		if n == last {
			skipped++
			continue
		}
		rate := float64(n-last) / tick.Sub(lastTime).Seconds()
		for range skipped + 1 {
			samples = append(samples, rate)
		}
		last, lastTime, skipped = n, tick, 0
	}
	item := DataItem{Labels: copyLabels(labels, "SchedulingThroughput"), Unit: "pods/s"}
	if len(samples) == 0 {
		return item, false
	}
	sort.Float64s(samples)
	sum := 0.0
	for _, s := range samples {
		sum += s
	}
	pick := func(p int) float64 { return samples[int(math.Ceil(float64(len(samples)*p)/100))-1] }
	item.Data = map[string]float64{
		"Average": sum / float64(len(samples)),
		"Perc50":  pick(50), "Perc90": pick(90), "Perc95": pick(95), "Perc99": pick(99),
	}
	return item, true
}

// histograms are the scheduler's latency histograms kwoksim reports, by label filter: those
// of upstream's defaultMetricsCollectorConfig that time wall-clock work. The end-to-end ones
// (scheduler_pod_scheduling_sli_duration_seconds, scheduler_pod_scheduling_duration_seconds)
// are left out: they subtract a time read from the scheduler's clock, which is virtual here,
// from the wall clock's now, so their values would mean nothing.
var histograms = []struct {
	metric, label string
	values        []string
}{
	{"scheduler_scheduling_attempt_duration_seconds", "result", []string{schedmetrics.ScheduledResult, schedmetrics.UnschedulableResult, schedmetrics.ErrorResult}},
	{"scheduler_scheduling_algorithm_duration_seconds", "", nil},
	{"scheduler_framework_extension_point_duration_seconds", "extension_point", schedmetrics.ExtensionPoints},
}

// gatherHistograms is upstream's metricsCollector.collect for the histograms above: Perc50,
// Perc90, Perc95, Perc99 and Average in milliseconds, for each label value that has samples.
func gatherHistograms(labels map[string]string) []DataItem {
	gm, err := testutil.GatherMetrics(legacyregistry.DefaultGatherer)
	if err != nil {
		return nil
	}
	var out []DataItem
	for _, h := range histograms {
		filters := []map[string]string{nil}
		if h.label != "" {
			filters = filters[:0]
			for _, v := range h.values {
				filters = append(filters, map[string]string{h.label: v})
			}
		}
		for _, f := range filters {
			vec, err := gm.GetHistogramVec(h.metric, f)
			if err != nil || vec.Validate() != nil || vec.GetAggregatedSampleCount() == 0 {
				continue
			}
			ms := float64(time.Second) / float64(time.Millisecond)
			l := copyLabels(labels, h.metric)
			for k, v := range f {
				l[k] = v
			}
			out = append(out, DataItem{Labels: l, Unit: "ms", Data: map[string]float64{
				"Perc50": vec.Quantile(0.50) * ms, "Perc90": vec.Quantile(0.90) * ms,
				"Perc95": vec.Quantile(0.95) * ms, "Perc99": vec.Quantile(0.99) * ms,
				"Average": vec.Average() * ms,
			}})
		}
	}
	return out
}

// attempts reads scheduler_schedule_attempts_total by result, over every profile.
func attempts() map[string]int {
	out := map[string]int{}
	v, err := testutil.GetCounterValuesFromGatherer(legacyregistry.DefaultGatherer, "scheduler_schedule_attempts_total", nil, "result")
	if err != nil {
		return out
	}
	for k, n := range v {
		out[k] = int(n)
	}
	return out
}

func copyLabels(labels map[string]string, metric string) map[string]string {
	out := map[string]string{"Metric": metric}
	for k, v := range labels {
		out[k] = v
	}
	return out
}
