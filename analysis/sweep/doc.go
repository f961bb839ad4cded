// Package sweep reads sweep matrices (kwoksim/v1alpha1 Sweep): a base scenario and axes of
// variations, expanded into the command lines of independent `kwoksim run`s. It builds the
// comparison across their reports (table, JSON, CSV), merges directories of runs gathered
// elsewhere, and writes a sweep as a Kubernetes Indexed Job with a ConfigMap of its inputs.
// Like package analysis, it runs nothing and imports no client or scheduler code: the command
// runs the simulations, each in a process of its own.
package sweep
