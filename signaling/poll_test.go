package signaling

import (
	"testing"
	"time"
)

// Client.PollEvents drains without blocking (the drain convention,
// CONTRIBUTING.md): a game loop sees the same events Events carries, its
// slice reused, and an empty batch when nothing is queued.
func TestClientPollEvents(t *testing.T) {
	url, _ := testServer(t, &Server{})
	a := dial(t, url, "poll", DialOptions{})
	if got := a.PollEvents(); len(got) != 0 {
		t.Fatalf("events before anyone joined: %v", got)
	}
	b := dial(t, url, "poll", DialOptions{})
	if err := b.Signal(a.Local(), []byte(`"hi"`)); err != nil {
		t.Fatal(err)
	}
	var kinds []EventKind
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a timing assertion
	for len(kinds) < 2 && time.Now().Before(deadline) {
		for _, ev := range a.PollEvents() {
			kinds = append(kinds, ev.Kind)
			if ev.Kind == EventSignal && (ev.Peer != b.Local() || string(ev.Data) != `"hi"`) {
				t.Errorf("signal %q from %s", ev.Data, ev.Peer)
			}
		}
		time.Sleep(time.Millisecond) // a game loop's frame
	}
	if len(kinds) != 2 || kinds[0] != EventPeerJoined || kinds[1] != EventSignal {
		t.Fatalf("polled %v, want [peer-joined signal]", kinds)
	}
}
