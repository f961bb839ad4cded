package manager

import (
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// The per-item back-off of workqueue.DefaultTypedControllerRateLimiter
// (k8s.io/client-go/util/workqueue/default_rate_limiters.go), the limiter of every
// kube-controller-manager work queue: 5 ms, doubled after each failure, at most 1000 s.
const (
	retryBaseDelay = 5 * time.Millisecond
	retryMaxDelay  = 1000 * time.Second
)

// retries is a queue's rate-limited requeue, as a controller's processNextWorkItem uses it:
// AddRateLimited after a failed sync, Forget after a successful one.
//
// Not reproduced: the default limiter's overall token bucket (10 per second, bursts of 100),
// which would delay retries only when more than 100 objects fail at once.
type retries struct {
	limiter workqueue.TypedRateLimiter[objectName]
	// pending are the objects whose waiting sync is a retry.
	pending map[objectName]bool
}

// AddRateLimited asks for a retry of a failed sync after the object's back-off, which doubles
// with each failure until ForgetFailures. The retry is background work: a sync that fails for
// good would otherwise retry forever and never let a run end. WakeRetries makes waiting
// retries foreground again when something changed that may let them succeed; either way they
// run at the time the back-off says.
func (q *Queue) AddRateLimited(ns, name string) {
	if q.retry.limiter == nil {
		q.retry.limiter = workqueue.NewTypedItemExponentialFailureRateLimiter[objectName](retryBaseDelay, retryMaxDelay)
		q.retry.pending = map[objectName]bool{}
	}
	k := objectName{ns, name}
	q.retry.pending[k] = true
	q.addAt(k, q.clock.Now().Add(q.retry.limiter.When(k)), true)
}

// ForgetFailures resets the object's back-off after a successful sync (the work queue's
// Forget).
func (q *Queue) ForgetFailures(ns, name string) {
	if q.retry.limiter == nil {
		return
	}
	k := objectName{ns, name}
	q.retry.limiter.Forget(k)
	delete(q.retry.pending, k)
}

// WakeRetries makes the waiting retries of the namespace's objects foreground work, at the
// times they were due, in name order.
func (q *Queue) WakeRetries(ns string) {
	var keys []objectName
	for k := range q.retry.pending {
		if w := q.waiting[k]; k.namespace == ns && w != nil && w.event.Pending() && w.background {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b objectName) int { return strings.Compare(a.name, b.name) })
	for _, k := range keys {
		q.addAt(k, q.waiting[k].event.At(), false)
	}
}
