package lobby_test

// The lobby and lockstep together (#15): what a game does with
// EventRejoin, EventSeated and Rebind, checked end to end over memnet.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/lobby"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

type pad struct{ B uint8 }

// gamePeer is one process: a lobby and, once it plays, a session, a
// streamer and (while catching up) a spectator, over one memnet peer.
type gamePeer struct {
	id       transport.PeerID
	peer     *memnet.Peer
	lb       *lobby.Lobby
	lbConn   transport.Conn
	ls, ctl  transport.Conn
	spec     transport.Conn
	sess     *lockstep.Session[pad]
	str      *lockstep.Streamer[pad]
	sp       *lockstep.Spectator[pad]
	state    uint64
	next     lockstep.Frame // the next frame its game runs
	sums     map[lockstep.Frame]uint64
	joinedAt lockstep.Frame
	events   []lobby.Event
}

func newGamePeer(t *testing.T, net *memnet.Network, id transport.PeerID, cfg lobby.Config) *gamePeer {
	t.Helper()
	p := net.Join(id)
	g := &gamePeer{id: id, peer: p, lbConn: p.Channel("lobby", transport.Reliable),
		ls: p.Channel("ls", transport.Unreliable), ctl: p.Channel("ctl", transport.Reliable),
		spec: p.Channel("spec", transport.Reliable), sums: map[lockstep.Frame]uint64{}, joinedAt: lockstep.NoFrame}
	var err error
	if g.lb, err = lobby.New(g.lbConn, cfg); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *gamePeer) step(f lockstep.Frame, in []pad) {
	for t, x := range in {
		g.state = (g.state^uint64(x.B)^uint64(t)<<8)*0x100000001b3 + uint64(f)
	}
	g.next = f + 1
}

func (g *gamePeer) snapshot() []byte {
	b := binary.LittleEndian.AppendUint64(nil, g.state)
	return binary.LittleEndian.AppendUint32(b, uint32(g.next))
}

// play starts the session from the lobby's match; join for a seat that
// enters it running (it then catches up from seats[0]'s stream).
func (g *gamePeer) play(t *testing.T, m lobby.Match, join bool) {
	t.Helper()
	var err error
	g.sess, err = lockstep.NewSession[pad](g.ls, lockstep.Config{Seats: m.Seats, Reserved: m.Reserved, Control: g.ctl,
		Join: join, GameID: m.Seed, Seed: m.Seed, InputDelay: 3})
	if err != nil {
		t.Fatal(err)
	}
	if g.str, err = lockstep.NewStreamer[pad](lockstep.StreamConfig{Conn: g.spec, Seats: len(m.Seats), GameID: m.Seed, Snapshots: true}); err != nil {
		t.Fatal(err)
	}
	if join {
		src := m.Seats[0]
		if src == g.id {
			src = m.Seats[1]
		}
		if g.sp, err = lockstep.NewSpectator[pad](lockstep.SpectatorConfig{Conn: g.spec, Source: src, GameID: m.Seed}); err != nil {
			t.Fatal(err)
		}
	}
}

// tick runs one frame of the process: its lobby, then its game.
func (g *gamePeer) tick(t *testing.T, tick int) {
	t.Helper()
	for _, e := range g.lb.PollEvents() {
		g.events = append(g.events, e)
		switch e.Kind {
		case lobby.EventStarted:
			g.play(t, e.Match, false)
		case lobby.EventRejoin:
			g.play(t, e.Match, true)
		case lobby.EventSeated:
			if e.Peer == g.id {
				g.play(t, e.Match, true)
			} else if g.sess != nil {
				if err := g.sess.Rebind(e.Seat, e.Peer); err != nil {
					t.Fatalf("%s: Rebind: %v", g.id, err)
				}
			}
		}
	}
	if g.sess == nil {
		return
	}
	in := pad{B: uint8(tick*7) ^ g.id[len(g.id)-1]}
	if g.sp != nil {
		if c, ok := g.sp.Restore(); ok {
			g.state = binary.LittleEndian.Uint64(c.State)
			g.next = lockstep.Frame(binary.LittleEndian.Uint32(c.State[8:]))
		}
		steps, err := g.sp.Advance()
		if err != nil {
			t.Fatalf("%s spectating: %v", g.id, err)
		}
		r := g.sess.JoinFrame()
		for _, st := range steps {
			if (r == lockstep.NoFrame || st.Frame < r) && st.Frame == g.next {
				g.step(st.Frame, st.Inputs)
			}
		}
		if r == lockstep.NoFrame {
			if _, err := g.sess.Advance(in); err != nil {
				t.Fatalf("%s joining: %v", g.id, err)
			}
			return
		}
		if g.next < r {
			return // catching up
		}
		g.sp, g.joinedAt = nil, r
	}
	steps, err := g.sess.Advance(in)
	if err != nil && !errors.Is(err, lockstep.ErrDropped) {
		t.Fatalf("%s tick %d: %v", g.id, tick, err)
	}
	for _, st := range steps {
		if st.Frame != g.next {
			t.Fatalf("%s: frame %d, want %d", g.id, st.Frame, g.next)
		}
		g.step(st.Frame, st.Inputs)
		g.sums[st.Frame] = g.state
		g.sess.ReportChecksum(st.Frame, g.state)
		g.str.Step(st)
	}
	if g.str.Wanted() && len(steps) > 0 {
		_ = g.str.Snapshot(g.snapshot())
	}
	g.str.Flush()
}

