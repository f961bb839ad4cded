package hpa

import (
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	autoscalingapiv2 "k8s.io/kubernetes/pkg/apis/autoscaling/v2"
)

// generateScalingRules is upstream's helper of that name (horizontal_test.go).
func generateScalingRules(pods, podsPeriod, percent, percentPeriod, window int32) *autoscalingv2.HPAScalingRules {
	policy := autoscalingv2.MaxChangePolicySelect
	rules := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &policy}
	if pods != 0 {
		rules.Policies = append(rules.Policies, autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: pods, PeriodSeconds: podsPeriod})
	}
	if percent != 0 {
		rules.Policies = append(rules.Policies, autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: percent, PeriodSeconds: percentPeriod})
	}
	return rules
}

// generateEventsUniformDistribution is upstream's helper of that name: the events spread over
// the last periodSeconds, each at the centre of its segment.
func generateEventsUniformDistribution(raw []int, periodSeconds int) []timestampedScaleEvent {
	events := make([]timestampedScaleEvent, len(raw))
	segment := float64(periodSeconds) / float64(len(raw))
	for i, e := range raw {
		boundary := time.Duration(float64(periodSeconds) - segment*float64(i+1) + segment/2)
		events[i] = timestampedScaleEvent{replicaChange: int32(e), timestamp: testNow.Add(-time.Second * boundary)}
	}
	return events
}

func ago(d time.Duration) time.Time { return testNow.Add(-d) }

// TestDefaultRules: the rules kwoksim fills are the apiserver's.
func TestDefaultRules(t *testing.T) {
	if got, want := DefaultScaleUpRules(), autoscalingapiv2.GenerateHPAScaleUpRules(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultScaleUpRules() = %+v, want %+v", got, want)
	}
	if got, want := DefaultScaleDownRules(), autoscalingapiv2.GenerateHPAScaleDownRules(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultScaleDownRules() = %+v, want %+v", got, want)
	}
}

// TestNormalizeDesiredReplicas ports upstream's TestNormalizeDesiredReplicas (legacy
// stabilizeRecommendation, 5-minute window).
func TestNormalizeDesiredReplicas(t *testing.T) {
	for _, tc := range []struct {
		name            string
		recommendations []timestampedRecommendation
		desired         int32
		wantStabilized  int32
		wantLogLength   int
	}{
		{"empty log", []timestampedRecommendation{}, 5, 5, 1},
		{"stabilize", []timestampedRecommendation{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}}, 3, 5, 3},
		{"no stabilize", []timestampedRecommendation{{1, ago(2 * time.Minute)}, {2, ago(time.Minute)}}, 3, 3, 3},
		{"no stabilize - old recommendations", []timestampedRecommendation{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}}, 3, 3, 2},
		{"stabilize - old recommendations", []timestampedRecommendation{{10, ago(10 * time.Minute)}, {4, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(9 * time.Minute)}}, 3, 5, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &history{recommendations: tc.recommendations}
			if got := h.stabilizeRecommendation(testNow, 5*time.Minute, tc.desired); got != tc.wantStabilized {
				t.Errorf("stabilized %d, want %d", got, tc.wantStabilized)
			}
			if len(h.recommendations) != tc.wantLogLength {
				t.Errorf("log has %d entries, want %d", len(h.recommendations), tc.wantLogLength)
			}
		})
	}
}

