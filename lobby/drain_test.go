package lobby

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

// The event queue follows the drain convention: it keeps the newest
// MaxEvents, counts what it drops, and PollEvents reuses its slice while the
// deprecated Poll hands out a copy.
func TestEventQueueKeepsNewest(t *testing.T) {
	n := memnet.New(memnet.Config{})
	defer n.Close()
	l, err := New(n.Join("a").Channel("lobby", transport.Reliable), Config{Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.PollEvents()
	l.mu.Lock()
	for i := range MaxEvents + 10 {
		l.emit(Event{Kind: EventCountdown, Countdown: 1 + time.Duration(i)})
	}
	l.mu.Unlock()
	ev := l.PollEvents()
	var cd []Event
	for _, e := range ev {
		if e.Kind == EventCountdown {
			cd = append(cd, e)
		}
	}
	if len(cd) == 0 || cd[len(cd)-1].Countdown != 1+time.Duration(MaxEvents+9) {
		t.Fatalf("the newest event was not kept: %d countdown events", len(cd))
	}
	if len(ev) > MaxEvents || l.Stats().EventsDropped < 10 {
		t.Errorf("%d events, %d dropped: want at most %d kept and >= 10 counted", len(ev), l.Stats().EventsDropped, MaxEvents)
	}
	if cd[0].Countdown < 1+time.Duration(10) {
		t.Errorf("an oldest event survived: %v", cd[0].Countdown)
	}
	l.mu.Lock()
	l.emit(Event{Kind: EventCountdown})
	l.mu.Unlock()
	old := l.Poll() // caller-owned copy
	again := l.PollEvents()
	if len(again) != 0 || len(old) == 0 || old[len(old)-1].Kind != EventCountdown {
		t.Errorf("deprecated Poll copy %v, later PollEvents %v", old, again)
	}
	if got := l.DisplayName("nobody"); got != "" {
		t.Errorf("DisplayName(nobody) = %q, want empty", got)
	}
}
