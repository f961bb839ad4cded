package analysis

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HPANotModelled are the lines of HPAReport.NotModelled that hold for every HPA kwoksim runs
// (docs/hpa.md part 6): what the section's figures leave out of a real cluster.
var HPANotModelled = []string{
	"usage is instantaneous: a reconcile reads each pod's usage at that instant, with no metrics-server scrape lag " +
		"or averaging (a real metrics-server reports an average over its window, some seconds late)",
	"reconciles run exactly every --horizontal-pod-autoscaler-sync-period with no processing time " +
		"(a real controller's ticks come later by each reconcile's duration and the informers' delay)",
	"no custom or external metrics API: Pods, Object and External metrics are not read " +
		"(a real HPA reads them from custom.metrics.k8s.io and external.metrics.k8s.io)",
	"CPU contention counts only the pods with usage data: the CPU the HPA reads is each pod's share of the demand bounded by " +
		"its CPU limits and by its node's allocatable CPU divided among those pods by their requests; pods without usage data " +
		"are taken to use none (on a real node they compete too, and the kubelet's own use leaves less), and the report's usage " +
		"section shows the demand before these bounds",
}

// Event reasons and condition types the section reads (pkg/controller/podautoscaler/horizontal.go).
const (
	successfulRescale = "SuccessfulRescale"
	scalingLimited    = "ScalingLimited"
	warningEvent      = "Warning"
)

// hpaReport builds the section from the records; nil without any, which leaves the section
// out of the JSON.
func hpaReport(recs []*HPARecord, elapsed time.Duration) *HPAReport {
	if len(recs) == 0 {
		return nil
	}
	h := &HPAReport{HPAs: make([]HPAReportItem, 0, len(recs))}
	seen := map[string]bool{}
	for _, rec := range recs {
		h.HPAs = append(h.HPAs, hpaItem(rec, elapsed))
		for _, s := range rec.NotModelled {
			if !seen[s] {
				seen[s] = true
				h.NotModelled = append(h.NotModelled, s)
			}
		}
	}
	for _, s := range HPANotModelled {
		if !seen[s] {
			h.NotModelled = append(h.NotModelled, s)
		}
	}
	return h
}

// hpaItem is one HPA's figures. The target's replicas are a step function: from a
// reconcile's instant, what it read (current), then, when it rescaled, the new size.
func hpaItem(rec *HPARecord, elapsed time.Duration) HPAReportItem {
	end := elapsed
	if rec.DeletedAt != nil && *rec.DeletedAt < end {
		end = *rec.DeletedAt
	}
	it := HPAReportItem{
		Namespace:        rec.Namespace,
		Name:             rec.Name,
		Target:           rec.TargetKind + "/" + rec.TargetName,
		MinReplicas:      rec.MinReplicas,
		MaxReplicas:      rec.MaxReplicas,
		Metrics:          append([]string{}, rec.Metrics...),
		Path:             "legacy",
		CreatedAt:        rec.CreatedAt.Seconds(),
		DeletedAt:        seconds(rec.DeletedAt),
		Reconciles:       rec.Reconciles,
		FailedReconciles: rec.FailedReconciles,
		StartupFailures:  rec.StartupFailures,
		ReplicasOverTime: make([]HPAReplicasPoint, 0, len(rec.Samples)),
		Rescales:         []HPARescale{},
		Events:           make([]HPAEventReport, 0, len(rec.Events)),
	}
	if rec.Behavior {
		it.Path = "behavior"
	}
	for _, s := range rec.Samples {
		it.ReplicasOverTime = append(it.ReplicasOverTime, HPAReplicasPoint{At: s.At.Seconds(), Current: s.CurrentReplicas,
			Desired: s.DesiredReplicas, Proposal: s.Proposal})
	}
	for _, e := range rec.Events {
		it.Events = append(it.Events, HPAEventReport{At: e.At.Seconds(), LastAt: e.LastAt.Seconds(), Count: e.Count,
			Type: e.Type, Reason: e.Reason, Message: e.Message})
		if e.Type == warningEvent {
			it.LastFailure = e.Reason + ": " + e.Message
		}
	}
	rescales := hpaRescales(rec)
	for _, r := range rescales {
		it.Rescales = append(it.Rescales, HPARescale{At: r.at.Seconds(), From: r.from, To: r.to, Reason: r.reason})
		switch {
		case r.to > r.from:
			it.ScaleUps++
		case r.to < r.from:
			it.ScaleDowns++
		}
	}

	hpaReplicaFigures(&it, rec, rescales, end)
	it.SecondsLimited = hpaSecondsLimited(rec.Conditions, end)
	it.FinalConditions = hpaFinalConditions(rec.Conditions)
	return it
}

