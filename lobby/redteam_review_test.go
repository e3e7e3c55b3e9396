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
	"github.com/peerplay/peerplay/netcode/transport"
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

// hidingConn is a host's link layer that loses one peer for a while (a
// link flap): it is not in Peers and sends to it fail, as with netcode.
type hidingConn struct {
	transport.Conn
	hide transport.PeerID
}

func (h *hidingConn) Peers() []transport.PeerID {
	return slices.DeleteFunc(h.Conn.Peers(), func(p transport.PeerID) bool { return p == h.hide })
}

func (h *hidingConn) Send(to transport.PeerID, p []byte) error {
	if to == h.hide {
		return transport.ErrUnknownPeer
	}
	return h.Conn.Send(to, p)
}

func (h *hidingConn) Broadcast(p []byte) error {
	for _, to := range h.Peers() {
		_ = h.Conn.Send(to, p)
	}
	return nil
}

func (h *hidingConn) TryRecv() (transport.Message, bool) {
	for {
		m, ok := h.Conn.TryRecv()
		if !ok || m.From != h.hide {
			return m, ok
		}
	}
}

// A seat whose link to the host is down while a newcomer takes the
// reserved seat misses that Seated. When the link comes back and it is
// a member again, the host tells it the seats it holds: without that,
// it never hears of the newcomer (its session never Rebinds the seat,
// and lockstep then stalls it at the newcomer's admission).
func TestSeatedReachesSeatBackFromFlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}}
		c := newCluster(t, wan)
		hc := &hidingConn{}
		nodes := []*node{c.Add("p0", func(conn transport.Conn) (*Lobby, error) { hc.Conn = conn; return New(hc, cfg) })}
		nodes = append(nodes, c.add("p1", cfg), c.add("p2", cfg))
		c.Until("one lobby", 5*time.Second, c.settled)
		readyAll(t, nodes)
		c.Until("started", 10*time.Second, c.allStarted)
		hc.hide = "p2"
		c.Until("p2 gone at the host", 5*time.Second, func() bool {
			_, ok := nodes[0].App.State().Member("p2")
			return !ok
		})
		nw := c.add("p5", Config{})
		c.Until("member", 5*time.Second, func() bool { return nw.App.State().Joined })
		if err := nw.App.JoinRunning(); err != nil {
			t.Fatal(err)
		}
		c.Until("seated", 5*time.Second, func() bool { return len(eventsOf(nw, EventSeated)) > 0 })
		hc.hide = ""
		c.Until("p2 back at the host", 5*time.Second, func() bool {
			_, ok := nodes[0].App.State().Member("p2")
			return ok
		})
		c.Until("p2 hears of p5", 10*time.Second, func() bool {
			r, _ := nodes[2].App.Running()
			return slices.Contains(r.Seats, "p5")
		})
		if ev := eventsOf(nodes[2], EventSeated); len(ev) != 1 || ev[0].Peer != "p5" {
			t.Errorf("p2: seated events %v, want one for p5", ev)
		}
		if ref := eventsOf(nodes[2], EventRefused); len(ref) != 0 {
			t.Errorf("p2 refused %v", ref)
		}
	})
}

// A watcher that was a member before the match (so it comes before
// later members in admission order) succeeds a host that crashes after
// a newcomer took the reserved seat. Before, watchers never heard of
// newcomers: the new host's running match still showed the seat empty,
// so the newcomer, restarted, was not given its seat back (and the
// seat could be given twice).
func TestWatcherHostKnowsNewcomer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}}
		c := newCluster(t, wan)
		p0 := c.add("p0", cfg)
		c.Until("host", 5*time.Second, func() bool { return p0.App.State().Host == "p0" })
		w := c.add("p3", Config{Watch: true})
		c.Until("watcher member", 5*time.Second, func() bool { return w.App.State().Joined })
		p1 := c.add("p1", cfg)
		c.Until("one lobby", 5*time.Second, c.settled)
		readyAll(t, []*node{p0, p1})
		c.Until("started", 10*time.Second, func() bool {
			_, a := p0.App.Match()
			_, b := p1.App.Match()
			return a && b && len(eventsOf(w, EventWatch)) > 0
		})
		nw := c.add("p5", Config{})
		c.Until("member", 5*time.Second, func() bool { return nw.App.State().Joined })
		if err := nw.App.JoinRunning(); err != nil {
			t.Fatal(err)
		}
		c.Until("seated", 5*time.Second, func() bool { return len(eventsOf(nw, EventSeated)) > 0 })
		seat := eventsOf(nw, EventSeated)[0].Seat
		c.Drop(p0)
		c.Until("watcher is host", 10*time.Second, func() bool { return w.App.State().Host == "p3" })
		if r, _ := w.App.Running(); !slices.Contains(r.Seats, "p5") {
			t.Errorf("new host's running seats %q: no p5", r.Seats)
		}
		c.Drop(nw)
		c.Run(time.Second)
		back := c.add("p5", Config{})
		c.Until("rejoin", 10*time.Second, func() bool { return len(eventsOf(back, EventRejoin)) > 0 })
		if e := eventsOf(back, EventRejoin)[0]; e.Seat != seat {
			t.Errorf("rejoin %+v, want seat %d", e, seat)
		}
	})
}
