// Package tainteviction is kube-controller-manager's taint eviction controller
// (k8s.io/kubernetes/pkg/controller/tainteviction, taint_eviction.go) on virtual time: a pod
// on a node with NoExecute taints it does not tolerate is deleted at once; one tolerating
// them all for a finite time is deleted after the shortest tolerationSeconds, counted from
// when the controller first scheduled its eviction; removing the taints cancels it. A
// deletion first sets the DisruptionTarget condition (reason DeletionByTaintManager), then
// deletes the pod gracefully, as addConditionAndDeletePod does.
//
// Deliberate deviations:
//   - Node and pod updates are handled one at a time in the order they arrive, where the real
//     controller shards them over 8 workers and prefers node updates.
//   - No events (TaintManagerEviction) and no metrics; a failed deletion is not retried.
package tainteviction
