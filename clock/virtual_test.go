package clock

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// recorder collects the names of events in the order they ran, along with
// the virtual time each one observed.
type recorder struct {
	v     *Virtual
	names []string
	times []time.Time
}

func (r *recorder) fn(name string) func() {
	return func() {
		r.names = append(r.names, name)
		r.times = append(r.times, r.v.Now())
	}
}

func drain(v *Virtual) int {
	n := 0
	for v.Step() {
		n++
	}
	return n
}

func TestOrdering(t *testing.T) {
	type sched struct {
		name string
		off  time.Duration
	}
	tests := []struct {
		name      string
		events    []sched
		wantOrder []string
		wantTimes []time.Duration
	}{
		{
			name:      "same instant runs in scheduling order",
			events:    []sched{{"a", time.Second}, {"b", time.Second}, {"c", time.Second}, {"d", time.Second}},
			wantOrder: []string{"a", "b", "c", "d"},
			wantTimes: []time.Duration{time.Second, time.Second, time.Second, time.Second},
		},
		{
			name:      "earlier due time first",
			events:    []sched{{"c", 3 * time.Second}, {"a", time.Second}, {"b", 2 * time.Second}},
			wantOrder: []string{"a", "b", "c"},
			wantTimes: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second},
		},
		{
			name:      "ties broken by sequence among mixed times",
			events:    []sched{{"x2", 2 * time.Second}, {"y1", time.Second}, {"y2", 2 * time.Second}, {"x1", time.Second}},
			wantOrder: []string{"y1", "x1", "x2", "y2"},
			wantTimes: []time.Duration{time.Second, time.Second, 2 * time.Second, 2 * time.Second},
		},
		{
			name:      "past time clamped to now",
			events:    []sched{{"later", time.Second}, {"past", -time.Hour}, {"now", 0}},
			wantOrder: []string{"past", "now", "later"},
			wantTimes: []time.Duration{0, 0, time.Second},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVirtual(t0)
			r := &recorder{v: v}
			for _, e := range tc.events {
				v.At(at(e.off), r.fn(e.name))
			}
			if got := drain(v); got != len(tc.events) {
				t.Fatalf("stepped %d events, want %d", got, len(tc.events))
			}
			if !reflect.DeepEqual(r.names, tc.wantOrder) {
				t.Errorf("order = %v, want %v", r.names, tc.wantOrder)
			}
			for i, want := range tc.wantTimes {
				if !r.times[i].Equal(at(want)) {
					t.Errorf("event %q ran at %v, want %v", r.names[i], r.times[i], at(want))
				}
			}
			if v.Step() {
				t.Error("Step on empty queue returned true")
			}
		})
	}
}

func TestScheduledDuringStepRunsAfterExisting(t *testing.T) {
	v := NewVirtual(t0)
	r := &recorder{v: v}
	v.At(at(time.Second), func() {
		r.fn("a")()
		v.At(v.Now(), r.fn("a.now"))
		v.AfterDelay(0, r.fn("a.delay0"))
		v.At(at(0), r.fn("a.past"))
	})
	v.At(at(time.Second), r.fn("b"))
	v.At(at(time.Second), r.fn("c"))
	v.At(at(2*time.Second), r.fn("d"))

	drain(v)
	want := []string{"a", "b", "c", "a.now", "a.delay0", "a.past", "d"}
	if !reflect.DeepEqual(r.names, want) {
		t.Errorf("order = %v, want %v", r.names, want)
	}
	for i := range 6 {
		if !r.times[i].Equal(at(time.Second)) {
			t.Errorf("event %q ran at %v, want %v", r.names[i], r.times[i], at(time.Second))
		}
	}
}

