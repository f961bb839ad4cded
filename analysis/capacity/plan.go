package capacity

import "github.com/kwoksim/kwoksim/analysis"

// PlanKind identifies a plan among kwoksim's JSON documents (apiVersion analysis.APIVersion).
const PlanKind = "Plan"

// Plan is what `kwoksim plan` answers: the JSON contract of `kwoksim plan -o json`. Every
// field is a pure function of the inputs, the seed and the batch size (--parallel).
type Plan struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Assertions is the goal a run had to meet; empty means the default goal, every pod
	// that exists at the end bound to a node.
	Assertions []string `json:"assertions"`
	// GivenNodes is how many nodes every run had besides the template's copies (--nodes).
	GivenNodes int `json:"givenNodes"`
	// MaxNodes is the largest count of a template searched.
	MaxNodes int `json:"maxNodes"`
	// Parallel is how many runs were simulated at once; it decides the counts searched.
	Parallel int `json:"parallel"`
	// Incomplete marks a plan stopped by an interrupt: only the runs that finished are
	// listed, and an answer only where they establish it.
	Incomplete bool `json:"incomplete"`
	// Templates are the static searches, one per --node-template; empty for a dynamic plan.
	Templates []TemplatePlan `json:"templates"`
	// Dynamic is the answer when the inputs have NodePools: one run with the node autoscaler
	// instead of a search (see DynamicPlan); absent for a static plan.
	Dynamic *DynamicPlan `json:"dynamic,omitempty"`
}

// TemplatePlan is the search over one template.
type TemplatePlan struct {
	Name string `json:"name"`
	File string `json:"file"`
	// NodesNeeded is the smallest count that passed, once the count below it failed (or it
	// is 0); nil when no count up to MaxNodes passed, or the plan was stopped before that
	// was established.
	NodesNeeded *int `json:"nodesNeeded"`
	// CostPerNode is the template's kwoksim.io/cost annotation, nil without one; Cost is
	// NodesNeeded × CostPerNode, nil without either.
	CostPerNode *float64 `json:"costPerNode"`
	Cost        *float64 `json:"cost"`
	// Runs are the simulations done, sorted by nodes.
	Runs []Run `json:"runs"`
	// Warnings say what the runs show that a reader must know: a larger count failing where
	// a smaller one passed (non-monotonic), no count passing.
	Warnings []string `json:"warnings"`
}

// Run is the outcome of one simulation: the given nodes plus Nodes copies of the template.
type Run struct {
	Nodes  int  `json:"nodes"`
	Passed bool `json:"passed"`
	// Unschedulable is the report's summary.pods.unschedulable; Unbound counts every pod
	// that exists at the end without a node (the unschedulable ones, and those the scheduler
	// had not tried yet when --until ended the run).
	Unschedulable int `json:"unschedulable"`
	Unbound       int `json:"unbound"`
	// Used is the report's summary.nodes.used: nodes holding a pod that has not terminated.
	Used int `json:"used"`
	// Utilization is, per resource, the cluster's requested/allocatable at the end of the
	// run: the sums over every node, given and template (a resource no node offers is left
	// out).
	Utilization map[string]float64 `json:"utilization"`
	// FailedAssertions are the goal's assertions this run failed, in the order given.
	FailedAssertions []string `json:"failedAssertions"`
	// FailingWorkloads are the run's failing workloads (the report's workloads[] with
	// failing true), each as "Kind namespace/name: what fails", in the report's order.
	FailingWorkloads []string `json:"failingWorkloads"`
}

// Template is one node shape to search over.
type Template struct {
	Name, File  string
	CostPerNode *float64
}

func newPlan(templates []Template, opts Options) *Plan {
	p := &Plan{APIVersion: analysis.APIVersion, Kind: PlanKind, Assertions: append([]string{}, opts.Assertions...),
		GivenNodes: opts.GivenNodes, MaxNodes: opts.MaxNodes, Parallel: opts.Parallel}
	for _, t := range templates {
		p.Templates = append(p.Templates, TemplatePlan{Name: t.Name, File: t.File, CostPerNode: t.CostPerNode, Runs: []Run{}, Warnings: []string{}})
	}
	return p
}
