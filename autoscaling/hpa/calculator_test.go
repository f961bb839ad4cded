package hpa

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The upstream tests' own constants (replica_calculator.go:41–43), not the flag defaults.
const (
	testTolerance             = 0.1
	testCPUInitialization     = 2 * time.Minute
	testInitialReadinessDelay = 10 * time.Second
	numContainersPerPod       = 2
)

// testNow stands for upstream's time.Now() in the calculator tests.
var testNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// hot and cool are hotCPUCreationTime and coolCPUCreationTime (horizontal_test.go:1329):
// started now (still initializing), or 3 minutes ago (past the 2-minute period).
var (
	hot  = testNow
	cool = testNow.Add(-3 * time.Minute)
)

// calcScenario is upstream's calcScenario (replica_calculator_test.go): len(requests) pods
// have CPU requests, levels[i][j] is container j+1 of pod i (a short row lacks containers).
type calcScenario struct {
	currentReplicas      int32
	requests             []string
	levels               [][]int64
	podNames             []string
	container            string
	podReadiness         []corev1.ConditionStatus
	podStartTime         []time.Time
	podPhase             []corev1.PodPhase
	podDeletionTimestamp []bool
}

func cpuRequests(n int, v string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// podLevels is makePodMetricLevels: every container of pod i uses v[i].
func podLevels(v ...int64) [][]int64 {
	out := make([][]int64, len(v))
	for i := range v {
		out[i] = []int64{v[i], v[i]}
	}
	return out
}

// pods is newFakePodClient/buildFakePod: currentReplicas pods (or len(podPhase)), Running and
// Ready by default, started at the zero time, with two containers.
func (f calcScenario) pods() []*corev1.Pod {
	n := int(f.currentReplicas)
	if len(f.podPhase) > n {
		n = len(f.podPhase)
	}
	var pods []*corev1.Pod
	for i := 0; i < n; i++ {
		ready := corev1.ConditionTrue
		if i < len(f.podReadiness) {
			ready = f.podReadiness[i]
		}
		var start metav1.Time
		if f.podStartTime != nil {
			start = metav1.Time{Time: f.podStartTime[i]}
		}
		phase := corev1.PodRunning
		if f.podPhase != nil {
			phase = f.podPhase[i]
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("test-pod-%d", i), Namespace: "test-namespace"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "container1"}, {Name: "container2"}}},
			Status: corev1.PodStatus{
				Phase:      phase,
				StartTime:  &start,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}},
			},
		}
		if f.podDeletionTimestamp != nil && f.podDeletionTimestamp[i] {
			pod.DeletionTimestamp = &metav1.Time{Time: testNow}
		}
		if i < len(f.requests) {
			req := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(f.requests[i])}}
			pod.Spec.Containers[0].Resources = req
			pod.Spec.Containers[1].Resources = req
		}
		pods = append(pods, pod)
	}
	return pods
}

// source is newFakeResourceMetricsClient seen through resourceMetricsClient.GetResourceMetric
// (metrics/client.go): one PodMetrics per row of levels (zero timestamp, 1-minute window); a
// pod lacking a container's usage is left out when summing, or when that container is asked.
func (f calcScenario) source() MetricsSource {
	return func(res corev1.ResourceName, container string) (PodMetrics, error) {
		if len(f.levels) == 0 {
			return nil, errors.New("no metrics returned from resource metrics API")
		}
		out := PodMetrics{}
		for i, row := range f.levels {
			name := fmt.Sprintf("test-pod-%d", i)
			if i < len(f.podNames) {
				name = f.podNames[i]
			}
			m := PodMetric{Window: time.Minute}
			switch {
			case container != "":
				j := int(container[len(container)-1] - '1')
				if j >= len(row) {
					continue
				}
				m.Value = row[j]
			default:
				if len(row) < numContainersPerPod {
					continue
				}
				for _, v := range row {
					m.Value += v
				}
			}
			out[name] = m
		}
		return out, nil
	}
}

