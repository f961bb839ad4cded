// Package hpa is the Horizontal Pod Autoscaler controller's computation, as
// kube-controller-manager v1.37.2 runs it (k8s.io/kubernetes/pkg/controller/podautoscaler),
// on a clock the caller gives: the replica calculator (groupPods, the requests, the
// utilization ratio, tolerance, missing-metrics and not-yet-ready rules), and the
// normalization of a proposal (legacy stabilization, or behavior: stabilization windows,
// scale-up and scale-down policies, select policy; min and max), with the controller's
// in-memory history of recommendations and scale events.
//
// Upstream cannot be called as it is: every time it compares is read from time.Now(), and the
// tolerances have no exported constructor (docs/hpa.md, part 4). So each function here follows
// one upstream function, named in its comment, with the virtual now passed in.
//
// Deliberate deviations, and what is left to the caller:
//   - validateAndParseSelector is the caller's: Input.Pods are the pods the scale's selector
//     already matched (SelectorRequired, InvalidSelector and AmbiguousSelector are not emitted
//     here).
//   - kwoksim serves no custom or external metrics API, so Pods, Object and External metrics
//     fail with upstream's reasons and wrapping around kwoksim's text for the missing API
//     (metrics.go).
//   - A behavior the apiserver did not default is defaulted here as it would have been
//     (effectiveBehavior), where upstream would dereference nil.
//   - Output.Pending is kwoksim's: it tells the simulation that waiting can change the count.
//
// It is pure: no simulator, no clientset. workloads/hpa runs the controller on virtual time,
// reads the target's scale and the pods, and writes the results.
package hpa
