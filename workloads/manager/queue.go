package manager

import (
	"time"

	"github.com/kwoksim/kwoksim/clock"
)

// Queue is a controller's work queue on the virtual clock, with the semantics of client-go's
// rate-limited delaying queue (k8s.io/client-go/util/workqueue: Add, AddAfter) as a
// controller uses it:
//
//   - Add asks for a sync at the current instant. Requests for an object that is already
//     waiting for one collapse into it, as the queue's dirty set collapses them.
//   - AddAfter asks for a sync later. An object waits for one delayed sync at most, at the
//     earliest time asked for, as the delaying queue's waitingForQueue keeps one entry per item
//     and only ever moves it earlier. When that time comes the object is Added.
//
// A delayed sync can be background work (AddAfterInBackground): it runs if the simulation
// runs on past it, but does not keep a run going on its own (see clock.Virtual.Daemon). A
// request from the foreground makes the waiting sync foreground.
type Queue struct {
	clock *clock.Virtual
	kind  string
	sync  func(ns, name string) error
	// synced is told the outcome of every sync.
	synced  func(kind, ns, name string, err error)
	dirty   map[objectName]bool
	waiting map[objectName]*waiting
	retry   retries // see ratelimit.go
}

type objectName struct{ namespace, name string }

type waiting struct {
	event      *clock.Event
	background bool
}

func newQueue(c *clock.Virtual, kind string, sync func(ns, name string) error, synced func(kind, ns, name string, err error)) *Queue {
	return &Queue{clock: c, kind: kind, sync: sync, synced: synced, dirty: map[objectName]bool{}, waiting: map[objectName]*waiting{}}
}

// Add schedules one sync of an object at the current instant; repeated requests before it
// runs collapse into that one sync.
func (q *Queue) Add(ns, name string) {
	k := objectName{ns, name}
	if q.dirty[k] {
		return
	}
	q.dirty[k] = true
	q.clock.AfterDelay(0, func() {
		delete(q.dirty, k)
		q.synced(q.kind, ns, name, q.sync(ns, name))
	})
}

// AddAfter asks for a sync of the object d from now (now, if d ≤ 0), unless an earlier one is
// already waiting.
func (q *Queue) AddAfter(ns, name string, d time.Duration) {
	q.AddAt(ns, name, q.clock.Now().Add(d))
}

// AddAt asks for a sync of the object at t, unless an earlier one is already waiting.
func (q *Queue) AddAt(ns, name string, t time.Time) { q.addAt(objectName{ns, name}, t, false) }

// AddAfterInBackground is AddAfter as background work: the sync runs only if something else
// keeps the simulation running until then.
func (q *Queue) AddAfterInBackground(ns, name string, d time.Duration) {
	q.addAt(objectName{ns, name}, q.clock.Now().Add(d), true)
}

func (q *Queue) addAt(k objectName, t time.Time, background bool) {
	if w := q.waiting[k]; w != nil && w.event.Pending() {
		at := w.event.At()
		if at.Before(t) {
			t = at
		}
		background = background && w.background
		if t.Equal(at) && background == w.background {
			return // an earlier (or as early) sync is waiting, foreground if either asks
		}
		w.event.Cancel()
	}
	run := func() {
		delete(q.waiting, k)
		q.Add(k.namespace, k.name)
	}
	w := &waiting{background: background}
	if background {
		w.event = q.clock.Daemon(t, run)
	} else {
		w.event = q.clock.At(t, run)
	}
	q.waiting[k] = w
}

// Forget drops the object's waiting delayed sync, if any.
func (q *Queue) Forget(ns, name string) {
	k := objectName{ns, name}
	if w := q.waiting[k]; w != nil {
		w.event.Cancel()
		delete(q.waiting, k)
	}
}
