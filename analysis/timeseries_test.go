package analysis

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDefaultSampleInterval(t *testing.T) {
	for _, tc := range []struct {
		elapsed, want time.Duration
	}{
		{0, time.Second},
		{999 * time.Second, time.Second},
		{1000 * time.Second, time.Second},
		{1001 * time.Second, 2 * time.Second},
		{31 * time.Minute, 2 * time.Second},
		{24 * time.Hour, 2 * time.Minute},     // 86,400 s / 1,000 = 86.4 s
		{149 * 24 * time.Hour, 6 * time.Hour}, // 12,873,600 s / 1,000 = 3.6 h
		{1000 * 24 * time.Hour, 24 * time.Hour},
		{1001 * 24 * time.Hour, 48 * time.Hour},
		// The largest time.Duration: rounding up used to overflow to a negative step count
		// (the default was then 1s and the series' make panicked).
		{math.MaxInt64, 107 * 24 * time.Hour},
	} {
		got := DefaultSampleInterval(tc.elapsed)
		if got != tc.want {
			t.Errorf("DefaultSampleInterval(%v) = %v, want %v", tc.elapsed, got, tc.want)
		}
		if n := len(sampleTimes(tc.elapsed, got)); n > maxDefaultSteps+1 {
			t.Errorf("%v: %d points", tc.elapsed, n)
		}
	}
}

func TestSampleTimes(t *testing.T) {
	for _, tc := range []struct {
		elapsed, interval time.Duration
		want              []time.Duration
	}{
		{0, time.Second, []time.Duration{0}},
		{3 * time.Second, time.Second, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}},
		// The last point is the end of the run, even between two steps.
		{2500 * time.Millisecond, time.Second, []time.Duration{0, time.Second, 2 * time.Second, 2500 * time.Millisecond}},
		{500 * time.Millisecond, time.Minute, []time.Duration{0, 500 * time.Millisecond}},
		// A step past the largest time.Duration: adding it used to wrap to a negative time
		// and loop for ever.
		{math.MaxInt64, math.MaxInt64/2 + 1, []time.Duration{0, math.MaxInt64/2 + 1, math.MaxInt64}},
	} {
		if got := sampleTimes(tc.elapsed, tc.interval); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sampleTimes(%v, %v) = %v, want %v", tc.elapsed, tc.interval, got, tc.want)
		}
	}
}

func TestCheckSampleInterval(t *testing.T) {
	if err := CheckSampleInterval(24*time.Hour, 0); err != nil {
		t.Errorf("default: %v", err)
	}
	if err := CheckSampleInterval(24*time.Hour, time.Second); err != nil {
		t.Errorf("86,401 points: %v", err)
	}
	var se *SamplingError
	if err := CheckSampleInterval(24*time.Hour, time.Millisecond); !errors.As(err, &se) || se.Samples != 86_400_001 {
		t.Errorf("86,400,001 points: %v", err)
	}
	// Near the largest time.Duration the count is still right, not overflowed into a count
	// the check lets through.
	if err := CheckSampleInterval(math.MaxInt64, time.Hour); !errors.As(err, &se) || se.Samples != 2_562_049 {
		t.Errorf("MaxInt64 at 1h: %v, want 2,562,049 points", err)
	}
	if err := CheckSampleInterval(time.Hour, -time.Second); err == nil {
		t.Error("a negative interval is accepted")
	}
}

