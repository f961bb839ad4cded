package clock

import (
	"time"

	kclock "k8s.io/utils/clock"
)

// timer is a one-shot clock.Timer backed by an event. It follows the Go 1.23+
// time.Timer contract: once Stop or Reset returns, no value from before the
// call can be received, and a value that was delivered but not yet received
// still counts as active. Code written for either the old or the new contract
// (including the `if !t.Stop() { <-t.C() }` idiom) then behaves correctly.
type timer struct {
	v *Virtual
	// c is nil for AfterFunc timers, as with time.AfterFunc.
	c chan time.Time
	f func()
	// ev is the event that will deliver the timer, or nil once it has been
	// delivered or stopped. It is guarded by v.mu and compared against the
	// firing event so a firing that lost a race with Stop or Reset does
	// nothing.
	ev *Event
}

var _ kclock.Timer = (*timer)(nil)

// NewTimer returns a timer that sends the virtual time on its channel once,
// d after Now.
func (v *Virtual) NewTimer(d time.Duration) kclock.Timer {
	return v.newTimer(d, nil)
}

// After returns the channel of a new timer.
func (v *Virtual) After(d time.Duration) <-chan time.Time {
	return v.newTimer(d, nil).c
}

// AfterFunc runs f d after Now. Unlike time.AfterFunc, f runs on the
// goroutine that calls Step, not on a goroutine of its own, so simulated
// components stay deterministic. The returned timer's C is nil.
func (v *Virtual) AfterFunc(d time.Duration, f func()) kclock.Timer {
	if f == nil {
		panic("clock: nil AfterFunc callback")
	}
	return v.newTimer(d, f)
}

// Sleep blocks until the owner steps the clock past Now+d. It exists for
// foreign goroutines only: called from the goroutine that drives Step it
// deadlocks, because nothing else will ever advance the clock.
func (v *Virtual) Sleep(d time.Duration) {
	// Like time.Sleep, a non-positive duration returns at once instead of
	// waiting for the owner to step.
	if d <= 0 {
		return
	}
	<-v.After(d)
}

func (v *Virtual) newTimer(d time.Duration, f func()) *timer {
	t := &timer{v: v, f: f}
	if f == nil {
		// Buffer one value so firing never blocks the stepping goroutine.
		t.c = make(chan time.Time, 1)
	}
	v.mu.Lock()
	t.armLocked(v.now.Add(d))
	v.mu.Unlock()
	return t
}

func (t *timer) armLocked(at time.Time) {
	var ev *Event
	ev = t.v.scheduleLocked(at, false, func() { t.fire(ev) })
	t.ev = ev
}

func (t *timer) fire(ev *Event) {
	v := t.v
	v.mu.Lock()
	if t.ev != ev {
		v.mu.Unlock()
		return
	}
	t.ev = nil
	if t.c != nil {
		// Sending under the lock makes delivery atomic with Stop's drain.
		select {
		case t.c <- ev.at:
		default:
		}
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	t.f()
}

// C returns the timer's channel, or nil for an AfterFunc timer.
func (t *timer) C() <-chan time.Time {
	return t.c
}

// Stop prevents the timer from firing. It returns true if the call stopped
// the timer, i.e. its value had not been received yet (or, for AfterFunc, f
// had not started).
func (t *timer) Stop() bool {
	t.v.mu.Lock()
	defer t.v.mu.Unlock()
	return t.stopLocked()
}

// Reset makes the timer fire d after Now. It returns whether the timer had
// been active, with the same meaning as Stop.
func (t *timer) Reset(d time.Duration) bool {
	v := t.v
	v.mu.Lock()
	defer v.mu.Unlock()
	active := t.stopLocked()
	t.armLocked(v.now.Add(d))
	return active
}

func (t *timer) stopLocked() bool {
	active := false
	if t.ev != nil {
		t.v.removeLocked(t.ev)
		t.ev = nil
		active = true
	}
	if t.c != nil {
		select {
		case <-t.c:
			active = true
		default:
		}
	}
	return active
}