func TestAfterDelay(t *testing.T) {
	v := NewVirtual(t0)
	v.RunUntil(at(time.Minute))
	e := v.AfterDelay(5*time.Second, func() {})
	if want := at(time.Minute + 5*time.Second); !e.At().Equal(want) {
		t.Errorf("At() = %v, want %v", e.At(), want)
	}
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name string
		// act schedules and cancels against v and returns the results of
		// each Cancel call in order.
		act         func(v *Virtual, ran *[]string) []bool
		wantCancels []bool
		wantRan     []string
		wantLen     int // Len after act, before draining
	}{
		{
			name: "before run",
			act: func(v *Virtual, ran *[]string) []bool {
				e := v.At(at(time.Second), func() { *ran = append(*ran, "x") })
				v.At(at(time.Second), func() { *ran = append(*ran, "y") })
				return []bool{e.Cancel()}
			},
			wantCancels: []bool{true},
			wantRan:     []string{"y"},
			wantLen:     1,
		},
		{
			name: "after run",
			act: func(v *Virtual, ran *[]string) []bool {
				e := v.At(at(time.Second), func() { *ran = append(*ran, "x") })
				v.Step()
				return []bool{e.Cancel()}
			},
			wantCancels: []bool{false},
			wantRan:     []string{"x"},
			wantLen:     0,
		},
		{
			name: "double cancel",
			act: func(v *Virtual, ran *[]string) []bool {
				e := v.At(at(time.Second), func() { *ran = append(*ran, "x") })
				return []bool{e.Cancel(), e.Cancel()}
			},
			wantCancels: []bool{true, false},
			wantRan:     nil,
			wantLen:     0,
		},
		{
			name: "cancelled by an earlier event",
			act: func(v *Virtual, ran *[]string) []bool {
				var res []bool
				var late *Event
				v.At(at(time.Second), func() {
					*ran = append(*ran, "canceller")
					res = append(res, late.Cancel())
				})
				late = v.At(at(2*time.Second), func() { *ran = append(*ran, "late") })
				v.Step()
				return res
			},
			wantCancels: []bool{true},
			wantRan:     []string{"canceller"},
			wantLen:     0,
		},
		{
			name: "middle of a large heap",
			act: func(v *Virtual, ran *[]string) []bool {
				var evs []*Event
				for i := range 100 {
					name := fmt.Sprint(i)
					evs = append(evs, v.At(at(time.Duration(i%7)*time.Second), func() { *ran = append(*ran, name) }))
				}
				var res []bool
				for i, e := range evs {
					if i != 42 {
						res = append(res, e.Cancel())
					}
				}
				return res[:1]
			},
			wantCancels: []bool{true},
			wantRan:     []string{"42"},
			wantLen:     1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVirtual(t0)
			var ran []string
			got := tc.act(v, &ran)
			if !reflect.DeepEqual(got, tc.wantCancels) {
				t.Errorf("Cancel results = %v, want %v", got, tc.wantCancels)
			}
			if v.Len() != tc.wantLen {
				t.Errorf("Len = %d, want %d", v.Len(), tc.wantLen)
			}
			drain(v)
			if !reflect.DeepEqual(ran, tc.wantRan) {
				t.Errorf("ran %v, want %v", ran, tc.wantRan)
			}
		})
	}
}

func TestPendingAndAt(t *testing.T) {
	v := NewVirtual(t0)
	e := v.At(at(time.Second), func() {})
	if !e.Pending() {
		t.Error("Pending before run = false")
	}
	if !e.At().Equal(at(time.Second)) {
		t.Errorf("At = %v, want %v", e.At(), at(time.Second))
	}
	v.Step()
	if e.Pending() {
		t.Error("Pending after run = true")
	}
	c := v.At(at(time.Hour), func() {})
	c.Cancel()
	if c.Pending() {
		t.Error("Pending after Cancel = true")
	}
	var zero *Event
	if zero.Pending() || zero.Cancel() {
		t.Error("nil Event reports pending or cancellable")
	}
}

