// Package drain is `kubectl drain` on virtual time (k8s.io/kubectl/pkg/drain: drain.go,
// filters.go, cordon.go): cordon the node, pick the pods to evict with kubectl's filters,
// evict them all at once through the eviction subresource, retry a refused eviction after
// 5 s, wait for each pod to be gone (polled every second: missing, or a new UID under its
// name), and give up at the timeout. It also has kubectl's cordon and uncordon.
//
// Deliberate deviations:
//   - kubectl drain's flags default to --ignore-daemonsets=false and
//     --delete-emptydir-data=false; the trace operation defaults both to true (a maintenance
//     drain nearly always passes them). The other defaults are kubectl's: no timeout, each
//     pod's own grace period, no --force.
//   - kubectl evicts from one goroutine per pod; here the pods are evicted in the order the
//     apiserver lists them (namespace, name), at the same instant.
//   - When kubectl's error aggregation iterates a map (filter errors), the messages are
//     sorted.
//   - A retry or poll that can change nothing (no write touched its pod, or for a retry its
//     namespace's pods and budgets, since the last one) is background work: a drain stuck
//     for ever, as kubectl would be, does not keep the run going, and stays "in progress" in
//     the report. The timeout, when set, is foreground.
package drain
