package lobby

// Red-team tests for entering a running match (#15): each attack is
// written against the rules in doc.go ("Entering a running match").

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
	"github.com/peerplay/peerplay/netcode/transport"
)

// received decodes what a raw attacker conn got, by body type.
func received(conn transport.Conn) map[lobbyfb.Body][]any {
	out := make(map[lobbyfb.Body][]any)
	for {
		m, ok := conn.TryRecv()
		if !ok {
			return out
		}
		if b, err := decode(m.Data); err == nil {
			out[b.Type] = append(out[b.Type], b.Value)
		}
	}
}

// A member that is not the host sends a seat holder a Running message:
// "I took seat 0" (the receiver's own seat) and "p9 took the reserved
// seat". Both are refused and the sender named; the receiver's running
// match is unchanged.
func TestRedTeamRunningFromMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 3, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}})
		atk, victim := nodes[2], nodes[1]
		fake := func(seat int, peer string) *lobbyfb.RunningT {
			r := &lobbyfb.RunningT{Term: m.Term, Round: m.Round, Seed: m.Seed, MaxPlayers: 8, OpenFrom: 3,
				Role: lobbyfb.RunningRoleSeated, Seat: int32(seat), Peer: peer}
			for _, s := range m.Seats {
				r.Seats = append(r.Seats, string(s))
				r.Teams = append(r.Teams, 0)
			}
			r.Seats[seat] = peer
			return r
		}
		atk.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, fake(m.Seat(victim.ID), string(atk.ID)+"x")))
		atk.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, fake(3, "p9")))
		c.Run(time.Second)
		if r, _ := victim.App.Running(); !slices.Equal(r.Seats, m.Seats) {
			t.Errorf("victim's running seats %q, want %q", r.Seats, m.Seats)
		}
		if ev := eventsOf(victim, EventSeated); len(ev) != 0 {
			t.Errorf("victim: seated events %v", ev)
		}
		if ref := eventsOf(victim, EventRefused); len(ref) != 2 || ref[0].Peer != atk.ID || ref[0].Err != ErrRefusedRunning {
			t.Errorf("victim: refused %v, want two naming %s", ref, atk.ID)
		}
	})
}

// Even the host cannot move a seat that plays: a Seated naming a
// receiver's own seat, a match with another seed, or the same match with
// other seats (one past the end: it crashed the receiver before) is
// refused.
func TestRedTeamHostMovesLiveSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 3, Config{})
		host, victim := nodes[0], nodes[1]
		seat := m.Seat(victim.ID)
		r := &lobbyfb.RunningT{Term: m.Term, Round: m.Round, Seed: m.Seed, MaxPlayers: 8, OpenFrom: 3,
			Role: lobbyfb.RunningRoleSeated, Seat: int32(seat), Peer: "p9"}
		for _, s := range m.Seats {
			r.Seats = append(r.Seats, string(s))
			r.Teams = append(r.Teams, 0)
		}
		r.Seats[seat] = "p9"
		host.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, r))
		other := *r
		other.Seats = slices.Clone(r.Seats)
		other.Seed++
		other.Seat = int32(m.Seat("p2"))
		other.Seats[seat], other.Seats[other.Seat] = string(victim.ID), "p9"
		host.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, &other))
		// The same match with more seats, naming one past the end.
		longer := *r
		longer.Seats = append(slices.Clone(r.Seats), "p7", "p8")
		longer.Teams = append(slices.Clone(r.Teams), 0, 0)
		longer.Seat, longer.Peer = int32(len(longer.Seats)-1), "p8"
		host.Conn.Send(victim.ID, encodeSample(lobbyfb.BodyRunning, &longer))
		c.Run(time.Second)
		if got, _ := victim.App.Match(); !slices.Equal(got.Seats, m.Seats) || got.Seed != m.Seed {
			t.Errorf("victim's match %+v, want %+v", got, m)
		}
		if ref := eventsOf(victim, EventRefused); len(ref) != 3 {
			t.Errorf("victim: refused %v, want 3", ref)
		}
	})
}

// An outsider that holds no seat says hello as if it had restarted: it
// is told nothing of the match (no seat, no seed). One whose PeerID is a
// reserved seat's placeholder is refused outright.
func TestRedTeamClaimSeatItDoesNotOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, _ := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 8, OpenSeats: 1}})
		atk := c.Net.Join("a-attacker").Channel("lobby", transport.Reliable)
		ph := c.Net.Join(ReservedID(2)).Channel("lobby", transport.Reliable)
		c.Run(500 * time.Millisecond)
		for _, h := range []*lobbyfb.HelloT{{Name: "x"}, {Name: "x", Join: true}, {Name: "x", Seat: 1}} {
			atk.Send("p0", encodeSample(lobbyfb.BodyHello, h))
			ph.Send("p0", encodeSample(lobbyfb.BodyHello, h))
			c.Run(500 * time.Millisecond)
		}
		if got := received(atk)[lobbyfb.BodyRunning]; len(got) != 0 {
			t.Errorf("outsider got %d running messages: %+v", len(got), got)
		}
		if got := received(ph)[lobbyfb.BodyRunning]; len(got) != 0 {
			t.Errorf("placeholder got %d running messages", len(got))
		}
		if _, ok := nodes[0].App.State().Member(ReservedID(2)); ok {
			t.Error("a peer with a placeholder ID was admitted")
		}
		if ref := eventsOf(nodes[0], EventRefused); len(ref) == 0 || ref[0].Peer != ReservedID(2) {
			t.Errorf("host refused %v, want the placeholder named", ref)
		}
		r, _ := nodes[0].App.Running()
		if slices.Contains(r.Seats, "a-attacker") {
			t.Errorf("attacker seated: %q", r.Seats)
		}
	})
}

