package clock

import (
	"time"

	kclock "k8s.io/utils/clock"
)

// ticker is a periodic clock.Ticker. Its events are daemons: a ticker never
// stops by itself, so if it counted as work no run using one would finish.
type ticker struct {
	v *Virtual
	d time.Duration
	c chan time.Time
	// ev is the next tick, or nil once stopped; guarded by v.mu.
	ev *Event
}

var _ kclock.Ticker = (*ticker)(nil)

// NewTicker returns a ticker that sends the virtual time every d. Like
// time.Ticker it keeps one tick buffered and drops ticks a slow reader
// misses, so the stepping goroutine never blocks on it.
func (v *Virtual) NewTicker(d time.Duration) kclock.Ticker {
	if d <= 0 {
		panic("non-positive interval for NewTicker")
	}
	t := &ticker{v: v, d: d, c: make(chan time.Time, 1)}
	v.mu.Lock()
	t.armLocked(v.now.Add(d))
	v.mu.Unlock()
	return t
}

// Tick returns the channel of a new ticker, or nil if d <= 0, as time.Tick
// does.
func (v *Virtual) Tick(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return v.NewTicker(d).C()
}

func (t *ticker) armLocked(at time.Time) {
	var ev *Event
	ev = t.v.scheduleLocked(at, true, func() { t.fire(ev) })
	t.ev = ev
}

func (t *ticker) fire(ev *Event) {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.ev != ev {
		return
	}
	select {
	case t.c <- ev.at:
	default:
	}
	// The next tick is counted from the due time, not from when a reader
	// got around to it, so the period does not drift.
	t.armLocked(ev.at.Add(t.d))
}

// C returns the ticker's channel.
func (t *ticker) C() <-chan time.Time {
	return t.c
}

// Stop ends the ticker. As with Go 1.23+ tickers, a tick buffered before the
// call is discarded, so no stale tick is received afterwards.
func (t *ticker) Stop() {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	if t.ev != nil {
		t.v.removeLocked(t.ev)
		t.ev = nil
	}
	select {
	case <-t.c:
	default:
	}
}
