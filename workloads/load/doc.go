// Package load is kwoksim's load model (issue 22): what pods use, as opposed to what they
// request, over virtual time, as a metrics-server would report it to the HPA controller.
//
// A pod uses a constant amount while it is Running when it carries the annotations
// kwoksim.io/cpu-usage and kwoksim.io/memory-usage (quantities: "300m", "256Mi"; the input
// loader, workloads/manifest, refuses any other value). A trace's load
// operation, {kind, namespace, name, cpu, memory}, sets a workload's total demand from its
// time on; the demand is shared equally among the workload's Ready pods (the pods of its
// namespace its selector matches that are Ready and not terminating, as a Service spreads
// traffic over its ready endpoints), and wins over the annotations of those pods for the
// resources it sets. The split is exact, in millicores and bytes: each Ready pod takes
// demand/N, and the first demand%N pods in name order one unit more, so the shares add up
// to the demand; a pod that is not Ready uses 0; with no Ready pod nothing is used. A pod two
// loaded workloads select takes a share of each.
//
// Metrics answers for the Running pods (terminating ones included) with usage data, with a
// window of MetricWindow; a container's part of a pod's usage is in proportion to its
// requests. Usage is instantaneous: no scrape lag, no averaging over the window. The CPU it
// serves is what a pod can use of its share (throttle.go): at most its containers' CPU limits,
// and, when the pods with usage data on a node want more than its allocatable CPU, the node's
// CPU divided among them by their CPU shares (requests), as CFS divides it. The usage record
// keeps the demand before those bounds.
//
// Cost: the model follows only pods with usage data or a loaded workload in their namespace.
// Any other pod's change costs a few map lookups; a followed pod's change one selector match
// per loaded workload of its namespace and constant work besides. A load operation, and a
// loaded workload's new selector, go over the pods once.
//
// The model is attached to the simulator (Of) so that the trace replay and the HPA controller
// reach the same one; it records the usage for the report (analysis.UsageRecord): the
// cluster's total and each workload's, the workload of an annotated pod being its top
// controller (a ReplicaSet's Deployment, else its controller, else the pod itself).
package load
