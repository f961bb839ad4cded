package hpa

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// Legacy limits (horizontal.go:64): without behavior, one reconcile may at most double the
// replicas, or reach 4.
const (
	scaleUpLimitFactor  = 2.0
	scaleUpLimitMinimum = 4.0
)

// Condition messages of the normalization (horizontal.go, normalizeDesiredReplicas*,
// convertDesiredReplicas*).
const (
	msgScaleDownStabilized = "recent recommendations were higher than current one, applying the highest recent recommendation"
	msgScaleUpStabilized   = "recent recommendations were lower than current one, applying the lowest recent recommendation"
	msgReadyForNewScale    = "recommended size matches current size"
	msgScaleUpLimit        = "the desired replica count is increasing faster than the maximum scale rate"
	msgScaleDownLimit      = "the desired replica count is decreasing faster than the maximum scale rate"
	msgTooManyReplicas     = "the desired replica count is more than the maximum replica count"
	msgTooFewReplicas      = "the desired replica count is less than the minimum replica count"
	msgDesiredWithinRange  = "the desired count is within the acceptable range"
)

// recordInitialRecommendation follows recordInitialRecommendation (horizontal.go:802): a new
// history starts with the current count at now.
func (h *history) recordInitialRecommendation(current int32, now time.Time) {
	if h.recommendations == nil {
		h.recommendations = []timestampedRecommendation{{current, now}}
	}
}

// stabilizeRecommendation follows stabilizeRecommendation (horizontal.go:1083): the max of
// desired and every recommendation not Before(now − window); then desired is recorded over
// one such old entry, or appended.
func (h *history) stabilizeRecommendation(now time.Time, window time.Duration, desired int32) int32 {
	maxRecommendation := desired
	foundOld, oldIndex := false, 0
	cutoff := now.Add(-window)
	for i, rec := range h.recommendations {
		if rec.timestamp.Before(cutoff) {
			foundOld, oldIndex = true, i
		} else if rec.recommendation > maxRecommendation {
			maxRecommendation = rec.recommendation
		}
	}
	h.record(foundOld, oldIndex, timestampedRecommendation{desired, now})
	return maxRecommendation
}

func (h *history) record(foundOld bool, oldIndex int, rec timestampedRecommendation) {
	if foundOld {
		h.recommendations[oldIndex] = rec
	} else {
		h.recommendations = append(h.recommendations, rec)
	}
}

// normalizeLegacy follows normalizeDesiredReplicas (horizontal.go:1109), for behavior == nil.
func (r *reconcile) normalizeLegacy(current, desired, minReplicas int32) int32 {
	stabilized := r.h.stabilizeRecommendation(r.in.Now, r.c.settings.DownscaleStabilization, desired)
	if stabilized != desired {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized", msgScaleDownStabilized)
	} else {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", msgReadyForNewScale)
	}
	normalized, reason, message := convertDesiredReplicasWithRules(current, stabilized, minReplicas, r.in.HPA.Spec.MaxReplicas)
	r.setLimited(normalized != stabilized, reason, message)
	return normalized
}

func (r *reconcile) setLimited(limited bool, reason, message string) {
	status := corev1.ConditionFalse
	if limited {
		status = corev1.ConditionTrue
	}
	r.setCondition(autoscalingv2.ScalingLimited, status, reason, message)
}

// convertDesiredReplicasWithRules follows convertDesiredReplicasWithRules (horizontal.go:1371):
// min, then the lower of max and the legacy scale-up limit.
func convertDesiredReplicasWithRules(current, desired, minReplicas, maxReplicas int32) (int32, string, string) {
	upper, reason, message := maxReplicas, "TooManyReplicas", msgTooManyReplicas
	if limit := calculateScaleUpLimit(current); maxReplicas > limit {
		upper, reason, message = limit, "ScaleUpLimit", msgScaleUpLimit
	}
	if desired < minReplicas {
		return minReplicas, "TooFewReplicas", msgTooFewReplicas
	}
	if desired > upper {
		return upper, reason, message
	}
	return desired, "DesiredWithinRange", msgDesiredWithinRange
}

// calculateScaleUpLimit follows calculateScaleUpLimit (horizontal.go:1406).
func calculateScaleUpLimit(current int32) int32 {
	return int32(math.Max(scaleUpLimitFactor*float64(current), scaleUpLimitMinimum))
}

// normalizationArg is upstream's NormalizationArg (horizontal.go:1128), without the key.
type normalizationArg struct {
	scaleUp, scaleDown *autoscalingv2.HPAScalingRules
	minReplicas        int32
	maxReplicas        int32
	current            int32
	desired            int32
}

