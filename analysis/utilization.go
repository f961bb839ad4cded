package analysis

import (
	"math"
	"math/big"
	"sort"

	"gonum.org/v1/gonum/stat"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// amount is a quantity in the unit the scheduler accounts it in: millicores for CPU, whole
// units (bytes, pods, devices) for everything else. Sums of amounts are exact integers, so a
// utilization computed from them does not depend on the order pods came and went in. It is
// right only for a quantity within amountLimit (see fits); the time series scales larger ones
// down (see scaledAmount) and a node's utilization divides them exactly (see quantityRatio).
func amount(name corev1.ResourceName, q resource.Quantity) int64 {
	return scaledAmount(name, q, 0)
}

// amountLimit bounds the quantities amount takes whole: 9e18 units (9e15 cores, which are
// 9e18 millicores), below the largest int64 (about 9.22e18). Beyond it MilliValue and Value
// do not saturate, they wrap: a 1e30-CPU node's millicores are garbage.
const amountLimit = 9e18

// fits tells whether amount(name, q) is exact, q being within ±amountLimit of its unit.
func fits(name corev1.ResourceName, q resource.Quantity) bool {
	limit := int64(amountLimit)
	if name == corev1.ResourceCPU {
		limit /= 1000
	}
	return q.CmpInt64(limit) <= 0 && q.CmpInt64(-limit) >= 0
}

// unitScale is the scale of the unit amount counts name in: 10^-3 (millicores) for CPU, 10^0
// for everything else.
func unitScale(name corev1.ResourceName) resource.Scale {
	if name == corev1.ResourceCPU {
		return resource.Milli
	}
	return 0
}

// scaledAmount is q in units of 10^exp times amount's unit, rounded up: amount itself for exp
// 0. The time series counts a resource whose sums would not fit an int64 in such a larger unit
// (see sweepExponents).
func scaledAmount(name corev1.ResourceName, q resource.Quantity, exp int) int64 {
	return q.ScaledValue(unitScale(name) + resource.Scale(exp))
}

// magnitude is |q| in amount's unit, approximately, for any size of quantity.
func magnitude(name corev1.ResourceName, q resource.Quantity) float64 {
	return math.Abs(q.AsApproximateFloat64()) * math.Pow10(-int(unitScale(name)))
}

// ratio is requested/allocatable, 0 for a resource the node does not offer.
func ratio(requested, allocatable int64) float64 {
	if allocatable <= 0 {
		return 0
	}
	return float64(requested) / float64(allocatable)
}

// quantityRatio is requested/allocatable for quantities of any size, 0 when allocatable is
// not above zero. Within amountLimit it is ratio of the amounts, as it always was; beyond, it
// divides the decimal values exactly and rounds once (a 1e29-CPU request on a 1e30-CPU node is
// 0.1, where the millicores wrapped).
func quantityRatio(name corev1.ResourceName, requested, allocatable resource.Quantity) float64 {
	if fits(name, requested) && fits(name, allocatable) {
		return ratio(amount(name, requested), amount(name, allocatable))
	}
	if allocatable.Sign() <= 0 {
		return 0
	}
	return decimalRatio(requested, allocatable)
}

// decimalRatio is a/b, exactly divided and rounded to the nearest float64; b must not be 0.
func decimalRatio(a, b resource.Quantity) float64 {
	// A quantity is unscaled · 10^-scale.
	da, db := a.AsDec(), b.AsDec()
	num, den := new(big.Int).Set(da.UnscaledBig()), new(big.Int).Set(db.UnscaledBig())
	// a/b = ua · 10^(sb-sa) / ub.
	if e := int64(db.Scale()) - int64(da.Scale()); e >= 0 {
		num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(e), nil))
	} else {
		den.Mul(den, new(big.Int).Exp(big.NewInt(10), big.NewInt(-e), nil))
	}
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// QuantityRatio is requested/allocatable for quantities of any size, 0 when allocatable is
// not above zero: exact to the float64, where MilliValue and Value wrap beyond about 9e15
// cores or 9e18 units.
func QuantityRatio(name string, requested, allocatable resource.Quantity) float64 {
	return quantityRatio(corev1.ResourceName(name), requested, allocatable)
}

// nodeUtilization is requested/allocatable for every resource the node lists in allocatable.
// requested holds the requests of the pods bound to the node that still run, plus one "pods"
// per pod.
func nodeUtilization(allocatable, requested corev1.ResourceList) map[string]float64 {
	out := make(map[string]float64, len(allocatable))
	for name, a := range allocatable {
		out[string(name)] = quantityRatio(name, requested[name], a)
	}
	return out
}

// utilizationStats summarizes each resource across the nodes that offer it (allocatable above
// zero, ready or not): a node without GPUs says nothing about how full the GPUs are. The mean
// is unweighted, one figure per node, and the standard deviation is the population one, since
// the nodes are the whole cluster, not a sample of it. nodes must be sorted by name, which
// fixes the order the figures are summed in.
func utilizationStats(nodes []NodeReport) map[string]UtilizationStats {
	per := map[string][]float64{}
	for _, n := range nodes {
		for name, alloc := range n.Allocatable {
			q, err := resource.ParseQuantity(alloc)
			if err != nil || q.Sign() <= 0 {
				continue
			}
			per[name] = append(per[name], n.Utilization[name])
		}
	}
	out := make(map[string]UtilizationStats, len(per))
	for name, xs := range per {
		mean, std := stat.PopMeanStdDev(xs, nil)
		max := math.Inf(-1)
		for _, x := range xs {
			max = math.Max(max, x)
		}
		out[name] = UtilizationStats{Mean: mean, Stddev: std, Max: max, Nodes: len(xs)}
	}
	return out
}

// resourceNames returns the keys of m, sorted.
func resourceNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
