package analysis

import (
	"sort"
	"time"
)

// TransitionRecord is one executed stage, as the simulator's transition log has it.
type TransitionRecord struct {
	At        time.Duration
	Kind      string
	Namespace string
	Name      string
	Stage     string
	Delay     time.Duration
}

// TransitionReport is how often one stage ran on one kind and how long its transitions waited.
type TransitionReport struct {
	Kind         string      `json:"kind"`
	Stage        string      `json:"stage"`
	Count        int         `json:"count"`
	DelaySeconds Percentiles `json:"delaySeconds"`
}

// transitionReports groups the log by kind and stage, sorted by kind then stage.
func transitionReports(log []TransitionRecord) []TransitionReport {
	type key struct{ kind, stage string }
	delays := map[key][]float64{}
	for _, t := range log {
		k := key{t.Kind, t.Stage}
		delays[k] = append(delays[k], t.Delay.Seconds())
	}
	out := make([]TransitionReport, 0, len(delays))
	for k, ds := range delays {
		out = append(out, TransitionReport{Kind: k.kind, Stage: k.stage, Count: len(ds), DelaySeconds: percentiles(ds)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Stage < out[j].Stage
	})
	return out
}
