// Package nodecost is an example out-of-tree scheduler plugin for kwoksim: a Score plugin that
// prefers the cheapest nodes, by a cost each node carries in a label. It is built into a
// kwoksim of its own by ../cmd/kwoksim-nodecost and enabled by scheduler-config.yaml; see the
// README, "Out-of-tree scheduler plugins". It is written as any plugin for kube-scheduler is,
// and would run unchanged in a kube-scheduler built with app.WithPlugin.
package nodecost

import (
	"context"
	"fmt"
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// Name is the plugin's name in the registry and in a scheduler configuration.
const Name = "NodeCost"

// DefaultLabel is the node label read when Args.Label is not set.
const DefaultLabel = "example.kwoksim.io/hourly-cost"

// Args are the plugin's arguments, the profile's pluginConfig entry for NodeCost:
//
//	pluginConfig:
//	- name: NodeCost
//	  args:
//	    label: example.kwoksim.io/hourly-cost
//
// The scheduler's config scheme does not know the type, so it hands the args over undecoded
// (a *runtime.Unknown) and New decodes them, as out-of-tree plugins do
// (kubernetes-sigs/scheduler-plugins registers typed args in a scheme of its own instead).
type Args struct {
	// Label is the node label whose value is the node's cost per hour, a non-negative decimal
	// number ("0.42"). Default DefaultLabel.
	Label string `json:"label,omitempty"`
}

// NodeCost scores a node by its cost: the cheapest node that passed the filters scores
// fwk.MaxNodeScore, the dearest 0, and a node without a cost 0 as well, so that a node whose
// price is unknown is never preferred to one whose price is known.
type NodeCost struct {
	label string
}

var (
	_ fwk.ScorePlugin     = (*NodeCost)(nil)
	_ fwk.ScoreExtensions = (*NodeCost)(nil)
	_ fwk.SignPlugin      = (*NodeCost)(nil)
)

// New is the plugin's factory (frameworkruntime.PluginFactory): the scheduler calls it once for
// each profile that enables the plugin, with the profile's arguments for it (nil when none).
func New(_ context.Context, obj runtime.Object, _ fwk.Handle) (fwk.Plugin, error) {
	var args Args
	if err := frameworkruntime.DecodeInto(obj, &args); err != nil {
		return nil, fmt.Errorf("%s args: %w", Name, err)
	}
	if args.Label == "" {
		args.Label = DefaultLabel
	}
	if errs := validation.IsQualifiedName(args.Label); len(errs) > 0 {
		return nil, fmt.Errorf("%s args: label %q is not a label key: %v", Name, args.Label, errs)
	}
	return &NodeCost{label: args.Label}, nil
}

// Name is the plugin's name, the one statuses and the scheduler's messages carry.
func (*NodeCost) Name() string { return Name }

// noCost is the raw score of a node without a cost; costs are never negative.
const noCost = -1

// Score returns the node's cost in thousandths, or noCost; NormalizeScore turns costs into
// scores. The raw value is the cost itself, not a score, because where a cost falls between
// 0 and MaxNodeScore depends on the other nodes' costs, which only NormalizeScore sees.
func (pl *NodeCost) Score(_ context.Context, _ fwk.CycleState, _ *corev1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	cost, ok := Cost(nodeInfo.Node(), pl.label)
	if !ok {
		return noCost, nil
	}
	return int64(math.Round(cost * 1000)), nil
}

// Cost is the node's cost per hour as its label says, and whether it has one that parses: a
// pure helper, usable without a scheduler.
func Cost(node *corev1.Node, label string) (float64, bool) {
	if node == nil {
		return 0, false
	}
	v, ok := node.Labels[label]
	if !ok {
		return 0, false
	}
	cost, err := strconv.ParseFloat(v, 64)
	// Bounded so that the thousandths Score returns fit an int64 with room to subtract.
	if err != nil || !(cost >= 0) || cost > math.MaxInt32 {
		return 0, false
	}
	return cost, true
}

// ScoreExtensions returns the plugin itself: it normalizes its own scores.
func (pl *NodeCost) ScoreExtensions() fwk.ScoreExtensions { return pl }

// NormalizeScore maps the costs linearly onto MaxNodeScore (the cheapest) to 0 (the dearest);
// nodes that all cost the same score MaxNodeScore, nodes without a cost 0.
func (*NodeCost) NormalizeScore(_ context.Context, _ fwk.CycleState, _ *corev1.Pod, scores fwk.NodeScoreList) *fwk.Status {
	lowest, highest := int64(math.MaxInt64), int64(noCost)
	for _, s := range scores {
		if s.Score == noCost {
			continue
		}
		lowest, highest = min(lowest, s.Score), max(highest, s.Score)
	}
	for i := range scores {
		switch cost := scores[i].Score; {
		case cost == noCost:
			scores[i].Score = fwk.MinNodeScore
		case highest == lowest:
			scores[i].Score = fwk.MaxNodeScore
		default:
			scores[i].Score = fwk.MaxNodeScore * (highest - cost) / (highest - lowest)
		}
	}
	return nil
}

// SignPod says that no property of the pod changes the plugin's scores, so that it does not
// stop kube-scheduler from reusing a ranking for pods alike (opportunistic batching, which a
// plugin that scores without implementing SignPlugin turns off). kwoksim runs with batching
// off, because it depends on the wall clock.
func (*NodeCost) SignPod(context.Context, *corev1.Pod) ([]fwk.SignFragment, *fwk.Status) {
	return nil, nil
}
