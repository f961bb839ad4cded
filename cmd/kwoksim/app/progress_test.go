package app

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// A stderr that is not a terminal gets no progress at all, and the run goes without a hook.
func TestProgressNotOnAPipe(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressLine(&buf, func(io.Writer) bool { return false }, time.Now)
	if p != nil || p.callback() != nil {
		t.Fatalf("progress on a non-terminal: %v", p)
	}
	p.clear() // a nil line clears nothing
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}

	// The command line: a run whose stderr is a buffer prints nothing there.
	code, _, errOut := kwoksim(t, "run", "--nodes", seedNodes, "--workload", seedWorkload, "--until", "2h")
	if code != exitOK || errOut != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", code, errOut)
	}
}

// On a terminal the line is redrawn at most every progressRedraw of wall time, shows virtual
// time, events and their rate, and is erased at the end.
func TestProgressOnATerminal(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var buf bytes.Buffer
	p := newProgressLine(&buf, func(w io.Writer) bool { return w == &buf }, func() time.Time { return now })
	hook := p.callback()
	if hook == nil {
		t.Fatal("no progress hook on a terminal")
	}
	step := func(wall time.Duration, virtual time.Duration, events int64) string {
		now = start.Add(wall)
		buf.Reset()
		hook(virtual, events)
		return buf.String()
	}
	if got := step(100*time.Millisecond, time.Minute, 4096); got != "" {
		t.Errorf("drew %q before the first redraw interval", got)
	}
	if got, want := step(500*time.Millisecond, 90*time.Minute+1500*time.Millisecond, 8192), "\r\x1b[Ksimulating: t=1h30m1s, 8192 events, 16384 events/s"; got != want {
		t.Errorf("first draw = %q, want %q", got, want)
	}
	if got := step(600*time.Millisecond, 2*time.Hour, 12288); got != "" {
		t.Errorf("redrew %q within the interval", got)
	}
	if got, want := step(time.Second, 26*time.Hour, 20480), "\r\x1b[Ksimulating: t=26h0m0s, 20480 events, 20480 events/s"; got != want {
		t.Errorf("second draw = %q, want %q", got, want)
	}
	buf.Reset()
	p.clear()
	p.clear() // once is enough
	if got := buf.String(); got != "\r\x1b[K" {
		t.Errorf("clear wrote %q", got)
	}
}