// TestNormalizeDesiredReplicasWithBehavior ports upstream's TestNormalizeDesiredReplicasWithBehavior
// (stabilizeRecommendationWithBehaviors).
func TestNormalizeDesiredReplicasWithBehavior(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		recommendations      []timestampedRecommendation
		current, desired     int32
		wantStabilized       int32
		wantRecommendations  []int32
		upWindow, downWindow int32
	}{
		{name: "empty recommendations for scaling down", recommendations: []timestampedRecommendation{}, current: 100, desired: 5, wantStabilized: 5, wantRecommendations: []int32{5}},
		{name: "simple scale down stabilization", recommendations: []timestampedRecommendation{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}}, current: 100, desired: 3, wantStabilized: 5, wantRecommendations: []int32{4, 5, 3}, downWindow: 180},
		{name: "simple scale up stabilization", recommendations: []timestampedRecommendation{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}}, current: 1, desired: 7, wantStabilized: 4, wantRecommendations: []int32{4, 5, 7}, upWindow: 300},
		{name: "no scale down stabilization", recommendations: []timestampedRecommendation{{1, ago(2 * time.Minute)}, {2, ago(time.Minute)}}, current: 100, desired: 3, wantStabilized: 3, wantRecommendations: []int32{1, 2, 3}, upWindow: 300},
		{name: "no scale up stabilization", recommendations: []timestampedRecommendation{{4, ago(2 * time.Minute)}, {5, ago(time.Minute)}}, current: 1, desired: 3, wantStabilized: 3, wantRecommendations: []int32{4, 5, 3}, downWindow: 300},
		{name: "no scale down stabilization, reuse recommendation element", recommendations: []timestampedRecommendation{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}}, current: 100, desired: 3, wantStabilized: 3, wantRecommendations: []int32{10, 3}},
		{name: "no scale up stabilization, reuse recommendation element", recommendations: []timestampedRecommendation{{10, ago(10 * time.Minute)}, {9, ago(9 * time.Minute)}}, current: 1, desired: 100, wantStabilized: 100, wantRecommendations: []int32{10, 100}},
		{name: "scale down stabilization, reuse one of obsolete recommendation element", recommendations: []timestampedRecommendation{{10, ago(10 * time.Minute)}, {4, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(9 * time.Minute)}}, current: 100, desired: 3, wantStabilized: 5, wantRecommendations: []int32{10, 4, 5, 3}, downWindow: 180},
		{name: "scale up stabilization, reuse one of obsolete recommendation element", recommendations: []timestampedRecommendation{{10, ago(100 * time.Minute)}, {6, ago(time.Minute)}, {5, ago(2 * time.Minute)}, {9, ago(3 * time.Minute)}}, current: 1, desired: 100, wantStabilized: 5, wantRecommendations: []int32{100, 6, 5, 9}, upWindow: 300},
		{name: "scale up and down stabilization, do not scale up when prenormalized rec goes down", recommendations: []timestampedRecommendation{{2, ago(100 * time.Minute)}, {3, ago(3 * time.Minute)}}, current: 2, desired: 1, wantStabilized: 2, upWindow: 300, downWindow: 300},
		{name: "scale up and down stabilization, do not scale down when prenormalized rec goes up", recommendations: []timestampedRecommendation{{2, ago(100 * time.Minute)}, {1, ago(3 * time.Minute)}}, current: 2, desired: 3, wantStabilized: 2, upWindow: 300, downWindow: 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &history{recommendations: tc.recommendations}
			up, down := tc.upWindow, tc.downWindow
			arg := normalizationArg{
				scaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &up},
				scaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &down},
				current:   tc.current,
				desired:   tc.desired,
			}
			got, _, _ := h.stabilizeRecommendationWithBehaviors(testNow, arg)
			if got != tc.wantStabilized {
				t.Errorf("stabilized %d, want %d", got, tc.wantStabilized)
			}
			if tc.wantRecommendations == nil {
				return
			}
			var recs []int32
			for _, r := range h.recommendations {
				recs = append(recs, r.recommendation)
			}
			if !reflect.DeepEqual(recs, tc.wantRecommendations) {
				t.Errorf("recommendations %v, want %v", recs, tc.wantRecommendations)
			}
		})
	}
}