func TestHasWork(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(v *Virtual)
		wantWork  bool
		wantLen   int
		wantFirst time.Duration
	}{
		{
			name:     "empty",
			setup:    func(v *Virtual) {},
			wantWork: false,
			wantLen:  0,
		},
		{
			name: "only daemons",
			setup: func(v *Virtual) {
				v.Daemon(at(time.Second), func() {})
				v.Daemon(at(2*time.Second), func() {})
			},
			wantWork:  false,
			wantLen:   2,
			wantFirst: time.Second,
		},
		{
			name: "daemon and non-daemon",
			setup: func(v *Virtual) {
				v.Daemon(at(time.Second), func() {})
				v.At(at(time.Hour), func() {})
			},
			wantWork:  true,
			wantLen:   2,
			wantFirst: time.Second,
		},
		{
			name: "non-daemon cancelled",
			setup: func(v *Virtual) {
				v.Daemon(at(time.Second), func() {})
				v.At(at(time.Minute), func() {}).Cancel()
			},
			wantWork:  false,
			wantLen:   1,
			wantFirst: time.Second,
		},
		{
			name: "daemon cancelled",
			setup: func(v *Virtual) {
				v.Daemon(at(time.Second), func() {}).Cancel()
				v.At(at(time.Minute), func() {})
			},
			wantWork:  true,
			wantLen:   1,
			wantFirst: time.Minute,
		},
		{
			name: "non-daemon already run",
			setup: func(v *Virtual) {
				v.At(at(time.Second), func() {})
				v.Daemon(at(time.Minute), func() {})
				v.Step()
			},
			wantWork:  false,
			wantLen:   1,
			wantFirst: time.Minute,
		},
		{
			name: "ticker is a daemon",
			setup: func(v *Virtual) {
				v.NewTicker(time.Second)
			},
			wantWork:  false,
			wantLen:   1,
			wantFirst: time.Second,
		},
		{
			name: "timer is work",
			setup: func(v *Virtual) {
				v.NewTimer(time.Second)
			},
			wantWork:  true,
			wantLen:   1,
			wantFirst: time.Second,
		},
		{
			name: "AfterFunc is work",
			setup: func(v *Virtual) {
				v.AfterFunc(time.Second, func() {})
			},
			wantWork:  true,
			wantLen:   1,
			wantFirst: time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVirtual(t0)
			tc.setup(v)
			if got := v.HasWork(); got != tc.wantWork {
				t.Errorf("HasWork = %v, want %v", got, tc.wantWork)
			}
			if got := v.Len(); got != tc.wantLen {
				t.Errorf("Len = %d, want %d", got, tc.wantLen)
			}
			next, ok := v.NextAt()
			if ok != (tc.wantLen > 0) {
				t.Fatalf("NextAt ok = %v with Len %d", ok, tc.wantLen)
			}
			if ok && !next.Equal(at(tc.wantFirst)) {
				t.Errorf("NextAt = %v, want %v", next, at(tc.wantFirst))
			}
		})
	}
}

func TestRunUntil(t *testing.T) {
	tests := []struct {
		name    string
		offsets []time.Duration
		// chained, if set, is scheduled by the first event, relative to
		// the time it runs.
		chained   []time.Duration
		advance   []time.Duration // Step-free RunUntil calls before the checked one
		until     time.Duration
		wantRun   int
		wantNow   time.Duration
		wantLeft  int
		wantTotal int64
	}{
		{
			name:      "inclusive at t",
			offsets:   []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 4 * time.Second},
			until:     3 * time.Second,
			wantRun:   4,
			wantNow:   3 * time.Second,
			wantLeft:  1,
			wantTotal: 4,
		},
		{
			name:      "sets now to t between events",
			offsets:   []time.Duration{time.Second, 10 * time.Second},
			until:     5 * time.Second,
			wantRun:   1,
			wantNow:   5 * time.Second,
			wantLeft:  1,
			wantTotal: 1,
		},
		{
			name:      "empty queue still advances",
			until:     time.Hour,
			wantRun:   0,
			wantNow:   time.Hour,
			wantLeft:  0,
			wantTotal: 0,
		},
		{
			name:      "t in the past runs nothing and keeps now",
			offsets:   []time.Duration{time.Hour + time.Second},
			advance:   []time.Duration{time.Hour},
			until:     time.Minute,
			wantRun:   0,
			wantNow:   time.Hour,
			wantLeft:  1,
			wantTotal: 0,
		},
		{
			name:      "events scheduled while running obey t",
			offsets:   []time.Duration{time.Second},
			chained:   []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second},
			until:     3 * time.Second,
			wantRun:   4, // the first event, then chained at 1s, 2s, 3s
			wantNow:   3 * time.Second,
			wantLeft:  1,
			wantTotal: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVirtual(t0)
			limit := at(tc.until)
			for i, off := range tc.offsets {
				first := i == 0
				v.At(at(off), func() {
					if v.Now().After(limit) {
						t.Errorf("event due %v ran past %v", v.Now(), limit)
					}
					if first {
						for _, c := range tc.chained {
							v.AfterDelay(c, func() {
								if v.Now().After(limit) {
									t.Errorf("chained event ran at %v, past %v", v.Now(), limit)
								}
							})
						}
					}
				})
			}
			for _, a := range tc.advance {
				v.RunUntil(at(a))
			}
			if got := v.RunUntil(limit); got != tc.wantRun {
				t.Errorf("RunUntil ran %d, want %d", got, tc.wantRun)
			}
			if !v.Now().Equal(at(tc.wantNow)) {
				t.Errorf("Now = %v, want %v", v.Now(), at(tc.wantNow))
			}
			if v.Len() != tc.wantLeft {
				t.Errorf("Len = %d, want %d", v.Len(), tc.wantLeft)
			}
			if v.Processed() != tc.wantTotal {
				t.Errorf("Processed = %d, want %d", v.Processed(), tc.wantTotal)
			}
		})
	}
}

