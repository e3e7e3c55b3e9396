package memnet

import (
	"container/heap"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// pending is a message on its way to an inbox.
type pending struct {
	due time.Time
	seq uint64
	msg transport.Message
}

// inbox orders pending messages by due time, then by send order.
type inbox []pending

func (q inbox) Len() int { return len(q) }
func (q inbox) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q inbox) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *inbox) Push(x any)   { *q = append(*q, x.(pending)) }
func (q *inbox) Pop() any {
	old := *q
	x := old[len(old)-1]
	old[len(old)-1] = pending{}
	*q = old[:len(old)-1]
	return x
}

func (q *inbox) push(p pending) { heap.Push(q, p) }
func (q *inbox) pop() pending   { return heap.Pop(q).(pending) }
