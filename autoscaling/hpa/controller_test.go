package hpa

import (
	"errors"
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	ableToScale    = autoscalingv2.AbleToScale
	scalingActive  = autoscalingv2.ScalingActive
	scalingLimited = autoscalingv2.ScalingLimited
	condTrue       = corev1.ConditionTrue
	condFalse      = corev1.ConditionFalse
)

// podsWithRequests are Running, Ready pods p-i requesting requests[i], started an hour ago.
func podsWithRequests(requests ...string) []*corev1.Pod {
	var pods []*corev1.Pod
	for i, r := range requests {
		pods = append(pods, readyPods(i+1, r, testNow.Add(-time.Hour))[i])
	}
	return pods
}

// TestStabilizeDownscale ports upstream's TestStabilizeDownscale: a proposal of 2 is held at
// the 4 recommended a minute ago (the 10 of ten minutes ago is outside the window).
func TestStabilizeDownscale(t *testing.T) {
	c := New(flagDefaults)
	hpa := cpuHPA(int32p(1), 5, 100, nil)
	c.history[Key(hpa)] = &history{recommendations: []timestampedRecommendation{{10, ago(10 * time.Minute)}, {4, ago(time.Minute)}}}
	out := c.Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 4, Pods: podsWithRequests("0.1", "0.1", "0.1"), Metrics: usage(testNow, 50, 50, 50)})
	if out.Rescale || out.DesiredReplicas != 4 || out.Proposal != 2 || !out.Pending {
		t.Errorf("got %+v, want no rescale, desired 4, proposal 2, pending", out)
	}
	wantCondition(t, out, ableToScale, condTrue, "ScaleDownStabilized")
	wantCondition(t, out, scalingActive, condTrue, "ValidMetricFound")
	wantCondition(t, out, scalingLimited, condFalse, "DesiredWithinRange")
}

// TestScaleDownStabilizeInitialSize ports the upstream test of that name: the first reconcile
// seeds the history with the current count, which holds the scale-down.
func TestScaleDownStabilizeInitialSize(t *testing.T) {
	c := New(flagDefaults)
	out := c.Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 6, 50, nil), CurrentReplicas: 5,
		Pods: podsWithRequests("1.0", "1.0", "1.0", "1.0", "1.0"), Metrics: usage(testNow, 100, 300, 500, 250, 250)})
	// 1400m of 5000m = 28 %, ratio 0.56, ceil(0.56 × 5) = 3, stabilized at 5.
	if out.Rescale || out.DesiredReplicas != 5 || out.Proposal != 3 {
		t.Errorf("got %+v, want no rescale, desired 5, proposal 3", out)
	}
	wantCondition(t, out, ableToScale, condTrue, "ScaleDownStabilized")
	if got := out.CurrentMetrics[0].Resource.Current; *got.AverageUtilization != 28 || got.AverageValue.MilliValue() != 280 {
		t.Errorf("current metric %+v, want 28 %% and 280m", got)
	}
}

// TestTolerance ports upstream's TestTolerance (its CPU case; the pods and object cases need a
// custom metrics API kwoksim does not serve): 102 % is within 10 %.
func TestTolerance(t *testing.T) {
	c := New(flagDefaults)
	out := c.Compute(Input{Now: testNow, HPA: cpuHPA(int32p(1), 5, 100, nil), CurrentReplicas: 3,
		Pods: podsWithRequests("0.9", "1.0", "1.1"), Metrics: usage(testNow, 1010, 1030, 1020)})
	if out.Rescale || out.DesiredReplicas != 3 || out.Proposal != 3 {
		t.Errorf("got %+v, want no rescale at 3", out)
	}
	wantCondition(t, out, ableToScale, condTrue, "ReadyForNewScale")
	wantCondition(t, out, scalingActive, condTrue, "ValidMetricFound")
	wantCondition(t, out, scalingLimited, condFalse, "DesiredWithinRange")
}