func TestNowAndSince(t *testing.T) {
	// Times from other locations must come back in the start's location,
	// so that everything the clock hands out formats alike.
	loc := time.FixedZone("X", 3600)
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, loc)
	v := NewVirtual(start)
	if !v.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", v.Now(), start)
	}
	v.At(start.Add(90*time.Second).UTC(), func() {})
	v.Step()
	if got := v.Since(start); got != 90*time.Second {
		t.Errorf("Since = %v, want 90s", got)
	}
	if got := v.Now().Location(); got != loc {
		t.Errorf("Now location = %v, want %v", got, loc)
	}
}

func TestTimer(t *testing.T) {
	t.Run("fires once at due time", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(5 * time.Second)
		v.RunUntil(at(5*time.Second - time.Nanosecond))
		select {
		case got := <-tm.C():
			t.Fatalf("fired early with %v", got)
		default:
		}
		v.RunUntil(at(5 * time.Second))
		select {
		case got := <-tm.C():
			if !got.Equal(at(5 * time.Second)) {
				t.Errorf("fired with %v, want %v", got, at(5*time.Second))
			}
		default:
			t.Fatal("did not fire at due time")
		}
		v.RunUntil(at(time.Hour))
		select {
		case got := <-tm.C():
			t.Errorf("fired twice, second at %v", got)
		default:
		}
		if v.Len() != 0 {
			t.Errorf("Len = %d after firing, want 0", v.Len())
		}
	})
	t.Run("stop before fire", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		if !tm.Stop() {
			t.Error("Stop of pending timer = false")
		}
		if tm.Stop() {
			t.Error("second Stop = true")
		}
		if v.Len() != 0 || v.HasWork() {
			t.Errorf("stopped timer left Len=%d HasWork=%v", v.Len(), v.HasWork())
		}
		v.RunUntil(at(time.Hour))
		select {
		case <-tm.C():
			t.Error("stopped timer fired")
		default:
		}
	})
	t.Run("stop after receive", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		v.Step()
		<-tm.C()
		if tm.Stop() {
			t.Error("Stop after the value was received = true")
		}
	})
	t.Run("stop after fire discards unreceived value", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		v.Step()
		if !tm.Stop() {
			t.Error("Stop with an unreceived value = false")
		}
		select {
		case got := <-tm.C():
			t.Errorf("received stale %v after Stop", got)
		default:
		}
	})
	t.Run("reset pending reschedules", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		v.RunUntil(at(500 * time.Millisecond))
		if !tm.Reset(2 * time.Second) {
			t.Error("Reset of pending timer = false")
		}
		if v.Len() != 1 {
			t.Errorf("Len = %d after Reset, want 1", v.Len())
		}
		v.RunUntil(at(2 * time.Second))
		select {
		case got := <-tm.C():
			t.Fatalf("fired at old time %v", got)
		default:
		}
		v.RunUntil(at(2500 * time.Millisecond))
		select {
		case got := <-tm.C():
			if !got.Equal(at(2500 * time.Millisecond)) {
				t.Errorf("fired with %v, want %v", got, at(2500*time.Millisecond))
			}
		default:
			t.Fatal("did not fire at reset time")
		}
	})
	t.Run("reset after receive rearms", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		v.Step()
		<-tm.C()
		if tm.Reset(time.Second) {
			t.Error("Reset of expired, received timer = true")
		}
		v.Step()
		select {
		case got := <-tm.C():
			if !got.Equal(at(2 * time.Second)) {
				t.Errorf("fired with %v, want %v", got, at(2*time.Second))
			}
		default:
			t.Fatal("rearmed timer did not fire")
		}
	})
	t.Run("stop between pop and delivery", func(t *testing.T) {
		// A foreign goroutine may call Stop after Step has popped the
		// timer's event but before the callback runs; reproduce that
		// window deterministically.
		v := NewVirtual(t0)
		tm := v.NewTimer(time.Second)
		v.mu.Lock()
		fire := v.popLocked()
		v.mu.Unlock()
		if !tm.Stop() {
			t.Error("Stop of undelivered timer = false")
		}
		fire()
		select {
		case got := <-tm.C():
			t.Errorf("received %v after Stop", got)
		default:
		}
	})
	t.Run("non-positive duration fires at now", func(t *testing.T) {
		v := NewVirtual(t0)
		tm := v.NewTimer(-time.Second)
		if !v.Step() {
			t.Fatal("no event for zero timer")
		}
		if got := <-tm.C(); !got.Equal(t0) {
			t.Errorf("fired with %v, want %v", got, t0)
		}
	})
	t.Run("After", func(t *testing.T) {
		v := NewVirtual(t0)
		c := v.After(3 * time.Second)
		if v.Len() != 1 || !v.HasWork() {
			t.Fatalf("After scheduled Len=%d HasWork=%v", v.Len(), v.HasWork())
		}
		v.Step()
		select {
		case got := <-c:
			if !got.Equal(at(3 * time.Second)) {
				t.Errorf("After delivered %v, want %v", got, at(3*time.Second))
			}
		default:
			t.Fatal("After channel empty after step")
		}
	})
}

