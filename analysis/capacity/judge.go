package capacity

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kwoksim/kwoksim/analysis"
)

// Judge takes a finished run's figures from its report and decides whether it met the goal:
// every assertion holding, or without assertions, no pod that exists at the end left without
// a node and no workload failing. The default goal counts unbound pods, not only those the
// scheduler rejected: a pod it had not tried yet when --until ended the run did not get a node
// either, and a plan that called that enough would be wrong. A pod bound but not yet Running
// (a slow startup stage) has its node, and passes. A failing workload (a Deployment whose pods
// the apiserver refuses, see analysis.WorkloadFailing) fails the goal: it may create no pod at
// all, and a plan would otherwise answer 0 nodes for a workload that never ran.
func Judge(r *analysis.Report, checks []*analysis.Assertion) (Run, error) {
	run := Run{
		Unschedulable:    r.Summary.Pods.Unschedulable,
		Used:             r.Summary.Nodes.Used,
		FailedAssertions: []string{},
		FailingWorkloads: failingWorkloads(r),
	}
	for _, p := range r.Pods {
		if p.Node == "" && p.DeletedAt == nil {
			run.Unbound++
		}
	}
	u, err := clusterUtilization(r.Nodes)
	if err != nil {
		return Run{}, err
	}
	run.Utilization = u
	if len(checks) == 0 {
		run.Passed = run.Unbound == 0 && len(run.FailingWorkloads) == 0
		return run, nil
	}
	results, err := analysis.CheckAssertions(r, checks)
	if err != nil {
		return Run{}, err
	}
	for _, f := range analysis.Failed(results) {
		run.FailedAssertions = append(run.FailedAssertions, f.Expr)
	}
	run.Passed = len(run.FailedAssertions) == 0
	return run, nil
}

// failingWorkloads names the report's failing workloads with what makes each fail.
func failingWorkloads(r *analysis.Report) []string {
	out := []string{}
	for _, w := range r.Workloads {
		if !w.Failing {
			continue
		}
		name := w.Name
		if w.Namespace != "" {
			name = w.Namespace + "/" + name
		}
		out = append(out, fmt.Sprintf("%s %s: %s", w.Kind, name, strings.Join(analysis.FailingConditions(w), "; ")))
	}
	return out
}

// clusterUtilization is, per resource some node offers, the sum of what the nodes' pods
// request over the sum of what the nodes offer. Unlike the report's mean across nodes it
// weighs each node by its size, which is what "how full is the cluster" means when the given
// nodes and the template differ.
func clusterUtilization(nodes []analysis.NodeReport) (map[string]float64, error) {
	requested, allocatable := map[string]*resource.Quantity{}, map[string]*resource.Quantity{}
	add := func(sums map[string]*resource.Quantity, node, name, value string) error {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return fmt.Errorf("node %s: %s %q: %w", node, name, value, err)
		}
		if s, ok := sums[name]; ok {
			s.Add(q)
		} else {
			sums[name] = &q
		}
		return nil
	}
	for _, n := range nodes {
		// Sorted, so that no error depends on map order.
		for _, name := range slices.Sorted(maps.Keys(n.Allocatable)) {
			if err := add(allocatable, n.Name, name, n.Allocatable[name]); err != nil {
				return nil, err
			}
			if v, ok := n.Requested[name]; ok {
				if err := add(requested, n.Name, name, v); err != nil {
					return nil, err
				}
			}
		}
	}
	out := map[string]float64{}
	for name, a := range allocatable {
		if a.Sign() <= 0 {
			continue
		}
		var r resource.Quantity
		if q, ok := requested[name]; ok {
			r = *q
		}
		// Exact for quantities of any size (a 1e29-CPU request on 1e30 CPUs is 0.1).
		out[name] = analysis.QuantityRatio(name, r, *a)
	}
	return out, nil
}
