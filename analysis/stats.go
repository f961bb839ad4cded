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
