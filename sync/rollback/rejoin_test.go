package rollback_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// rjPlayer is one seat of a rollback match that can rejoin: its session,
// game, the Streamer that serves joiners and, while it catches up, a
// Spectator.
type rjPlayer struct {
	player
	id       transport.PeerID
	ls, ctl  transport.Conn
	spec     transport.Conn
	str      *lockstep.Streamer[input]
	sp       *lockstep.Spectator[input]
	restored lockstep.Frame
	events   []lockstep.Event
	first    int // tick of the first frame simulated after rejoining (-1: none)
}

func encodeGame(g *game) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, g)
	return b.Bytes()
}

func decodeGame(b []byte) (game, error) {
	var g game
	err := binary.Read(bytes.NewReader(b), binary.LittleEndian, &g)
	return g, err
}

// TestRejoinRollback: seat 2 of a 3-seat rollback match pauses its loop
// for 10 s at tick 300, is dropped by the majority and told so, and
// restarts with the same identity (Config.Lockstep.Join): it is admitted
// at a frame R, restores seat 0's snapshot of the confirmed state
// (Streamer fed with Session.Steps, Snapshot from ConfirmedState) and the
// confirmed frames up to R-1 through a Spectator, then plays on with
// rollback. Every confirmed frame has the same checksum on every seat,
// the rejoined seat's frames from R on included, up to frame 1800.
func TestRejoinRollback(t *testing.T) {
	for _, delay := range []int{0, 2} {
		t.Run(fmt.Sprintf("delay-%d", delay), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { rejoinRollback(t, delay, false) })
		})
	}
}

// TestJoinInProgressRollback: seat 2 of a rollback match is reserved
// (empty from frame 0); a newcomer takes it at tick 600 with Join,
// restores seat 0's snapshot and plays on, with every confirmed frame's
// checksum equal on the three seats.
func TestJoinInProgressRollback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) { rejoinRollback(t, 1, true) })
}