// TestConfigurableTolerance ports upstream's TestConfigurableTolerance (with the gate on, as it
// is locked in v1.37).
func TestConfigurableTolerance(t *testing.T) {
	onePercent, ninetyPercent := resource.MustParse("0.01"), resource.MustParse("0.9")
	for _, tc := range []struct {
		name           string
		behavior       *autoscalingv2.HorizontalPodAutoscalerBehavior
		usage          []int64
		requests       []string
		wantDesired    int32
		wantRescale    bool
		wantAbleReason string
	}{
		{"scaling up because of a 1% configurable tolerance", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: &onePercent}},
			[]int64{1010, 1030, 1020}, []string{"0.9", "1.0", "1.1"}, 4, true, "SucceededRescale"},
		{"no scale-down because of a 90% configurable tolerance", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: &ninetyPercent}},
			[]int64{300, 300, 300}, []string{"1.0", "1.0", "1.0"}, 3, false, "ReadyForNewScale"},
		{"no scaling because of the large default tolerance", nil,
			[]int64{1010, 1030, 1020}, []string{"0.9", "1.0", "1.1"}, 3, false, "ReadyForNewScale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(flagDefaults)
			hpa := cpuHPA(int32p(1), 5, 100, tc.behavior)
			out := c.Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 3, Pods: podsWithRequests(tc.requests...), Metrics: usage(testNow, tc.usage...)})
			if out.Rescale != tc.wantRescale || out.DesiredReplicas != tc.wantDesired {
				t.Fatalf("got rescale %v to %d, want %v to %d", out.Rescale, out.DesiredReplicas, tc.wantRescale, tc.wantDesired)
			}
			if out.Rescale {
				ev, cond := c.Rescaled(Key(hpa), hpa.Spec.Behavior, 3, out.DesiredReplicas, out.Reason, testNow)
				out.Conditions = append(out.Conditions, cond, ScaledToZeroCondition(hpa, 3, out.DesiredReplicas))
				want := Event{Type: "Normal", Reason: "SuccessfulRescale", Message: "New size: 4; reason: cpu resource utilization (percentage of request) above target"}
				if ev != want {
					t.Errorf("event %+v, want %+v", ev, want)
				}
				wantCondition(t, out, autoscalingv2.ScaledToZero, condFalse, "NotScaledToZero")
			}
			wantCondition(t, out, ableToScale, condTrue, tc.wantAbleReason)
			wantCondition(t, out, scalingActive, condTrue, "ValidMetricFound")
			wantCondition(t, out, scalingLimited, condFalse, "DesiredWithinRange")
		})
	}
}

// TestMissingMetrics is docs/hpa.md part 5, "Missing metrics".
func TestMissingMetrics(t *testing.T) {
	const noMetrics = "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
	t.Run("no data at all", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 2,
			Pods: readyPods(2, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow)})
		wantEvents := []Event{
			{"Warning", "FailedGetResourceMetric", "failed to get cpu utilization: " + noMetrics},
			{"Warning", "FailedComputeMetricsReplicas", "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: " + noMetrics},
		}
		if !reflect.DeepEqual(out.Events, wantEvents) {
			t.Errorf("events %+v\nwant %+v", out.Events, wantEvents)
		}
		wantConds := []Condition{
			{ableToScale, condTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale"},
			{scalingActive, condFalse, "FailedGetResourceMetric", "the HPA was unable to compute the replica count: failed to get cpu utilization: " + noMetrics},
		}
		if !reflect.DeepEqual(out.Conditions, wantConds) {
			t.Errorf("conditions %+v\nwant %+v", out.Conditions, wantConds)
		}
		if out.Rescale || !out.MetricsFailed || out.Proposal != -1 || out.DesiredReplicas != 2 || out.Pending {
			t.Errorf("got %+v, want no rescale, MetricsFailed, proposal -1", out)
		}
		if len(out.CurrentMetrics) != 1 || out.CurrentMetrics[0].Type != "" {
			t.Errorf("current metrics %+v, want one empty status (upstream's make)", out.CurrentMetrics)
		}
	})

	// Four pods on 500m, two without data, target 50 %: each rebalancing flips the direction
	// or lands within the tolerance (docs/hpa.md part 5).
	for _, tc := range []struct {
		name            string
		usage           []int64
		wantUtilization int32
	}{
		{"ready pods above target, missing at 0 flips to below", []int64{400, 400}, 80},     // 800/2000 = 40 %
		{"ready pods below target, missing at 100 % flips to above", []int64{100, 100}, 20}, // 1200/2000 = 60 %
		{"ready pods far below target, missing at 100 % lands within", []int64{50, 50}, 10}, // 1100/2000 = 55 %
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 4,
				Pods: readyPods(4, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, tc.usage...)})
			if out.Rescale || out.Proposal != 4 || out.DesiredReplicas != 4 || out.MetricsFailed || out.Pending {
				t.Errorf("got %+v, want proposal 4 and no change", out)
			}
			if got := *out.CurrentMetrics[0].Resource.Current.AverageUtilization; got != tc.wantUtilization {
				t.Errorf("reported utilization %d, want %d (before rebalancing)", got, tc.wantUtilization)
			}
			if len(out.Events) != 0 {
				t.Errorf("events %+v, want none", out.Events)
			}
		})
	}

	t.Run("target without cpu requests", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 2,
			Pods: readyPods(2, "", testNow.Add(-time.Hour)), Metrics: usage(testNow, 100, 100)})
		const cause = "failed to get cpu utilization: missing request for cpu in container app of Pod p-0"
		wantEvents := []Event{
			{"Warning", "FailedGetResourceMetric", cause},
			{"Warning", "FailedComputeMetricsReplicas", "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: " + cause},
		}
		if !reflect.DeepEqual(out.Events, wantEvents) {
			t.Errorf("events %+v\nwant %+v", out.Events, wantEvents)
		}
		wantCondition(t, out, scalingActive, condFalse, "FailedGetResourceMetric")
		if out.Rescale || !out.MetricsFailed {
			t.Errorf("got %+v, want MetricsFailed and no rescale", out)
		}
	})

	t.Run("below min with no metrics is raised to min", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 1,
			Pods: readyPods(1, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow)})
		if !out.Rescale || out.DesiredReplicas != 2 || out.Reason != "Current number of replicas below Spec.MinReplicas" || out.Proposal != -1 || out.MetricsFailed || out.Pending || len(out.Events) != 0 {
			t.Errorf("got %+v, want a rescale to 2 below min, no metrics read", out)
		}
	})
}