func allocatable(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// sweepRun is the run TestTimeseriesSweep and TestOverTimeSweep work by hand.
func sweepRun() Observation {
	p3 := podOn("p3", "n1", corev1.PodRunning, "2")
	p3.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
	return Observation{
		Elapsed: 20 * time.Second,
		Pods: []PodRecord{
			{Pod: podOn("p0", "n1", corev1.PodSucceeded, "1")},
			{Pod: podOn("p1", "n2", corev1.PodRunning, "500m")},
			{Pod: podOn("p2", "", corev1.PodPending, "1")},
			{Pod: p3},
		},
		History: History{
			Pods: []PodChange{
				{At: 0, Pod: 0, Phase: corev1.PodPending},
				{At: 0, Pod: 1, Phase: corev1.PodPending, Bound: true},
				{At: 1 * time.Second, Pod: 0, Phase: corev1.PodPending, Bound: true},
				{At: 2 * time.Second, Pod: 1, Phase: corev1.PodRunning, Bound: true},
				{At: 3 * time.Second, Pod: 0, Phase: corev1.PodRunning, Bound: true},
				{At: 4 * time.Second, Pod: 2, Phase: corev1.PodPending},
				{At: 6 * time.Second, Pod: 3, Phase: corev1.PodPending},
				{At: 6 * time.Second, Pod: 3, Phase: corev1.PodPending, Bound: true},
				{At: 6 * time.Second, Pod: 3, Phase: corev1.PodRunning, Bound: true},
				{At: 8 * time.Second, Pod: 2, Phase: corev1.PodPending, Gone: true},
				{At: 9 * time.Second, Pod: 3, Phase: corev1.PodRunning, Bound: true, Gone: true},
				{At: 20 * time.Second, Pod: 0, Phase: corev1.PodSucceeded, Bound: true},
			},
			Nodes: []NodeChange{
				{At: 0, Name: "n1", Allocatable: allocatable("cpu", "4", "pods", "10")},
				{At: 0, Name: "n2", Ready: true, Allocatable: allocatable("cpu", "2", "memory", "4Gi", "pods", "10")},
				{At: 5 * time.Second, Name: "n1", Ready: true},
				{At: 10 * time.Second, Name: "n2", Gone: true},
				{At: 12 * time.Second, Name: "n1", Ready: true, Allocatable: allocatable("cpu", "8", "pods", "10")},
				{At: 15 * time.Second, Name: "n2", Ready: true, Allocatable: allocatable("cpu", "2", "pods", "10")},
			},
		},
	}

}

// A run of 20 s, worked by hand. n1 (4 CPU) starts NotReady and becomes Ready at 5 s; n2
// (2 CPU, 4 Gi) is deleted at 10 s and comes back at 15 s without memory; n1 grows to 8 CPU at
// 12 s. p0 (1 CPU, n1) is bound at 1 s, Running at 3 s, Succeeded at 20 s; p1 (500m, n2) is
// created bound; p2 is never bound and deleted; p3 (2 CPU, 1 Gi, n1) lives from 6 s to 9 s.
func TestTimeseriesSweep(t *testing.T) {
	o := sweepRun()
	o.SampleInterval = 5 * time.Second
	got := timeseries(o)
	want := Timeseries{
		T: []float64{0, 5, 10, 15, 20},
		// 0: p0, p1 pending. 5: p2 pending, p0 and p1 running. 10: p2 and p3 gone. 20: p0 done.
		Pending:   []int{2, 1, 0, 0, 0},
		Running:   []int{0, 2, 2, 2, 1},
		Succeeded: []int{0, 0, 0, 0, 1},
		Failed:    []int{0, 0, 0, 0, 0},
		// n1 is Ready at 5 s, n2 gone at 10 s and back at 15 s.
		ReadyNodes: []int{1, 2, 1, 2, 2},
		Utilization: map[string][]float64{
			// 0: p1's 500m of 6 CPU. 5: p0 too, 1.5 of 6. 10: only n1 exists: p0's 1 of 4
			// (p1's node is gone). 15: n1 has 8 and n2 is back: 1.5 of 10. 20: p1's 0.5 of 10.
			"cpu": {500.0 / 6000, 0.25, 0.25, 0.15, 0.05},
			// Only n2 offers memory, and no pod on it asks for any; from 10 s nobody offers it.
			"memory": {0, 0, 0, 0, 0},
			// 1 of 20, 2 of 20, 1 of 10, 2 of 20, 1 of 20.
			"pods": {0.05, 0.1, 0.1, 0.1, 0.05},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeseries:\n got %+v\nwant %+v", got, want)
	}

	// At 7 s, between p3's start and end: p3's 1 Gi of n2's 4 Gi, 3.5 of 6 CPU, 3 of 20 pods.
	o.SampleInterval = time.Second
	got = timeseries(o)
	if len(got.T) != 21 || got.T[7] != 7 || got.Running[7] != 3 || got.Pending[7] != 1 {
		t.Fatalf("at 7 s: t=%v running=%d pending=%d of %d points", got.T[7], got.Running[7], got.Pending[7], len(got.T))
	}
	if u := got.Utilization; u["memory"][7] != 0.25 || u["cpu"][7] != 3500.0/6000 || u["pods"][7] != 0.15 {
		t.Errorf("utilization at 7 s: cpu %v memory %v pods %v", u["cpu"][7], u["memory"][7], u["pods"][7])
	}
}

// The same run over its whole length, worked by hand from the changes (not from the samples:
// p3's 3 s, between two samples 5 s apart, counts in full). Means are the sums of value ×
// seconds held, over 20 s.
func TestOverTimeSweep(t *testing.T) {
	o := sweepRun()
	for _, interval := range []time.Duration{5 * time.Second, time.Second, time.Minute} {
		o.SampleInterval = interval
		_, got := sweep(o)
		want := OverTime{
			// 0 until 2 s, 1 until 3 s (p1), 2 until 6 s, 3 until 9 s (p3), 2 until 20 s:
			// 1 + 6 + 9 + 22 = 38; p0 succeeds at 20 s.
			PodsRunning: OverTimeFigure{Final: 1, Peak: 3, PeakAt: 6, Mean: 38.0 / 20},
			// 2 until 2 s, 1 until 3 s, 0 until 4 s, 1 (p2; p3 is pending and Running within
			// the instant 6 s) until 8 s: 4 + 1 + 4 = 9.
			PodsPending: OverTimeFigure{Final: 0, Peak: 2, PeakAt: 0, Mean: 9.0 / 20},
			// p1 from 0, p0 from 1 s, p3 from 6 s to 9 s: 1 + 10 + 9 + 22 = 42.
			PodsBound: OverTimeFigure{Final: 1, Peak: 3, PeakAt: 6, Mean: 42.0 / 20},
			// n2 (p1) from 0 while it exists (not 10 s to 15 s), n1 (p0) from 1 s to 20 s:
			// 1 + 18 + 5 + 10 = 34.
			NodesUsed: OverTimeFigure{Final: 1, Peak: 2, PeakAt: 1, Mean: 34.0 / 20},
			Utilization: map[string]OverTimeFigure{
				// 0.5/6 for 1 s, 1.5/6 for 5 s, 3.5/6 for 3 s, 1.5/6 for 1 s, 1/4 for 2 s,
				// 1/8 for 3 s, 1.5/10 for 5 s; 0.5/10 at 20 s.
				"cpu": {Final: 0.05, Peak: 3.5 / 6, PeakAt: 6,
					Mean: (0.5/6 + 0.25*5 + 3.5/6*3 + 0.25 + 0.25*2 + 0.125*3 + 0.15*5) / 20},
				// p3's 1 Gi of n2's 4 Gi for 3 s.
				"memory": {Final: 0, Peak: 0.25, PeakAt: 6, Mean: 0.25 * 3 / 20},
				// 1/20 for 1 s, 2/20 for 5 s, 3/20 for 3 s, 2/20 for 1 s, 1/10 for 5 s,
				// 2/20 for 5 s: 0.05 + 0.5 + 0.45 + 0.1 + 0.5 + 0.5 = 2.1.
				"pods": {Final: 0.05, Peak: 0.15, PeakAt: 6, Mean: 2.1 / 20},
			},
		}
		if !closeOverTime(got, want) {
			t.Errorf("interval %v: over time:\n got %+v\nwant %+v", interval, got, want)
		}
		if !got.Emptier() {
			t.Errorf("interval %v: the run ended below its peaks, Emptier is false", interval)
		}
	}
}

// closeOverTime compares two OverTimes, means to within rounding.
func closeOverTime(a, b OverTime) bool {
	close := func(x, y OverTimeFigure) bool {
		return x.Final == y.Final && x.Peak == y.Peak && x.PeakAt == y.PeakAt && math.Abs(x.Mean-y.Mean) < 1e-12
	}
	if !close(a.PodsRunning, b.PodsRunning) || !close(a.PodsPending, b.PodsPending) || !close(a.PodsBound, b.PodsBound) ||
		!close(a.NodesUsed, b.NodesUsed) || len(a.Utilization) != len(b.Utilization) {
		return false
	}
	for name, f := range a.Utilization {
		if !close(f, b.Utilization[name]) {
			return false
		}
	}
	return true
}

// Four pods of 1 CPU on an 8-CPU node for the first 10 of 20 minutes, all deleted by the end:
// the final figures are 0, the peak 50% (4 of 8) at 0, the mean 25% (50% for half the run);
// 4 pods running at the peak, 2 on average, one node used for half the run.
func TestOverTimeOfARunThatEndsEmpty(t *testing.T) {
	o := Observation{Elapsed: 20 * time.Minute}
	o.History.Nodes = []NodeChange{{Name: "n", Ready: true, Allocatable: allocatable("cpu", "8", "pods", "110")}}
	for i := range 4 {
		o.Pods = append(o.Pods, PodRecord{Pod: podOn("p", "n", corev1.PodRunning, "1")})
		o.History.Pods = append(o.History.Pods, PodChange{Pod: int32(i), Phase: corev1.PodRunning, Bound: true})
	}
	for i := range 4 {
		o.History.Pods = append(o.History.Pods, PodChange{At: 10 * time.Minute, Pod: int32(i), Phase: corev1.PodRunning, Bound: true, Gone: true})
	}
	_, got := sweep(o)
	if f := got.Utilization["cpu"]; f != (OverTimeFigure{Final: 0, Peak: 0.5, PeakAt: 0, Mean: 0.25}) {
		t.Errorf("cpu: %+v, want final 0, peak 0.5 at 0, mean 0.25", f)
	}
	if f := got.PodsRunning; f != (OverTimeFigure{Final: 0, Peak: 4, PeakAt: 0, Mean: 2}) {
		t.Errorf("pods running: %+v, want final 0, peak 4 at 0, mean 2", f)
	}
	if f := got.NodesUsed; f != (OverTimeFigure{Final: 0, Peak: 1, PeakAt: 0, Mean: 0.5}) {
		t.Errorf("nodes used: %+v, want final 0, peak 1 at 0, mean 0.5", f)
	}
}

// A 1e29-CPU request on a 1e30-CPU node is 10% of it: the millicores (1e32 and 1e33) do not fit
// an int64, and MilliValue wrapped them (the report said 0%). The node's utilization, the
// time series and the figures over time all say 10%.
func TestHugeQuantities(t *testing.T) {
	alloc := allocatable("cpu", "1e30", "memory", "1e40", "pods", "10")
	pod := podOn("p", "n", corev1.PodRunning, "1e29")
	pod.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("3e39")
	o := Observation{
		Elapsed: time.Minute,
		Pods:    []PodRecord{{Pod: pod}},
		Nodes:   []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Allocatable: alloc}}},
	}
	o.History.Nodes = []NodeChange{{Name: "n", Ready: true, Allocatable: alloc}}
	o.History.Pods = []PodChange{{Pod: 0, Phase: corev1.PodRunning, Bound: true}}
	r := Build(o)
	if u := r.Nodes[0].Utilization; u["cpu"] != 0.1 || u["memory"] != 0.3 || u["pods"] != 0.1 {
		t.Errorf("node utilization %v, want cpu 0.1, memory 0.3, pods 0.1", u)
	}
	if u := r.Utilization["cpu"]; u.Mean != 0.1 || u.Max != 0.1 || u.Nodes != 1 {
		t.Errorf("cpu across nodes %+v, want 0.1", u)
	}
	if u := r.Timeseries.Utilization; u["cpu"][0] != 0.1 || u["memory"][0] != 0.3 {
		t.Errorf("time series cpu %v, memory %v, want 0.1, 0.3", u["cpu"], u["memory"])
	}
	if f := r.OverTime.Utilization["cpu"]; f.Final != 0.1 || f.Peak != 0.1 || f.Mean != 0.1 {
		t.Errorf("cpu over time %+v, want 0.1", f)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "cpu          1      10.0%") {
		t.Errorf("the table's utilization is not 10%%:\n%s", buf.String())
	}
	// Within int64 the figures are those of the integer amounts, as before.
	if got := quantityRatio(corev1.ResourceCPU, resource.MustParse("100m"), resource.MustParse("3")); got != 100.0/3000 {
		t.Errorf("100m of 3 CPUs: %v", got)
	}
	if got := QuantityRatio("cpu", resource.MustParse("1e29"), resource.MustParse("1e30")); got != 0.1 {
		t.Errorf("QuantityRatio(1e29, 1e30) = %v", got)
	}
}

// A run with no changes at all still has its one point, and empty (not null) series.
func TestTimeseriesEmpty(t *testing.T) {
	got := timeseries(Observation{})
	if !reflect.DeepEqual(got.T, []float64{0}) || got.Pending[0] != 0 || got.ReadyNodes[0] != 0 || got.Utilization == nil || len(got.Utilization) != 0 {
		t.Errorf("got %+v", got)
	}
}