// A spectator claims to be a player: it asks to watch and to join at
// once, with an open seat and LateJoin on. It is not seated (a watcher
// never is), and nobody hears of a new seat.
func TestRedTeamSpectatorClaimsSeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, m := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}})
		sp := c.add("p8", Config{})
		c.Until("member", 5*time.Second, func() bool { return sp.App.State().Joined })
		if err := sp.App.Watch(true); err != nil {
			t.Fatal(err)
		}
		c.Until("watch", 5*time.Second, func() bool { return len(eventsOf(sp, EventWatch)) > 0 })
		if err := sp.App.JoinRunning(); err == nil {
			t.Error("JoinRunning while watching succeeded")
		}
		for range 5 {
			sp.Conn.Send("p0", encodeSample(lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "p8", Watch: true, Join: true}))
			c.Run(300 * time.Millisecond)
		}
		for _, nd := range append(nodes, sp) {
			if ev := eventsOf(nd, EventSeated); len(ev) != 0 {
				t.Errorf("%s: seated %v", nd.ID, ev)
			}
		}
		if r, _ := nodes[0].App.Running(); !slices.Equal(r.Seats, m.Seats) {
			t.Errorf("host's seats %q, want %q", r.Seats, m.Seats)
		}
	})
}

// A member floods the host with join requests (and rejoin-looking hellos):
// it is seated once, every seat hears of it once, and the host answers
// it at most once per serveEvery.
func TestRedTeamJoinFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, nodes, _ := startedCluster(t, 2, Config{Settings: Settings{MaxPlayers: 8, LateJoin: true, OpenSeats: 1}})
		atk := c.add("p6", Config{})
		c.Until("member", 5*time.Second, func() bool { return atk.App.State().Joined })
		before := nodes[0].App.Stats().Ignored
		atk.Paused = true // the attacker's lobby stops reading: the test reads its conn
		for range 10 {
			for range 100 {
				atk.Conn.Send("p0", encodeSample(lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "p6", Join: true}))
			}
			c.Run(100 * time.Millisecond)
		}
		got := received(atk.Conn)[lobbyfb.BodyRunning]
		// 1 s of flood: answers at most every serveEvery (250 ms), plus one.
		if len(got) < 1 || len(got) > 5 {
			t.Errorf("attacker got %d running messages for 1,000 requests", len(got))
		}
		for _, nd := range nodes {
			if ev := eventsOf(nd, EventSeated); len(ev) != 1 || ev[0].Peer != "p6" {
				t.Errorf("%s: seated events %v, want one", nd.ID, ev)
			}
		}
		if ig := nodes[0].App.Stats().Ignored - before; ig < 900 {
			t.Errorf("host ignored %d of 1,000 requests", ig)
		}
	})
}

// nopConn is a Conn that sends nowhere and receives nothing.
type nopConn struct{ id transport.PeerID }

func (c nopConn) Local() transport.PeerID             { return c.id }
func (c nopConn) Peers() []transport.PeerID           { return []transport.PeerID{"h"} }
func (c nopConn) Send(transport.PeerID, []byte) error { return nil }
func (c nopConn) Broadcast([]byte) error              { return nil }
func (c nopConn) TryRecv() (transport.Message, bool)  { return transport.Message{}, false }
func (c nopConn) Recv(ctx context.Context) (transport.Message, error) {
	<-ctx.Done()
	return transport.Message{}, ctx.Err()
}

// FuzzRunningFromHost: any Running message the decoder accepts, from the
// host a member follows while it holds (or watches, or holds no) match,
// is applied or refused, never a panic; and it never moves the member's
// own seat.
func FuzzRunningFromHost(f *testing.F) {
	for _, s := range samples {
		if s.typ == lobbyfb.BodyRunning {
			f.Add(encodeSample(s.typ, s.v), uint8(0))
		}
	}
	f.Add(encodeSample(lobbyfb.BodyRunning, &lobbyfb.RunningT{Term: 1, Round: 1, Seed: 9, Seats: []string{"m", "h", "x", "y"},
		Teams: make([]int32, 4), MaxPlayers: 8, Role: lobbyfb.RunningRoleSeated, Seat: 3, Peer: "y", OpenFrom: 2}), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		body, err := decode(data)
		if err != nil || body.Type != lobbyfb.BodyRunning {
			return
		}
		l, err := New(nopConn{id: "m"}, Config{})
		if err != nil {
			t.Fatal(err)
		}
		l.v.host, l.v.term, l.v.phase = "h", 1, PhaseStarted
		l.v.members = []Member{{ID: "h"}, {ID: "m"}}
		switch mode % 3 {
		case 1: // seated in a 3-seat match with a reserved seat
			m := &Match{Term: 1, Round: 1, Seed: 9, Seats: []transport.PeerID{"m", "h", ReservedID(2)},
				Reserved: []transport.PeerID{ReservedID(2)}, Teams: make([]int, 3)}
			l.run, l.match = m, m
		case 2: // watching
			l.prof.watch = true
		}
		l.onRunning("h", body.Value.(*lobbyfb.RunningT))
		if mode%3 == 1 && l.run.Seat("m") != 0 {
			t.Fatalf("own seat moved: %q", l.run.Seats)
		}
	})
}
