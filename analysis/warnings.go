package analysis

import "time"

// WarningRecord is one warning a simulated controller raised about an object: a sync that
// failed (a pod create the apiserver refused, a StatefulSet whose claims are not simulated),
// a dependent the garbage collector could not delete. The run went on without what failed.
type WarningRecord struct {
	At                    time.Duration
	Kind, Namespace, Name string
	Reason, Message       string
}

// WarningReport is one distinct warning in the report: the object, the reason and message,
// how many times it was raised and when first (virtual seconds).
type WarningReport struct {
	At        float64 `json:"at"`
	Kind      string  `json:"kind"`
	Namespace string  `json:"namespace,omitempty"`
	Name      string  `json:"name"`
	Reason    string  `json:"reason"`
	Message   string  `json:"message"`
	Count     int     `json:"count"`
}

// warningReports groups the warnings that say the same thing about the same object, in the
// order each was first raised (the run's order, so the report is deterministic). A failing
// sync is retried on every change of its object and would otherwise list one line per retry.
func warningReports(recs []WarningRecord) []WarningReport {
	type key struct{ kind, namespace, name, reason, message string }
	index := map[key]int{}
	out := make([]WarningReport, 0)
	for _, w := range recs {
		k := key{w.Kind, w.Namespace, w.Name, w.Reason, w.Message}
		if i, ok := index[k]; ok {
			out[i].Count++
			continue
		}
		index[k] = len(out)
		out = append(out, WarningReport{At: w.At.Seconds(), Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
			Reason: w.Reason, Message: w.Message, Count: 1})
	}
	return out
}
