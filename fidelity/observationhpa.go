package fidelity

// HPA is one HorizontalPodAutoscaler: the events the controller recorded on it, its status at
// the end of the run, and its target's spec.replicas over the run.
type HPA struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Target is spec.scaleTargetRef as "Kind/name" ("Deployment/web").
	Target string `json:"target"`
	// Events are the controller's events on the HPA, one per distinct event (type, reason,
	// message), in the order they were first seen.
	Events []HPAEvent `json:"events"`
	// Conditions are status.conditions at the end, in the HPA's order.
	Conditions []HPACondition `json:"conditions"`
	// CurrentReplicas and DesiredReplicas are status.currentReplicas and
	// status.desiredReplicas at the end.
	CurrentReplicas int32 `json:"currentReplicas"`
	DesiredReplicas int32 `json:"desiredReplicas"`
	// TargetReplicas are the target's spec.replicas over the run, consecutive repeats merged
	// ([2] when the HPA never rescaled a target of 2); empty when the target was not seen.
	TargetReplicas []int32 `json:"targetReplicas"`
}

// HPAEvent is one event on an HPA: how many times it was recorded within the run (the Event's
// count), and when it was first and last recorded, in seconds since t=0.
type HPAEvent struct {
	Type    string  `json:"type"`
	Reason  string  `json:"reason"`
	Message string  `json:"message,omitempty"`
	Count   int     `json:"count"`
	First   float64 `json:"first"`
	Last    float64 `json:"last"`
}

// HPACondition is one of an HPA's status conditions at the end.
type HPACondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

// targetReplicas is the spec.replicas history of the workload named target ("Kind/name") in
// namespace ns, consecutive repeats merged: both sides' Runs have the workloads' sizes, so
// both compute it the same way.
func targetReplicas(ws []Workload, ns, target string) []int32 {
	out := []int32{}
	for _, w := range ws {
		if w.Namespace != ns || w.Kind+"/"+w.Name != target {
			continue
		}
		for _, s := range w.Sizes {
			if n := len(out); n == 0 || out[n-1] != s.Replicas {
				out = append(out, s.Replicas)
			}
		}
	}
	return out
}
