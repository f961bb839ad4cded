package clock

import "container/heap"

// eventQueue is a container/heap of pending events, ordered by due time and
// then by scheduling sequence so that events due at the same instant run in
// the order they were scheduled; the heap itself is not stable.
//
// Cancel must remove an event in O(log n) rather than leave a tombstone, so
// the queue tracks every event's heap position. The layout is chosen for
// large queues, where Step is dominated by cache misses: the heap slots hold
// the ordering key inline and no pointers (comparisons never dereference an
// event, and swaps need no GC write barriers), and positions live in a dense
// table indexed by a recycled slot id instead of in the scattered events.
type eventQueue struct {
	slots  []slot
	pos    []int32  // pos[id] is the heap index of the event with that id
	events []*Event // events[id] is the pending event with that id
	free   []int32  // ids of events that are no longer pending
}

type slot struct {
	sec  int64 // due time as Unix seconds and nanoseconds, which,
	nsec int32 // unlike UnixNano, covers every representable time
	id   int32
	seq  uint64
}

// push adds e and assigns it an id.
func (q *eventQueue) push(e *Event) {
	heap.Push(q, e)
}

// pop removes and returns the earliest event.
func (q *eventQueue) pop() *Event {
	return heap.Pop(q).(*Event)
}

// remove takes a pending e out of the queue.
func (q *eventQueue) remove(e *Event) {
	heap.Remove(q, int(q.pos[e.id]))
}

// peek returns the earliest event without removing it.
func (q *eventQueue) peek() *Event {
	return q.events[q.slots[0].id]
}

func (q *eventQueue) Len() int { return len(q.slots) }

func (q *eventQueue) Less(i, j int) bool {
	a, b := &q.slots[i], &q.slots[j]
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.seq < b.seq
}

func (q *eventQueue) Swap(i, j int) {
	q.slots[i], q.slots[j] = q.slots[j], q.slots[i]
	q.pos[q.slots[i].id] = int32(i)
	q.pos[q.slots[j].id] = int32(j)
}

// Push is for container/heap only; use push.
func (q *eventQueue) Push(x any) {
	e := x.(*Event)
	var id int32
	if n := len(q.free); n > 0 {
		id = q.free[n-1]
		q.free = q.free[:n-1]
	} else {
		id = int32(len(q.events))
		q.events = append(q.events, nil)
		q.pos = append(q.pos, 0)
	}
	e.id = id
	q.events[id] = e
	q.pos[id] = int32(len(q.slots))
	q.slots = append(q.slots, slot{
		sec:  e.at.Unix(),
		nsec: int32(e.at.Nanosecond()),
		id:   id,
		seq:  e.seq,
	})
}

// Pop is for container/heap only; use pop or remove.
func (q *eventQueue) Pop() any {
	n := len(q.slots) - 1
	id := q.slots[n].id
	q.slots = q.slots[:n]
	e := q.events[id]
	// Clear the table entry so it does not pin an event that has run.
	q.events[id] = nil
	q.free = append(q.free, id)
	e.id = -1
	return e
}