func TestAfterFunc(t *testing.T) {
	t.Run("runs at due time", func(t *testing.T) {
		v := NewVirtual(t0)
		var ranAt []time.Time
		tm := v.AfterFunc(7*time.Second, func() { ranAt = append(ranAt, v.Now()) })
		if tm.C() != nil {
			t.Error("AfterFunc timer has a channel")
		}
		v.RunUntil(at(time.Hour))
		if len(ranAt) != 1 || !ranAt[0].Equal(at(7*time.Second)) {
			t.Fatalf("f ran at %v, want once at %v", ranAt, at(7*time.Second))
		}
		if tm.Stop() {
			t.Error("Stop after f ran = true")
		}
	})
	t.Run("stop prevents", func(t *testing.T) {
		v := NewVirtual(t0)
		ran := false
		tm := v.AfterFunc(time.Second, func() { ran = true })
		if !tm.Stop() {
			t.Error("Stop of pending AfterFunc = false")
		}
		v.RunUntil(at(time.Hour))
		if ran {
			t.Error("stopped AfterFunc ran")
		}
	})
	t.Run("stop from an earlier event at the same instant", func(t *testing.T) {
		v := NewVirtual(t0)
		ran := false
		var tm interface{ Stop() bool }
		stopped := false
		v.At(at(time.Second), func() { stopped = tm.Stop() })
		tm = v.AfterFunc(time.Second, func() { ran = true })
		drain(v)
		if !stopped || ran {
			t.Errorf("stopped=%v ran=%v, want true false", stopped, ran)
		}
	})
	t.Run("reset reschedules", func(t *testing.T) {
		v := NewVirtual(t0)
		var ranAt []time.Time
		tm := v.AfterFunc(time.Second, func() { ranAt = append(ranAt, v.Now()) })
		if !tm.Reset(4 * time.Second) {
			t.Error("Reset of pending AfterFunc = false")
		}
		v.RunUntil(at(time.Hour))
		if len(ranAt) != 1 || !ranAt[0].Equal(at(4*time.Second)) {
			t.Errorf("f ran at %v, want once at %v", ranAt, at(4*time.Second))
		}
	})
	t.Run("nil f panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("AfterFunc(nil) did not panic")
			}
		}()
		NewVirtual(t0).AfterFunc(time.Second, nil)
	})
}

