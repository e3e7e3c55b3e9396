//go:build !js

package netcode

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
)

// TestHostileHandshake: a peer whose Hello is garbage is refused (bad
// handshake), counted, and nobody crashes.
func TestHostileHandshake(t *testing.T) {
	tests := []struct {
		name  string
		hello func([]byte) []byte
	}{
		{"garbage", func([]byte) []byte { return []byte("GET / HTTP/1.1\r\n\r\n") }},
		{"truncated", func(h []byte) []byte { return h[:len(h)-3] }},
		{"bad magic", func(h []byte) []byte { h = bytes.Clone(h); h[0] = 'X'; return h }},
		{"not a hello", func([]byte) []byte { return wire.AppendPing(nil, 1, 2) }},
		{"empty", func([]byte) []byte { return []byte{0} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := startSignaling(t)
			honest := join(t, sig.url(), "room", "honest")
			bad := join(t, sig.url(), "room", "bad", func(c *Config) { c.testHello = tt.hello })
			l := &eventLog{m: honest}
			var ev Event
			waitFor(t, 30*time.Second, "the honest peer's refusal", func() bool {
				var ok bool
				ev, ok = l.find(EventRefused, bad.Local())
				return ok
			})
			var re *RefusedError
			if !errors.As(ev.Err, &re) || re.Reason != "bad handshake" || re.ByRemote {
				t.Errorf("refusal %v, want a local bad handshake refusal", ev.Err)
			}
			if len(honest.Peers()) != 0 {
				t.Errorf("honest Peers after refusal: %v", honest.Peers())
			}
			// The bad peer accepted the honest Hello, but hears the refusal.
			lb := &eventLog{m: bad}
			waitFor(t, 20*time.Second, "the bad peer to drop the honest one", func() bool {
				ev, ok := lb.find(EventRefused, honest.Local())
				return ok && errors.As(ev.Err, &re) && re.ByRemote && len(bad.Peers()) == 0
			})
		})
	}
}

// hostileLink returns m's link to peer on application channel idx (or the
// control/ping link for idx -1/-2), to write raw bytes that bypass
// netcode's own framing.
func hostileLink(t *testing.T, m *Mesh, peer transport.PeerID, idx int) *link {
	t.Helper()
	m.mu.RLock()
	defer m.mu.RUnlock()
	p := m.connected[peer]
	if p == nil {
		t.Fatalf("%s not connected to %s", m.Local(), peer)
	}
	switch idx {
	case -1:
		return p.ctrl
	case -2:
		return p.ping
	}
	return p.links[idx]
}

// TestHostileData: garbage and oversize messages on every channel of a
// connected peer are dropped and counted; the connection survives and
// good messages still arrive.
func TestHostileData(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	honest := join(t, sig.url(), "room", "honest")
	bad := join(t, sig.url(), "room", "bad")
	waitMesh(t, 10*time.Second, honest, bad)
	to := honest.Local()

	raw := func(idx int, frames ...[]byte) {
		t.Helper()
		l := hostileLink(t, bad, to, idx)
		for _, f := range frames {
			if err := l.pipe.write(f); err != nil {
				t.Fatalf("raw write: %v", err)
			}
		}
	}
	first := []byte{wire.ChunkFirst, 0, 0, 0x40, 0} // announces 16 KiB... then breaks off
	first = append(first, make([]byte, 100)...)
	raw(0, // reliable: 4 malformed frames, 1 message too large
		[]byte{9, 1, 2},                                 // unknown kind
		[]byte{wire.ChunkMiddle, 1},                     // continuation without a first
		[]byte{wire.ChunkFirst, 0xff, 0xff, 0xff, 0xff}, // 4 GiB announced: too large
		first, []byte{wire.ChunkWhole, 7}, // whole inside a chunked message
		make([]byte, 3*wire.ChunkSize), // oversize frame
	)
	raw(1, make([]byte, 3000), make([]byte, MaxUnreliableSize+1)) // unreliable: 2 too large
	// Above the 64 KiB we advertise, a conforming (pion) sender refuses:
	// no message can wedge SCTP's 1 MiB receive buffer.
	if err := hostileLink(t, bad, to, 0).pipe.write(make([]byte, 5<<20)); err == nil {
		t.Error("a 5 MiB SCTP message was accepted for sending; want the advertised 64 KiB limit")
	}
	hello, _ := wire.AppendHello(nil, wire.Hello{Version: wire.ProtocolVersion})
	raw(-1, []byte("junk"), hello)               // control after the handshake: 2
	raw(-2, []byte("junk"), wire.AppendBye(nil)) // ping channel: 2

	// Good messages still arrive, in order on the reliable channel.
	if err := bad.Channel("rel").Send(to, []byte("ok1")); err != nil {
		t.Fatal(err)
	}
	if err := bad.Channel("unrel").Send(to, []byte("ok2")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, honest.Channel("rel"), 1, 5*time.Second)[0]; string(got.Data) != "ok1" {
		t.Errorf("reliable: got %q, want ok1", got.Data)
	}
	if got := recvN(t, honest.Channel("unrel"), 1, 5*time.Second)[0]; string(got.Data) != "ok2" {
		t.Errorf("unreliable: got %q, want ok2", got.Data)
	}
	var ps PeerStats
	waitFor(t, 5*time.Second, "malformed counts", func() bool {
		ps, _ = honest.Stats().Peer(bad.Local())
		return ps.Channels[0].Malformed >= 4 && ps.Channels[0].TooLarge >= 1 && ps.Channels[1].TooLarge >= 2 && ps.Control.Malformed >= 4
	})
	if ps.Channels[0].Malformed != 4 || ps.Channels[0].TooLarge != 1 || ps.Channels[1].Malformed != 0 ||
		ps.Channels[1].TooLarge != 2 || ps.Control.Malformed != 4 {
		t.Errorf("malformed/too large counts: rel %d/%d, unrel %d/%d, control %d; want 4/1, 0/2, 4",
			ps.Channels[0].Malformed, ps.Channels[0].TooLarge, ps.Channels[1].Malformed, ps.Channels[1].TooLarge, ps.Control.Malformed)
	}
	if ps.Dropped() != 11 {
		t.Errorf("Dropped() = %d, want 11", ps.Dropped())
	}
	if len(honest.Peers()) != 1 {
		t.Errorf("honest peer dropped the connection: Peers %v", honest.Peers())
	}
}

// TestOneIdentityPerMember: a room member that signals offers under many
// made-up mesh IDs gets one PeerConnection, not one per ID.
func TestOneIdentityPerMember(t *testing.T) {
	sig := startSignaling(t)
	m := join(t, sig.url(), "room", "victim")
	// A valid offer, from a bare pion PeerConnection.
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel("x", nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		data := encodeSignal(signalMsg{Type: "offer", Session: uint64(i + 1), ID: transport.PeerID(fmt.Sprint("fake", i)), SDP: offer.SDP})
		m.post(func() { m.onSignal("member", data) })
	}
	done := make(chan int)
	m.post(func() { done <- len(m.peers) })
	if n := <-done; n != 1 {
		t.Errorf("%d PeerConnections for one member, want 1", n)
	}
}