// normalizeWithBehaviors follows normalizeDesiredReplicasWithBehaviors (horizontal.go:1144).
func (r *reconcile) normalizeWithBehaviors(current, desired, minReplicas int32) int32 {
	behavior := effectiveBehavior(r.in.HPA.Spec.Behavior, r.c.settings.DownscaleStabilization)
	r.behavior = behavior
	arg := normalizationArg{
		scaleUp:     behavior.ScaleUp,
		scaleDown:   behavior.ScaleDown,
		minReplicas: minReplicas,
		maxReplicas: r.in.HPA.Spec.MaxReplicas,
		current:     current,
		desired:     desired,
	}
	stabilized, reason, message := r.h.stabilizeRecommendationWithBehaviors(r.in.Now, arg)
	arg.desired = stabilized
	if stabilized != desired {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, reason, message)
	} else {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", msgReadyForNewScale)
	}
	normalized, reason, message := r.h.convertDesiredReplicasWithBehaviorRate(r.in.Now, arg)
	r.setLimited(normalized != stabilized, reason, message)
	return normalized
}

// effectiveBehavior is the behavior the normalization reads: maybeInitScaleDownStabilizationWindow
// (horizontal.go:1172) done on a copy (upstream sets the flag's window into its own deep copy
// of the HPA; in.HPA is the caller's and stays untouched). The apiserver's defaulting
// (SetDefaults_HorizontalPodAutoscalerBehavior) fills the rest before upstream reads it; a
// field it would have filled and that is still nil here (an HPA that was not defaulted) is
// filled the same way instead of dereferencing nil as upstream would.
func effectiveBehavior(b *autoscalingv2.HorizontalPodAutoscalerBehavior, window time.Duration) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	c := b.DeepCopy()
	c.ScaleUp = withDefaults(c.ScaleUp, DefaultScaleUpRules())
	c.ScaleDown = withDefaults(c.ScaleDown, DefaultScaleDownRules())
	if c.ScaleDown.StabilizationWindowSeconds == nil {
		seconds := int32(window.Seconds())
		c.ScaleDown.StabilizationWindowSeconds = &seconds
	}
	return c
}

// withDefaults follows copyHPAScalingRules (pkg/apis/autoscaling/v2/defaults.go): each nil
// field of rules is taken from the defaults, the policies list as a whole.
func withDefaults(rules, defaults *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if rules == nil {
		return defaults
	}
	if rules.SelectPolicy == nil {
		rules.SelectPolicy = defaults.SelectPolicy
	}
	if rules.StabilizationWindowSeconds == nil {
		rules.StabilizationWindowSeconds = defaults.StabilizationWindowSeconds
	}
	if rules.Policies == nil {
		rules.Policies = defaults.Policies
	}
	return rules
}

