package netcode

import "testing"

// PollEvents follows the drain convention: its slice is reused (no
// allocation once warm) and stays valid while new events queue.
func TestPollEventsReusesSlice(t *testing.T) {
	m := &Mesh{cfg: Config{EventQueueLen: 4}}
	m.emit(EventConnected, "p", nil)
	first := m.PollEvents()
	m.emit(EventLeft, "p", nil) // queued while first is held
	if len(first) != 1 || first[0].Kind != EventConnected {
		t.Fatalf("held batch changed: %v", first)
	}
	second := m.PollEvents()
	if len(second) != 1 || second[0].Kind != EventLeft || &second[0] != &first[0] {
		t.Errorf("second batch %v: want one EventLeft in the reused slice", second)
	}
	if n := testing.AllocsPerRun(100, func() {
		m.emit(EventConnected, "p", nil)
		m.PollEvents()
	}); n != 0 {
		t.Errorf("%v allocations per emit+poll, want 0", n)
	}
}
