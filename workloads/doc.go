// Package workloads runs a scenario: it starts a simulator, installs the workload controllers
// (Deployment, ReplicaSet and ReplicationController, Job, CronJob, StatefulSet, DaemonSet; one
// package each, on the runtime of package manager), creates the nodes and workloads read by package manifest, replays the
// traces of package trace, and builds the report.
//
// The packages below it:
//
//   - input: the one reader of every input (paths, directories, symbolic links, "-" for
//     standard input, documents and lines with their numbers, limits applied while reading).
//   - manifest: Node and workload manifests decoded as kubectl would, node templates,
//     --scale-replicas.
//   - trace: trace files (YAML and JSON Lines) and their replay on the virtual clock.
//   - manager: what every controller runs on (dispatch of changes, the work queue on virtual
//     time, the owner index, garbage collection).
//   - deployment, replicaset, job, statefulset, daemonset: the controllers.
//   - openb: the Alibaba GPU trace importer.
//   - workloadstest: simulators and fixtures for the controllers' tests.
package workloads
