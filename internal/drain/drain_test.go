package drain

import (
	"slices"
	"testing"
)

// TestQueue: the newest limit values are kept, each overflow reports one
// drop, Drain empties the queue and reuses its result.
func TestQueue(t *testing.T) {
	var q Queue[int]
	drops := 0
	for i := range 5 {
		if q.Push(i, 3) {
			drops++
		}
	}
	if got := q.Drain(); !slices.Equal(got, []int{2, 3, 4}) || drops != 2 {
		t.Fatalf("Drain = %v after %d drops, want [2 3 4] after 2", got, drops)
	}
	if q.Len() != 0 || len(q.Drain()) != 0 {
		t.Fatal("queue not empty after Drain")
	}
	q.Push(7, 3)
	first := q.Drain()
	q.Push(8, 3)
	second := q.Drain()
	if &first[0] != &second[0] || second[0] != 8 {
		t.Fatalf("Drain did not reuse its slice: %v", second)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		q.Push(1, 3)
		q.Push(2, 3)
		q.Drain()
	}); allocs != 0 {
		t.Errorf("%v allocations per push-push-drain in steady state, want 0", allocs)
	}
	q.Reset()
	if q.Len() != 0 {
		t.Fatal("Reset left values")
	}
}

// TestQueueLimitZero: a limit of 0 or less still keeps the newest value
// (the newest always gets in).
func TestQueueLimitZero(t *testing.T) {
	var q Queue[string]
	if q.Push("a", 0) {
		t.Error("dropped from an empty queue")
	}
	if !q.Push("b", 0) {
		t.Error("no drop at the limit")
	}
	if got := q.Drain(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("Drain = %v, want [b]", got)
	}
}