// TestConvertDesiredReplicasWithRules ports upstream's TestConvertDesiredReplicasWithRules.
func TestConvertDesiredReplicasWithRules(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		current, desired, min, max int32
		wantReplicas               int32
		wantReason                 string
	}{
		{"prenormalized desired replicas within range", 5, 7, 3, 8, 7, "DesiredWithinRange"},
		{"prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, "TooFewReplicas"},
		{"prenormalized desired zeroed replicas within range", 1, 0, 0, 10, 0, "DesiredWithinRange"},
		{"maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10, "TooManyReplicas"},
		{"scaleUpLimit is the limit because scaleUpLimit < maxReplicas", 3, 1000, 1, 2000, 6, "ScaleUpLimit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason, _ := convertDesiredReplicasWithRules(tc.current, tc.desired, tc.min, tc.max)
			if got != tc.wantReplicas || reason != tc.wantReason {
				t.Errorf("got %d %s, want %d %s", got, reason, tc.wantReplicas, tc.wantReason)
			}
		})
	}
}

// TestCalculateScaleUpLimitWithScalingRules and TestCalculateScaleDownLimitWithBehaviors port
// the upstream tests of those names (the Min select policy).
func TestCalculateScaleUpLimitWithScalingRules(t *testing.T) {
	if got := calculateScaleUpLimitWithScalingRules(testNow, 1, nil, nil, minPolicyRules()); got != 2 {
		t.Errorf("got %d, want 2", got)
	}
}

func TestCalculateScaleDownLimitWithBehaviors(t *testing.T) {
	if got := calculateScaleDownLimitWithBehaviors(testNow, 5, nil, nil, minPolicyRules()); got != 3 {
		t.Errorf("got %d, want 3", got)
	}
}

func minPolicyRules() *autoscalingv2.HPAScalingRules {
	policy := autoscalingv2.MinChangePolicySelect
	window := int32(300)
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &window,
		SelectPolicy:               &policy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 2, PeriodSeconds: 60},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60},
		},
	}
}

