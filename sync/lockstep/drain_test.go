package lockstep

import "testing"

// The event queue keeps the newest maxEvents and counts the oldest it drops
// (the drain convention, CONTRIBUTING.md).
func TestEventQueueKeepsNewest(t *testing.T) {
	s := &Session[uint8]{}
	s.events.Grow(maxEvents)
	for i := range maxEvents + 5 {
		s.event(Event{Kind: EventDesync, Frame: Frame(i)})
	}
	got := s.PollEvents()
	if len(got) != maxEvents || got[0].Frame != 5 || got[len(got)-1].Frame != Frame(maxEvents+4) {
		t.Fatalf("kept %d events, frames %d..%d: want the newest %d", len(got), got[0].Frame, got[len(got)-1].Frame, maxEvents)
	}
	if s.stats.EventsDropped != 5 {
		t.Errorf("dropped %d, want 5", s.stats.EventsDropped)
	}
	if n := testing.AllocsPerRun(50, func() { s.event(Event{}); s.PollEvents() }); n != 0 {
		t.Errorf("%v allocations per event+poll, want 0", n)
	}
}
