package lobby

// Review red-team tests (#15, running-match entry), written by the
// session's reviewer against the rules in doc.go ("Entering a running
// match").

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
)

// A watcher admitted beyond MaxPlayers stops watching and asks for the
// running match's reserved seat while the players are full. The host
// keeps it a watcher (doc: "a watcher cannot turn player while the
// players are full") and must not seat it either: before, the host kept
// Member.Watching but answered the raw hello and seated it, so the
// lobby showed a watcher playing beyond MaxPlayers.
func TestRedTeamFullWatcherTakesReservedSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 2, LateJoin: true, OpenSeats: 1}})
		w := c.add("p8", Config{Watch: true})
		c.Until("watch", 5*time.Second, func() bool { return len(eventsOf(w, EventWatch)) > 0 })
		if err := w.App.Watch(false); err != nil {
			t.Fatal(err)
		}
		c.Run(time.Second)
		_ = w.App.JoinRunning() // honest API path (it may refuse)
		// and the raw request, in case the API refuses
		w.Conn.Send("p0", encodeSample(lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "p8", Join: true}))
		c.Run(3 * time.Second)
		for _, nd := range append(nodes, w) {
			if ev := eventsOf(nd, EventSeated); len(ev) != 0 {
				t.Errorf("%s: seated %v", nd.ID, ev)
			}
		}
		if r, _ := nodes[0].App.Running(); !slices.Equal(r.Seats, m.Seats) {
			t.Errorf("host's seats %q, want %q", r.Seats, m.Seats)
		}
		if mb, _ := nodes[0].App.State().Member("p8"); !mb.Watching {
			t.Errorf("watcher turned player in a full lobby: %+v", mb)
		}
	})
}

// The host tells a seated player it "took" the reserved seat: the
// receiver's own seat would move (and the message's whole seat list
// would replace the receiver's). Refused, as any move of the receiver's
// own seat (doc: "even the host cannot move a receiver's own seat").
func TestRedTeamHostMovesOwnSeatBySeated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 3, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}})
		host, victim := nodes[0], nodes[1]
		own := m.Seat(victim.ID)
		r := &lobbyfb.RunningT{Term: m.Term, Round: m.Round, Seed: m.Seed, MaxPlayers: 8, OpenFrom: 3,
			Role: lobbyfb.RunningRoleSeated, Seat: 3, Peer: string(victim.ID)}
		for _, s := range m.Seats {
			r.Seats = append(r.Seats, string(s))
			r.Teams = append(r.Teams, 0)
		}
		r.Seats[own], r.Seats[3] = "p9", string(victim.ID)
		host.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, r))
		c.Run(time.Second)
		if ev := eventsOf(victim, EventSeated); len(ev) != 0 {
			t.Errorf("victim: seated %v", ev)
		}
		if got, _ := victim.App.Match(); !slices.Equal(got.Seats, m.Seats) {
			t.Errorf("victim's match seats %q, want %q", got.Seats, m.Seats)
		}
		if got, _ := victim.App.Running(); !slices.Equal(got.Seats, m.Seats) {
			t.Errorf("victim's running seats %q, want %q", got.Seats, m.Seats)
		}
		if ref := eventsOf(victim, EventRefused); len(ref) != 1 || ref[0].Err != ErrRefusedRunning {
			t.Errorf("victim: refused %v, want one", ref)
		}
	})
}

// The host tells a seat that a peer already seated elsewhere (p2) took
// the reserved seat too: the receiver's running match would list p2
// twice (and its game would Rebind a second seat to it). Refused.
func TestRedTeamHostSeatsPlayerTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 3, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}})
		host, victim := nodes[0], nodes[1]
		r := &lobbyfb.RunningT{Term: m.Term, Round: m.Round, Seed: m.Seed, MaxPlayers: 8, OpenFrom: 3,
			Role: lobbyfb.RunningRoleSeated, Seat: 3, Peer: "p2"}
		for _, s := range m.Seats {
			r.Seats = append(r.Seats, string(s))
			r.Teams = append(r.Teams, 0)
		}
		r.Seats[m.Seat("p2")], r.Seats[3] = "p9", "p2" // unique in the message
		host.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, r))
		c.Run(time.Second)
		if ev := eventsOf(victim, EventSeated); len(ev) != 0 {
			t.Errorf("victim: seated %v", ev)
		}
		if got, _ := victim.App.Running(); !slices.Equal(got.Seats, m.Seats) {
			t.Errorf("victim's running seats %q, want %q", got.Seats, m.Seats)
		}
	})
}
