//go:build !js

package lobby_test

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
)

// End to end: real pion peers on loopback, a real signaling server over
// httptest, the lobby on a Reliable data channel. Real time, so the
// assertions wait for outcomes, never for durations.

type (
	e2eRoom = meshtest.Room[*lobby.Lobby, lobby.Event]
	e2ePeer = meshtest.Peer[*lobby.Lobby, lobby.Event]
)

// e2eLobbies connects n real peers, then opens a lobby on each.
func e2eLobbies(t *testing.T, n int) *e2eRoom {
	t.Helper()
	r := meshtest.NewRoom(t, meshtest.RoomConfig[*lobby.Lobby, lobby.Event]{
		Room: "lobby-e2e", GameID: "lobby-test",
		Channels: []netcode.ChannelSpec{{Label: "lobby", Reliability: transport.Reliable}},
		Poll:     (*lobby.Lobby).Poll,
		Describe: func(p *e2ePeer) string {
			s := p.App.State()
			return fmt.Sprintf("phase=%s host=%s members=%d kicked=%v banned=%v links=%v blocked=%v", s.Phase, s.Host, len(s.Members),
				s.Kicked, s.Banned, p.Mesh.Peers(), p.Mesh.Blocked())
		},
	})
	for i := range n {
		r.Join(fmt.Sprintf("player%d", i))
	}
	r.WaitMesh()
	for _, p := range r.Peers {
		l, err := lobby.New(p.Mesh.Channel("lobby"), lobby.Config{Countdown: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p.App = l
		t.Cleanup(func() { l.Close() })
	}
	return r
}

func e2eSettled(peers []*e2ePeer) func() bool {
	return func() bool {
		var live []*e2ePeer
		for _, p := range peers {
			if !p.Gone {
				live = append(live, p)
			}
		}
		h := live[0].App.State().Host
		for _, p := range live {
			s := p.App.State()
			if !s.Joined || s.Host == "" || s.Host != h || len(s.Members) != len(live) {
				return false
			}
		}
		return true
	}
}

func TestE2EFourPeersAgreeThenHostLeaves(t *testing.T) {
	r := e2eLobbies(t, 4)
	peers := r.Peers
	r.Until("one lobby", e2eSettled(peers))
	for _, p := range peers {
		p.App.SetReady(true)
	}
	r.Until("everyone started", func() bool {
		for _, p := range peers {
			if _, ok := p.App.Match(); !ok {
				return false
			}
		}
		return true
	})
	want, _ := peers[0].App.Match()
	for _, p := range peers {
		if got, _ := p.App.Match(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: match %+v, want %+v", p.Mesh.Local(), got, want)
		}
	}
	if len(want.Seats) != 4 {
		t.Fatalf("seats %v", want.Seats)
	}

	// The host leaves: the next member in admission order takes over.
	s := peers[0].App.State()
	var host *e2ePeer
	for _, p := range peers {
		if p.Mesh.Local() == s.Host {
			host = p
		}
	}
	succ := s.Members[1].ID
	host.App.Close()
	host.Mesh.Close()
	host.Gone = true
	r.Until("migration", func() bool {
		return e2eSettled(peers)() && peers[indexOf(peers, host)^1].App.State().Host == succ
	})
	for _, p := range peers {
		if p.Gone {
			continue
		}
		if st := p.App.State(); st.Term != s.Term+1 {
			t.Errorf("%s: term %d, want %d", p.Mesh.Local(), st.Term, s.Term+1)
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

// A kick enforced by the network, with the three-line glue of the package
// doc ("Kick"): the host kicks a member; every peer's lobby reports
// EventBanned and the game blocks the identity on its mesh; the kicked
// peer is told (EventKicked) and ends up with no links; Unban lifts the
// block everywhere.
func TestE2EKickIsEnforcedByTheNetwork(t *testing.T) {
	r := e2eLobbies(t, 3)
	peers := r.Peers
	r.Until("one lobby", e2eSettled(peers))
	seen := make([]int, len(peers))
	glue := func() {
		for i, p := range peers {
			for _, e := range p.Events[seen[i]:] {
				switch e.Kind {
				case lobby.EventBanned:
					_ = p.Mesh.Block(e.Peer, "kicked from the lobby")
				case lobby.EventUnbanned:
					_ = p.Mesh.Unblock(e.Peer)
				}
			}
			seen[i] = len(p.Events)
		}
	}
	host := peers[0]
	for _, p := range peers {
		if p.Mesh.Local() == peers[0].App.State().Host {
			host = p
		}
	}
	var victim *e2ePeer
	for _, p := range peers {
		if p != host {
			victim = p
		}
	}
	vid := victim.Mesh.Local()
	if err := host.App.Kick(vid); err != nil {
		t.Fatal(err)
	}
	r.Until("kick enforced", func() bool {
		glue()
		if !victim.App.State().Kicked || len(victim.Mesh.Peers()) != 0 {
			return false
		}
		for _, p := range peers {
			if p != victim && (slices.Contains(p.Mesh.Peers(), vid) || len(p.App.State().Members) != 2) {
				return false
			}
		}
		return true
	})
	for _, p := range peers {
		if p == victim {
			continue
		}
		if _, ok := p.Mesh.Blocked()[vid]; !ok {
			t.Errorf("%s: %s is not blocked", p.Mesh.Local(), vid)
		}
		if b := p.App.Banned(); !slices.Equal(b, []transport.PeerID{vid}) {
			t.Errorf("%s: Banned() = %v", p.Mesh.Local(), b)
		}
	}
	if err := host.App.Unban(vid); err != nil {
		t.Fatal(err)
	}
	r.Until("ban lifted", func() bool {
		glue()
		for _, p := range peers {
			if _, blocked := p.Mesh.Blocked()[vid]; p != victim && blocked {
				return false
			}
		}
		return true
	})
}
