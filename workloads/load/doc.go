// Package load is kwoksim's load model (issue 22): what pods use, as opposed to what they
// request, over virtual time, as a metrics-server would report it to the HPA controller.
//
// A pod uses a constant amount while it is Running when it carries the annotations
// kwoksim.io/cpu-usage and kwoksim.io/memory-usage (quantities: "300m", "256Mi"). A trace's
// load operation, {kind, namespace, name, cpu, memory}, sets a workload's total demand from
// its time on; the demand is shared equally among the workload's Ready pods (the pods of its
// namespace its selector matches that are Ready and not terminating, as a Service spreads
// traffic over its ready endpoints), and wins over the annotations of those pods.
//
// The model is attached to the simulator (Of) so that the trace replay and the HPA controller
// reach the same one; it records the usage for the report (analysis.UsageRecord).
package load