func (f calcScenario) calc() calculator {
	return calculator{now: testNow, cpuInitializationPeriod: testCPUInitialization, initialReadinessDelay: testInitialReadinessDelay, pods: f.pods()}
}

type resourceCase struct {
	name            string
	f               calcScenario
	target          int32
	tol             *tolerances
	wantReplicas    int32
	wantUtilization int32
	wantRaw         int64
	wantErr         string
}

func runResourceCases(t *testing.T, cases []resourceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tol := tolerances{testTolerance, testTolerance}
			if tc.tol != nil {
				tol = *tc.tol
			}
			replicas, util, raw, err := tc.f.calc().resourceReplicas(tc.f.currentReplicas, tc.target, corev1.ResourceCPU, tol, tc.f.source(), tc.f.container)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if replicas != tc.wantReplicas || util != tc.wantUtilization || raw != tc.wantRaw {
				t.Errorf("got replicas %d, utilization %d, raw %d; want %d, %d, %d", replicas, util, raw, tc.wantReplicas, tc.wantUtilization, tc.wantRaw)
			}
		})
	}
}

var (
	rT = corev1.ConditionTrue
	rF = corev1.ConditionFalse
	pR = corev1.PodRunning
	pP = corev1.PodPending
	pF = corev1.PodFailed
)

