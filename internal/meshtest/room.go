//go:build !js

package meshtest

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/signaling"
)

// Peer is one real peer of a Room: its netcode mesh, the app the test
// opened on one of its channels, and everything the app's Poll returned.
type Peer[A, E any] struct {
	Mesh *netcode.Mesh
	App  A
	// Events is everything Poll returned, oldest first.
	Events []E
	// Gone stops the game loop polling this peer; the test sets it when
	// it closes the peer.
	Gone bool
}

// RoomConfig says which room the peers of a Room join and how the game
// loop drives their apps.
type RoomConfig[A, E any] struct {
	// Room and GameID are netcode.Config's.
	Room, GameID string
	// Channels are each mesh's channels.
	Channels []netcode.ChannelSpec
	// Poll is the app's per-frame call.
	Poll func(A) []E
	// Describe returns one line of a peer's state for failure messages;
	// nil logs the ID only.
	Describe func(*Peer[A, E]) string
}

// Room is a signaling server on loopback (httptest) and the real pion
// peers that meet through it: host candidates on loopback only, UDP4, no
// mDNS, no STUN or TURN. Real time: wait for outcomes with Until, never
// for durations. Not safe for concurrent use.
type Room[A, E any] struct {
	Peers []*Peer[A, E]
	t     testing.TB
	url   string
	cfg   RoomConfig[A, E]
}

// NewRoom starts the signaling server; t's cleanup stops it.
func NewRoom[A, E any](t testing.TB, cfg RoomConfig[A, E]) *Room[A, E] {
	t.Helper()
	srv := &signaling.Server{}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return &Room[A, E]{t: t, url: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", cfg: cfg}
}

// Join connects a new peer named name to the room (within 20 s) and
// returns it without an app: the test opens one on Peer.Mesh. t's cleanup
// closes the mesh.
func (r *Room[A, E]) Join(name string) *Peer[A, E] {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := netcode.Join(ctx, netcode.Config{
		SignalURL: r.url, Room: r.cfg.Room, Name: name, GameID: r.cfg.GameID, Build: "1",
		Channels:   r.cfg.Channels,
		ICEServers: []netcode.ICEServer{}, // host candidates only: loopback, nothing else
		SettingEngine: func(se *webrtc.SettingEngine) {
			se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
			se.SetIncludeLoopbackCandidate(true)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		},
	})
	if err != nil {
		r.t.Fatalf("Join %s: %v", name, err)
	}
	r.t.Cleanup(func() { _ = m.Close() })
	p := &Peer[A, E]{Mesh: m}
	r.Peers = append(r.Peers, p)
	return p
}

// WaitMesh waits (at most 30 s) until every peer is connected to every
// other.
func (r *Room[A, E]) WaitMesh() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range r.Peers {
		if err := p.Mesh.WaitPeers(ctx, len(r.Peers)-1); err != nil {
			r.t.Fatalf("%s: WaitPeers: %v", p.Mesh.Local(), err)
		}
	}
}

// Poll polls every app that is not gone once, as a game loop's frame.
func (r *Room[A, E]) Poll() {
	for _, p := range r.Peers {
		if !p.Gone {
			p.Events = append(p.Events, r.cfg.Poll(p.App)...)
		}
	}
}

// Until polls every app until cond holds, failing the test after 60 s
// (30 s was not enough for chat's 400-message flood over real pion in the
// SDK suite beside a CPU hog, load ~25, though it takes 2 s alone).
func (r *Room[A, E]) Until(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, p := range r.Peers {
				if r.cfg.Describe != nil {
					r.t.Logf("%s gone=%v %s", p.Mesh.Local(), p.Gone, r.cfg.Describe(p))
				} else {
					r.t.Logf("%s gone=%v", p.Mesh.Local(), p.Gone)
				}
			}
			r.t.Fatalf("%s: not reached", what)
		}
		r.Poll()
		time.Sleep(5 * time.Millisecond)
	}
}
