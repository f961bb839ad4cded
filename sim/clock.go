package sim

import (
	"sync"
	"time"

	kclock "k8s.io/utils/clock"

	"github.com/kwoksim/kwoksim/clock"
)

// clockAdapter is the scheduler's view of virtual time: strictly increasing, one nanosecond
// per reading within an instant. The scheduling queue orders pods of equal priority by the time
// they were queued; on a virtual clock many pods are queued at one instant, and ties would fall
// back to heap insertion order, which the queue derives from Go map iteration when it moves
// pods between its pools. Distinct readings in the (deterministic) order of the calls remove
// the ties. The drift from virtual time is a few microseconds at most and resets whenever
// virtual time moves past it.
type clockAdapter struct {
	*clock.Virtual
	mu   sync.Mutex
	last time.Time
}

var _ kclock.WithTicker = (*clockAdapter)(nil)

func newClockAdapter(v *clock.Virtual) *clockAdapter { return &clockAdapter{Virtual: v} }

func (c *clockAdapter) Now() time.Time {
	now := c.Virtual.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !now.After(c.last) {
		now = c.last.Add(time.Nanosecond)
	}
	c.last = now
	return now
}

func (c *clockAdapter) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
