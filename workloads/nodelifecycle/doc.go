// Package nodelifecycle is kube-controller-manager's node lifecycle controller
// (k8s.io/kubernetes/pkg/controller/nodelifecycle, node_lifecycle_controller.go) on virtual
// time, with the settings of controlplane.Flags:
//
//   - on every change of a node, at once, the NoSchedule taints of its conditions and of
//     spec.unschedulable (doNoScheduleTaintingPass);
//   - every --node-monitor-period, the health pass (monitorNodeHealth): a node whose lease
//     has not been renewed for --node-monitor-grace-period gets its kubelet's conditions set
//     to Unknown (tryUpdateNodeHealth); a node not Ready is queued in its zone's rate-limited
//     tainter for the not-ready or unreachable NoExecute taint (processTaintBaseEviction); the
//     zones' disruption states then set the tainters' rates (handleDisruption);
//   - every 100 ms while a tainter holds a node, the NoExecute tainting pass
//     (doNoExecuteTaintingPass), as fast as the zone's token bucket allows.
//
// The taint eviction controller (workloads/tainteviction) evicts the pods.
//
// The lease: kwoksim stores no Lease objects. A node's kubelet (sim.API.Kubelet) that is
// running or not ready renews its lease continuously, so each health pass observes a renewal;
// a stopped one last renewed it when it stopped. A run without stages has no kubelets
// (Simulator.HasKubelets): every lease then counts as renewed, so no node is ever marked
// Unknown for its silence.
//
// Deliberate deviations:
//   - Nodes are handled one after the other in name order, where the real controller runs 8
//     workers in parallel; so nodes queued in one pass are tainted in name order, where the
//     real heap's order among equal times is arbitrary.
//   - MarkPodsNotReady (the pods of a node that turned not Ready get Ready=False) is not
//     done: the pod stages of a not-ready kubelet keep running and would set it back.
//   - No Lease objects, no label reconciliation (reconcileNodeLabels), no events
//     (RegisteredNode, NodeNotReady), no metrics; a failed write is not retried within the
//     pass (writes to the simulated apiserver do not conflict) but at the next pass, as
//     upstream does after its retries.
//   - Health passes are background clock events, so a run without failures still ends. One
//     is foreground when it has a consequence to draw: after a node turned not Ready, recovered
//     or went, or a kubelet changed state (Controller.Observe, sim.API.WatchKubelets), and
//     while a stopped kubelet's node is not Unknown yet (Controller.unsettled). Tainting
//     passes run, foreground, only while a tainter holds a node and its rate is above 0.
//   - A health pass in a settled cluster (every lease renewed, every node Ready and free of
//     the controller's NoExecute taints, no tainter holding a node, zones unchanged) keeps its
//     time but skips the nodes: it would change nothing that the next pass after a change does
//     not recompute the same way (settled.go). A trace replay of 1,523 nodes over 3,584 hours
//     otherwise spends its time in 2.6 million passes that do nothing.
//   - NodeTaint admission (sim/nodetaint.go) is turned on by New (Simulator.TaintNewNodes):
//     a simulator without this controller keeps its nodes untainted.
package nodelifecycle
