package analysis

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func secs(s float64) *time.Duration { d := time.Duration(s * float64(time.Second)); return &d }

// Empirical percentiles, worked by hand: the p-th is the ceil(p·n)-th smallest value.
func TestLatencies(t *testing.T) {
	var pods []PodRecord
	// Ten pods created at t=10 and bound 1..10 s later, in shuffled order; the first seven
	// Running 20 s after creation, the eighth 50 s after, the other two never.
	for _, d := range []float64{7, 3, 10, 1, 5, 9, 2, 8, 4, 6} {
		p := PodRecord{CreatedAt: secs(10), ScheduledAt: secs(10 + d), Attempts: 1}
		pods = append(pods, p)
	}
	for i := 0; i < 7; i++ {
		pods[i].RunningAt = secs(30)
	}
	pods[7].RunningAt = secs(60)
	pods[3].Attempts = 5
	// Never bound, tried 3 times; and one the scheduler never saw.
	pods = append(pods, PodRecord{CreatedAt: secs(0), Attempts: 3}, PodRecord{CreatedAt: secs(99)})

	lat, attempts := latencies(pods)
	// Scheduling: 1..10. p50 = 5th = 5, p90 = 9th = 9, p99 = 10th = 10.
	if want := (Distribution{P50: 5, P90: 9, P99: 10, Max: 10, Count: 10}); lat.Scheduling != want {
		t.Errorf("scheduling = %+v, want %+v", lat.Scheduling, want)
	}
	// Startup: seven 20s and one 50. p50 = 4th = 20, p90 = ceil(7.2) = 8th = 50, p99 = 50.
	if want := (Distribution{P50: 20, P90: 50, P99: 50, Max: 50, Count: 8}); lat.Startup != want {
		t.Errorf("startup = %+v, want %+v", lat.Startup, want)
	}
	// Attempts of the 11 pods tried: nine 1s, a 3 and a 5. p50 = 6th = 1, p90 = ceil(9.9) =
	// 10th = 3, p99 = 11th = 5.
	if want := (Distribution{P50: 1, P90: 3, P99: 5, Max: 5, Count: 11}); attempts != want {
		t.Errorf("attempts = %+v, want %+v", attempts, want)
	}
	if d := distribution(nil); d != (Distribution{}) {
		t.Errorf("empty distribution = %+v", d)
	}
}

// Only nodes that offer a resource count for it; the standard deviation is the population one.
func TestUtilizationStats(t *testing.T) {
	nodes := []NodeReport{
		{Name: "a", Allocatable: map[string]string{"cpu": "4", "gpu": "0"}, Utilization: map[string]float64{"cpu": 0.25, "gpu": 0}},
		{Name: "b", Allocatable: map[string]string{"cpu": "4", "gpu": "2"}, Utilization: map[string]float64{"cpu": 0.75, "gpu": 0.5}},
		{Name: "c", Allocatable: map[string]string{"cpu": "2"}, Utilization: map[string]float64{"cpu": 1}},
	}
	got := utilizationStats(nodes)
	// cpu: mean (0.25+0.75+1)/3 = 2/3; deviations -5/12, 1/12, 4/12: variance (25+1+16)/144/3
	// = 42/432, stddev √(42/432) ≈ 0.3118.
	cpu := got["cpu"]
	if math.Abs(cpu.Mean-2.0/3) > 1e-12 || math.Abs(cpu.Stddev-math.Sqrt(42.0/432)) > 1e-12 || cpu.Max != 1 || cpu.Nodes != 3 {
		t.Errorf("cpu = %+v", cpu)
	}
	// gpu: node a lists it at 0, so only b counts.
	if want := (UtilizationStats{Mean: 0.5, Stddev: 0, Max: 0.5, Nodes: 1}); got["gpu"] != want {
		t.Errorf("gpu = %+v, want %+v", got["gpu"], want)
	}
	if len(got) != 2 {
		t.Errorf("resources = %v", got)
	}
}

