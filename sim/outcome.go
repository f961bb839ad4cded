package sim

import (
	"errors"
	"sort"

	"k8s.io/apimachinery/pkg/util/sets"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kwoksim/kwoksim/analysis"
)

// outcomeOf is the structured outcome of a failed scheduling cycle, from the status the
// failure handler receives. A fit error gives its plugins and nodes: the status of each node
// it holds names the plugin that rejected the node, and the nodes it does not hold share its
// absent-nodes status, as FitError.Error counts them for its message. That status names a
// plugin when PreFilter rejected the pod, so every node counts for it; it names none when a
// PreFilter result left the nodes out (possibly several plugins together), and those nodes
// count for no plugin. Any other failure (no node at all, an error) gives only its code.
func outcomeOf(status *fwk.Status) analysis.SchedulingOutcome {
	o := analysis.SchedulingOutcome{Code: status.Code().String()}
	var fit *framework.FitError
	if !errors.As(status.AsError(), &fit) {
		return o
	}
	d := fit.Diagnosis
	o.Nodes = fit.NumAllNodes
	o.Plugins = sets.List(d.UnschedulablePlugins)
	if d.PendingPlugins.Len() > 0 {
		o.PendingPlugins = sets.List(d.PendingPlugins)
	}
	if d.NodeToStatus == nil {
		return o
	}
	rejected := map[string]int{}
	d.NodeToStatus.ForEachExplicitNode(func(_ string, s *fwk.Status) {
		if p := s.Plugin(); p != "" {
			rejected[p]++
		}
	})
	if absent := fit.NumAllNodes - d.NodeToStatus.Len(); absent > 0 {
		if p := d.NodeToStatus.AbsentNodesStatus().Plugin(); p != "" {
			rejected[p] += absent
		}
	}
	for p, n := range rejected {
		o.PluginNodes = append(o.PluginNodes, analysis.PluginNodes{Plugin: p, Nodes: n})
	}
	sort.Slice(o.PluginNodes, func(i, j int) bool { return o.PluginNodes[i].Plugin < o.PluginNodes[j].Plugin })
	return o
}
