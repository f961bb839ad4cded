package capacity

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/kwoksim/kwoksim/analysis"
)

// DynamicPlan is a plan's answer when the inputs have NodePools (issue 21): instead of
// searching a static node count, one run of the trace with the node autoscaler, and what the
// pools cost, how long pods waited for capacity and which pods no pool could take, from the
// run's autoscaling section.
type DynamicPlan struct {
	// Autoscaler is the behaviour modelled: cluster-autoscaler or karpenter.
	Autoscaler string `json:"autoscaler"`
	// Note says when kwoksim chose the autoscaler (NodePools and no --autoscaler).
	Note string `json:"note,omitempty"`
	// SimulatedSeconds is how long the run covered.
	SimulatedSeconds float64 `json:"simulatedSeconds"`
	// Cost, NodeHours and PeakNodes are over every pool (see analysis.AutoscalingReport).
	Cost      float64 `json:"cost"`
	NodeHours float64 `json:"nodeHours"`
	PeakNodes int     `json:"peakNodes"`
	// CapacityWait is how long pods found unschedulable waited to be bound, in seconds.
	CapacityWait analysis.Distribution `json:"capacityWait"`
	// Pools are each pool's figures, in input order.
	Pools []DynamicPool `json:"pools"`
	// NoScaleUp are the pods no pool could take, with the reason.
	NoScaleUp []analysis.NoScaleUpReport `json:"noScaleUp"`
	// Run is how the run fared against the goal (Nodes is 0: no template copies).
	Run Run `json:"run"`
}

// DynamicPool is one pool's figures.
type DynamicPool struct {
	Name      string  `json:"name"`
	Cost      float64 `json:"cost"`
	NodeHours float64 `json:"nodeHours"`
	PeakNodes int     `json:"peakNodes"`
	// Nodes is how many of its nodes exist at the end.
	Nodes int `json:"nodes"`
}

// ErrNoAutoscaling is a run with NodePools and an autoscaler whose report has no autoscaling
// section: the plan has no answer to give, rather than a cost of 0.
var ErrNoAutoscaling = errors.New("the run's report has no autoscaling section, so the plan cannot say what the pools cost")

// Dynamic builds the dynamic answer from the run's report, judged against the goal as a
// static run is (Judge).
func Dynamic(r *analysis.Report, checks []*analysis.Assertion, note string) (*DynamicPlan, error) {
	a := r.Autoscaling
	if a == nil {
		return nil, ErrNoAutoscaling
	}
	run, err := Judge(r, checks)
	if err != nil {
		return nil, err
	}
	d := &DynamicPlan{Autoscaler: a.Autoscaler, Note: note, SimulatedSeconds: r.SimulatedSeconds, Cost: a.Cost, NodeHours: a.NodeHours,
		PeakNodes: a.PeakNodes, CapacityWait: a.CapacityWait, Pools: []DynamicPool{}, NoScaleUp: []analysis.NoScaleUpReport{}, Run: run}
	for _, p := range a.Pools {
		d.Pools = append(d.Pools, DynamicPool{Name: p.Name, Cost: p.Cost, NodeHours: p.NodeHours, PeakNodes: p.PeakNodes, Nodes: p.Nodes})
	}
	d.NoScaleUp = append(d.NoScaleUp, a.NoScaleUp...)
	return d, nil
}

// NewDynamicPlan is a plan holding only the dynamic answer.
func NewDynamicPlan(d *DynamicPlan, opts Options) *Plan {
	p := newPlan(nil, opts)
	p.Templates = []TemplatePlan{}
	p.Dynamic = d
	return p
}

// writeDynamic writes the dynamic answer for a person.
func writeDynamic(w io.Writer, d *DynamicPlan) error {
	goal := "met"
	if !d.Run.Passed {
		goal = "not met"
	}
	fmt.Fprintf(w, "With the NodePools scaled by %s over %s of virtual time: goal %s.\n", d.Autoscaler, analysis.FormatSeconds(d.SimulatedSeconds), goal)
	if d.Note != "" {
		fmt.Fprintf(w, "note: %s\n", d.Note)
	}
	fmt.Fprintf(w, "Cost %.2f for %.1f node-hours; at most %d pool nodes at once.\n", d.Cost, d.NodeHours, d.PeakNodes)
	fmt.Fprintf(w, "Waiting for capacity: %d pod(s), p50 %s, p99 %s.\n\n", d.CapacityWait.Count,
		analysis.FormatSeconds(d.CapacityWait.P50), analysis.FormatSeconds(d.CapacityWait.P99))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POOL\tCOST\tNODE-HOURS\tPEAK NODES\tNODES AT END")
	for _, p := range d.Pools {
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%d\t%d\n", p.Name, p.Cost, p.NodeHours, p.PeakNodes, p.Nodes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.NoScaleUp) > 0 {
		fmt.Fprintf(w, "\nPods no pool could take (%d):\n", len(d.NoScaleUp))
		for _, p := range d.NoScaleUp {
			line := fmt.Sprintf("  %s/%s: %s", p.Namespace, p.Name, p.Reason)
			if p.Resolved != nil {
				line += fmt.Sprintf(" (bound at %s after all)", analysis.FormatSeconds(*p.Resolved))
			}
			fmt.Fprintln(w, line)
		}
	}
	r := d.Run
	switch {
	case len(r.FailedAssertions) > 0:
		fmt.Fprintf(w, "\nfailed: %s\n", strings.Join(r.FailedAssertions, "; "))
	case !r.Passed:
		fmt.Fprintf(w, "\n%d pod(s) unbound at the end, %d workload(s) failing\n", r.Unbound, len(r.FailingWorkloads))
	}
	return nil
}
