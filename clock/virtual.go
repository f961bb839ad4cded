package clock

import (
	"sync"
	"time"

	kclock "k8s.io/utils/clock"
)

var (
	_ kclock.WithTicker                    = (*Virtual)(nil)
	_ kclock.WithDelayedExecution          = (*Virtual)(nil)
	_ kclock.WithTickerAndDelayedExecution = (*Virtual)(nil)
)

// Virtual is a virtual clock and the queue of events that moves it.
//
// One goroutine, the owner, drives the clock with Step and RunUntil; event
// callbacks run on that goroutine. Other goroutines may read the time and
// schedule events concurrently, which is what injected Kubernetes components
// do, so all state is behind a mutex that is never held while a callback runs
// (callbacks routinely schedule further events).
//
// Use NewVirtual; the zero value starts at the zero time in UTC.
type Virtual struct {
	mu  sync.Mutex
	now time.Time
	loc *time.Location
	// seq gives every event a unique, increasing number so that events
	// due at the same instant run in scheduling order.
	seq       uint64
	queue     eventQueue
	daemons   int
	processed int64
}

// NewVirtual returns a clock that reads start until it is stepped.
func NewVirtual(start time.Time) *Virtual {
	v := &Virtual{loc: start.Location()}
	v.now = v.normalize(start)
	return v
}

// normalize strips any monotonic reading, because a wall-clock start time
// carrying one would make comparisons with derived times use the monotonic
// clock, and converts to the clock's location so every time it hands out
// formats the same way. It needs no lock: loc never changes.
func (v *Virtual) normalize(t time.Time) time.Time {
	if v.loc == nil {
		return t.UTC()
	}
	return t.In(v.loc)
}

// Now returns the current virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Since returns the virtual time elapsed since t.
func (v *Virtual) Since(t time.Time) time.Duration {
	return v.Now().Sub(t)
}

// At schedules fn to run at virtual time t. A t before Now runs at Now,
// because the clock never moves backwards.
func (v *Virtual) At(t time.Time, fn func()) *Event {
	return v.schedule(t, false, fn)
}

// AfterDelay schedules fn to run d after Now.
func (v *Virtual) AfterDelay(d time.Duration, fn func()) *Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.scheduleLocked(v.now.Add(d), false, fn)
}

// Daemon schedules fn like At, but marks it as background work. Periodic
// housekeeping reschedules itself forever, so if it counted as work a run
// that waits for HasWork to become false would never end.
func (v *Virtual) Daemon(t time.Time, fn func()) *Event {
	return v.schedule(t, true, fn)
}

func (v *Virtual) schedule(t time.Time, daemon bool, fn func()) *Event {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.scheduleLocked(t, daemon, fn)
}

func (v *Virtual) scheduleLocked(t time.Time, daemon bool, fn func()) *Event {
	if fn == nil {
		// Fail where the mistake is made rather than deep inside Step.
		panic("clock: nil event callback")
	}
	t = v.normalize(t)
	if t.Before(v.now) {
		t = v.now
	}
	v.seq++
	e := &Event{v: v, at: t, seq: v.seq, fn: fn, daemon: daemon, id: -1}
	v.queue.push(e)
	if daemon {
		v.daemons++
	}
	return e
}

// Len returns the number of pending events, daemons included.
func (v *Virtual) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.queue.Len()
}

// HasWork reports whether any pending event is not a daemon.
func (v *Virtual) HasWork() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.queue.Len() > v.daemons
}

// NextAt returns the due time of the earliest pending event.
func (v *Virtual) NextAt() (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.queue.Len() == 0 {
		return time.Time{}, false
	}
	return v.queue.peek().at, true
}

// Step runs the earliest pending event, advancing Now to its due time. It
// returns false if nothing was pending.
func (v *Virtual) Step() bool {
	v.mu.Lock()
	if v.queue.Len() == 0 {
		v.mu.Unlock()
		return false
	}
	fn := v.popLocked()
	v.mu.Unlock()
	fn()
	return true
}

// RunUntil runs every event due at or before t, including those scheduled by
// the events it runs, then advances Now to t if t is later. It returns the
// number of events run.
func (v *Virtual) RunUntil(t time.Time) int {
	t = v.normalize(t)
	n := 0
	for {
		v.mu.Lock()
		if v.queue.Len() == 0 || v.queue.peek().at.After(t) {
			if t.After(v.now) {
				v.now = t
			}
			v.mu.Unlock()
			return n
		}
		fn := v.popLocked()
		v.mu.Unlock()
		fn()
		n++
	}
}

// Processed returns the total number of events run so far.
func (v *Virtual) Processed() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.processed
}

// popLocked removes the earliest event and moves time to it. The callback is
// returned rather than run so the caller can release the mutex first.
func (v *Virtual) popLocked() func() {
	e := v.queue.pop()
	if e.daemon {
		v.daemons--
	}
	// Events are clamped to Now when scheduled, so this only ever moves
	// time forward; the check guards the invariant regardless.
	if e.at.After(v.now) {
		v.now = e.at
	}
	v.processed++
	fn := e.fn
	e.fn = nil
	return fn
}
