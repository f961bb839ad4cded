package analysis

import "encoding/json"

// SchedulingOutcome is the scheduler's structured verdict on a failed scheduling cycle: what
// the status its failure handler receives holds, beside the message made from it.
type SchedulingOutcome struct {
	// Code is the status code as the scheduler spells it: "Unschedulable",
	// "UnschedulableAndUnresolvable", "Error", ….
	Code string
	// Plugins are the plugins that rejected the pod (the fit error's UnschedulablePlugins),
	// PendingPlugins those that marked it Pending; both sorted, and empty unless the failure
	// is a fit error.
	Plugins, PendingPlugins []string
	// Nodes is how many nodes the scheduler considered: the fit error's NumAllNodes, the N of
	// its "0/N nodes are available"; 0 unless the failure is a fit error.
	Nodes int
	// PluginNodes counts, per plugin, the nodes whose rejection names that plugin, sorted by
	// plugin. The scheduler stops at a node's first rejecting Filter plugin, so a node counts
	// once; a rejection at PreFilter counts every node for its plugin.
	PluginNodes []PluginNodes
}

// key identifies an outcome among others: equal outcomes, and only they, have equal keys.
// A nil outcome is the zero one.
func (o *SchedulingOutcome) key() string {
	if o == nil {
		o = &SchedulingOutcome{}
	}
	b, _ := json.Marshal(o) // plain strings and numbers: it cannot fail
	return string(b)
}
