package analysis

import "sort"

type reasonGroup struct {
	reason string
	pods   []string
}

// unschedulable reports whether the report counts a pod as unschedulable: it exists, is
// unbound, and has a reason.
func unschedulable(pr PodReport) bool {
	return pr.Node == "" && pr.UnschedulableReason != "" && pr.DeletedAt == nil
}

// gated reports whether the report counts a pod as gated: it exists, is unbound, and the
// scheduling queue holds it before any attempt.
func gated(pr PodReport) bool {
	return pr.Node == "" && pr.GatedReason != "" && pr.DeletedAt == nil
}

// unschedulableByReason groups unschedulable pods, largest group first, then by reason.
func unschedulableByReason(r *Report) []reasonGroup {
	by := map[string]*reasonGroup{}
	for _, pr := range r.Pods {
		if !unschedulable(pr) {
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

// unschedulableReasons counts the unschedulable pods per scheduler message and structured
// outcome, in the table's order: most frequent first, then by message; then by outcome, for
// the pods of one message whose outcomes differ. The message is made from the outcome, so
// that is rare, but it happens: it gives each reason's node count, not each plugin's, and a
// Reserve or Permit rejection takes its plugin's code where a Filter one is Unschedulable.
// The table, which shows messages, groups by message alone.
func unschedulableReasons(r *Report) []ReasonCount {
	type group struct {
		rc  ReasonCount
		key string
	}
	by := map[string]*group{}
	for _, pr := range r.Pods {
		if !unschedulable(pr) {
			continue
		}
		key := pr.outcome.key()
		g := by[pr.UnschedulableReason+"\x00"+key]
		if g == nil {
			g = &group{rc: reasonCount(pr.UnschedulableReason, pr.outcome), key: key}
			by[pr.UnschedulableReason+"\x00"+key] = g
		}
		g.rc.Count++
	}
	groups := make([]*group, 0, len(by))
	for _, g := range by {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.rc.Count != b.rc.Count {
			return a.rc.Count > b.rc.Count
		}
		if a.rc.Reason != b.rc.Reason {
			return a.rc.Reason < b.rc.Reason
		}
		return a.key < b.key
	})
	out := make([]ReasonCount, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.rc)
	}
	return out
}

// reasonCount is the entry of a reason and its outcome (nil: none), with no pod counted yet.
// Its lists are never nil, so that the JSON has [] where there is nothing.
func reasonCount(reason string, o *SchedulingOutcome) ReasonCount {
	rc := ReasonCount{Reason: reason, Plugins: []string{}, PluginNodes: []PluginNodes{}}
	if o == nil {
		return rc
	}
	rc.Code, rc.Nodes = o.Code, o.Nodes
	rc.Plugins = append(rc.Plugins, o.Plugins...)
	rc.PendingPlugins = append([]string(nil), o.PendingPlugins...)
	rc.PluginNodes = append(rc.PluginNodes, o.PluginNodes...)
	return rc
}
