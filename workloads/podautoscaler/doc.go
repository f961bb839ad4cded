// Package podautoscaler is the horizontal pod autoscaler controller
// (k8s.io/kubernetes/pkg/controller/podautoscaler, horizontal.go, v1.37.2) on virtual time.
// The computation (replica calculator, stabilization, rate limits, conditions and events) is
// package autoscaling/hpa; this package runs it as HorizontalController does: it reads the
// target's scale and the pods, asks the load model (workloads/load) for the resource metrics a
// metrics-server would serve, writes the target's replicas and the HPA's status, and records
// the events.
//
// Timing. The real controller reconciles an HPA when it is created (and when its spec's
// generation changes), then once per --horizontal-pod-autoscaler-sync-period after each
// reconcile: processNextWorkItem always ends with queue.AddRateLimited(key), whose rate limiter
// (NewDefaultHPARateLimiter, rate_limiters.go) waits exactly the sync period, errors included.
// On virtual time a reconcile takes no time, so the reconciles of an HPA fall exactly one sync
// period apart; a real one adds its own processing time (docs/hpa.md 1.2).
//
// Foreground and background. A reconcile that changed the target's replicas, or that found a
// change held back by a stabilization window or a rate limit (hpa.Output.Pending), asks for
// the next one in the foreground: time alone will make it act. Otherwise the next reconcile is
// background work, which runs while something else keeps the simulation going (a trace, pods
// starting) and does not keep a run without --until going for ever.
//
// Deliberate deviations, each said in the report's notModelled: metrics are the load model's
// instantaneous usage (no metrics-server scrape lag or averaging); Pods, Object and External
// metrics fail as on a cluster without a custom or external metrics API; the scale is read and
// written through the target's spec.replicas and spec.selector (what the scale subresource
// serves for Deployments, ReplicaSets, StatefulSets and ReplicationControllers), so a custom
// resource's scale subresource is not served; condition lastTransitionTime and lastScaleTime
// are virtual time.
package podautoscaler
