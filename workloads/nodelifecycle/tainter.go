package nodelifecycle

import (
	"slices"
	"time"

	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// Constants of pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go.
const (
	// nodeEvictionPeriod is how often the NoExecute tainting pass runs (NodeEvictionPeriod).
	nodeEvictionPeriod = 100 * time.Millisecond
	// evictionRateLimiterBurst is every tainter's burst (EvictionRateLimiterBurst).
	evictionRateLimiterBurst = 1
)

// timedValue is scheduler.TimedValue: a node to taint, no earlier than processAt.
type timedValue struct {
	value     string
	uid       string
	addedAt   time.Time
	processAt time.Time
	// seq breaks ties between equal processAt, where upstream's heap order is arbitrary.
	seq uint64
}

// tainter is scheduler.RateLimitedTimedQueue (rate_limited_queue.go), reproduced because the
// upstream one reads the wall clock (its package-level now and NewTokenBucketRateLimiter in
// SwapLimiter): a set of node names, ordered by processAt, drained through a token bucket.
// Its limiter is flowcontrol's real token bucket on the virtual clock.
type tainter struct {
	clock clock.PassiveClock
	queue []timedValue // sorted by (processAt, seq)
	set   map[string]bool
	seq   uint64
	// limiter is a token bucket, or never (QPS 0), as SwapLimiter makes them.
	limiter flowcontrol.PassiveRateLimiter
}

func newTainter(c clock.PassiveClock, qps float32) *tainter {
	t := &tainter{clock: c, set: map[string]bool{}}
	t.limiter = t.newLimiter(qps)
	return t
}

func (t *tainter) newLimiter(qps float32) flowcontrol.PassiveRateLimiter {
	if qps <= 0 {
		return neverLimiter{}
	}
	return flowcontrol.NewTokenBucketPassiveRateLimiterWithClock(qps, evictionRateLimiterBurst, t.clock)
}

// neverLimiter is flowcontrol.NewFakeNeverRateLimiter without its goroutine machinery.
type neverLimiter struct{}

func (neverLimiter) TryAccept() bool { return false }
func (neverLimiter) Stop()           {}
func (neverLimiter) QPS() float32    { return 0 }

// Add is RateLimitedTimedQueue.Add / UniqueQueue.Add: false when the node is in the set.
func (t *tainter) Add(value, uid string) bool {
	if t.set[value] {
		return false
	}
	now := t.clock.Now()
	t.push(timedValue{value: value, uid: uid, addedAt: now, processAt: now})
	t.set[value] = true
	return true
}

func (t *tainter) push(v timedValue) {
	t.seq++
	v.seq = t.seq
	i, _ := slices.BinarySearchFunc(t.queue, v, func(a, b timedValue) int {
		if c := a.processAt.Compare(b.processAt); c != 0 {
			return c
		}
		return int(a.seq) - int(b.seq)
	})
	t.queue = slices.Insert(t.queue, i, v)
}

func (t *tainter) index(value string) int {
	return slices.IndexFunc(t.queue, func(v timedValue) bool { return v.value == value })
}

// Remove is RateLimitedTimedQueue.Remove: out of the queue and the set, so it can be added
// again.
func (t *tainter) Remove(value string) bool {
	if !t.set[value] {
		return false
	}
	delete(t.set, value)
	if i := t.index(value); i >= 0 {
		t.queue = slices.Delete(t.queue, i, i+1)
	}
	return true
}

// removeFromQueue is UniqueQueue.RemoveFromQueue: out of the queue, kept in the set, so the
// node is not queued again until Remove (markNodeAsReachable) is called.
func (t *tainter) removeFromQueue(value string) {
	if i := t.index(value); i >= 0 {
		t.queue = slices.Delete(t.queue, i, i+1)
	}
}

// replace is UniqueQueue.Replace.
func (t *tainter) replace(v timedValue) {
	if i := t.index(v.value); i >= 0 {
		t.queue = slices.Delete(t.queue, i, i+1)
		t.push(v)
	}
}

// pending tells whether a tainting pass could do anything: a node is queued and the limiter
// will ever let it through.
func (t *tainter) pending() bool { return len(t.queue) > 0 && t.limiter.QPS() > 0 }

// Try is RateLimitedTimedQueue.Try: process queued nodes while the limiter accepts and
// their time has come; fn returns false (and a wait) to retry the node later.
func (t *tainter) Try(fn func(timedValue) (bool, time.Duration)) {
	for len(t.queue) > 0 {
		val := t.queue[0]
		if !t.limiter.TryAccept() {
			break
		}
		now := t.clock.Now()
		if now.Before(val.processAt) {
			break
		}
		if ok, wait := fn(val); !ok {
			val.processAt = now.Add(wait + 1)
			t.replace(val)
		} else {
			t.removeFromQueue(val.value)
		}
	}
}

// SwapLimiter is RateLimitedTimedQueue.SwapLimiter: a new limiter when the rate changes,
// drained when the old one had no token left (right for a burst of 1).
func (t *tainter) SwapLimiter(qps float32) {
	if t.limiter.QPS() == qps {
		return
	}
	next := t.newLimiter(qps)
	if qps > 0 && !t.limiter.TryAccept() {
		next.TryAccept()
	}
	t.limiter.Stop()
	t.limiter = next
}