func TestTicker(t *testing.T) {
	t.Run("fires every d", func(t *testing.T) {
		v := NewVirtual(t0)
		tk := v.NewTicker(2 * time.Second)
		for i := 1; i <= 5; i++ {
			v.RunUntil(at(time.Duration(i) * 2 * time.Second))
			select {
			case got := <-tk.C():
				if want := at(time.Duration(i) * 2 * time.Second); !got.Equal(want) {
					t.Errorf("tick %d = %v, want %v", i, got, want)
				}
			default:
				t.Fatalf("no tick %d", i)
			}
		}
		if v.Processed() != 5 {
			t.Errorf("Processed = %d, want 5", v.Processed())
		}
	})
	t.Run("unread ticks are dropped without blocking", func(t *testing.T) {
		v := NewVirtual(t0)
		tk := v.NewTicker(time.Second)
		// Would deadlock if a tick blocked on an unbuffered or full
		// channel.
		if n := v.RunUntil(at(10 * time.Second)); n != 10 {
			t.Fatalf("ran %d ticks, want 10", n)
		}
		if got := <-tk.C(); !got.Equal(at(time.Second)) {
			t.Errorf("buffered tick = %v, want the first, %v", got, at(time.Second))
		}
		select {
		case got := <-tk.C():
			t.Errorf("more than one tick buffered: %v", got)
		default:
		}
		// Missed ticks must not shift the schedule.
		v.RunUntil(at(11 * time.Second))
		if got := <-tk.C(); !got.Equal(at(11 * time.Second)) {
			t.Errorf("tick after backlog = %v, want %v", got, at(11*time.Second))
		}
	})
	t.Run("stop", func(t *testing.T) {
		v := NewVirtual(t0)
		tk := v.NewTicker(time.Second)
		v.RunUntil(at(time.Second))
		tk.Stop()
		if v.Len() != 0 {
			t.Errorf("Len = %d after Stop, want 0", v.Len())
		}
		if n := v.RunUntil(at(time.Hour)); n != 0 {
			t.Errorf("ran %d events after Stop", n)
		}
		select {
		case got := <-tk.C():
			t.Errorf("tick %v received after Stop", got)
		default:
		}
		tk.Stop()
	})
	t.Run("stop from an event at tick time", func(t *testing.T) {
		v := NewVirtual(t0)
		var tk interface{ Stop() }
		v.At(at(3*time.Second), func() { tk.Stop() })
		tk = v.NewTicker(time.Second)
		if n := v.RunUntil(at(time.Hour)); n != 3 {
			t.Errorf("ran %d events, want 2 ticks and the stop", n)
		}
	})
	t.Run("stop between pop and delivery", func(t *testing.T) {
		v := NewVirtual(t0)
		tk := v.NewTicker(time.Second)
		v.mu.Lock()
		fire := v.popLocked()
		v.mu.Unlock()
		tk.Stop()
		fire()
		if v.Len() != 0 {
			t.Errorf("stopped ticker rearmed: Len = %d", v.Len())
		}
		select {
		case got := <-tk.C():
			t.Errorf("received %v after Stop", got)
		default:
		}
	})
	t.Run("is a daemon", func(t *testing.T) {
		v := NewVirtual(t0)
		v.NewTicker(time.Second)
		for range 3 {
			v.Step()
			if v.HasWork() {
				t.Fatal("ticker counts as work")
			}
			if v.Len() != 1 {
				t.Fatalf("Len = %d, want the next tick only", v.Len())
			}
		}
	})
	t.Run("Tick", func(t *testing.T) {
		v := NewVirtual(t0)
		c := v.Tick(time.Minute)
		v.Step()
		if got := <-c; !got.Equal(at(time.Minute)) {
			t.Errorf("Tick delivered %v, want %v", got, at(time.Minute))
		}
		if v.Tick(0) != nil {
			t.Error("Tick(0) returned a channel")
		}
	})
	for _, d := range []time.Duration{0, -time.Second} {
		t.Run(fmt.Sprintf("NewTicker(%v) panics", d), func(t *testing.T) {
			defer func() {
				if r := recover(); r != "non-positive interval for NewTicker" {
					t.Errorf("recovered %v", r)
				}
			}()
			NewVirtual(t0).NewTicker(d)
		})
	}
}