// TestReplicaCalcResourceScale ports upstream's TestReplicaCalcResourceScale.
func TestReplicaCalcResourceScale(t *testing.T) {
	runResourceCases(t, []resourceCase{
		{name: "scale up", f: calcScenario{currentReplicas: 3, requests: cpuRequests(3, "1.0"), levels: podLevels(300, 500, 700)},
			target: 30, wantReplicas: 5, wantUtilization: 50, wantRaw: numContainersPerPod * 500},
		{name: "scale up: container metric", f: calcScenario{currentReplicas: 3, container: "container2", requests: cpuRequests(3, "1.0"), levels: [][]int64{{1000, 300}, {1000, 500}, {1000, 700}}},
			target: 30, wantReplicas: 5, wantUtilization: 50, wantRaw: 500},
		{name: "scale up: unready pod scales less", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rF, rT, rT}, requests: cpuRequests(3, "1.0"), levels: podLevels(300, 500, 700)},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: numContainersPerPod * 600},
		{name: "scale up: hot-CPU container scales less", f: calcScenario{currentReplicas: 3, podStartTime: []time.Time{hot, cool, cool}, container: "container2", requests: cpuRequests(3, "1.0"), levels: [][]int64{{0, 300}, {0, 500}, {0, 700}}},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: 600},
		{name: "scale up: hot-CPU pod scales less", f: calcScenario{currentReplicas: 3, podStartTime: []time.Time{hot, cool, cool}, requests: cpuRequests(3, "1.0"), levels: podLevels(300, 500, 700)},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: numContainersPerPod * 600},
		{name: "no scale: unready pods ignored", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rT, rF, rF}, requests: cpuRequests(3, "1.0"), levels: podLevels(400, 500, 700)},
			target: 30, wantReplicas: 3, wantUtilization: 40, wantRaw: numContainersPerPod * 400},
		{name: "no scale: hot-CPU pods ignored", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rT, rF, rF}, podStartTime: []time.Time{cool, hot, hot}, requests: cpuRequests(3, "1.0"), levels: podLevels(400, 500, 700)},
			target: 30, wantReplicas: 3, wantUtilization: 40, wantRaw: numContainersPerPod * 400},
		{name: "scale up: failed pods ignored", f: calcScenario{currentReplicas: 2, podReadiness: []corev1.ConditionStatus{rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pF, pF}, requests: cpuRequests(4, "1.0"), levels: podLevels(500, 700)},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: numContainersPerPod * 600},
		{name: "scale up: failed pods ignored with missing container metric", f: calcScenario{currentReplicas: 2, podReadiness: []corev1.ConditionStatus{rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pF, pF}, container: "container2", requests: cpuRequests(4, "1.0"), levels: [][]int64{{1000, 500}, {9000, 700}, {1000}, {9000}}},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: 600},
		{name: "scale up: pods being deleted are ignored", f: calcScenario{currentReplicas: 2, podReadiness: []corev1.ConditionStatus{rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pR, pR}, podDeletionTimestamp: []bool{false, false, true, true}, requests: cpuRequests(4, "1.0"), levels: podLevels(500, 700)},
			target: 30, wantReplicas: 4, wantUtilization: 60, wantRaw: numContainersPerPod * 600},
		{name: "scale down", f: calcScenario{currentReplicas: 5, requests: cpuRequests(5, "1.0"), levels: podLevels(100, 300, 500, 250, 250)},
			target: 50, wantReplicas: 3, wantUtilization: 28, wantRaw: numContainersPerPod * 280},
		{name: "scale down: container metric", f: calcScenario{currentReplicas: 5, container: "container2", requests: cpuRequests(5, "1.0"), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplicas: 3, wantUtilization: 28, wantRaw: 280},
		{name: "scale down: exclude unready pods", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rT, rT, rF, rF}, requests: cpuRequests(5, "1.0"), levels: podLevels(100, 300, 500, 250, 250)},
			target: 50, wantReplicas: 2, wantUtilization: 30, wantRaw: numContainersPerPod * 300},
		{name: "scale down: exclude unscheduled pods", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rF, rF, rF, rF}, podPhase: []corev1.PodPhase{pR, pP, pP, pP, pP}, requests: cpuRequests(5, "1.0"), levels: podLevels(100)},
			target: 50, wantReplicas: 1, wantUtilization: 10, wantRaw: numContainersPerPod * 100},
		{name: "scale down: container metric excludes unscheduled pods", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rF, rF, rF, rF}, podPhase: []corev1.PodPhase{pR, pP, pP, pP, pP}, container: "container2", requests: cpuRequests(5, "1.0"), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplicas: 1, wantUtilization: 10, wantRaw: 100},
		{name: "scale down: ignore hot-CPU pods", f: calcScenario{currentReplicas: 5, podStartTime: []time.Time{cool, cool, cool, hot, hot}, requests: cpuRequests(5, "1.0"), levels: podLevels(100, 300, 500, 250, 250)},
			target: 50, wantReplicas: 2, wantUtilization: 30, wantRaw: numContainersPerPod * 300},
		{name: "scale down: container metric ignores hot-CPU pods", f: calcScenario{currentReplicas: 5, podStartTime: []time.Time{cool, cool, cool, hot, hot}, container: "container2", requests: cpuRequests(5, "1.0"), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 1000}, {1000, 1000}}},
			target: 50, wantReplicas: 2, wantUtilization: 30, wantRaw: 300},
		{name: "scale down: failed pods ignored", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rT, rT, rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pR, pR, pR, pF, pF}, requests: cpuRequests(7, "1.0"), levels: podLevels(100, 300, 500, 250, 250)},
			target: 50, wantReplicas: 3, wantUtilization: 28, wantRaw: numContainersPerPod * 280},
		{name: "scale down: pods being deleted are ignored", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rT, rT, rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pR, pR, pR, pR, pR}, podDeletionTimestamp: []bool{false, false, false, false, false, true, true}, requests: cpuRequests(7, "1.0"), levels: podLevels(100, 300, 500, 250, 250)},
			target: 50, wantReplicas: 3, wantUtilization: 28, wantRaw: numContainersPerPod * 280},
		{name: "scale down: still-running pods being deleted are ignored", f: calcScenario{currentReplicas: 5, podReadiness: []corev1.ConditionStatus{rT, rT, rT, rT, rT, rF, rF}, podPhase: []corev1.PodPhase{pR, pR, pR, pR, pR, pR, pR}, podDeletionTimestamp: []bool{false, false, false, false, false, true, true}, container: "container2", requests: cpuRequests(7, "1.0"), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplicas: 3, wantUtilization: 28, wantRaw: 280},
	})
}

