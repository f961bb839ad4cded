// Package workloads loads manifests and runs deterministic workload controllers (Deployment, ReplicaSet) on the simulated cluster.
package workloads
