// Package drain is the queue behind every drain of the drain convention
// (CONTRIBUTING.md), written once: bounded, the oldest entry dropped (and
// reported, for the owner's counter) when full so that the newest always
// gets in, and drained into a slice the queue reuses. netcode's Mesh,
// lockstep's Session, the lobby and pubsub's subscriptions hold one each.
//
//	var q drain.Queue[Event]
//	if q.Push(e, limit) {
//		stats.EventsDropped++
//	}
//	events := q.Drain() // valid until the next Drain
package drain

import "slices"

// Queue holds up to a bound of values, oldest first. The zero Queue is
// empty and ready. It is not safe for concurrent use: its owner guards it.
type Queue[T any] struct {
	q      []T
	polled []T // Drain's reused result
}

// Push appends v. If the queue already holds limit values (or more), the
// oldest is dropped first and Push reports true. The buffer is kept: a
// steady state allocates nothing.
func (q *Queue[T]) Push(v T, limit int) (dropped bool) {
	if len(q.q) >= limit && len(q.q) > 0 {
		copy(q.q, q.q[1:])
		q.q = q.q[:len(q.q)-1] // the append below overwrites the last slot
		dropped = true
	}
	q.q = append(q.q, v)
	return dropped
}

// Drain returns the queued values, oldest first, and empties the queue.
// The returned slice is reused: it is valid until the next Drain. An
// empty queue drains to an empty slice.
func (q *Queue[T]) Drain() []T {
	q.polled = append(q.polled[:0], q.q...)
	clear(q.q)
	q.q = q.q[:0]
	return q.polled
}

// Grow makes room for n values in both buffers, so that a queue that never
// holds more than n allocates nothing from here on.
func (q *Queue[T]) Grow(n int) {
	q.q = slices.Grow(q.q, n)
	q.polled = slices.Grow(q.polled, n)
}

// Len is the number of values queued.
func (q *Queue[T]) Len() int { return len(q.q) }

// Reset empties the queue and lets go of both buffers.
func (q *Queue[T]) Reset() { *q = Queue[T]{} }
