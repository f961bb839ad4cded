package analysis

import (
	"sort"
	"time"

	policyv1 "k8s.io/api/policy/v1"
)

// DisruptionBudgetReport is one PodDisruptionBudget: what it asks, the evictions it refused
// during the run, and its status at the end (as the disruption controller last wrote it).
type DisruptionBudgetReport struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// MinAvailable and MaxUnavailable are as the budget gives them ("2", "50%"); the one it
	// does not set is left out.
	MinAvailable   string `json:"minAvailable,omitempty"`
	MaxUnavailable string `json:"maxUnavailable,omitempty"`
	// RefusedEvictions counts the evictions it refused (HTTP 429 from the eviction API; a
	// drain's retries count each); FirstRefused and LastRefused are when, null when none.
	RefusedEvictions int      `json:"refusedEvictions"`
	FirstRefused     *float64 `json:"firstRefused"`
	LastRefused      *float64 `json:"lastRefused"`
	// The budget's status at the end of the run.
	CurrentHealthy     int32 `json:"currentHealthy"`
	DesiredHealthy     int32 `json:"desiredHealthy"`
	DisruptionsAllowed int32 `json:"disruptionsAllowed"`
	ExpectedPods       int32 `json:"expectedPods"`
	// Deleted marks a budget that refused evictions but no longer exists at the end of the
	// run; its status is then unknown (zero).
	Deleted bool `json:"deleted,omitempty"`
}

// budgetReports lists the budgets that exist at the end, and those gone that refused
// evictions, by namespace and name.
func budgetReports(budgets []*policyv1.PodDisruptionBudget, refused []RefusedEvictionRecord) []DisruptionBudgetReport {
	type key struct{ namespace, name string }
	index := map[key]int{}
	var out []DisruptionBudgetReport
	for _, b := range budgets {
		r := DisruptionBudgetReport{Namespace: b.Namespace, Name: b.Name,
			CurrentHealthy: b.Status.CurrentHealthy, DesiredHealthy: b.Status.DesiredHealthy,
			DisruptionsAllowed: b.Status.DisruptionsAllowed, ExpectedPods: b.Status.ExpectedPods}
		if v := b.Spec.MinAvailable; v != nil {
			r.MinAvailable = v.String()
		}
		if v := b.Spec.MaxUnavailable; v != nil {
			r.MaxUnavailable = v.String()
		}
		index[key{b.Namespace, b.Name}] = len(out)
		out = append(out, r)
	}
	for _, e := range refused {
		k := key{e.Namespace, e.Budget}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, DisruptionBudgetReport{Namespace: e.Namespace, Name: e.Budget, Deleted: true})
		}
		r := &out[i]
		r.RefusedEvictions++
		at := e.At
		if r.FirstRefused == nil || at.Seconds() < *r.FirstRefused {
			r.FirstRefused = seconds(&at)
		}
		if r.LastRefused == nil || at.Seconds() > *r.LastRefused {
			r.LastRefused = seconds(&at)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// DrainReport is one drain of a node (the trace operation drain, with kubectl drain's
// semantics), as it ended or, still running, as the run left it.
type DrainReport struct {
	Node  string  `json:"node"`
	Start float64 `json:"start"`
	// End is when it completed, timed out or failed; null while in progress.
	End *float64 `json:"end"`
	// DurationSeconds is End - Start, or, for a drain in progress, how long it had run
	// when the run ended.
	DurationSeconds float64 `json:"durationSeconds"`
	// Outcome is "completed", "timed out", "failed" or "in progress".
	Outcome string `json:"outcome"`
	// Evicted counts the pods it evicted, Refused the evictions refused (each retry counts).
	Evicted int `json:"evicted"`
	Refused int `json:"refused"`
	// Skipped are the pods it left on the node (DaemonSet and mirror pods), as
	// "namespace/name (reason)".
	Skipped []string `json:"skipped"`
	Message string   `json:"message,omitempty"`
}

// drainReports lists the drains in the order they started; elapsed is the run's end.
func drainReports(drains []DrainRecord, elapsed time.Duration) []DrainReport {
	var out []DrainReport
	for _, d := range drains {
		r := DrainReport{Node: d.Node, Start: d.Start.Seconds(), End: seconds(d.End), Outcome: d.Outcome,
			Evicted: d.Evicted, Refused: d.Refused, Skipped: append([]string{}, d.Skipped...), Message: d.Message}
		end := elapsed
		if d.End != nil {
			end = *d.End
		}
		r.DurationSeconds = (end - d.Start).Seconds()
		if r.Outcome == "" {
			r.Outcome = DrainInProgress
		}
		out = append(out, r)
	}
	return out
}
