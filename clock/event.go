package clock

import "time"

// Event is a callback scheduled on a Virtual clock.
type Event struct {
	v      *Virtual
	at     time.Time
	seq    uint64
	fn     func()
	daemon bool
	// id is the event's handle in v.queue, or -1 once the event has
	// been popped or cancelled. It is the single source of truth for
	// Pending, and is guarded by v.mu.
	id int32
}

// Cancel removes the event from the queue. It reports whether the event was
// still pending, so a caller can tell a cancellation that took effect from one
// that lost the race against Step. Cancelling twice, or after the event ran,
// is harmless and returns false.
func (e *Event) Cancel() bool {
	if e == nil || e.v == nil {
		return false
	}
	v := e.v
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.removeLocked(e)
}

// At returns the time the event is (or was) due. Times earlier than the
// clock's Now at scheduling have already been clamped to that Now.
func (e *Event) At() time.Time {
	// at never changes after scheduling, so no lock is needed.
	return e.at
}

// Pending reports whether the event is still waiting to run.
func (e *Event) Pending() bool {
	if e == nil || e.v == nil {
		return false
	}
	e.v.mu.Lock()
	defer e.v.mu.Unlock()
	return e.id >= 0
}

// removeLocked takes e out of the queue if it is still there.
func (v *Virtual) removeLocked(e *Event) bool {
	if e.id < 0 {
		return false
	}
	v.queue.remove(e)
	if e.daemon {
		v.daemons--
	}
	// Release the closure: a cancelled event may be kept around by its
	// owner long after it could ever run.
	e.fn = nil
	return true
}
