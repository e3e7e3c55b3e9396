package pubsub

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(100, 0)
	var b bucket
	got := 0
	for range 10 {
		if b.take(t0, 2, 5) {
			got++
		}
	}
	if got != 5 {
		t.Errorf("burst: %d, want 5", got)
	}
	if b.take(t0.Add(400*time.Millisecond), 2, 5) {
		t.Error("a token after 0.4 s at 2/s")
	}
	if !b.take(t0.Add(600*time.Millisecond), 2, 5) {
		t.Error("no token after 0.6 s at 2/s")
	}
	if b.take(t0, 2, 5) {
		t.Error("a clock going back earned a token")
	}
	if n := func() int {
		n := 0
		for range 10 {
			if b.take(t0.Add(time.Hour), 2, 5) {
				n++
			}
		}
		return n
	}(); n != 5 {
		t.Errorf("after an hour: %d tokens, want the burst 5", n)
	}
}