// hpaReplicaFigures sets the item's initial, peak, lowest and final replicas and its time at
// max from the target's replicas as a step function: at each reconcile what it read, then, at
// the same instant, the new size if it rescaled; the last holds until end.
func hpaReplicaFigures(it *HPAReportItem, rec *HPARecord, rescales []hpaRescale, end time.Duration) {
	type step struct {
		at      time.Duration
		rescale bool
		n       int32
	}
	var steps []step
	for _, s := range rec.Samples {
		steps = append(steps, step{s.At, false, s.CurrentReplicas})
	}
	for _, r := range rescales {
		steps = append(steps, step{r.at, true, r.to})
	}
	// A reading comes before a rescale at one instant.
	slices.SortStableFunc(steps, func(a, b step) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		switch {
		case a.rescale == b.rescale:
			return 0
		case b.rescale:
			return -1
		}
		return 1
	})
	if len(steps) == 0 {
		return
	}
	it.InitialReplicas = steps[0].n
	if steps[0].rescale {
		it.InitialReplicas = rescales[0].from
	}
	it.PeakReplicas, it.LowestReplicas = it.InitialReplicas, it.InitialReplicas
	for i, s := range steps {
		it.FinalReplicas = s.n
		it.PeakReplicas, it.LowestReplicas = max(it.PeakReplicas, s.n), min(it.LowestReplicas, s.n)
		until := end
		if i+1 < len(steps) {
			until = min(steps[i+1].at, end)
		}
		if s.n == rec.MaxReplicas && until > s.at {
			it.SecondsAtMax += (until - s.at).Seconds()
		}
	}
}

// hpaSecondsLimited is how long the ScalingLimited condition was True: each change holds until
// the next change of that condition, the last until end.
func hpaSecondsLimited(conds []HPAConditionRecord, end time.Duration) float64 {
	var total time.Duration
	var since *time.Duration
	for _, c := range conds {
		if c.Type != scalingLimited {
			continue
		}
		if since != nil {
			total += max(min(c.At, end)-*since, 0)
			since = nil
		}
		if c.Status == "True" {
			at := c.At
			since = &at
		}
	}
	if since != nil {
		total += max(end-*since, 0)
	}
	return total.Seconds()
}

// hpaFinalConditions is each condition type's last state, in the order the types first
// appeared, Since its last change.
func hpaFinalConditions(conds []HPAConditionRecord) []HPAConditionReport {
	out := []HPAConditionReport{}
	index := map[string]int{}
	for _, c := range conds {
		cr := HPAConditionReport{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message, Since: c.At.Seconds()}
		if i, ok := index[c.Type]; ok {
			out[i] = cr
			continue
		}
		index[c.Type] = len(out)
		out = append(out, cr)
	}
	return out
}

// hpaRescale is one rescale of an HPA's target.
type hpaRescale struct {
	at       time.Duration
	from, to int32
	reason   string
}

// hpaRescales are the rescales the SuccessfulRescale events tell, in time order. An event
// stands for the reconciles within its time span (a run of identical events is one record)
// that read another count than its new size and set that size: each is a rescale from what it
// read. An event no reconcile sample matches is still one rescale, at its time, from the
// replicas the target had before. A reconcile that computed a proposal and set a count other
// than the one it read rescaled too, as reconcileAutoscaler always does then
// (rescale := desiredReplicas != currentReplicas): without its event it is still counted,
// with no reason, rather than lost. A failed reconcile's sample keeps the old
// status.desiredReplicas (0 before any success), which is no rescale.
func hpaRescales(rec *HPARecord) []hpaRescale {
	var out []hpaRescale
	matched := make([]bool, len(rec.Samples))
	for _, e := range rec.Events {
		if e.Reason != successfulRescale {
			continue
		}
		size, reason, ok := parseRescaleMessage(e.Message)
		if !ok {
			continue
		}
		found := false
		for i, s := range rec.Samples {
			if !matched[i] && s.At >= e.At && s.At <= max(e.LastAt, e.At) && s.DesiredReplicas == size && s.CurrentReplicas != size {
				out = append(out, hpaRescale{s.At, s.CurrentReplicas, size, reason})
				matched[i], found = true, true
			}
		}
		if !found {
			out = append(out, hpaRescale{e.At, hpaRescaleFrom(rec, e.At), size, reason})
		}
	}
	for i, s := range rec.Samples {
		if !matched[i] && s.Proposal >= 0 && s.DesiredReplicas != s.CurrentReplicas {
			out = append(out, hpaRescale{s.At, s.CurrentReplicas, s.DesiredReplicas, ""})
		}
	}
	slices.SortStableFunc(out, func(a, b hpaRescale) int { return cmp.Compare(a.at, b.at) })
	return out
}

// hpaRescaleFrom is the replicas the target had at t by the samples: what the last reconcile
// at or before t read, or, with none, the first one's reading.
func hpaRescaleFrom(rec *HPARecord, t time.Duration) int32 {
	from := int32(0)
	for i, s := range rec.Samples {
		if i == 0 || s.At <= t {
			from = s.CurrentReplicas
		}
	}
	return from
}

// parseRescaleMessage reads a SuccessfulRescale event's message, "New size: %d; reason: %s"
// (horizontal.go, reconcileAutoscaler).
func parseRescaleMessage(msg string) (size int32, reason string, ok bool) {
	rest, found := strings.CutPrefix(msg, "New size: ")
	if !found {
		return 0, "", false
	}
	num, reason, _ := strings.Cut(rest, "; reason: ")
	n, err := strconv.ParseInt(num, 10, 32)
	if err != nil {
		return 0, "", false
	}
	return int32(n), reason, true
}