// TestPreChecks: the checks of reconcileAutoscaler before the metrics (horizontal.go:914–933).
func TestPreChecks(t *testing.T) {
	t.Run("zero replicas disables scaling", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 0, Metrics: usage(testNow)})
		if out.Rescale || out.DesiredReplicas != 0 || out.Proposal != -1 {
			t.Errorf("got %+v", out)
		}
		c := findCondition(t, out, scalingActive)
		if c.Status != condFalse || c.Reason != "ScalingDisabled" || c.Message != "scaling is disabled since the replica count of the target is zero" {
			t.Errorf("ScalingActive %+v", c)
		}
	})
	t.Run("above max", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(2), 20, 50, nil), CurrentReplicas: 25,
			Pods: readyPods(25, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 1)})
		if !out.Rescale || out.DesiredReplicas != 20 || out.Reason != "Current number of replicas above Spec.MaxReplicas" || out.Proposal != -1 {
			t.Errorf("got %+v", out)
		}
	})
	t.Run("min defaults to 1", func(t *testing.T) {
		out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(nil, 20, 50, nil), CurrentReplicas: 1,
			Pods: readyPods(1, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 10)})
		// 10m of 500m = 2 %, proposal ceil(0.04) = 1: nothing to do.
		if out.Rescale || out.Proposal != 1 {
			t.Errorf("got %+v", out)
		}
	})
}

// TestUnservedMetricTypes: Pods, Object and External metrics fail as on a cluster without a
// metrics adapter; a working Resource metric beside them still scales up, not down.
func TestUnservedMetricTypes(t *testing.T) {
	target := resource.MustParse("10")
	pods := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &target}}}
	object := autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
		Metric:          autoscalingv2.MetricIdentifier{Name: "rps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &target}}}
	external := autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "queue", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"q": "jobs"}}},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &target}}}
	const custom = "unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered"
	for _, tc := range []struct {
		name       string
		spec       autoscalingv2.MetricSpec
		reason     string
		eventMsg   string
		wrappedMsg string
	}{
		{"pods", pods, "FailedGetPodsMetric", "unable to get metric qps: " + custom, "failed to get pods metric value: unable to get metric qps: " + custom},
		{"object", object, "FailedGetObjectMetric", "unable to get metric rps on Ingress default/main: " + custom, "failed to get object metric value: unable to get metric rps on Ingress default/main: " + custom},
		{"external", external, "FailedGetExternalMetric",
			"unable to get external metric default/queue/&LabelSelector{MatchLabels:map[string]string{q: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from external metrics API: the server could not find the requested resource (get queue.external.metrics.k8s.io)",
			"failed to get queue external metric value: failed to get queue external metric: unable to get external metric default/queue/&LabelSelector{MatchLabels:map[string]string{q: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from external metrics API: the server could not find the requested resource (get queue.external.metrics.k8s.io)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hpa := cpuHPA(int32p(1), 10, 50, nil)
			hpa.Spec.Metrics = []autoscalingv2.MetricSpec{tc.spec}
			out := New(flagDefaults).Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 2, Pods: readyPods(2, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 500, 500)})
			want := []Event{{"Warning", tc.reason, tc.eventMsg}, {"Warning", "FailedComputeMetricsReplicas", "invalid metrics (1 invalid out of 1), first error is: " + tc.wrappedMsg}}
			if !reflect.DeepEqual(out.Events, want) {
				t.Errorf("events %+v\nwant %+v", out.Events, want)
			}
			wantCondition(t, out, scalingActive, condFalse, tc.reason)
			if !out.MetricsFailed || out.Rescale {
				t.Errorf("got %+v", out)
			}

			// Beside a Resource metric asking for more, the scale-up goes ahead.
			hpa.Spec.Metrics = append(cpuHPA(int32p(1), 10, 50, nil).Spec.Metrics, tc.spec)
			out = New(flagDefaults).Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 2, Pods: readyPods(2, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 500, 500)})
			if !out.Rescale || out.DesiredReplicas != 4 || out.MetricsFailed || len(out.Events) != 1 {
				t.Errorf("with a cpu metric: got %+v, want a rescale to 4 and the metric's one warning", out)
			}
			wantCondition(t, out, scalingActive, condTrue, "ValidMetricFound")
			// ... but not a scale-down (some failed and the max is below current).
			out = New(flagDefaults).Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 2, Pods: readyPods(2, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 10, 10)})
			if out.Rescale || !out.MetricsFailed {
				t.Errorf("scale-down with a failed metric: got %+v, want MetricsFailed", out)
			}
			if msg := out.Events[len(out.Events)-1].Message; msg != "invalid metrics (1 invalid out of 2), first error is: "+tc.wrappedMsg {
				t.Errorf("FailedComputeMetricsReplicas %q", msg)
			}
		})
	}
}

