// Figures: what the checks read off a run (pods of an owner, placements, rollout steps, node
// states, timings).

package fidelity

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ownerIndex maps "Kind/name" of each workload to its owner, for walking up a pod's owners.
func ownerIndex(r Run) map[string]string {
	m := make(map[string]string, len(r.Workloads))
	for _, w := range r.Workloads {
		m[w.Kind+"/"+w.Name] = w.Owner
	}
	return m
}

// ownedBy tells whether owner is ref or one of its owners (a Deployment owns its ReplicaSets'
// pods). The suite runs in one namespace, so "Kind/name" is unique.
func ownedBy(up map[string]string, ref, owner string) bool {
	for depth := 0; ref != "" && depth < 8; depth++ {
		if ref == owner {
			return true
		}
		ref = up[ref]
	}
	return false
}

// podsOf are the pods of owner during the run ("" for all pods), in name order.
func podsOf(r Run, owner string) []Pod {
	up := ownerIndex(r)
	var out []Pod
	for _, p := range r.Pods {
		if owner == "" || ownedBy(up, p.Owner, owner) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out
}

// gone tells whether the pod was gone by the end of the run.
func gone(r Run, p Pod) bool { return p.Gone != nil && *p.Gone <= r.Duration }

// podsAtEnd are the pods of owner that still existed at the end of the run.
func podsAtEnd(r Run, owner string) []Pod {
	var out []Pod
	for _, p := range podsOf(r, owner) {
		if !gone(r, p) {
			out = append(out, p)
		}
	}
	return out
}

func endPhase(r Run, p Pod) string {
	if gone(r, p) || p.Phase == "" {
		return "gone"
	}
	return p.Phase
}

// unschedulable are the owner's pods unbound at the end with a scheduler message.
func unschedulable(r Run, owner string) []Pod {
	var out []Pod
	for _, p := range podsAtEnd(r, owner) {
		if p.Node == "" && p.Unschedulable != "" {
			out = append(out, p)
		}
	}
	return out
}

// placement counts bound pods per domain: per zone, node or node label, or (histogram) the
// nodes holding each number of pods. A node without the label counts under "<none>".
func placement(sc *Scenario, by string, pods []Pod) counts {
	perNode := counts{}
	for _, p := range pods {
		if p.Node != "" {
			perNode[p.Node]++
		}
	}
	switch by {
	case "node":
		return perNode
	case "histogram":
		h := counts{}
		for _, n := range perNode {
			if n == 1 {
				h["1 pod"]++
			} else {
				h[fmt.Sprintf("%d pods", n)]++
			}
		}
		return h
	}
	key := "topology.kubernetes.io/zone"
	if by != "zone" {
		key = strings.TrimPrefix(by, "label:")
	}
	out := counts{}
	for node, n := range perNode {
		v, ok := sc.NodeLabels[node][key]
		if !ok {
			v = "<none>"
		}
		out[v] += n
	}
	return out
}

// workloadNamed is the workload "Kind/name" of r, nil if there is none.
func workloadNamed(r Run, ref string) *Workload {
	for i, w := range r.Workloads {
		if w.Kind+"/"+w.Name == ref {
			return &r.Workloads[i]
		}
	}
	return nil
}

// ownedWorkloads are the workloads owner owns directly, as sorted "Kind/name".
func ownedWorkloads(r Run, owner string) []string {
	var out []string
	for _, w := range r.Workloads {
		if w.Owner == owner {
			out = append(out, w.Kind+"/"+w.Name)
		}
	}
	sort.Strings(out)
	return out
}

// rolloutSteps merges the spec.replicas changes of the Deployment's ReplicaSets in the order
// they happened, each as "<which> <replicas>": "new" is the ReplicaSet created last, "old" the
// one before (with more, "old1", "old2", … in order of creation). most is the largest sum of
// their spec.replicas after a step, last their last spec.replicas, as "old 0", "new 10".
func rolloutSteps(r Run, owner string) (out []string, most int32, last []string) {
	type step struct {
		at       float64
		seq      int64
		rs       int
		replicas int32
	}
	var sets []Workload
	for _, w := range r.Workloads {
		if w.Kind == "ReplicaSet" && w.Owner == owner && len(w.Sizes) > 0 {
			sets = append(sets, w)
		}
	}
	less := func(a, b Size) bool { return a.At < b.At || a.At == b.At && a.Seq < b.Seq }
	sort.SliceStable(sets, func(i, j int) bool { return less(sets[i].Sizes[0], sets[j].Sizes[0]) })
	var steps []step
	for i, w := range sets {
		for j, s := range w.Sizes {
			if j > 0 && s.Replicas == w.Sizes[j-1].Replicas {
				continue
			}
			steps = append(steps, step{s.At, s.Seq, i, s.Replicas})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool {
		return less(Size{At: steps[i].at, Seq: steps[i].seq}, Size{At: steps[j].at, Seq: steps[j].seq})
	})
	label := func(i int) string {
		switch {
		case i == len(sets)-1:
			return "new"
		case len(sets) == 2:
			return "old"
		}
		return "old" + strconv.Itoa(i+1)
	}
	cur := make([]int32, len(sets))
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%s %d", label(s.rs), s.replicas))
		cur[s.rs] = s.replicas
		sum := int32(0)
		for _, v := range cur {
			sum += v
		}
		most = max(most, sum)
	}
	for i, v := range cur {
		last = append(last, fmt.Sprintf("%s %d", label(i), v))
	}
	return out, most, last
}

// nodeStates are the node's (Ready, taints) states: the one in effect at since, then each
// later one, consecutive repeats merged.
func nodeStates(r Run, name string, since float64) []string {
	var n *Node
	for i := range r.Nodes {
		if r.Nodes[i].Name == name {
			n = &r.Nodes[i]
		}
	}
	if n == nil {
		return nil
	}
	state := func(c NodeChange) string {
		ready := c.Ready
		if ready == "" {
			ready = "absent"
		}
		taints := append([]string(nil), c.Taints...)
		sort.Strings(taints)
		return fmt.Sprintf("Ready %s [%s]", ready, strings.Join(taints, " "))
	}
	var out []string
	add := func(s string) {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	first := -1
	for i, c := range n.Changes {
		if c.At <= since {
			first = i
		}
	}
	if first >= 0 {
		add(state(n.Changes[first]))
	}
	for _, c := range n.Changes[first+1:] {
		add(state(c))
	}
	if n.Deleted != nil {
		add("deleted")
	}
	return out
}

// timing is the time a timing check reads in r, nil if it never came.
func timing(c *Check, r Run) *float64 {
	since := math.Inf(-1)
	if c.Since != nil {
		since = seconds(c.Since.Duration)
	}
	switch c.Of {
	case "taint", "ready", "nodeDeleted":
		var n *Node
		for i := range r.Nodes {
			if r.Nodes[i].Name == c.Node {
				n = &r.Nodes[i]
			}
		}
		if n == nil {
			return nil
		}
		if c.Of == "nodeDeleted" {
			return n.Deleted
		}
		has := func(ch NodeChange) bool {
			if c.Of == "ready" {
				return ch.Ready == c.Status
			}
			for _, t := range ch.Taints {
				if t == c.Taint {
					return true
				}
			}
			return false
		}
		for i, ch := range n.Changes {
			if has(ch) && (i == 0 || !has(n.Changes[i-1])) && ch.At >= since {
				at := ch.At
				return &at
			}
		}
		return nil
	}
	last, event, _ := splitPodFigure(c.Of)
	get := podEvents[event]
	var best *float64
	for _, p := range podsOf(r, c.Owner) {
		if c.Node != "" && p.Node != c.Node {
			continue
		}
		if p.Created == nil || *p.Created < since {
			continue
		}
		v := get(p)
		if v == nil || *v > r.Duration {
			continue
		}
		if best == nil || last && *v > *best || !last && *v < *best {
			x := *v
			best = &x
		}
	}
	return best
}
