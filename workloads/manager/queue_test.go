package manager

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kwoksim/kwoksim/clock"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// queueLog is a Queue whose syncs are written down as "t name".
func queueLog(t *testing.T) (*clock.Virtual, *Queue, *[]string) {
	t.Helper()
	c := clock.NewVirtual(epoch)
	var log []string
	q := newQueue(c, "Kind", func(ns, name string) error {
		log = append(log, fmt.Sprintf("%v %s/%s", c.Since(epoch), ns, name))
		return nil
	}, func(kind, ns, name string, err error) {
		if err != nil {
			t.Errorf("sync of %s %s/%s failed: %v", kind, ns, name, err)
		}
	})
	return c, q, &log
}

func run(c *clock.Virtual) {
	for c.Step() {
	}
}

// Requests for an object already waiting for a sync at this instant collapse into it, as
// the work queue's dirty set collapses them; another object gets its own sync.
func TestQueueAddCollapses(t *testing.T) {
	c, q, log := queueLog(t)
	q.Add("ns", "a")
	q.Add("ns", "a")
	q.Add("ns", "b")
	q.Add("ns", "a")
	run(c)
	q.Add("ns", "a") // after the sync ran: a new one
	run(c)
	if got, want := strings.Join(*log, ", "), "0s ns/a, 0s ns/b, 0s ns/a"; got != want {
		t.Errorf("syncs %s, want %s", got, want)
	}
}

// A delayed sync waits at the earliest time asked for; a later request changes nothing,
// an earlier one moves it; Forget drops it.
func TestQueueAddAfterKeepsTheEarliest(t *testing.T) {
	c, q, log := queueLog(t)
	q.AddAfter("ns", "a", 10*time.Second)
	q.AddAfter("ns", "a", 20*time.Second)
	q.AddAfter("ns", "a", 5*time.Second)
	q.AddAt("ns", "b", epoch.Add(7*time.Second))
	q.AddAfter("ns", "c", 3*time.Second)
	q.Forget("ns", "c")
	run(c)
	if got, want := strings.Join(*log, ", "), "5s ns/a, 7s ns/b"; got != want {
		t.Errorf("syncs %s, want %s", got, want)
	}
}

// A delayed sync does not stand in for an immediate one: both run, as the delaying queue's
// waiting entry stays when the item is also added at once.
func TestQueueAddDoesNotCancelAWaitingSync(t *testing.T) {
	c, q, log := queueLog(t)
	q.AddAfter("ns", "a", 10*time.Second)
	q.Add("ns", "a")
	run(c)
	if got, want := strings.Join(*log, ", "), "0s ns/a, 10s ns/a"; got != want {
		t.Errorf("syncs %s, want %s", got, want)
	}
}

// Background syncs do not keep the clock busy; a foreground request for the same object
// makes the waiting sync foreground, at the earliest of the two times.
func TestQueueBackground(t *testing.T) {
	c, q, _ := queueLog(t)
	q.AddAfterInBackground("ns", "a", 10*time.Second)
	if c.HasWork() {
		t.Fatal("a background sync alone keeps the clock busy")
	}
	q.AddAfterInBackground("ns", "a", 20*time.Second)
	if at, _ := c.NextAt(); !at.Equal(epoch.Add(10 * time.Second)) {
		t.Errorf("next event at %v, want 10s", at.Sub(epoch))
	}
	q.AddAfter("ns", "a", 30*time.Second)
	if !c.HasWork() {
		t.Fatal("a foreground request left the waiting sync in the background")
	}
	if at, _ := c.NextAt(); !at.Equal(epoch.Add(10 * time.Second)) {
		t.Errorf("next event at %v, want 10s (the earliest asked for)", at.Sub(epoch))
	}
	q.AddAfterInBackground("ns", "a", 5*time.Second)
	if !c.HasWork() {
		t.Error("a background request turned a foreground sync into background work")
	}
	if at, _ := c.NextAt(); !at.Equal(epoch.Add(5 * time.Second)) {
		t.Errorf("next event at %v, want 5s", at.Sub(epoch))
	}
}

// A rate-limited retry waits 5 ms after the first failure and twice as long after each
// further one (the default controller rate limiter's per-item back-off), until
// ForgetFailures; it is background work, which WakeRetries makes foreground at the same time.
func TestQueueAddRateLimitedBacksOff(t *testing.T) {
	c, q, log := queueLog(t)
	for range 3 {
		q.AddRateLimited("ns", "a")
		if c.HasWork() {
			t.Fatal("a retry keeps the run going; want background work")
		}
		run(c)
	}
	q.ForgetFailures("ns", "a")
	q.AddRateLimited("ns", "a")
	q.AddRateLimited("ns", "b")
	q.WakeRetries("ns")
	if !c.HasWork() {
		t.Fatal("woken retries are still background work")
	}
	run(c)
	// 5 ms, then 10 ms and 20 ms after the syncs that failed; 5 ms again after ForgetFailures.
	if got, want := strings.Join(*log, ", "), "5ms ns/a, 15ms ns/a, 35ms ns/a, 40ms ns/a, 40ms ns/b"; got != want {
		t.Errorf("syncs %s, want %s", got, want)
	}
}

// With workers, a queue is the work queue with controller.Run's workers: at most that many
// objects are processed at once, the others wait in the order they were added; an object held
// by its sync stays processed until released, and requests for it meanwhile collapse into one
// sync after that.
func TestQueueWorkersAndHold(t *testing.T) {
	c := clock.NewVirtual(epoch)
	var log []string
	var q *Queue
	release := map[string]func(error){}
	q = newQueue(c, "Kind", func(ns, name string) error {
		log = append(log, fmt.Sprintf("%v %s", c.Since(epoch), name))
		if name != "c" {
			release[name] = q.Hold(ns, name)
		}
		return nil
	}, func(kind, ns, name string, err error) {
		log = append(log, fmt.Sprintf("%v done %s %v", c.Since(epoch), name, err))
	})
	q.SetWorkers(2)
	for _, n := range []string{"a", "b", "c", "d"} {
		q.Add("ns", n)
	}
	run(c)
	// a and b are held: c and d wait for a worker.
	if got, want := strings.Join(log, ", "), "0s a, 0s b"; got != want {
		t.Fatalf("syncs %s, want %s", got, want)
	}
	q.Add("ns", "a") // collapses …
	q.Add("ns", "a") // … into one sync after a's release
	c.AfterDelay(time.Second, func() { release["a"](nil) })
	run(c)
	// a's worker takes c (first in line), which is not held, then d, which is: a, asked for
	// again while held, waits for a worker, since b and d hold both.
	want := "0s a, 0s b, 1s done a <nil>, 1s c, 1s done c <nil>, 1s d"
	if got := strings.Join(log, ", "); got != want {
		t.Errorf("syncs\n%s\nwant\n%s", got, want)
	}
	release["b"](fmt.Errorf("boom"))
	run(c)
	release["d"](nil)
	release["a"](nil)
	run(c)
	want += ", 1s done b boom, 1s a, 1s done d <nil>, 1s done a <nil>"
	if got := strings.Join(log, ", "); got != want {
		t.Errorf("syncs\n%s\nwant\n%s", got, want)
	}
	if q.busy != 0 || len(q.processing) != 0 || len(q.ready) != 0 {
		t.Errorf("queue not idle: busy %d, processing %d, ready %d", q.busy, len(q.processing), len(q.ready))
	}
}