// TestAverageValueTarget: an AverageValue cpu target goes through calcPlainMetricReplicas:
// usage = Σ/n (integer), ratio usage/target, the status shows AverageValue only.
func TestAverageValueTarget(t *testing.T) {
	hpa := cpuHPA(int32p(1), 10, 50, nil)
	avg := resource.MustParse("300m")
	hpa.Spec.Metrics[0].Resource.Target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg}
	out := New(flagDefaults).Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 3, Pods: readyPods(3, "1", testNow.Add(-time.Hour)), Metrics: usage(testNow, 300, 500, 700)})
	// usage 500m, ratio 5/3, ceil(5/3 × 3) = 5.
	if !out.Rescale || out.Proposal != 5 || out.DesiredReplicas != 5 || out.Reason != "cpu resource above target" {
		t.Errorf("got %+v", out)
	}
	cur := out.CurrentMetrics[0].Resource.Current
	if cur.AverageUtilization != nil || cur.AverageValue.MilliValue() != 500 {
		t.Errorf("status %+v, want AverageValue 500m only", cur)
	}
	if c := findCondition(t, out, scalingActive); c.Message != "the HPA was able to successfully calculate a replica count from cpu resource" {
		t.Errorf("ScalingActive message %q", c.Message)
	}
}

// TestRescaleFailed: the FailedRescale event and condition (horizontal.go:1019).
func TestRescaleFailed(t *testing.T) {
	ev, cond := RescaleFailed(4, "All metrics below target", errors.New("conflict"))
	if want := (Event{"Warning", "FailedRescale", "New size: 4; reason: All metrics below target; error: conflict"}); ev != want {
		t.Errorf("event %+v", ev)
	}
	if want := (Condition{ableToScale, condFalse, "FailedUpdateScale", "the HPA controller was unable to update the target scale: conflict"}); cond != want {
		t.Errorf("condition %+v", cond)
	}
}

// TestComputeLeavesHPAUntouched: the behavior path fills the scale-down window on a copy.
func TestComputeLeavesHPAUntouched(t *testing.T) {
	hpa := cpuHPA(int32p(1), 10, 50, &autoscalingv2.HorizontalPodAutoscalerBehavior{})
	before := hpa.DeepCopy()
	New(flagDefaults).Compute(Input{Now: testNow, HPA: hpa, CurrentReplicas: 3, Pods: readyPods(3, "1", testNow.Add(-time.Hour)), Metrics: usage(testNow, 100, 100, 100)})
	if !reflect.DeepEqual(hpa, before) {
		t.Errorf("Compute modified the HPA")
	}
	if hpa.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != nil {
		t.Errorf("scale-down window set on the caller's HPA")
	}
}

// TestPendingDisabled: a scale-up held by selectPolicy Disabled is not pending (time will not
// release it), one held by the rate limit is.
func TestPendingDisabled(t *testing.T) {
	disabled := autoscalingv2.DisabledPolicySelect
	for _, tc := range []struct {
		name        string
		behavior    *autoscalingv2.HorizontalPodAutoscalerBehavior
		wantDesired int32
		wantPending bool
	}{
		{"rate limited", &autoscalingv2.HorizontalPodAutoscalerBehavior{}, 6, true}, // max(2+4, 2×2)
		{"disabled", &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled}}, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := New(flagDefaults).Compute(Input{Now: testNow, HPA: cpuHPA(int32p(1), 20, 50, tc.behavior), CurrentReplicas: 2,
				Pods: readyPods(2, "500m", testNow.Add(-time.Hour)), Metrics: usage(testNow, 2000, 2000)})
			// 400 %, ratio 8, proposal 16.
			if out.Proposal != 16 || out.DesiredReplicas != tc.wantDesired || out.Pending != tc.wantPending {
				t.Errorf("got proposal %d desired %d pending %v, want 16 %d %v", out.Proposal, out.DesiredReplicas, out.Pending, tc.wantDesired, tc.wantPending)
			}
		})
	}
}