var mixedRequests = []string{"0.9", "1.0", "1.1"}

// TestReplicaCalcResourceTolerance ports upstream's TestReplicaCalcResourceTolerance.
func TestReplicaCalcResourceTolerance(t *testing.T) {
	runResourceCases(t, []resourceCase{
		{name: "within default tolerance", f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(1010, 1030, 1020)},
			target: 100, wantReplicas: 3, wantUtilization: 102, wantRaw: numContainersPerPod * 1020},
		{name: "outside 0% tolerance", tol: &tolerances{0, 0}, f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(909, 1010, 1111)},
			target: 100, wantReplicas: 4, wantUtilization: 101, wantRaw: numContainersPerPod * 1010},
		{name: "within 200% scale-up tolerance", tol: &tolerances{testTolerance, 2}, f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(1890, 1910, 1900)},
			target: 100, wantReplicas: 3, wantUtilization: 190, wantRaw: numContainersPerPod * 1900},
		{name: "outside 8% scale-up tolerance (superfluous scale-down tolerance)", tol: &tolerances{2, .08}, f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(1100, 1080, 1090)},
			target: 100, wantReplicas: 4, wantUtilization: 109, wantRaw: numContainersPerPod * 1090},
		{name: "within 36% scale-down tolerance", tol: &tolerances{.36, testTolerance}, f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(660, 640, 650)},
			target: 100, wantReplicas: 3, wantUtilization: 65, wantRaw: numContainersPerPod * 650},
		{name: "outside 34% scale-down tolerance", tol: &tolerances{.34, testTolerance}, f: calcScenario{currentReplicas: 3, requests: mixedRequests, levels: podLevels(660, 640, 650)},
			target: 100, wantReplicas: 2, wantUtilization: 65, wantRaw: numContainersPerPod * 650},
	})
}

