package netcode

import (
	"sync"
	"sync/atomic"
)

// budget is one remote peer's memory budget (Config.PeerMemory): the
// bytes this mesh holds for that peer across all its application
// channels, i.e. the buffers of its unfinished chunked messages and its
// messages queued in the inboxes. Safe for concurrent use.
//
// Overflow rule. A Reliable read loop that needs more than is left waits
// (stops reading: back-pressure) only while some of the peer's messages
// wait in the inboxes, i.e. while the game can make room by taking them;
// if the budget is full of unfinished chunked messages alone, the message
// that needs more is dropped instead (counted), so that a reader never
// waits for another stream of the same SCTP association, which could
// then starve (one receive window per association). An Unreliable
// message that does not fit is dropped.
type budget struct {
	limit int64

	mu    sync.Mutex // guards used, inbox and space
	used  int64
	inbox int64         // part of used held by queued inbox messages
	space chan struct{} // made by a waiter; closed when bytes are released

	waiters atomic.Int32  // read loops waiting for the game (room in the budget or an inbox)
	over    atomic.Uint64 // times the peer hit the limit (Stats.OverBudget)
}

func newBudget(limit int) *budget { return &budget{limit: int64(limit)} }

// tryTake takes n bytes if they fit.
func (b *budget) tryTake(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+int64(n) > b.limit {
		b.over.Add(1)
		return false
	}
	b.used += int64(n)
	return true
}

// take takes n bytes, waiting while they do not fit and queued inbox
// messages hold part of the budget (the game can free them). It reports
// false, without waiting further, when they do not fit and the inbox holds
// nothing (the caller drops the message), or when done closes.
func (b *budget) take(n int, done <-chan struct{}) bool {
	counted, waiting := false, false
	defer func() {
		if waiting {
			b.waiters.Add(-1)
		}
	}()
	for {
		b.mu.Lock()
		if b.used+int64(n) <= b.limit {
			b.used += int64(n)
			b.mu.Unlock()
			return true
		}
		if !counted {
			counted = true
			b.over.Add(1)
		}
		if b.inbox == 0 {
			b.mu.Unlock()
			return false
		}
		if b.space == nil {
			b.space = make(chan struct{})
		}
		space := b.space
		b.mu.Unlock()
		if !waiting {
			waiting = true
			b.waiters.Add(1)
		}
		select {
		case <-space:
		case <-done:
			return false
		}
	}
}

// release gives n bytes back.
func (b *budget) release(n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= int64(n)
	wake(&b.space)
	b.mu.Unlock()
}

// queued records that n of the taken bytes now belong to an inbox message.
func (b *budget) queued(n int) {
	b.mu.Lock()
	b.inbox += int64(n)
	b.mu.Unlock()
}

// dequeued gives back the n bytes of an inbox message the game took.
func (b *budget) dequeued(n int) {
	b.mu.Lock()
	b.inbox -= int64(n)
	b.used -= int64(n)
	wake(&b.space)
	b.mu.Unlock()
}

func (b *budget) held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
