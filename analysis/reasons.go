package analysis

import "sort"

type reasonGroup struct {
	reason string
	pods   []string
}

// unschedulableByReason groups unschedulable pods, largest group first, then by reason.
func unschedulableByReason(r *Report) []reasonGroup {
	by := map[string]*reasonGroup{}
	for _, pr := range r.Pods {
		if pr.Node != "" || pr.UnschedulableReason == "" || pr.DeletedAt != nil {
			continue
		}
		g := by[pr.UnschedulableReason]
		if g == nil {
			g = &reasonGroup{reason: pr.UnschedulableReason}
			by[pr.UnschedulableReason] = g
		}
		g.pods = append(g.pods, pr.Namespace+"/"+pr.Name)
	}
	out := make([]reasonGroup, 0, len(by))
	for _, g := range by {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].pods) != len(out[j].pods) {
			return len(out[i].pods) > len(out[j].pods)
		}
		return out[i].reason < out[j].reason
	})
	return out
}

// unschedulableReasons counts the unschedulable pods per scheduler message, in the table's
// order: most frequent first, then by message.
func unschedulableReasons(r *Report) []ReasonCount {
	groups := unschedulableByReason(r)
	out := make([]ReasonCount, 0, len(groups))
	for _, g := range groups {
		out = append(out, ReasonCount{Reason: g.reason, Count: len(g.pods)})
	}
	return out
}
