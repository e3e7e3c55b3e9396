//go:build !js

package netcode

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// TestSignalingOutage kills the signaling server mid-session: traffic
// between connected peers continues. A server on the same address comes
// back, either fresh (empty rooms: the old peers re-join with new
// signaling IDs) or sharing the old one's rooms (the clients resume their
// seats): a new peer joins and forms a full mesh with them, while the old
// peers keep their original link and identity.
func TestSignalingOutage(t *testing.T) {
	tests := []struct {
		name string
		// server returns the maker of each incarnation of the signaling
		// server.
		server func(t *testing.T) func() *signaling.Server
		// rejoin: the old peers come back with new signaling IDs.
		rejoin bool
	}{
		{"restart loses the rooms", func(*testing.T) func() *signaling.Server {
			return func() *signaling.Server { return &signaling.Server{ResumeGrace: -1} }
		}, true},
		{"restart keeps the rooms", sharedBackplane, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testSignalingOutage(t, tt.server(t), tt.rejoin) })
	}
}

// sharedBackplane makes servers that share one room registry, as the
// nodes of a signaling cluster do: clients resume their seats (same ID).
func sharedBackplane(t *testing.T) func() *signaling.Server {
	bp := signaling.NewMemoryBackplane()
	t.Cleanup(func() { _ = bp.Close() })
	return func() *signaling.Server { return &signaling.Server{Backplane: bp} }
}

func testSignalingOutage(t *testing.T, server func() *signaling.Server, rejoin bool) {
	checkLeaks(t)
	sig := startSignalingWith(t, server)
	a := join(t, sig.url(), "room", "a")
	b := join(t, sig.url(), "room", "b")
	waitMesh(t, 10*time.Second, a, b)
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	ida, idb := a.Local(), b.Local()
	seats := map[*Mesh]transport.PeerID{a: seatOf(t, a), b: seatOf(t, b)}

	sig.kill()
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 10*time.Second, "EventSignalingLost", func() bool { return l.has(EventSignalingLost, "") })
	}
	// Traffic continues on both channel kinds, both ways.
	for i := range 5 {
		for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
			for _, label := range []string{"rel", "unrel"} {
				if err := pair[0].Channel(label).Send(pair[1].Local(), []byte{byte(i)}); err != nil {
					t.Fatalf("Send during the outage: %v", err)
				}
				if got := recvN(t, pair[1].Channel(label), 1, 5*time.Second)[0]; got.Data[0] != byte(i) {
					t.Fatalf("got %v, want %d", got.Data, i)
				}
			}
		}
	}
	if a.Stats().Signaling {
		t.Error("Stats.Signaling true during the outage")
	}

	sig.restart()
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 20*time.Second, "EventSignalingRestored", func() bool { return l.has(EventSignalingRestored, "") })
	}
	c := join(t, sig.url(), "room", "c")
	waitMesh(t, 20*time.Second, a, b, c)
	for _, m := range []*Mesh{a, b} {
		sigID := make(chan transport.PeerID)
		m.post(func() { sigID <- m.sigLocal })
		if got := <-sigID; (got != seats[m]) != rejoin {
			t.Errorf("%s: signaling ID %s after the restart; want a new one: %v", m.Local(), got, rejoin)
		}
	}
	if a.Local() != ida || b.Local() != idb {
		t.Errorf("mesh IDs changed: %s→%s, %s→%s", ida, a.Local(), idb, b.Local())
	}
	// The old link between a and b was kept (no second Connected event).
	n := 0
	for _, ev := range la.poll() {
		if ev.Kind == EventConnected && ev.Peer == idb {
			n++
		}
		if (ev.Kind == EventLeft || ev.Kind == EventFailed || ev.Kind == EventDisconnected) && ev.Peer == idb {
			t.Errorf("a: unexpected %v", ev)
		}
	}
	if n != 1 {
		t.Errorf("a saw %d EventConnected for b, want 1", n)
	}
	// Everyone talks to the newcomer, and the newcomer knows the old peers
	// by their mesh IDs.
	if err := c.Channel("rel").Broadcast([]byte("new")); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Mesh{a, b} {
		if got := recvN(t, m.Channel("rel"), 1, 5*time.Second)[0]; got.From != c.Local() {
			t.Errorf("%s: message from %s, want %s", m.Local(), got.From, c.Local())
		}
		if err := m.Channel("unrel").Send(c.Local(), []byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	froms := map[string]bool{}
	for _, msg := range recvN(t, c.Channel("unrel"), 2, 5*time.Second) {
		froms[string(msg.From)] = true
	}
	if !froms[string(ida)] || !froms[string(idb)] {
		t.Errorf("c got messages from %v, want %s and %s", froms, ida, idb)
	}
	// No peer is left announced (EventConnecting) without a later
	// Connected or terminal event: a re-joined peer's new signaling ID is
	// not a peer of its own (issue #17: a "dup" answer used to leave it
	// hanging at connecting).
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 10*time.Second, "every announced peer resolved", func() bool {
			if d := dangling(l.poll()); len(d) > 0 {
				t.Logf("%s: still connecting: %v (mesh peers %s %s %s); events %v", l.m.Local(), d, ida, idb, c.Local(), l.poll())
				return false
			}
			return true
		})
	}
}

// dangling returns the peers whose last event is EventConnecting.
func dangling(evs []Event) []transport.PeerID {
	last := map[transport.PeerID]EventKind{}
	for _, ev := range evs {
		if ev.Peer != "" {
			last[ev.Peer] = ev.Kind
		}
	}
	var out []transport.PeerID
	for id, k := range last {
		if k == EventConnecting {
			out = append(out, id)
		}
	}
	return out
}
