//go:build !js

package lobby_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// End to end: real pion peers on loopback, a real signaling server over
// httptest, the lobby on a Reliable data channel. Real time, so the
// assertions wait for outcomes, never for durations.

func e2eSignaling(t *testing.T) string {
	t.Helper()
	srv := &signaling.Server{}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

func e2eMesh(t *testing.T, url, name string) *netcode.Mesh {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := netcode.Join(ctx, netcode.Config{
		SignalURL: url, Room: "lobby-e2e", Name: name, GameID: "lobby-test", Build: "1",
		Channels:   []netcode.ChannelSpec{{Label: "lobby", Reliability: transport.Reliable}},
		ICEServers: []netcode.ICEServer{}, // host candidates only: loopback, nothing else
		SettingEngine: func(se *webrtc.SettingEngine) {
			se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
			se.SetIncludeLoopbackCandidate(true)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		},
	})
	if err != nil {
		t.Fatalf("Join %s: %v", name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

type e2ePeer struct {
	mesh   *netcode.Mesh
	l      *lobby.Lobby
	events []lobby.Event
	gone   bool
}

func e2eLobbies(t *testing.T, n int) []*e2ePeer {
	t.Helper()
	url := e2eSignaling(t)
	var peers []*e2ePeer
	for i := range n {
		m := e2eMesh(t, url, fmt.Sprintf("player%d", i))
		peers = append(peers, &e2ePeer{mesh: m})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range peers {
		if err := p.mesh.WaitPeers(ctx, n-1); err != nil {
			t.Fatalf("%s: WaitPeers: %v", p.mesh.Local(), err)
		}
	}
	for _, p := range peers {
		l, err := lobby.New(p.mesh.Channel("lobby"), lobby.Config{Countdown: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p.l = l
		t.Cleanup(func() { l.Close() })
	}
	return peers
}

// e2eUntil polls every live lobby (the game loop) until cond holds.
func e2eUntil(t *testing.T, peers []*e2ePeer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, p := range peers {
				s := p.l.State()
				t.Logf("%s gone=%v phase=%s host=%s members=%d", p.mesh.Local(), p.gone, s.Phase, s.Host, len(s.Members))
			}
			t.Fatalf("%s: not reached", what)
		}
		for _, p := range peers {
			if !p.gone {
				p.events = append(p.events, p.l.Poll()...)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func e2eSettled(peers []*e2ePeer) func() bool {
	return func() bool {
		var live []*e2ePeer
		for _, p := range peers {
			if !p.gone {
				live = append(live, p)
			}
		}
		h := live[0].l.State().Host
		for _, p := range live {
			s := p.l.State()
			if !s.Joined || s.Host == "" || s.Host != h || len(s.Members) != len(live) {
				return false
			}
		}
		return true
	}
}

func TestE2EFourPeersAgreeThenHostLeaves(t *testing.T) {
	peers := e2eLobbies(t, 4)
	e2eUntil(t, peers, "one lobby", e2eSettled(peers))
	for _, p := range peers {
		p.l.SetReady(true)
	}
	e2eUntil(t, peers, "everyone started", func() bool {
		for _, p := range peers {
			if _, ok := p.l.Match(); !ok {
				return false
			}
		}
		return true
	})
	want, _ := peers[0].l.Match()
	for _, p := range peers {
		if got, _ := p.l.Match(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: match %+v, want %+v", p.mesh.Local(), got, want)
		}
	}
	if len(want.Seats) != 4 {
		t.Fatalf("seats %v", want.Seats)
	}

	// The host leaves: the next member in admission order takes over.
	s := peers[0].l.State()
	var host *e2ePeer
	for _, p := range peers {
		if p.mesh.Local() == s.Host {
			host = p
		}
	}
	succ := s.Members[1].ID
	host.l.Close()
	host.mesh.Close()
	host.gone = true
	e2eUntil(t, peers, "migration", func() bool {
		return e2eSettled(peers)() && peers[indexOf(peers, host)^1].l.State().Host == succ
	})
	for _, p := range peers {
		if p.gone {
			continue
		}
		if st := p.l.State(); st.Term != s.Term+1 {
			t.Errorf("%s: term %d, want %d", p.mesh.Local(), st.Term, s.Term+1)
		}
	}
}

func indexOf(peers []*e2ePeer, p *e2ePeer) int {
	for i, q := range peers {
		if q == p {
			return i
		}
	}
	return -1
}
