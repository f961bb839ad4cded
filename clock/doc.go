// Package clock provides a deterministic discrete-event clock for the
// simulator.
//
// A simulation must produce the same result on every run and must be able to
// cover hours of cluster time in seconds, so nothing here looks at the wall
// clock and nothing runs on its own goroutine: virtual time advances only when
// the owner calls Step or RunUntil, and every scheduled callback runs on the
// owner's goroutine. Events due at the same instant run in the order they were
// scheduled, which removes the last source of nondeterminism a heap would
// otherwise introduce.
//
// Virtual also satisfies the k8s.io/utils/clock interfaces, so Kubernetes
// components that accept an injected clock (the scheduler, workqueues,
// controllers) run on simulated time without modification. Their timers and
// tickers are ordinary events in the same queue, which is why they fire only
// when the owner steps past their due time.
package clock
