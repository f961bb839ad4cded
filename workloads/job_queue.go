package workloads

import (
	"time"

	"github.com/kwoksim/kwoksim/clock"
)

// jobDelayQueue is a work queue's AddAfter on the virtual clock, for the syncs a controller
// schedules for later: the Job controller's one-second batching and pod-failure backoff, and
// the minReadySeconds re-checks of StatefulSets and DaemonSets. Like client-go's delaying
// queue it keeps at most one waiting sync per object, at the earliest time asked for. It is
// shared by the Job, StatefulSet and DaemonSet controllers (and named after the file it
// lives in).
type jobDelayQueue struct {
	clock   *clock.Virtual
	kind    string
	pending map[objectKey]*clock.Event
	run     func(ns, name string)
}

func newJobDelayQueue(c *clock.Virtual, kind string, run func(ns, name string)) *jobDelayQueue {
	return &jobDelayQueue{clock: c, kind: kind, pending: map[objectKey]*clock.Event{}, run: run}
}

// after asks for a sync of the object d from now (now, if d ≤ 0).
func (q *jobDelayQueue) after(ns, name string, d time.Duration) {
	k := objectKey{q.kind, ns, name}
	at := q.clock.Now().Add(d)
	if ev := q.pending[k]; ev != nil {
		if ev.Pending() && !ev.At().After(at) {
			return
		}
		ev.Cancel()
	}
	q.pending[k] = q.clock.At(at, func() {
		delete(q.pending, k)
		q.run(ns, name)
	})
}

// forget drops the object's waiting sync.
func (q *jobDelayQueue) forget(ns, name string) {
	k := objectKey{q.kind, ns, name}
	if ev := q.pending[k]; ev != nil {
		ev.Cancel()
		delete(q.pending, k)
	}
}
