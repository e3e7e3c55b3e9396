//go:build !js

package netcode

import (
	"testing"
	"time"
)

// TestBudgetRule: a reader waits for room only while queued inbox messages
// hold part of the budget (the game can free them); with the budget full
// of unfinished messages alone it gets false at once (the message is
// dropped), so it never waits for a stream of the same SCTP association.
func TestBudgetRule(t *testing.T) {
	b := newBudget(100)
	never := make(chan struct{})
	if !b.take(60, never) {
		t.Fatal("60 of 100 refused")
	}
	// 60 held by an unfinished message: 50 more cannot wait for anything.
	if b.take(50, never) {
		t.Fatal("took 50 over budget")
	}
	if b.over.Load() != 1 || b.waiters.Load() != 0 {
		t.Fatalf("over %d, waiters %d; want 1, 0", b.over.Load(), b.waiters.Load())
	}
	// The 60 become a queued inbox message: now a reader waits for the game.
	b.queued(60)
	got := make(chan bool)
	go func() { got <- b.take(50, never) }()
	waitFor(t, 5*time.Second, "the reader to wait", func() bool { return b.waiters.Load() == 1 })
	select {
	case <-got:
		t.Fatal("take returned while the budget was full")
	case <-time.After(20 * time.Millisecond):
	}
	b.dequeued(60) // the game took the message
	if !<-got {
		t.Fatal("take failed after the game made room")
	}
	if b.held() != 50 || b.waiters.Load() != 0 {
		t.Fatalf("held %d, waiters %d; want 50, 0", b.held(), b.waiters.Load())
	}
	// A waiting reader gives up when its peer goes away.
	b.queued(50)
	done := make(chan struct{})
	go func() { got <- b.take(60, done) }()
	waitFor(t, 5*time.Second, "the reader to wait", func() bool { return b.waiters.Load() == 1 })
	close(done)
	if <-got {
		t.Fatal("take succeeded after done closed")
	}
	if b.tryTake(51) || !b.tryTake(50) {
		t.Fatal("tryTake does not respect the limit")
	}
}
