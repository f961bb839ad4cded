package analysis

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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

// A run of 20 s, worked by hand. n1 (4 CPU) starts NotReady and becomes Ready at 5 s; n2
// (2 CPU, 4 Gi) is deleted at 10 s and comes back at 15 s without memory; n1 grows to 8 CPU at
// 12 s. p0 (1 CPU, n1) is bound at 1 s, Running at 3 s, Succeeded at 20 s; p1 (500m, n2) is
// created bound; p2 is never bound and deleted; p3 (2 CPU, 1 Gi, n1) lives from 6 s to 9 s.
func TestTimeseriesSweep(t *testing.T) {
	p3 := podOn("p3", "n1", corev1.PodRunning, "2")
	p3.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
	o := Observation{
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

// A run with no changes at all still has its one point, and empty (not null) series.
func TestTimeseriesEmpty(t *testing.T) {
	got := timeseries(Observation{})
	if !reflect.DeepEqual(got.T, []float64{0}) || got.Pending[0] != 0 || got.ReadyNodes[0] != 0 || got.Utilization == nil || len(got.Utilization) != 0 {
		t.Errorf("got %+v", got)
	}
}
