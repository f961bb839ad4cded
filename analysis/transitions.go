package analysis

import (
	"sort"
	"time"

	"gonum.org/v1/gonum/stat"
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

// TransitionTally counts transitions of one kind and stage that the simulator did not log one
// by one: renewals of a periodic stage that only moved timestamps (heartbeats), elided so that
// a run over months does not perform millions of them. Delays holds how many waited each
// distinct delay.
type TransitionTally struct {
	Kind   string
	Stage  string
	Delays map[time.Duration]int64
}

// TransitionReport is how often one stage ran on one kind and how long its transitions waited.
type TransitionReport struct {
	Kind         string      `json:"kind"`
	Stage        string      `json:"stage"`
	Count        int         `json:"count"`
	DelaySeconds Percentiles `json:"delaySeconds"`
}

// transitionReports groups the log and the tallies by kind and stage, sorted by kind then
// stage.
func transitionReports(log []TransitionRecord, tallies []TransitionTally) []TransitionReport {
	type key struct{ kind, stage string }
	delays := map[key]map[time.Duration]int64{}
	add := func(k key, d time.Duration, n int64) {
		m := delays[k]
		if m == nil {
			m = map[time.Duration]int64{}
			delays[k] = m
		}
		m[d] += n
	}
	for _, t := range log {
		add(key{t.Kind, t.Stage}, t.Delay, 1)
	}
	for _, t := range tallies {
		for d, n := range t.Delays {
			add(key{t.Kind, t.Stage}, d, n)
		}
	}
	out := make([]TransitionReport, 0, len(delays))
	for k, ds := range delays {
		p, n := weightedPercentiles(ds)
		out = append(out, TransitionReport{Kind: k.kind, Stage: k.stage, Count: int(n), DelaySeconds: p})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Stage < out[j].Stage
	})
	return out
}

// weightedPercentiles is percentiles over a multiset given as value → multiplicity, so a
// stage that ran millions of times costs memory in its distinct delays, not in its runs. It
// also returns the multiset's size.
func weightedPercentiles(counts map[time.Duration]int64) (Percentiles, int64) {
	ds := make([]time.Duration, 0, len(counts))
	for d := range counts {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	xs := make([]float64, len(ds))
	ws := make([]float64, len(ds))
	var n int64
	for i, d := range ds {
		xs[i], ws[i] = d.Seconds(), float64(counts[d])
		n += counts[d]
	}
	if n == 0 {
		return Percentiles{}, 0
	}
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, xs, ws) }
	return Percentiles{P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: xs[len(xs)-1]}, n
}
