package natsbackplane

import (
	"testing"
	"time"
)

// TestReapable: the reap decision for one member.
func TestReapable(t *testing.T) {
	const now = int64(1_000_000)
	dead := map[string]bool{"gone": true}
	tests := []struct {
		name    string
		m       member
		unknown bool
		want    bool
	}{
		{"orphan held on", member{Node: "", HeldUntil: now + 1}, false, false},
		{"orphan hold ran out", member{Node: "", HeldUntil: now - 1}, false, true},
		{"on a live node", member{Node: "alive"}, false, false},
		{"on a dead node", member{Node: "gone"}, false, true},
		{"ours, known here", member{Node: "self"}, false, false},
		{"ours, unknown here for a TTL", member{Node: "self"}, true, true},
		// unknown applies to this node's members only.
		{"another's, flagged unknown", member{Node: "alive"}, true, false},
	}
	for _, tt := range tests {
		if got := reapable(tt.m, now, "self", dead, tt.unknown); got != tt.want {
			t.Errorf("%s: reapable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestOutageBooks: a heartbeat gap counts as a registry outage only if
// this node was trying to write meanwhile; a starved heartbeat goroutine
// (the gap was its own) is none. TestRacingJoins failed under a CPU hog
// (load 31 on 2 cores) with "the registry was unavailable" before: a late
// tick alone made new rooms wait.
func TestOutageBooks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	w := window{ttl: 8 * time.Second} // gap 4 s, period 1 s
	w.tried(at(0))
	if w.landed(at(100)) {
		t.Fatal("the first heartbeat is an outage")
	}
	// Starved for 5 s, then a prompt write.
	w.tried(at(5100))
	if w.landed(at(5200)) {
		t.Fatal("a starved heartbeat goroutine counts as an outage")
	}
	if _, ok := w.settled(at(5300)); !ok {
		t.Fatal("not settled after a starved tick")
	}
	// Writes failing for 5 s: an outage, going on, then over.
	for ms := 6200; ms <= 10200; ms += 1000 {
		w.tried(at(ms))
	}
	if !w.down(at(10200)) {
		t.Fatal("5 s of failing writes are not an outage going on")
	}
	if !w.landed(at(10300)) {
		t.Fatal("5 s of failing writes are no outage")
	}
	if !w.gapFrom.Equal(at(5200)) || !w.okSince.Equal(at(10300)) {
		t.Fatalf("outage %v to %v, want 5.2 s to 10.3 s", w.gapFrom.Sub(t0), w.okSince.Sub(t0))
	}
	if _, ok := w.settled(at(10400)); ok {
		t.Fatal("settled right after an outage")
	}
}
