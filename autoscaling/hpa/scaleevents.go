package hpa

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// storeScaleEvent follows storeScaleEvent (horizontal.go:1206): with a behavior, a successful
// rescale is recorded as a scale-up or scale-down event at now, over an outdated entry if one
// is marked, else appended. The legacy path keeps no events.
func (h *history) storeScaleEvent(behavior *autoscalingv2.HorizontalPodAutoscalerBehavior, prev, desired int32, now time.Time) {
	if behavior == nil {
		return
	}
	if desired > prev {
		h.scaleUpEvents = storeEvent(h.scaleUpEvents, getLongestPolicyPeriod(behavior.ScaleUp), desired-prev, now)
	} else {
		h.scaleDownEvents = storeEvent(h.scaleDownEvents, getLongestPolicyPeriod(behavior.ScaleDown), prev-desired, now)
	}
}

func storeEvent(events []timestampedScaleEvent, longestPolicyPeriod, change int32, now time.Time) []timestampedScaleEvent {
	markScaleEventsOutdated(now, events, longestPolicyPeriod)
	foundOld, oldIndex := false, 0
	for i, e := range events {
		if e.outdated {
			foundOld, oldIndex = true, i
		}
	}
	e := timestampedScaleEvent{replicaChange: change, timestamp: now}
	if foundOld {
		events[oldIndex] = e
		return events
	}
	return append(events, e)
}

// markScaleEventsOutdated follows markScaleEventsOutdated (horizontal.go:1412): events
// Before(now − longest period) are marked for reuse.
func markScaleEventsOutdated(now time.Time, events []timestampedScaleEvent, longestPolicyPeriod int32) {
	cutoff := now.Add(-time.Second * time.Duration(longestPolicyPeriod))
	for i, e := range events {
		if e.timestamp.Before(cutoff) {
			events[i].outdated = true
		}
	}
}

// getLongestPolicyPeriod follows getLongestPolicyPeriod (horizontal.go:1423). A nil rules
// (upstream dereferences it: the apiserver's defaulting always fills both directions) counts 0.
func getLongestPolicyPeriod(rules *autoscalingv2.HPAScalingRules) int32 {
	var longest int32
	if rules == nil {
		return 0
	}
	for _, p := range rules.Policies {
		longest = max(longest, p.PeriodSeconds)
	}
	return longest
}