func TestSleepFromForeignGoroutine(t *testing.T) {
	v := NewVirtual(t0)
	done := make(chan time.Time)
	go func() {
		v.Sleep(5 * time.Second)
		done <- v.Now()
	}()
	for !v.HasWork() {
		runtime.Gosched()
	}
	v.Step()
	if got := <-done; !got.Equal(at(5 * time.Second)) {
		t.Errorf("woke at %v, want %v", got, at(5*time.Second))
	}
	// Sleep(0) must return without anyone stepping.
	v.Sleep(0)
}

func TestConcurrentReaders(t *testing.T) {
	const events = 10000
	v := NewVirtual(t0)
	for i := range events {
		v.At(at(time.Duration(i)*time.Millisecond), func() {})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan string, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := v.Now()
		for {
			select {
			case <-stop:
				return
			default:
			}
			now := v.Now()
			if now.Before(last) {
				select {
				case errs <- fmt.Sprintf("time went backwards: %v then %v", last, now):
				default:
				}
				return
			}
			last = now
			if v.Since(t0) < 0 {
				select {
				case errs <- "negative Since(start)":
				default:
				}
				return
			}
			v.Len()
		}
	}()
	n := 0
	for v.Step() {
		n++
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n != events {
		t.Errorf("stepped %d, want %d", n, events)
	}
}

// TestMillionEvents guards against accidentally quadratic queue operations.
// A million events flow through a queue that holds ten thousand at a time, as
// a large simulation would: with O(log n) operations this takes well under a
// second, with O(n) ones it takes minutes.
func TestMillionEvents(t *testing.T) {
	total, pending := 1_000_000, 10_000
	if raceEnabled {
		total, pending = 50_000, 1_000
	}
	v := NewVirtual(t0)
	rng := rand.New(rand.NewPCG(1, 2))
	scheduled := 0
	var last time.Time
	outOfOrder := 0
	var fn func()
	fn = func() {
		now := v.Now()
		if now.Before(last) {
			outOfOrder++
		}
		last = now
		if scheduled < total {
			scheduled++
			v.AfterDelay(time.Duration(rng.IntN(3600))*time.Second, fn)
		}
	}
	for range pending {
		scheduled++
		v.At(at(time.Duration(rng.IntN(3600))*time.Second), fn)
	}
	if v.Len() != pending {
		t.Fatalf("Len = %d, want %d", v.Len(), pending)
	}
	if got := drain(v); got != total || v.Processed() != int64(total) {
		t.Fatalf("stepped %d, processed %d, want %d", got, v.Processed(), total)
	}
	if outOfOrder != 0 {
		t.Errorf("%d events ran before an earlier-due one", outOfOrder)
	}
	// Ids must be recycled, or the queue's tables would grow with every
	// event ever scheduled rather than with the peak number pending.
	if got := len(v.queue.events); got > pending+1 {
		t.Errorf("id table grew to %d entries for %d pending events", got, pending)
	}
}

func BenchmarkStep(b *testing.B) {
	v := NewVirtual(t0)
	fn := func() {}
	for b.Loop() {
		v.AfterDelay(time.Second, fn)
		v.Step()
	}
}
