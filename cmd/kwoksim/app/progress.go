package app

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progressRedraw is the least wall time between two redraws of the progress line, and how
// long a run goes before the first one: a short run shows nothing.
const progressRedraw = 250 * time.Millisecond

// progressLine shows a long run's progress on one line of a terminal: virtual time reached,
// events processed, events per second of wall time. The simulator calls it from its loop; the
// wall clock is read here, never inside the simulation.
type progressLine struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time
	drawn bool
}

// newProgressLine returns nil when w is not a terminal: logs and pipes get no progress.
func newProgressLine(w io.Writer, isTerminal func(io.Writer) bool, now func() time.Time) *progressLine {
	if !isTerminal(w) {
		return nil
	}
	t := now()
	return &progressLine{w: w, now: now, start: t, last: t}
}

// isTerminal is whether w is a file attached to a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// callback is the simulator's progress hook, nil when nothing is shown.
func (p *progressLine) callback() func(time.Duration, int64) {
	if p == nil {
		return nil
	}
	return p.update
}

func (p *progressLine) update(elapsed time.Duration, events int64) {
	t := p.now()
	if t.Sub(p.last) < progressRedraw {
		return
	}
	p.last, p.drawn = t, true
	rate := float64(events) / t.Sub(p.start).Seconds()
	fmt.Fprintf(p.w, "\r\x1b[Ksimulating: t=%s, %d events, %.0f events/s", elapsed.Truncate(time.Second), events, rate)
}

// clear erases the line, so that what the command prints next starts on a clean line.
func (p *progressLine) clear() {
	if p != nil && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
