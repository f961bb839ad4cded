package hpa

import autoscalingv2 "k8s.io/api/autoscaling/v2"

// tolerances are upstream's Tolerances (replica_calculator.go:47).
type tolerances struct {
	scaleDown, scaleUp float64
}

// isWithin follows Tolerances.isWithin (replica_calculator.go:56): inclusive at both ends.
func (t tolerances) isWithin(usageRatio float64) bool {
	return (1.0-t.scaleDown) <= usageRatio && usageRatio <= (1.0+t.scaleUp)
}

// tolerancesForHpa follows tolerancesForHpa (horizontal.go:1575): the flag for both sides,
// overridden per side by behavior.scaleDown/scaleUp.tolerance (HPAConfigurableTolerance is GA
// and locked on in v1.37).
func tolerancesForHpa(hpa *autoscalingv2.HorizontalPodAutoscaler, flag float64) tolerances {
	t := tolerances{scaleDown: flag, scaleUp: flag}
	b := hpa.Spec.Behavior
	if b == nil {
		return t
	}
	if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
		t.scaleDown = b.ScaleDown.Tolerance.AsApproximateFloat64()
	}
	if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
		t.scaleUp = b.ScaleUp.Tolerance.AsApproximateFloat64()
	}
	return t
}
