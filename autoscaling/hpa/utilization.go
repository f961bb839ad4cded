package hpa

import "errors"

// resourceUtilizationRatio follows metrics.GetResourceUtilizationRatio
// (metrics/utilization.go:26): utilization = int32(Σusage × 100 / Σrequests), truncated, over
// the pods that have both a metric and a request; the ratio is utilization / target; the raw
// value is the average usage over those pods.
func resourceUtilizationRatio(metrics PodMetrics, requests map[string]int64, targetUtilization int32) (float64, int32, int64, error) {
	var metricsTotal, requestsTotal int64
	var n int64
	for name, m := range metrics {
		request, ok := requests[name]
		if !ok {
			// A metric without a request is a pod the lister did not return: extraneous.
			continue
		}
		metricsTotal += m.Value
		requestsTotal += request
		n++
	}
	if requestsTotal == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	utilization := int32((metricsTotal * 100) / requestsTotal)
	return float64(utilization) / float64(targetUtilization), utilization, metricsTotal / n, nil
}

// metricUsageRatio follows metrics.GetMetricUsageRatio (metrics/utilization.go:57): the
// average usage (integer division) over every metric, and its ratio to the target.
func metricUsageRatio(metrics PodMetrics, targetUsage int64) (float64, int64) {
	var total int64
	for _, m := range metrics {
		total += m.Value
	}
	usage := total / int64(len(metrics))
	return float64(usage) / float64(targetUsage), usage
}
