// Package autoscaling reads NodePools (kwoksim/v1alpha1 NodePool), the input of node
// autoscaling: strict decoding, defaulting and validation with field paths, and the Node a
// pool's shape gives. It also holds the autoscaler's options, named after the real flags
// (--autoscaler-flag), and the pure parts of both behaviours: cluster-autoscaler's expanders,
// utilization and node-group back-off, Karpenter's disruption budgets and cheapest shape.
// It is pure: no simulator, no clientset; workloads/nodeautoscaler runs the behaviours.
package autoscaling
