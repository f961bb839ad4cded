package autoscaling

import (
	"fmt"
	"strings"
)

// The cluster-autoscaler expanders kwoksim models (--expander, cluster-autoscaler 1.36.1
// expander/expander.go names).
const (
	ExpanderRandom     = "random"
	ExpanderMostPods   = "most-pods"
	ExpanderLeastWaste = "least-waste"
	ExpanderLeastNodes = "least-nodes"
	ExpanderPrice      = "price"
	// ExpanderPriority ranks node groups by the ConfigMap
	// kube-system/cluster-autoscaler-priority-expander, which kwoksim does not store: see
	// BestOption.
	ExpanderPriority = "priority"
)

// ParseExpander splits --expander into its chain (expander/factory/chain.go: a
// comma-separated list, each a filter applied in turn). grpc calls an external service,
// which kwoksim does not model: refused.
func ParseExpander(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--expander: empty")
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case ExpanderRandom, ExpanderMostPods, ExpanderLeastWaste, ExpanderLeastNodes, ExpanderPrice, ExpanderPriority:
			out = append(out, name)
		case "grpc":
			return nil, fmt.Errorf("--expander grpc: it asks an external gRPC service, which kwoksim does not model; use %s", caModelledExpanders)
		default:
			return nil, fmt.Errorf("--expander: unknown expander %q; use %s", name, caModelledExpanders)
		}
	}
	return out, nil
}

const caModelledExpanders = "random, most-pods, least-waste, least-nodes, price or priority (or a comma-separated chain of them)"

// ExpansionOption is one node group a scale-up could grow (cluster-autoscaler's
// expander.Option): how many nodes, for how many pods, and what the expanders weigh.
type ExpansionOption struct {
	// Group is the node group's id (<pool>/<shape>).
	Group string
	// NodeCount is the estimator's node count; Pods how many pending pods it would help.
	NodeCount, Pods int
	// PodsCPUMilli and PodsMemory are the sum of the helped pods' container requests
	// (expander/waste/waste.go, resourcesForPods: containers only).
	PodsCPUMilli, PodsMemory int64
	// NodeCPUMilli and NodeMemory are the template node's capacity (waste.go,
	// resourcesForNode reads Status.Capacity, not allocatable).
	NodeCPUMilli, NodeMemory int64
	// PricePerHour is the price of one node of the group.
	PricePerHour float64
}

// BestOption applies the expander chain to the options and returns the chosen one's index
// (expander/factory/chain.go, chainStrategy.BestOption): each filter keeps its best options,
// ties included, and the chain stops as soon as one is left; a tie that survives the chain
// goes to the random strategy, as does the random filter itself. The priority filter keeps
// every option: kwoksim stores no ConfigMap, and upstream's priority expander
// (expander/priority/priority.go, BestOptions) returns all the options when it cannot load
// its ConfigMap. pick(n) must return a
// number in [0, n) from a seeded source: upstream's random expander uses the unseeded global
// math/rand (expander/random/random.go). -1 when there is no option.
func BestOption(chain []string, opts []ExpansionOption, pick func(n int) int) int {
	idx := make([]int, len(opts))
	for i := range opts {
		idx[i] = i
	}
	if len(idx) == 0 {
		return -1
	}
	for _, name := range chain {
		if len(idx) == 1 {
			return idx[0]
		}
		if name == ExpanderRandom {
			return idx[pick(len(idx))]
		}
		idx = filterOptions(name, opts, idx)
	}
	if len(idx) == 1 {
		return idx[0]
	}
	return idx[pick(len(idx))]
}

// filterOptions keeps the best of idx under one expander, ties kept.
func filterOptions(name string, opts []ExpansionOption, idx []int) []int {
	var score func(o ExpansionOption) (float64, bool)
	switch name {
	case ExpanderMostPods:
		// expander/mostpods/mostpods.go: the most pods wins.
		score = func(o ExpansionOption) (float64, bool) { return -float64(o.Pods), true }
	case ExpanderLeastNodes:
		// expander/leastnodes/leastnodes.go: the fewest nodes wins; options of 0 nodes are skipped.
		score = func(o ExpansionOption) (float64, bool) { return float64(o.NodeCount), o.NodeCount > 0 }
	case ExpanderLeastWaste:
		score = func(o ExpansionOption) (float64, bool) { return WastedScore(o), true }
	case ExpanderPrice:
		// kwoksim's reduced price expander: the lowest hourly cost of the nodes (see
		// cluster-autoscaler's expander/price/price.go for what it leaves out: NotModelled).
		score = func(o ExpansionOption) (float64, bool) { return o.PricePerHour * float64(o.NodeCount), true }
	default:
		return idx
	}
	var best []int
	var bestScore float64
	for _, i := range idx {
		s, ok := score(opts[i])
		if !ok {
			continue
		}
		switch {
		case best == nil || s < bestScore:
			best, bestScore = []int{i}, s
		case s == bestScore:
			best = append(best, i)
		}
	}
	if best == nil {
		return idx
	}
	return best
}

// WastedScore is the least-waste expander's score, lower is better
// (expander/waste/waste.go, leastwaste.BestOptions): the unused fraction of the new nodes'
// CPU plus that of their memory.
func WastedScore(o ExpansionOption) float64 {
	availCPU := o.NodeCPUMilli * int64(o.NodeCount)
	availMem := o.NodeMemory * int64(o.NodeCount)
	var cpu, mem float64
	if availCPU > 0 {
		cpu = float64(availCPU-o.PodsCPUMilli) / float64(availCPU)
	}
	if availMem > 0 {
		mem = float64(availMem-o.PodsMemory) / float64(availMem)
	}
	return cpu + mem
}
