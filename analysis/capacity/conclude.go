package capacity

import (
	"fmt"
	"strings"
)

// conclude sets a template's answer, cost and warnings from its runs (sorted by nodes).
//
// The answer is the smallest count that passed, provided the count just below it failed or
// it is 0: the runs themselves establish it, whether the search ran to its end or was
// stopped. The search always ends on such a pair when some count passes, since every count it
// tries lies between the largest failure and the smallest pass so far.
func conclude(t *TemplatePlan, maxNodes int, incomplete bool) {
	failed := map[int]bool{}
	for _, r := range t.Runs {
		if !r.Passed {
			failed[r.Nodes] = true
		}
	}
	for _, r := range t.Runs {
		if r.Passed {
			if r.Nodes == 0 || failed[r.Nodes-1] {
				n := r.Nodes
				t.NodesNeeded = &n
			}
			break
		}
	}
	if t.NodesNeeded != nil && t.CostPerNode != nil {
		c := roundCost(float64(*t.NodesNeeded)**t.CostPerNode, *t.CostPerNode)
		t.Cost = &c
	}
	t.Warnings = append(t.Warnings, nonMonotonic(t.Runs)...)
	if t.NodesNeeded == nil {
		t.Warnings = append(t.Warnings, alwaysFailing(t.Runs)...)
	}
	switch {
	case incomplete && t.NodesNeeded == nil:
		t.Warnings = append(t.Warnings, "interrupted before the runs that finished established an answer")
	case !incomplete && t.NodesNeeded == nil:
		t.Warnings = append(t.Warnings, fmt.Sprintf("the goal was not met with up to %d nodes of the template", maxNodes))
	}
}

// nonMonotonic lists each failing run that has a smaller passing one: more nodes, a worse
// outcome. The scheduler places pods one at a time and does not undo a placement, so more
// nodes can lead it to spread pods in a way that leaves none of them room for a large pod;
// the search assumes the opposite, so its answer is then only the smallest passing count it
// happened to try.
func nonMonotonic(runs []Run) []string {
	var out []string
	lastPass := -1
	for _, r := range runs {
		switch {
		case r.Passed:
			lastPass = r.Nodes
		case lastPass >= 0:
			out = append(out, fmt.Sprintf("non-monotonic: %d nodes fail the goal although %d pass", r.Nodes, lastPass))
		}
	}
	return out
}

// alwaysFailing lists the workloads that failed in every run, as the first run saw them: more
// nodes did not help them (a pod the apiserver refuses, whatever the cluster), so they are
// likely why no count met the goal.
func alwaysFailing(runs []Run) []string {
	if len(runs) == 0 {
		return nil
	}
	count := map[string]int{}
	for _, r := range runs {
		seen := map[string]bool{}
		for _, w := range r.FailingWorkloads {
			if k := workloadOf(w); !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	var out []string
	for _, w := range runs[0].FailingWorkloads {
		if count[workloadOf(w)] == len(runs) {
			out = append(out, "failing in every run: "+w)
		}
	}
	return out
}

// workloadOf is the "Kind namespace/name" a FailingWorkloads entry starts with: its message
// names generated pods, which differ between runs.
func workloadOf(entry string) string {
	if i := strings.Index(entry, ": "); i >= 0 {
		return entry[:i]
	}
	return entry
}
