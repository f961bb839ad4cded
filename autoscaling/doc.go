// Package autoscaling reads NodePools (kwoksim/v1alpha1 NodePool), the input of node
// autoscaling (issue 21): strict decoding, defaulting and validation with field paths, and the
// Node a pool's shape gives. It is pure: no simulator, no clientset. Nothing acts on a pool yet.
package autoscaling