// TestReplicaCalcResourceMissingMetrics ports upstream's TestReplicaCalcResourceMissingMetrics.
func TestReplicaCalcResourceMissingMetrics(t *testing.T) {
	runResourceCases(t, []resourceCase{
		{name: "superfluous metrics counted", f: calcScenario{currentReplicas: 4, requests: cpuRequests(4, "1.0"), levels: podLevels(4000, 9500, 3000, 7000, 3200, 2000)},
			target: 100, wantReplicas: 24, wantUtilization: 587, wantRaw: numContainersPerPod * 5875},
		{name: "some pods missing metrics scales down", f: calcScenario{currentReplicas: 4, requests: cpuRequests(4, "1.0"), levels: podLevels(400, 95)},
			target: 100, wantReplicas: 3, wantUtilization: 24, wantRaw: 495},
		{name: "no change: metric equal to target", f: calcScenario{currentReplicas: 2, requests: cpuRequests(2, "1.0"), levels: podLevels(1000)},
			target: 100, wantReplicas: 2, wantUtilization: 100, wantRaw: numContainersPerPod * 1000},
		{name: "no change: metric above target", f: calcScenario{currentReplicas: 2, requests: cpuRequests(2, "1.0"), levels: podLevels(1900)},
			target: 100, wantReplicas: 2, wantUtilization: 190, wantRaw: numContainersPerPod * 1900},
		{name: "no change: metric below target", f: calcScenario{currentReplicas: 2, requests: cpuRequests(2, "1.0"), levels: podLevels(600)},
			target: 100, wantReplicas: 2, wantUtilization: 60, wantRaw: numContainersPerPod * 600},
		{name: "no change: unready pod metric missing", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rF, rT, rT}, requests: cpuRequests(3, "1.0"), levels: podLevels(100, 450)},
			target: 50, wantReplicas: 3, wantUtilization: 45, wantRaw: numContainersPerPod * 450},
		{name: "no change: hot-CPU pod metric missing", f: calcScenario{currentReplicas: 3, podStartTime: []time.Time{hot, cool, cool}, requests: cpuRequests(3, "1.0"), levels: podLevels(100, 450)},
			target: 50, wantReplicas: 3, wantUtilization: 45, wantRaw: numContainersPerPod * 450},
		{name: "scale up: unready pod metric missing", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rF, rT, rT}, requests: cpuRequests(3, "1.0"), levels: podLevels(100, 2000)},
			target: 50, wantReplicas: 4, wantUtilization: 200, wantRaw: numContainersPerPod * 2000},
		{name: "scale up: hot-CPU pod metric missing", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rF, rT, rT}, podStartTime: []time.Time{hot, cool, cool}, requests: cpuRequests(3, "1.0"), levels: podLevels(100, 2000)},
			target: 50, wantReplicas: 4, wantUtilization: 200, wantRaw: numContainersPerPod * 2000},
		{name: "scale down: unready pod metric missing", f: calcScenario{currentReplicas: 4, podReadiness: []corev1.ConditionStatus{rF, rT, rT, rT}, requests: cpuRequests(4, "1.0"), levels: podLevels(100, 100, 100)},
			target: 50, wantReplicas: 3, wantUtilization: 10, wantRaw: numContainersPerPod * 100},
		{name: "scale down: target over 100", f: calcScenario{currentReplicas: 4, podReadiness: []corev1.ConditionStatus{rF, rT, rT, rT}, requests: []string{"1.0", "1.0", "2.0", "2.0"}, levels: podLevels(200, 100, 100)},
			target: 300, wantReplicas: 2, wantUtilization: 6, wantRaw: numContainersPerPod * 100},
		{name: "rolling update with maxSurge: extra pod missing metric", f: calcScenario{currentReplicas: 2, podPhase: []corev1.PodPhase{pR, pR, pR}, requests: cpuRequests(3, "1.0"), levels: podLevels(100, 100)},
			target: 50, wantReplicas: 2, wantUtilization: 10, wantRaw: numContainersPerPod * 100},
		{name: "disjoint pod and metric names", f: calcScenario{currentReplicas: 1, requests: cpuRequests(1, "1.0"), levels: podLevels(100), podNames: []string{"an-older-pod-name"}},
			target: 100, wantErr: "no metrics returned matched known pods"},
		{name: "no metrics returned from metrics API", f: calcScenario{currentReplicas: 4, requests: cpuRequests(3, "1.0"), levels: podLevels()},
			target: 100, wantErr: "unable to get metrics for resource cpu: no metrics returned from resource metrics API"},
		{name: "missing CPU request on container", f: calcScenario{currentReplicas: 1, requests: []string{}, levels: podLevels(200)},
			target: 100, wantErr: "missing request for"},
	})
}

// TestReplicaCalcComputedToleranceAlgImplementation ports the upstream test of that name: a
// target just outside the tolerance scales down to the back-calculated count, one just
// inside does not.
func TestReplicaCalcComputedToleranceAlgImplementation(t *testing.T) {
	startPods := int32(10)
	totalUsed := int64(startPods * 150)
	totalRequested := int32(2 * totalUsed)
	requestedToUsed := float64(totalRequested / int32(totalUsed))
	perPod := totalRequested / startPods
	levels := make([]int64, 10)
	for i := range levels {
		levels[i] = totalUsed / 10
	}
	var requests []string
	for _, d := range []int32{100, -100, 10, -10, 2, -2, 1, -1, 0, 0} {
		requests = append(requests, fmt.Sprintf("%dm", perPod+d))
	}
	f := calcScenario{currentReplicas: startPods, requests: requests, levels: podLevels(levels...)}
	wantUtilization := int32(totalUsed*100) / totalRequested
	wantRaw := numContainersPerPod * totalUsed / 10

	target := math.Abs(1/(requestedToUsed*(1-testTolerance))) + .01
	usedRatio := float64(totalUsed) / (float64(totalRequested) * target)
	finalPods := int32(math.Ceil(usedRatio * float64(startPods)))
	runResourceCases(t, []resourceCase{
		{name: "outside tolerance", f: f, target: int32(target * 100), wantReplicas: finalPods, wantUtilization: wantUtilization, wantRaw: wantRaw},
		{name: "just inside tolerance", f: f, target: int32((math.Abs(1/(requestedToUsed*(1-testTolerance))) + .004) * 100), wantReplicas: startPods, wantUtilization: wantUtilization, wantRaw: wantRaw},
	})
}

