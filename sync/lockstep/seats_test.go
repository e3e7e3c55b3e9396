package lockstep_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// TestSeatOrder plays a team match with the seats in the lobby's order
// (not sorted): lobby seat i is lockstep seat i on every peer, so seat,
// team and input agree. Each player's input carries its lobby index and
// team; every Step on every peer must show them at that index. (Before,
// lockstep sorted the list: the lobby's seat 0, "dave", became seat 3.)
func TestSeatOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 2, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		seats := []transport.PeerID{"dave", "alice", "carol", "bob"} // as the lobby agreed
		teams := []int{1, 0, 1, 0}                                   // lobby.Match.Teams, aligned with seats
		var ss []*lockstep.Session[input]
		for i, id := range seats {
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable), lockstep.Config{Seats: seats})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.LocalSeat() != i {
				t.Fatalf("%s: LocalSeat %d, want its lobby seat %d", id, s.LocalSeat(), i)
			}
			ss = append(ss, s)
		}
		checked := 0
		for range 300 {
			for i, s := range ss {
				steps, err := s.Advance(input{Buttons: uint8(teams[i]), Dx: int16(i)})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					for seat, in := range st.Inputs {
						if st.Frame < 2 {
							continue // the delay's head start: zero inputs
						}
						if int(in.Dx) != seat || int(in.Buttons) != teams[seat] {
							t.Fatalf("peer %s, frame %d: seat %d has input %+v, want Dx %d and team %d",
								seats[i], st.Frame, seat, in, seat, teams[seat])
						}
						checked++
					}
				}
			}
			time.Sleep(time.Second / 60)
		}
		if checked < 4*4*250 {
			t.Errorf("checked %d inputs", checked)
		}
	})
}

// TestSeatOrderMismatch: a peer that passes the seats in another order
// never mixes up inputs: it refuses the others' datagrams (they name
// another seat than it expects), is told why (EventRefused), hears no
// majority and ends cut off; the others drop it by majority and play on.
func TestSeatOrderMismatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 2, Link: memnet.Link{Latency: 10 * time.Millisecond}})
		defer n.Close()
		seats := []transport.PeerID{"a", "b", "c"}
		var ss []*lockstep.Session[input]
		for _, id := range seats {
			order := seats
			if id == "c" {
				order = []transport.PeerID{"b", "a", "c"}
			}
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable), lockstep.Config{Seats: order})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ss = append(ss, s)
		}
		var ended error
		refused := false
		for range 60 * 30 {
			for i, s := range ss {
				if i == 2 && ended != nil {
					continue
				}
				_, err := s.Advance(input{Dx: int16(i)})
				if i == 2 && err != nil {
					ended = err
				} else if err != nil {
					t.Fatal(err)
				}
				for _, e := range s.PollEvents() {
					refused = refused || (i == 2 && e.Kind == lockstep.EventRefused)
				}
			}
			time.Sleep(time.Second / 60)
		}
		if !errors.Is(ended, lockstep.ErrCutOff) || !refused {
			t.Errorf("peer c: ended %v, refused event %v; want cut off and told why", ended, refused)
		}
		for i := range 2 {
			if st := ss[i].Stats(); !st.Seats[2].Dropped || st.Frame < 60*10 {
				t.Errorf("peer %s: dropped c %v, frame %d; want c dropped and the match on", seats[i], st.Seats[2].Dropped, st.Frame)
			}
		}
	})
}
