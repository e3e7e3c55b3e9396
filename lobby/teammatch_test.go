package lobby_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

type teamInput struct {
	Seat, Team int16
}

// TestTeamMatchSeatsAgree plays a team match from lobby to lockstep (#15
// one seat numbering): players pick teams and seats in the lobby, the
// Match goes to lockstep as it is, and on every peer every Step shows at
// seat i the input of the peer the lobby seated at i, whose team is
// Match.Teams[i]. The lobby's seats are deliberately not in PeerID order
// (dave asked for seat 1), which lockstep used to sort.
func TestTeamMatchSeatsAgree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 4, Link: memnet.Link{Latency: 15 * time.Millisecond}})
		defer n.Close()
		profile := map[transport.PeerID]lobby.Config{
			"alice": {Name: "alice", Team: 2},
			"bob":   {Name: "bob", Team: 1, Seat: 3},
			"carol": {Name: "carol", Team: 2},
			"dave":  {Name: "dave", Team: 1, Seat: 1},
		}
		type player struct {
			id    transport.PeerID
			lb    *lobby.Lobby
			ls    transport.Conn
			match lobby.Match
			sess  *lockstep.Session[teamInput]
		}
		var ps []*player
		for _, id := range []transport.PeerID{"alice", "bob", "carol", "dave"} {
			p := n.Join(id)
			lb, err := lobby.New(p.Channel("lobby", transport.Reliable), profile[id])
			if err != nil {
				t.Fatal(err)
			}
			defer lb.Close()
			ps = append(ps, &player{id: id, lb: lb, ls: p.Channel("ls", transport.Unreliable)})
		}
		for _, p := range ps {
			p.lb.SetReady(true)
		}
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			done := 0
			for _, p := range ps {
				for _, e := range p.lb.PollEvents() {
					if e.Kind == lobby.EventStarted {
						p.match = e.Match
					}
				}
				if p.match.Seats != nil {
					done++
				}
			}
			if done == len(ps) {
				break
			}
			if time.Now().After(end) {
				t.Fatal("the lobby did not start")
			}
		}
		m := ps[0].match
		t.Logf("lobby seats %v teams %v", m.Seats, m.Teams)
		if m.Seats[0] != "dave" || m.Seats[2] != "bob" || slices.IsSorted(m.Seats) {
			t.Fatalf("seats %v: preferences not honoured", m.Seats)
		}
		for i, s := range m.Seats {
			if m.Teams[i] != profile[s].Team {
				t.Fatalf("seat %d (%s): team %d, want %d", i, s, m.Teams[i], profile[s].Team)
			}
		}
		for _, p := range ps {
			s, err := lockstep.NewSession[teamInput](p.ls, lockstep.Config{Seats: p.match.Seats, Seed: p.match.Seed})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.LocalSeat() != p.match.Seat(p.id) {
				t.Fatalf("%s: lockstep seat %d, lobby seat %d", p.id, s.LocalSeat(), p.match.Seat(p.id))
			}
			p.sess = s
		}
		checked := 0
		for range 240 {
			for _, p := range ps {
				seat := p.match.Seat(p.id)
				steps, err := p.sess.Advance(teamInput{Seat: int16(seat), Team: int16(profile[p.id].Team)})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					if st.Frame < 2 {
						continue // the input delay's head start: zero inputs
					}
					for i, in := range st.Inputs {
						if int(in.Seat) != i || int(in.Team) != m.Teams[i] {
							t.Fatalf("%s, frame %d: seat %d (%s, team %d) has input %+v", p.id, st.Frame, i, m.Seats[i], m.Teams[i], in)
						}
						checked++
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		if checked < 4*4*200 {
			t.Errorf("checked %d inputs", checked)
		}
	})
}
