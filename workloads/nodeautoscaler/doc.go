// Package nodeautoscaler runs node autoscaling on a simulation (issue 21): the NodePools of
// the inputs grow and shrink under a cluster-autoscaler or a Karpenter behaviour, on virtual
// time. The behaviours share a Runtime: the pools and their nodes, launching a node (its Node
// object appears after the pool's provisioning delay, drawn from the run's seed), removing one,
// evicting pods through the eviction API (so PodDisruptionBudgets hold), the Snapshot the real
// scheduler's Filter plugins simulate placements on, and the record the report is built from
// (analysis.AutoscalerRecord).
//
// docs/autoscaling.md is the upstream reference every behaviour here follows.
package nodeautoscaler
