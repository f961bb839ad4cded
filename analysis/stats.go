package analysis

import (
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Percentiles summarizes a distribution of durations in virtual seconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentiles sorts xs in place and returns its empirical quantiles: each is a value that was
// observed (the smallest x with CDF(x) ≥ p), so a p99 never names a delay no object waited.
func percentiles(xs []float64) Percentiles {
	if len(xs) == 0 {
		return Percentiles{}
	}
	sort.Float64s(xs)
	q := func(p float64) float64 { return stat.Quantile(p, stat.Empirical, xs, nil) }
	return Percentiles{P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: xs[len(xs)-1]}
}

// distribution is percentiles plus the number of observations; like percentiles, it sorts xs.
func distribution(xs []float64) Distribution {
	p := percentiles(xs)
	return Distribution{P50: p.P50, P90: p.P90, P99: p.P99, Max: p.Max, Count: len(xs)}
}

// latencies are the pods' scheduling latency (created → bound) and startup latency (created
// → Running), each over the pods that got there, and the distribution of scheduling attempts
// over the pods the scheduler tried at least once.
func latencies(pods []PodRecord) (Latency, Distribution) {
	var sched, startup, attempts []float64
	for _, p := range pods {
		if p.Attempts > 0 {
			attempts = append(attempts, float64(p.Attempts))
		}
		if p.CreatedAt == nil {
			continue
		}
		if p.ScheduledAt != nil {
			sched = append(sched, (*p.ScheduledAt - *p.CreatedAt).Seconds())
		}
		if p.RunningAt != nil {
			startup = append(startup, (*p.RunningAt - *p.CreatedAt).Seconds())
		}
	}
	return Latency{Scheduling: distribution(sched), Startup: distribution(startup)}, distribution(attempts)
}