func TestNodeUtilization(t *testing.T) {
	alloc := corev1.ResourceList{"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "example.com/gpu": resource.MustParse("0")}
	req := corev1.ResourceList{"cpu": resource.MustParse("1500m"), "memory": resource.MustParse("2Gi"), "example.com/gpu": resource.MustParse("1")}
	got := nodeUtilization(alloc, req)
	want := map[string]float64{"cpu": 0.375, "memory": 0.25, "example.com/gpu": 0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestUnschedulableReasons(t *testing.T) {
	r := &Report{Pods: []PodReport{
		{Name: "a", UnschedulableReason: "z: too big"},
		{Name: "b", UnschedulableReason: "b: no toleration"},
		{Name: "c", UnschedulableReason: "a: selector"},
		{Name: "d", UnschedulableReason: "b: no toleration"},
		{Name: "bound", Node: "n", UnschedulableReason: "once failed"},
		{Name: "deleted", UnschedulableReason: "a: selector", DeletedAt: new(float64)},
		{Name: "never tried"},
	}}
	got := unschedulableReasons(r)
	none := func(reason string, count int) ReasonCount {
		return ReasonCount{Reason: reason, Count: count, Plugins: []string{}, PluginNodes: []PluginNodes{}}
	}
	want := []ReasonCount{none("b: no toleration", 2), none("a: selector", 1), none("z: too big", 1)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Pods with one message share an entry, which carries their structured outcome; pods with one
// message and different outcomes (a message counts nodes per reason, not per plugin) get an
// entry each, ordered by outcome after count and message.
func TestUnschedulableReasonsCarryTheOutcome(t *testing.T) {
	const msg = "0/3 nodes are available: 1 node(s) had untolerated taint {k: }, 2 Insufficient cpu."
	fit := func(taint, cpu int) *SchedulingOutcome {
		return &SchedulingOutcome{Code: "Unschedulable", Plugins: []string{"NodeResourcesFit", "TaintToleration"}, Nodes: 3,
			PluginNodes: []PluginNodes{{"NodeResourcesFit", cpu}, {"TaintToleration", taint}}}
	}
	r := &Report{Pods: []PodReport{
		{Name: "a", UnschedulableReason: msg, outcome: fit(1, 2)},
		{Name: "b", UnschedulableReason: "no nodes available to schedule pods", outcome: &SchedulingOutcome{Code: "UnschedulableAndUnresolvable"}},
		{Name: "c", UnschedulableReason: msg, outcome: fit(1, 2)},
		{Name: "d", UnschedulableReason: msg, outcome: fit(2, 1)},
		{Name: "e", UnschedulableReason: "waiting", outcome: &SchedulingOutcome{Code: "Unschedulable", Plugins: []string{}, PendingPlugins: []string{"P"}, Nodes: 1}},
	}}
	got, err := json.Marshal(unschedulableReasons(r))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"reason":"` + msg + `","count":2,"code":"Unschedulable","plugins":["NodeResourcesFit","TaintToleration"],"nodes":3,"pluginNodes":[{"plugin":"NodeResourcesFit","nodes":2},{"plugin":"TaintToleration","nodes":1}]},` +
		`{"reason":"` + msg + `","count":1,"code":"Unschedulable","plugins":["NodeResourcesFit","TaintToleration"],"nodes":3,"pluginNodes":[{"plugin":"NodeResourcesFit","nodes":1},{"plugin":"TaintToleration","nodes":2}]},` +
		`{"reason":"no nodes available to schedule pods","count":1,"code":"UnschedulableAndUnresolvable","plugins":[],"nodes":0,"pluginNodes":[]},` +
		`{"reason":"waiting","count":1,"code":"Unschedulable","plugins":[],"pendingPlugins":["P"],"nodes":1,"pluginNodes":[]}]`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