// TestScalingWithRules ports upstream's TestScalingWithRules (convertDesiredReplicasWithBehaviorRate
// with the apiserver's rule defaulting).
func TestScalingWithRules(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		upEvents, downEvents []timestampedScaleEvent
		min, max             int32
		upRules, downRules   *autoscalingv2.HPAScalingRules
		current, desired     int32
		wantReplicas         int32
		wantReason           string
	}{
		{name: "prenormalized desired replicas within range", current: 5, desired: 7, min: 3, max: 8, wantReplicas: 7, wantReason: "DesiredWithinRange"},
		{name: "prenormalized desired replicas < minReplicas", current: 3, desired: 1, min: 2, max: 8, wantReplicas: 2, wantReason: "TooFewReplicas"},
		{name: "prenormalized desired replicas within range when minReplicas is 0", current: 1, desired: 0, min: 0, max: 10, wantReplicas: 0, wantReason: "DesiredWithinRange"},
		{name: "maxReplicas is the limit because maxReplicas < scaleUpLimit", current: 20, desired: 1000, min: 1, max: 10, wantReplicas: 10, wantReason: "TooManyReplicas"},
		{name: "desired replica count is more than the maximum replica count", current: 100, desired: 1000, min: 100, max: 150, wantReplicas: 150, wantReason: "TooManyReplicas"},
		{name: "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", current: 3, desired: 1000, min: 1, max: 2000, upRules: generateScalingRules(0, 0, 1, 60, 0), wantReplicas: 4, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with default behavior", min: 1, max: 1000, current: 10, desired: 50, wantReplicas: 20, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with pods policy larger than percent policy", min: 1, max: 1000, upRules: generateScalingRules(100, 60, 100, 60, 0), current: 10, desired: 500, wantReplicas: 110, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with percent policy larger than pods policy", min: 1, max: 1000, upRules: generateScalingRules(2, 60, 100, 60, 0), current: 10, desired: 500, wantReplicas: 20, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with spec MaxReplicas limitation with large pod policy", min: 1, max: 1000, upRules: generateScalingRules(100, 60, 0, 0, 0), current: 10, desired: 50, wantReplicas: 50, wantReason: "DesiredWithinRange"},
		{name: "scaleUp with spec MaxReplicas limitation with large percent policy", min: 1, max: 1000, upRules: generateScalingRules(10000, 60, 0, 0, 0), current: 10, desired: 50, wantReplicas: 50, wantReason: "DesiredWithinRange"},
		{name: "scaleUp with pod policy limitation", min: 1, max: 1000, upRules: generateScalingRules(30, 60, 0, 0, 0), current: 10, desired: 50, wantReplicas: 40, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with percent policy limitation", min: 1, max: 1000, upRules: generateScalingRules(0, 0, 200, 60, 0), current: 10, desired: 50, wantReplicas: 30, wantReason: "ScaleUpLimit"},
		{name: "scaleDown with percent policy larger than pod policy", min: 1, max: 1000, downRules: generateScalingRules(20, 60, 1, 60, 300), current: 100, desired: 2, wantReplicas: 80, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with pod policy larger than percent policy", min: 1, max: 1000, downRules: generateScalingRules(2, 60, 1, 60, 300), current: 100, desired: 2, wantReplicas: 98, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with spec MinReplicas limitation with large pod policy", min: 1, max: 1000, downRules: generateScalingRules(100, 60, 0, 0, 300), current: 10, desired: 0, wantReplicas: 1, wantReason: "TooFewReplicas"},
		{name: "scaleDown with spec MinReplicas limitation with large percent policy", min: 5, max: 1000, downRules: generateScalingRules(0, 0, 100, 60, 300), current: 10, desired: 2, wantReplicas: 5, wantReason: "TooFewReplicas"},
		{name: "scaleDown with pod policy limitation", min: 1, max: 1000, downRules: generateScalingRules(5, 60, 0, 0, 300), current: 10, desired: 2, wantReplicas: 5, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with percent policy limitation", min: 1, max: 1000, downRules: generateScalingRules(0, 0, 50, 60, 300), current: 10, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
		{name: "scaleUp with spec MaxReplicas limitation with large pod policy and events", upEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 200, upRules: generateScalingRules(300, 60, 0, 0, 0), current: 100, desired: 500, wantReplicas: 200, wantReason: "TooManyReplicas"},
		{name: "scaleUp with spec MaxReplicas limitation with large percent policy and events", upEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 200, upRules: generateScalingRules(0, 0, 10000, 60, 0), current: 100, desired: 500, wantReplicas: 200, wantReason: "TooManyReplicas"},
		{name: "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", upEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, upRules: generateScalingRules(5, 120, 0, 0, 0), current: 100, desired: 500, wantReplicas: 100, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with pod policy and previous scale up events", upEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, upRules: generateScalingRules(150, 120, 0, 0, 0), current: 100, desired: 500, wantReplicas: 235, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with percent policy and previous scale up events", upEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, upRules: generateScalingRules(0, 0, 200, 120, 0), current: 100, desired: 500, wantReplicas: 255, wantReason: "ScaleUpLimit"},
		{name: "scaleUp with percent policy and previous scale up and down events", upEvents: generateEventsUniformDistribution([]int{4}, 120), downEvents: generateEventsUniformDistribution([]int{2}, 120), min: 1, max: 1000, upRules: generateScalingRules(0, 0, 300, 300, 0), current: 6, desired: 24, wantReplicas: 16, wantReason: "ScaleUpLimit"},
		{name: "scaleDown with default policy and previous events", downEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, current: 10, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
		{name: "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", downEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, downRules: generateScalingRules(115, 120, 0, 0, 300), current: 100, desired: 0, wantReplicas: 1, wantReason: "TooFewReplicas"},
		{name: "scaleDown with spec MinReplicas limitation with large pod policy and previous events", downEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 5, max: 1000, downRules: generateScalingRules(130, 120, 0, 0, 300), current: 100, desired: 0, wantReplicas: 5, wantReason: "TooFewReplicas"},
		{name: "scaleDown with spec MinReplicas limitation with large percent policy and previous events", downEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 5, max: 1000, downRules: generateScalingRules(0, 0, 100, 120, 300), current: 100, desired: 2, wantReplicas: 5, wantReason: "TooFewReplicas"},
		{name: "scaleDown with pod policy limitation and previous events", downEvents: generateEventsUniformDistribution([]int{1, 5, 9}, 120), min: 1, max: 1000, downRules: generateScalingRules(5, 120, 0, 0, 300), current: 100, desired: 2, wantReplicas: 100, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with percent policy limitation and previous events", downEvents: generateEventsUniformDistribution([]int{2, 4, 6}, 120), min: 1, max: 1000, downRules: generateScalingRules(0, 0, 50, 120, 300), current: 100, desired: 0, wantReplicas: 56, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with percent policy and previous scale up and down events", upEvents: generateEventsUniformDistribution([]int{2}, 120), downEvents: generateEventsUniformDistribution([]int{4}, 120), min: 1, max: 1000, downRules: generateScalingRules(0, 0, 50, 180, 0), current: 10, desired: 1, wantReplicas: 6, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with previous events preventing further scale down", downEvents: generateEventsUniformDistribution([]int{10, 10, 10}, 120), min: 1, max: 1000, downRules: generateScalingRules(0, 0, 10, 120, 300), current: 100, desired: 0, wantReplicas: 100, wantReason: "ScaleDownLimit"},
		{name: "scaleDown with with previous events still allowing more scale down", downEvents: generateEventsUniformDistribution([]int{10, 10, 10}, 120), min: 1, max: 1000, downRules: generateScalingRules(0, 0, 1000, 120, 300), current: 10, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
		{name: "check 'outdated' flag for events for one behavior for up", upEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, upRules: generateScalingRules(1000, 60, 0, 0, 0), current: 100, desired: 200, wantReplicas: 200, wantReason: "DesiredWithinRange"},
		{name: "check that events were not marked 'outdated' for two different policies in the behavior for up", upEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, upRules: generateScalingRules(1000, 120, 100, 60, 0), current: 100, desired: 200, wantReplicas: 200, wantReason: "DesiredWithinRange"},
		{name: "check that events were marked 'outdated' for two different policies in the behavior for up", upEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, upRules: generateScalingRules(1000, 30, 100, 60, 0), current: 100, desired: 200, wantReplicas: 200, wantReason: "DesiredWithinRange"},
		{name: "check 'outdated' flag for events for one behavior for down", downEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, downRules: generateScalingRules(1000, 60, 0, 0, 300), current: 100, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
		{name: "check that events were not marked 'outdated' for two different policies in the behavior for down", downEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, downRules: generateScalingRules(1000, 120, 100, 60, 300), current: 100, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
		{name: "check that events were marked 'outdated' for two different policies in the behavior for down", downEvents: generateEventsUniformDistribution([]int{8, 12, 9, 11}, 120), min: 1, max: 1000, downRules: generateScalingRules(1000, 30, 100, 60, 300), current: 100, desired: 5, wantReplicas: 5, wantReason: "DesiredWithinRange"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &history{scaleUpEvents: tc.upEvents, scaleDownEvents: tc.downEvents}
			arg := normalizationArg{
				scaleUp:     autoscalingapiv2.GenerateHPAScaleUpRules(tc.upRules),
				scaleDown:   autoscalingapiv2.GenerateHPAScaleDownRules(tc.downRules),
				minReplicas: tc.min,
				maxReplicas: tc.max,
				current:     tc.current,
				desired:     tc.desired,
			}
			got, reason, _ := h.convertDesiredReplicasWithBehaviorRate(testNow, arg)
			if got != tc.wantReplicas || reason != tc.wantReason {
				t.Errorf("got %d %s, want %d %s", got, reason, tc.wantReplicas, tc.wantReason)
			}
		})
	}
}

// TestStoreScaleEvents ports upstream's TestStoreScaleEvents (storeScaleEvent,
// markScaleEventsOutdated, getReplicasChangePerPeriod), in both directions.
func TestStoreScaleEvents(t *testing.T) {
	type ev struct {
		change   int32
		outdated bool
	}
	for _, tc := range []struct {
		name       string
		prev       []timestampedScaleEvent
		rules      *autoscalingv2.HPAScalingRules
		want       []ev
		wantChange int32
	}{
		{name: "empty entries with default behavior", prev: []timestampedScaleEvent{}, want: nil, wantChange: 0},
		{name: "empty entries with two-policy-behavior", prev: []timestampedScaleEvent{}, rules: generateScalingRules(10, 60, 100, 60, 0), want: []ev{{5, false}}, wantChange: 0},
		{name: "one outdated entry to be kept untouched without behavior", prev: []timestampedScaleEvent{{7, ago(61 * time.Second), false}}, want: []ev{{7, false}}, wantChange: 0},
		{name: "one outdated entry to be replaced with behavior", prev: []timestampedScaleEvent{{7, ago(61 * time.Second), false}}, rules: generateScalingRules(10, 60, 100, 60, 0), want: []ev{{5, false}}, wantChange: 0},
		{name: "one actual entry to be not touched with behavior", prev: []timestampedScaleEvent{{7, ago(58 * time.Second), false}}, rules: generateScalingRules(10, 60, 100, 60, 0), want: []ev{{7, false}, {5, false}}, wantChange: 7},
		{name: "two entries, one of them to be replaced", prev: []timestampedScaleEvent{{7, ago(61 * time.Second), false}, {6, ago(59 * time.Second), false}}, rules: generateScalingRules(10, 60, 0, 0, 0), want: []ev{{5, false}, {6, false}}, wantChange: 6},
		{name: "replace one entry, use policies with different periods", prev: []timestampedScaleEvent{{8, ago(29 * time.Second), false}, {6, ago(59 * time.Second), false}, {7, ago(61 * time.Second), false}, {9, ago(61 * time.Second), false}}, rules: generateScalingRules(10, 60, 100, 30, 0), want: []ev{{8, false}, {6, false}, {7, true}, {5, false}}, wantChange: 14},
		{name: "two entries, both actual", prev: []timestampedScaleEvent{{7, ago(58 * time.Second), false}, {6, ago(59 * time.Second), false}}, rules: generateScalingRules(10, 120, 100, 30, 0), want: []ev{{7, false}, {6, false}, {5, false}}, wantChange: 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, up := range []bool{true, false} {
				var behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
				h := &history{}
				events := append([]timestampedScaleEvent{}, tc.prev...)
				if up {
					h.scaleUpEvents = events
				} else {
					h.scaleDownEvents = events
				}
				if tc.rules != nil {
					behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
					if up {
						behavior.ScaleUp = tc.rules
					} else {
						behavior.ScaleDown = tc.rules
					}
				}
				if got := getReplicasChangePerPeriod(testNow, 60, events); got != tc.wantChange {
					t.Errorf("up=%v: change in 60 s %d, want %d", up, got, tc.wantChange)
				}
				desired := int32(10 + 5)
				if !up {
					desired = 10 - 5
				}
				h.storeScaleEvent(behavior, 10, desired, testNow)
				stored := h.scaleUpEvents
				if !up {
					stored = h.scaleDownEvents
				}
				var got []ev
				for _, e := range stored {
					got = append(got, ev{e.replicaChange, e.outdated})
				}
				if tc.want == nil && len(got) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("up=%v: events %v, want %v", up, got, tc.want)
				}
			}
		})
	}
}
