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
// A queue given workers (SetWorkers, for a controller whose writes are paced) also has the
// queue's processing set and a controller's bounded workers (workqueue's Get/Done and
// controller.Run's worker goroutines): an object is processed from the moment a worker takes
// it until its sync is done, which for a sync that Holds it is when its last paced write has
// been sent; requests for it meanwhile collapse into one sync after that. At most workers
// objects are processed at once; the others wait their turn in the order they were added.
// Without workers (the default) a sync is an event of its own at the instant it is asked for,
// and nothing is ever held.
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

	// workers bounds the objects processed at once; 0 means no processing set at all.
	workers int
	// busy counts the objects taken by a worker (processing, or about to be).
	busy int
	// processing holds the objects taken by a worker, until their sync is done.
	processing map[objectName]*flight
	// ready are the objects waiting for a worker, first in first out.
	ready []objectName
}

// flight is one object's processing by a worker.
type flight struct {
	// returned: Sync has returned; held: a Hold is not released yet.
	returned, held bool
	err            error
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
	if q.workers == 0 {
		q.clock.AfterDelay(0, func() {
			delete(q.dirty, k)
			q.synced(q.kind, ns, name, q.sync(ns, name))
		})
		return
	}
	if q.processing[k] != nil {
		return // synced again when its processing is done
	}
	q.ready = append(q.ready, k)
	q.dispatch()
}

// SetWorkers gives the queue n workers (controller.Run's workers, e.g.
// --concurrent-replicaset-syncs) and a processing set; see Queue. Call it before any Add.
func (q *Queue) SetWorkers(n int) {
	q.workers = n
	q.processing = map[objectName]*flight{}
}

// dispatch hands waiting objects to free workers; each sync runs as an event at this instant.
func (q *Queue) dispatch() {
	for q.busy < q.workers && len(q.ready) > 0 {
		k := q.ready[0]
		q.ready = q.ready[1:]
		q.busy++
		f := &flight{}
		q.processing[k] = f
		q.clock.AfterDelay(0, func() { q.process(k, f) })
	}
}

// process is a worker's processNextWorkItem: Get (the object leaves the dirty set), sync,
// and Done unless the sync holds the object.
func (q *Queue) process(k objectName, f *flight) {
	delete(q.dirty, k)
	err := q.sync(k.namespace, k.name)
	f.returned = true
	if f.held {
		return
	}
	if f.err != nil {
		err = f.err // released during the sync
	}
	q.done(k, err)
}

// Hold keeps the object being synced in process after Sync returns, until release is called:
// a sync whose writes are paced calls it, and releases once its last write has been sent,
// with the sync's outcome (Sync's own return value is then not used). Call it only from Sync,
// on a queue with workers, and release once.
func (q *Queue) Hold(ns, name string) (release func(err error)) {
	k := objectName{ns, name}
	f := q.processing[k]
	if f == nil || f.returned || f.held {
		panic("manager: Hold outside the object's sync, or twice")
	}
	f.held = true
	return func(err error) {
		if !f.held {
			panic("manager: a Hold released twice")
		}
		f.held, f.err = false, err
		if f.returned {
			q.done(k, err)
		}
	}
}

// done is the work queue's Done: the object is free again, synced once more if it was asked
// for meanwhile (at the end of the line), and its worker takes the next object.
func (q *Queue) done(k objectName, err error) {
	q.synced(q.kind, k.namespace, k.name, err)
	delete(q.processing, k)
	q.busy--
	if q.dirty[k] {
		q.ready = append(q.ready, k)
	}
	q.dispatch()
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
