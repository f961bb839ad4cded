package clock

import (
	"fmt"
	"time"
)

// MaxUntil is the latest virtual time a run may reach (--until, or a trace event's at): 100
// years. Elapsed virtual time is a time.Duration, which holds at most about 292 years
// (2562047h47m), and timers armed near the end of a run must still fit past it; at the
// nodes' 10 s heartbeats a century is already about 3×10^8 events per node. It lives here, in
// the package of virtual time, so that the pure packages (analysis/sweep) check it too.
const MaxUntil = 100 * 365 * 24 * time.Hour

// CheckUntil tells whether a run or trace time, named what ("--until", "at"), is within
// MaxUntil.
func CheckUntil(what string, d time.Duration) error {
	if d > MaxUntil {
		return fmt.Errorf("%s %v is past the latest virtual time kwoksim simulates, %v (100 years; elapsed time is a time.Duration, at most about 292 years, and timers armed late in a run need room past it)",
			what, d, MaxUntil)
	}
	return nil
}
