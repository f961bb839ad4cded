package analysis

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// amount is a quantity in the unit the scheduler accounts it in: millicores for CPU, whole
// units (bytes, pods, devices) for everything else. Sums of amounts are exact integers, so a
// utilization computed from them does not depend on the order pods came and went in.
func amount(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// ratio is requested/allocatable, 0 for a resource the node does not offer.
func ratio(requested, allocatable int64) float64 {
	if allocatable <= 0 {
		return 0
	}
	return float64(requested) / float64(allocatable)
}

// nodeUtilization is requested/allocatable for every resource the node lists in allocatable.
// requested holds the requests of the pods bound to the node that still run, plus one "pods"
// per pod.
func nodeUtilization(allocatable, requested corev1.ResourceList) map[string]float64 {
	out := make(map[string]float64, len(allocatable))
	for name, a := range allocatable {
		req := requested[name]
		out[string(name)] = ratio(amount(name, req), amount(name, a))
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
			if err != nil || amount(corev1.ResourceName(name), q) <= 0 {
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