func rejoinRollback(t *testing.T, delay int, late bool) {
	const seats, frames = 3, 1800
	pauseAt, pauseTicks := 300, 600
	if late {
		pauseAt = 0 // the newcomer has not started: it "pauses" from tick 0 to 600
	}
	net := memnet.New(memnet.Config{Seed: 5, Link: memnet.Link{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}})
	defer net.Close()
	ids := []transport.PeerID{"p0", "p1", "p2"}
	cfg := func(ctl transport.Conn, join bool) rollback.Config {
		c := rollback.Config{Lockstep: lockstep.Config{Seats: ids, GameID: 7, Control: ctl, Join: join}, InputDelay: delay}
		if late {
			c.Lockstep.Reserved = ids[2:]
		}
		return c
	}
	ps := make([]*rjPlayer, seats)
	for i, id := range ids {
		peer := net.Join(id)
		p := &rjPlayer{id: id, ls: peer.Channel("ls", transport.Unreliable), ctl: peer.Channel("ctl", transport.Reliable),
			spec: peer.Channel("spec", transport.Reliable), restored: lockstep.NoFrame, first: -1}
		p.peer, p.saveBug = peer, lockstep.NoFrame
		p.rng = rand.New(rand.NewPCG(5, uint64(i)))
		var err error
		if p.sess, err = rollback.NewSession[input](p.ls, cfg(p.ctl, false)); err != nil {
			t.Fatal(err)
		}
		p.slots = make([]game, p.sess.Slots())
		if p.str, err = lockstep.NewStreamer[input](lockstep.StreamConfig{Conn: p.spec, Seats: seats, GameID: 7, Snapshots: true}); err != nil {
			t.Fatal(err)
		}
		if late && i == 2 {
			p.ended = lockstep.ErrDropped // not started: it joins at tick 600
		}
		ps[i] = p
	}
	defer func() {
		for _, p := range ps {
			_ = p.sess.Close()
		}
	}()
	restartAt := -1
	checked := make([]int, seats)
	var ref []uint64
	for tick := 0; ; tick++ {
		if tick > 3*frames {
			t.Fatalf("no end after %d ticks: confirmed %v", tick, checked)
		}
		done := true
		for i, p := range ps {
			if p.rng.IntN(8) == 0 {
				p.cur = input{X: int8(p.rng.IntN(5) - 2), Y: int8(p.rng.IntN(5) - 2), Buttons: uint8(p.rng.IntN(4))}
			}
			if i == 2 && tick >= pauseAt && tick < pauseAt+pauseTicks {
				continue // the paused loop
			}
			if i == 2 && restartAt < 0 && p.ended != nil {
				// Told it was dropped: restart with the same identity.
				restartAt = tick
				if !late {
					_ = p.sess.Close()
				}
				var err error
				if p.sess, err = rollback.NewSession[input](p.ls, cfg(p.ctl, true)); err != nil {
					t.Fatal(err)
				}
				if p.sp, err = lockstep.NewSpectator[input](lockstep.SpectatorConfig{Conn: p.spec, Source: "p0", GameID: 7}); err != nil {
					t.Fatal(err)
				}
				p.g, p.sums, p.ended = game{}, nil, nil
			}
			if p.ended != nil {
				if i != 2 {
					t.Fatalf("seat %d ended: %v", i, p.ended)
				}
				continue
			}
			if p.sp != nil {
				if c, ok := p.sp.Restore(); ok {
					g, err := decodeGame(c.State)
					if err != nil {
						t.Fatal(err)
					}
					p.g, p.restored = g, c.Frame
				}
				steps, err := p.sp.Advance()
				if err != nil {
					t.Fatalf("spectating: %v", err)
				}
				r := p.sess.JoinFrame()
				for _, st := range steps {
					if (r == lockstep.NoFrame || st.Frame < r) && int32(st.Frame) == p.g.N {
						p.g.step(st.Inputs, st.Status)
					}
				}
				if r == lockstep.NoFrame {
					if reqs, err := p.sess.Advance(p.cur); err != nil || len(reqs) != 0 {
						t.Fatalf("joining: %d requests, %v", len(reqs), err)
					}
					continue
				}
				if lockstep.Frame(p.g.N) < r {
					continue // catching up
				}
				p.sp = nil
			}
			reqs, err := p.sess.Advance(p.cur)
			switch {
			case errors.Is(err, lockstep.ErrDropped):
				p.ended = err
				continue
			case err != nil:
				t.Fatalf("seat %d tick %d: %v", i, tick, err)
			}
			if len(reqs) > 0 && i == 2 && restartAt >= 0 && p.first < 0 {
				p.first = tick
				if r := p.sess.JoinFrame(); reqs[0].Frame != r {
					t.Fatalf("rejoined at %d, first request %v of frame %d", r, reqs[0].Kind, reqs[0].Frame)
				}
			}
			if err := p.apply(reqs); err != nil {
				t.Fatalf("seat %d tick %d: %v", i, tick, err)
			}
			for _, st := range p.sess.Steps() {
				p.str.Step(st)
			}
			if p.str.Wanted() {
				slot, cur := p.sess.ConfirmedState()
				g := p.slots[slot]
				if cur {
					g = p.g
				}
				if steps := p.sess.Steps(); len(steps) > 0 && lockstep.Frame(g.N) != steps[len(steps)-1].Frame+1 {
					t.Fatalf("seat %d: confirmed state of frame %d after step %d", i, g.N, steps[len(steps)-1].Frame)
				}
				_ = p.str.Snapshot(encodeGame(&g))
			}
			p.str.Flush()
			p.events = append(p.events, p.sess.PollEvents()...)
			// Every confirmed frame this seat simulated: the same checksum
			// on every seat.
			from, to := checked[i], int(min(p.sess.Confirmed(), p.sess.Head()))
			switch {
			case i == 2 && p.restored != lockstep.NoFrame:
				from = max(from, int(p.sess.JoinFrame()))
			case i == 2 && tick >= pauseAt:
				// Back from its pause, the old session may run up to its
				// input delay past the frame it was dropped at before it
				// hears of the drop (as in lockstep); the match went on
				// without it.
				to = min(to, pauseAt-30)
			}
			for f := from; f < to; f++ {
				if f >= len(p.sums) {
					t.Fatalf("seat %d: frame %d confirmed, never simulated", i, f)
				}
				switch {
				case f < len(ref):
					if ref[f] != p.sums[f] {
						t.Fatalf("seat %d: confirmed frame %d checksum %#x, another seat %#x (R %d, ev %v)", i, f, p.sums[f], ref[f], ps[2].sess.JoinFrame(), p.events)
					}
				case f == len(ref):
					ref = append(ref, p.sums[f])
				}
				checked[i] = f + 1
			}
			if checked[i] < frames && (i != 2 || tick >= pauseAt) {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(time.Second / 60)
	}
	p2 := ps[2]
	r := p2.sess.JoinFrame()
	if restartAt < 0 || r <= 0 || p2.first < 0 {
		t.Fatalf("seat 2 never rejoined (restart at tick %d, R %d)", restartAt, r)
	}
	if p2.restored == lockstep.NoFrame || p2.restored >= r {
		t.Errorf("seat 2 restored a snapshot of frame %d, want one before R = %d", p2.restored, r)
	}
	for i, p := range ps[:2] {
		found := false
		for _, e := range p.events {
			found = found || (e.Kind == lockstep.EventRejoined && e.Seat == 2 && e.Frame == r)
		}
		if !found {
			t.Errorf("seat %d: no rejoined event for seat 2 at %d", i, r)
		}
	}
	t.Logf("delay %d: restarted at tick %d, snapshot of frame %d, admitted at %d, simulating %v later; confirmed frames compared to %d",
		delay, restartAt, p2.restored, r, time.Duration(p2.first-restartAt)*time.Second/60, checked[2])
}