// DefaultScaleUpRules are the scale-up rules the apiserver fills into a non-nil behavior
// (GenerateHPAScaleUpRules, pkg/apis/autoscaling/v2/defaults.go): no stabilization, the larger
// of +4 pods and +100 % per 15 s.
func DefaultScaleUpRules() *autoscalingv2.HPAScalingRules {
	window := int32(0)
	selectPolicy := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &window,
		SelectPolicy:               &selectPolicy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// DefaultScaleDownRules are the scale-down rules the apiserver fills into a non-nil behavior
// (GenerateHPAScaleDownRules): -100 % per 15 s; the window stays nil, and the controller reads
// it from --horizontal-pod-autoscaler-downscale-stabilization.
func DefaultScaleDownRules() *autoscalingv2.HPAScalingRules {
	selectPolicy := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: &selectPolicy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// stabilizeRecommendationWithBehaviors follows stabilizeRecommendationWithBehaviors
// (horizontal.go:1257): the lowest recommendation After the up cutoff bounds a scale-up, the
// highest After the down cutoff bounds a scale-down; the unstabilized desired is recorded
// over one entry older than both cutoffs, or appended.
func (h *history) stabilizeRecommendationWithBehaviors(now time.Time, arg normalizationArg) (int32, string, string) {
	foundOld, oldIndex := false, 0
	upRecommendation := arg.desired
	upCutoff := now.Add(-time.Second * time.Duration(*arg.scaleUp.StabilizationWindowSeconds))
	downRecommendation := arg.desired
	downCutoff := now.Add(-time.Second * time.Duration(*arg.scaleDown.StabilizationWindowSeconds))
	for i, rec := range h.recommendations {
		if rec.timestamp.After(upCutoff) {
			upRecommendation = min(rec.recommendation, upRecommendation)
		}
		if rec.timestamp.After(downCutoff) {
			downRecommendation = max(rec.recommendation, downRecommendation)
		}
		if rec.timestamp.Before(upCutoff) && rec.timestamp.Before(downCutoff) {
			foundOld, oldIndex = true, i
		}
	}
	recommendation := arg.current
	if recommendation < upRecommendation {
		recommendation = upRecommendation
	}
	if recommendation > downRecommendation {
		recommendation = downRecommendation
	}
	h.record(foundOld, oldIndex, timestampedRecommendation{arg.desired, now})
	if arg.desired >= arg.current {
		return recommendation, "ScaleUpStabilized", msgScaleUpStabilized
	}
	return recommendation, "ScaleDownStabilized", msgScaleDownStabilized
}

// convertDesiredReplicasWithBehaviorRate follows convertDesiredReplicasWithBehaviorRate
// (horizontal.go:1317): max applies only on the way up, min only on the way down, each with
// the policies' rate limit.
func (h *history) convertDesiredReplicasWithBehaviorRate(now time.Time, arg normalizationArg) (int32, string, string) {
	switch {
	case arg.desired > arg.current:
		limit := calculateScaleUpLimitWithScalingRules(now, arg.current, h.scaleUpEvents, h.scaleDownEvents, arg.scaleUp)
		limit = max(limit, arg.current)
		upper, reason, message := arg.maxReplicas, "TooManyReplicas", msgTooManyReplicas
		if upper > limit {
			upper, reason, message = limit, "ScaleUpLimit", msgScaleUpLimit
		}
		if arg.desired > upper {
			return upper, reason, message
		}
	case arg.desired < arg.current:
		limit := calculateScaleDownLimitWithBehaviors(now, arg.current, h.scaleUpEvents, h.scaleDownEvents, arg.scaleDown)
		limit = min(limit, arg.current)
		lower, reason, message := arg.minReplicas, "TooFewReplicas", msgTooFewReplicas
		if lower < limit {
			lower, reason, message = limit, "ScaleDownLimit", msgScaleDownLimit
		}
		if arg.desired < lower {
			return lower, reason, message
		}
	}
	return arg.desired, "DesiredWithinRange", msgDesiredWithinRange
}

// calculateScaleUpLimitWithScalingRules follows calculateScaleUpLimitWithScalingRules
// (horizontal.go:1434): per policy, the count at the period's start plus the policy's
// allowance (Percent rounds up); Max takes the largest, Min the smallest, Disabled none.
func calculateScaleUpLimitWithScalingRules(now time.Time, current int32, upEvents, downEvents []timestampedScaleEvent, rules *autoscalingv2.HPAScalingRules) int32 {
	var result int32
	var pick func(a, b int32) int32
	switch *rules.SelectPolicy {
	case autoscalingv2.DisabledPolicySelect:
		return current
	case autoscalingv2.MinChangePolicySelect:
		result, pick = math.MaxInt32, minInt32
	default:
		result, pick = math.MinInt32, maxInt32
	}
	for _, p := range rules.Policies {
		start := periodStart(now, current, p.PeriodSeconds, upEvents, downEvents)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// calculateScaleDownLimitWithBehaviors follows calculateScaleDownLimitWithBehaviors
// (horizontal.go:1463): Percent truncates; Max (the largest change) takes the smallest count.
func calculateScaleDownLimitWithBehaviors(now time.Time, current int32, upEvents, downEvents []timestampedScaleEvent, rules *autoscalingv2.HPAScalingRules) int32 {
	var result int32
	var pick func(a, b int32) int32
	switch *rules.SelectPolicy {
	case autoscalingv2.DisabledPolicySelect:
		return current
	case autoscalingv2.MinChangePolicySelect:
		result, pick = math.MinInt32, maxInt32
	default:
		result, pick = math.MaxInt32, minInt32
	}
	for _, p := range rules.Policies {
		start := periodStart(now, current, p.PeriodSeconds, upEvents, downEvents)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// periodStart is the replica count at the start of a policy's period: current, less what was
// added and plus what was removed within it.
func periodStart(now time.Time, current, periodSeconds int32, upEvents, downEvents []timestampedScaleEvent) int32 {
	return current - getReplicasChangePerPeriod(now, periodSeconds, upEvents) + getReplicasChangePerPeriod(now, periodSeconds, downEvents)
}

// getReplicasChangePerPeriod follows getReplicasChangePerPeriod (horizontal.go:1181): the sum
// of the changes After(now − period).
func getReplicasChangePerPeriod(now time.Time, periodSeconds int32, events []timestampedScaleEvent) int32 {
	cutoff := now.Add(-time.Second * time.Duration(periodSeconds))
	var replicas int32
	for _, e := range events {
		if e.timestamp.After(cutoff) {
			replicas += e.replicaChange
		}
	}
	return replicas
}

func minInt32(a, b int32) int32 { return min(a, b) }
func maxInt32(a, b int32) int32 { return max(a, b) }