func (g *gamePeer) close() {
	if g.sess != nil {
		_ = g.sess.Close()
	}
	_ = g.lb.Close()
}

// TestLobbyIntoRunningLockstep: a 2-seat match with one reserved seat.
// newcomer: a third peer asks to join (LateJoin on), the lobby seats it,
// the two players Rebind the reserved seat to it, it starts with Join and
// catches up from a snapshot. restart: a player's process dies and comes
// back with the same identity; its fresh lobby gets EventRejoin and its
// session rejoins. Either way every frame all of them ran from then on
// has one checksum, up to frame 1200.
func TestLobbyIntoRunningLockstep(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(map[bool]string{false: "newcomer", true: "restart"}[restart], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { lobbyIntoLockstep(t, restart) })
		})
	}
}

func lobbyIntoLockstep(t *testing.T, restart bool) {
	const frames = 1200
	net := memnet.New(memnet.Config{Seed: 4, Link: memnet.Link{Latency: 15 * time.Millisecond, Jitter: 3 * time.Millisecond}})
	defer net.Close()
	cfg := lobby.Config{Settings: lobby.Settings{MaxPlayers: 4, LateJoin: true, OpenSeats: 1}, Countdown: -1}
	peers := []*gamePeer{newGamePeer(t, net, "p0", cfg), newGamePeer(t, net, "p1", cfg)}
	defer func() {
		for _, g := range peers {
			g.close()
		}
	}()
	ready := false
	var late *gamePeer
	for tick := 0; ; tick++ {
		if tick > 4000 {
			t.Fatalf("no end: frames %d, %d", peers[0].next, peers[len(peers)-1].next)
		}
		if !ready && tick == 60 {
			for _, g := range peers {
				_ = g.lb.SetReady(true)
			}
			ready = true
		}
		switch {
		case tick == 300 && restart:
			// p1's process dies (no goodbye) and restarts 3 s later.
			_ = peers[1].peer.Close()
			peers[1].sess = nil
		case tick == 480 && restart:
			peers[1] = newGamePeer(t, net, "p1", cfg)
			late = peers[1]
		case tick == 300 && !restart:
			late = newGamePeer(t, net, "p5", lobby.Config{})
			peers = append(peers, late)
		}
		if late != nil && !restart && late.lb.State().Joined && late.lb.State().Phase == lobby.PhaseStarted && late.sess == nil {
			if err := late.lb.JoinRunning(); err != nil && !errors.Is(err, lobby.ErrPhase) {
				t.Fatal(err)
			}
		}
		done := late != nil
		for _, g := range peers {
			if restart && g == peers[1] && tick >= 300 && tick < 480 {
				continue // dead
			}
			g.tick(t, tick)
			if g.next < frames {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(time.Second / 60)
	}
	if late.joinedAt == lockstep.NoFrame {
		t.Fatalf("%s never joined", late.id)
	}
	compared := 0
	for f := late.joinedAt; f < frames; f++ {
		sum, ok := late.sums[f]
		if !ok {
			t.Fatalf("%s did not run frame %d", late.id, f)
		}
		for _, g := range peers {
			if other, ok := g.sums[f]; ok && g != late {
				compared++
				if other != sum {
					t.Fatalf("frame %d: %s %#x, %s %#x", f, late.id, sum, g.id, other)
				}
			}
		}
	}
	kind := lobby.EventSeated
	if restart {
		kind = lobby.EventRejoin
	}
	seen := 0
	for _, e := range late.events {
		if e.Kind == kind {
			seen++
		}
	}
	if seen != 1 || compared < frames-int(late.joinedAt) {
		t.Errorf("%s: %d %v events, %d frames compared", late.id, seen, kind, compared)
	}
	t.Logf("%s joined at frame %d, %d checksums compared equal", late.id, late.joinedAt, compared)
	_ = fmt.Sprint()
}