// TestReplicaCalcPodMetric ports upstream's TestReplicaCalcPodMetric: calcPlainMetricReplicas
// for a per-pod metric (resource "", so no CPU readiness rule), the path an AverageValue
// resource target shares.
func TestReplicaCalcPodMetric(t *testing.T) {
	for _, tc := range []struct {
		name         string
		f            calcScenario
		levels       []int64
		target       int64
		tol          *tolerances
		wantReplicas int32
		wantUsage    int64
	}{
		{name: "scale up", f: calcScenario{currentReplicas: 3}, levels: []int64{20000, 10000, 30000}, target: 15000, wantReplicas: 4, wantUsage: 20000},
		{name: "scale up: unready hot-CPU pod scales less", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rT, rT, rF}, podStartTime: []time.Time{cool, cool, hot}}, levels: []int64{50000, 10000, 30000}, target: 15000, wantReplicas: 6, wantUsage: 30000},
		{name: "scale up: unready hot-CPU pods avoid scale-down", f: calcScenario{currentReplicas: 3, podReadiness: []corev1.ConditionStatus{rF, rT, rF}, podStartTime: []time.Time{hot, cool, hot}}, levels: []int64{50000, 15000, 30000}, target: 15000, wantReplicas: 7, wantUsage: 31666},
		{name: "scale down", f: calcScenario{currentReplicas: 5}, levels: []int64{12000, 12000, 12000, 12000, 12000}, target: 20000, wantReplicas: 3, wantUsage: 12000},
		{name: "within default tolerance", f: calcScenario{currentReplicas: 3}, levels: []int64{20000, 21000, 21000}, target: 20000, wantReplicas: 3, wantUsage: 20666},
		{name: "outside configurable 1% tolerance", tol: &tolerances{testTolerance, .01}, f: calcScenario{currentReplicas: 3}, levels: []int64{20000, 21000, 21000}, target: 20000, wantReplicas: 4, wantUsage: 20666},
		{name: "no change: missing metrics", f: calcScenario{currentReplicas: 5}, levels: []int64{20000, 19000, 21000}, target: 20000, wantReplicas: 5, wantUsage: 20000},
		{name: "rolling update with maxSurge: extra pod missing metric", f: calcScenario{currentReplicas: 2, podPhase: []corev1.PodPhase{pR, pR, pR}}, levels: []int64{10000, 10000}, target: 17000, wantReplicas: 2, wantUsage: 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tol := tolerances{testTolerance, testTolerance}
			if tc.tol != nil {
				tol = *tc.tol
			}
			metrics := PodMetrics{}
			for i, v := range tc.levels {
				metrics[fmt.Sprintf("test-pod-%d", i)] = PodMetric{Value: v}
			}
			replicas, usage, err := tc.f.calc().plainMetricReplicas(metrics, tc.f.currentReplicas, tc.target, tol, "")
			if err != nil {
				t.Fatal(err)
			}
			if replicas != tc.wantReplicas || usage != tc.wantUsage {
				t.Errorf("got %d replicas, usage %d; want %d, %d", replicas, usage, tc.wantReplicas, tc.wantUsage)
			}
		})
	}
}
