package analysis

import (
	"slices"
	"sort"
	"time"
)

// Reasons of a pod's DisruptionTarget condition, as the components that evict set them
// (upstream, v1.37.2): the taint eviction controller (pkg/controller/tainteviction,
// addConditionAndDeletePod), the scheduler's preemption (k8s.io/api/core/v1
// PodReasonPreemptionByScheduler), the eviction subresource
// (pkg/registry/core/pod/storage/eviction.go), the pod garbage collector
// (pkg/controller/podgc) and the kubelet (node-pressure eviction, graceful node shutdown).
const (
	ConditionDeletionByTaintManager = "DeletionByTaintManager"
	ConditionPreemptionByScheduler  = "PreemptionByScheduler"
	ConditionEvictionByEvictionAPI  = "EvictionByEvictionAPI"
	ConditionDeletionByPodGC        = "DeletionByPodGC"
	ConditionTerminationByKubelet   = "TerminationByKubelet"
)

// evictionKinds names each condition reason in the report, in the order the report lists
// them; a reason not among them is reported as "other", after these.
var evictionKinds = []struct{ condition, reason string }{
	{ConditionDeletionByTaintManager, "taint"},
	{ConditionPreemptionByScheduler, "preemption"},
	{ConditionEvictionByEvictionAPI, "eviction-api"},
	{ConditionDeletionByPodGC, "pod-gc"},
	{ConditionTerminationByKubelet, "kubelet"},
}

// EvictionReason is the report's name of a DisruptionTarget condition reason: taint,
// preemption, eviction-api, pod-gc, kubelet, or other.
func EvictionReason(condition string) string {
	for _, k := range evictionKinds {
		if k.condition == condition {
			return k.reason
		}
	}
	return "other"
}

// EvictionReport counts the pods evicted for one reason: deleted or marked for deletion
// while carrying a True DisruptionTarget condition with that reason. A pod deleted without
// the condition was deleted, not evicted, and counts in none.
type EvictionReport struct {
	// Reason is taint, preemption, eviction-api, pod-gc, kubelet or other (see
	// EvictionReason); ConditionReason the condition's own reason.
	Reason          string `json:"reason"`
	ConditionReason string `json:"conditionReason"`
	Count           int    `json:"count"`
	// First and Last are the times of the first and last of these evictions, and Times
	// every one of them, ascending, one per pod (virtual seconds).
	First float64   `json:"first"`
	Last  float64   `json:"last"`
	Times []float64 `json:"times"`
}

// evictionReports groups the evicted pods by reason: the known reasons in evictionKinds'
// order, then the others by condition reason.
func evictionReports(pods []PodRecord) []EvictionReport {
	byCondition := map[string][]time.Duration{}
	var conditions []string
	for _, rec := range pods {
		if rec.EvictedAt == nil {
			continue
		}
		c := rec.EvictionReason
		if _, ok := byCondition[c]; !ok {
			conditions = append(conditions, c)
		}
		byCondition[c] = append(byCondition[c], *rec.EvictedAt)
	}
	rank := func(c string) int {
		for i, k := range evictionKinds {
			if k.condition == c {
				return i
			}
		}
		return len(evictionKinds)
	}
	sort.Slice(conditions, func(i, j int) bool {
		ri, rj := rank(conditions[i]), rank(conditions[j])
		if ri != rj {
			return ri < rj
		}
		return conditions[i] < conditions[j]
	})
	var out []EvictionReport
	for _, c := range conditions {
		ts := byCondition[c]
		slices.Sort(ts)
		e := EvictionReport{Reason: EvictionReason(c), ConditionReason: c, Count: len(ts),
			First: ts[0].Seconds(), Last: ts[len(ts)-1].Seconds(), Times: make([]float64, len(ts))}
		for i, t := range ts {
			e.Times[i] = t.Seconds()
		}
		out = append(out, e)
	}
	return out
}
