package fidelity

// The report's horizontalPodAutoscalers section as this package reads it.
type reportHPAs struct {
	HPAs []reportHPA `json:"hpas"`
}

type reportHPA struct {
	Namespace        string `json:"namespace"`
	Name             string `json:"name"`
	Target           string `json:"target"`
	ReplicasOverTime []struct {
		Current int32 `json:"current"`
		Desired int32 `json:"desired"`
	} `json:"replicasOverTime"`
	Events []struct {
		At      float64 `json:"at"`
		LastAt  float64 `json:"lastAt"`
		Count   int     `json:"count"`
		Type    string  `json:"type"`
		Reason  string  `json:"reason"`
		Message string  `json:"message"`
	} `json:"events"`
	FinalConditions []HPACondition `json:"finalConditions"`
}

// hpasFromReport turns the report's HPAs into the Observation's. The report counts a run of
// identical consecutive events once; a real cluster's Event object counts every recurrence of
// the same (type, reason, message), consecutive or not (client-go tools/record's correlator
// keys its aggregation by them), so the report's entries of one such key are summed, first
// and last times the earliest and latest. currentReplicas and desiredReplicas are the last
// reconcile's, as the HPA's status has them; the target's replicas come from the workloads'
// sizes, as on the real side.
func hpasFromReport(doc *reportHPAs, ws []Workload) []HPA {
	if doc == nil {
		return nil
	}
	var out []HPA
	for _, r := range doc.HPAs {
		h := HPA{Namespace: r.Namespace, Name: r.Name, Target: r.Target, Events: []HPAEvent{}, Conditions: []HPACondition{}}
		index := map[[3]string]int{}
		for _, e := range r.Events {
			key := [3]string{e.Type, e.Reason, e.Message}
			i, ok := index[key]
			if !ok {
				index[key] = len(h.Events)
				h.Events = append(h.Events, HPAEvent{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count, First: Millis(e.At), Last: Millis(e.LastAt)})
				continue
			}
			x := &h.Events[i]
			x.Count += e.Count
			x.First, x.Last = min(x.First, Millis(e.At)), max(x.Last, Millis(e.LastAt))
		}
		for _, c := range r.FinalConditions {
			h.Conditions = append(h.Conditions, HPACondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
		}
		if n := len(r.ReplicasOverTime); n > 0 {
			h.CurrentReplicas, h.DesiredReplicas = r.ReplicasOverTime[n-1].Current, r.ReplicasOverTime[n-1].Desired
		}
		h.TargetReplicas = targetReplicas(ws, h.Namespace, h.Target)
		out = append(out, h)
	}
	return out
}
