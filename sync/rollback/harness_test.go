package rollback_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// input is the test game's input: a stick and buttons.
type input struct {
	X, Y    int8
	Buttons uint8
}

// game is a small deterministic simulation whose state depends on every
// input of every frame, in order.
type game struct {
	Pos  [lockstep.MaxSeats][2]int32
	Hash uint64
	N    int32
}

func (g *game) step(in []input, status []lockstep.InputStatus) {
	for t, x := range in {
		g.Pos[t][0] += int32(x.X)
		g.Pos[t][1] += int32(x.Y)
		g.Hash = (g.Hash ^ uint64(x.Buttons) ^ uint64(uint8(x.X))<<8 ^ uint64(t)<<16) * 0x100000001b3
		if status[t] == lockstep.InputDropped {
			g.Hash++
		}
	}
	g.N++
}

func (g *game) checksum() uint64 {
	h := g.Hash ^ uint64(g.N)<<40
	for t := range g.Pos {
		h = (h ^ uint64(uint32(g.Pos[t][0]))<<32 ^ uint64(uint32(g.Pos[t][1]))) * 0x100000001b3
	}
	return h
}

// player is one peer: its session, its game and its state buffers.
type player struct {
	sess  *rollback.Session[input]
	peer  *memnet.Peer
	g     game
	slots []game
	sums  []uint64 // latest checksum by frame
	cur   input
	rng   *rand.Rand
	gone  bool
	ended error
	drops map[int]lockstep.Frame
	// saveBug, if set, corrupts the saved state of that frame (a planted
	// nondeterminism in Save).
	saveBug lockstep.Frame
	lie     func(f lockstep.Frame, sum uint64) uint64
}

// apply carries out one Advance's requests.
func (p *player) apply(reqs []rollback.Request[input]) error {
	// The CPU bound of a tick, whatever the peers send: at most
	// MaxPrediction frames re-simulated plus the new one (Slots()-1).
	advances := 0
	for _, r := range reqs {
		if r.Kind == rollback.Advance {
			advances++
		}
	}
	if advances > len(p.slots)-1 {
		return fmt.Errorf("%d frames simulated in one tick, at most %d", advances, len(p.slots)-1)
	}
	for _, r := range reqs {
		switch r.Kind {
		case rollback.Save:
			p.slots[r.Slot] = p.g
			if r.Frame == p.saveBug {
				p.slots[r.Slot].Pos[0][0]++
			}
		case rollback.Load:
			p.g = p.slots[r.Slot]
		case rollback.Advance:
			if int32(r.Frame) != p.g.N {
				return fmt.Errorf("advance frame %d on state of frame %d", r.Frame, p.g.N)
			}
			p.g.step(r.Inputs, r.Status)
			sum := p.g.checksum()
			if p.lie != nil {
				p.sess.ReportChecksum(r.Frame, p.lie(r.Frame, sum))
			} else {
				p.sess.ReportChecksum(r.Frame, sum)
			}
			for int(r.Frame) >= len(p.sums) {
				p.sums = append(p.sums, 0)
			}
			p.sums[r.Frame] = sum
		}
	}
	return nil
}

type runConfig struct {
	seats, frames int
	link          memnet.Link
	seed          uint64
	cfg           rollback.Config
	// leave: seat -> tick at which it stops silently (-1: never).
	leave map[int]int
	// record, if set, returns the writer a seat records its replay to.
	record func(seat int) io.Writer
	// lie, if set, changes the checksum a seat reports (a desync).
	lie func(seat int, f lockstep.Frame, sum uint64) uint64
	// saveBug per seat (NoFrame: none).
	saveBug map[int]lockstep.Frame
	// erratic seats change their input every tick (the most rollbacks a
	// seat can cause).
	erratic map[int]bool
}

type runResult struct {
	ticks   int
	stats   []rollback.Stats
	drops   []map[int]lockstep.Frame
	desyncs [][]*lockstep.DesyncError
	ended   []error
	sums    [][]uint64
}

// run plays cfg inside a synctest bubble and fails t on the first
// confirmed frame whose checksum differs between two peers, or when the
// match does not finish.
func run(t *testing.T, rc runConfig) runResult {
	t.Helper()
	var res runResult
	var err error
	synctest.Test(t, func(*testing.T) { res, err = simulate(rc) })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func simulate(rc runConfig) (runResult, error) {
	net := memnet.New(memnet.Config{Seed: rc.seed, Link: rc.link})
	defer net.Close()
	ids := make([]transport.PeerID, rc.seats)
	for i := range ids {
		ids[i] = transport.PeerID(fmt.Sprintf("seat%02d", i))
	}
	ps := make([]*player, rc.seats)
	res := runResult{
		stats: make([]rollback.Stats, rc.seats), drops: make([]map[int]lockstep.Frame, rc.seats),
		desyncs: make([][]*lockstep.DesyncError, rc.seats), ended: make([]error, rc.seats),
		sums: make([][]uint64, rc.seats),
	}
	defer func() {
		for i, p := range ps {
			if p != nil && !p.gone {
				res.stats[i] = p.sess.Stats()
				_ = p.sess.Close()
			}
		}
	}()
	for i, id := range ids {
		peer := net.Join(id)
		c := rc.cfg
		c.Lockstep.Seats = ids
		if rc.record != nil {
			c.Lockstep.Record = rc.record(i)
		}
		sess, err := rollback.NewSession[input](peer.Channel("lockstep", transport.Unreliable), c)
		if err != nil {
			return res, err
		}
		ps[i] = &player{sess: sess, peer: peer, slots: make([]game, sess.Slots()),
			rng: rand.New(rand.NewPCG(rc.seed, uint64(i))), drops: map[int]lockstep.Frame{}, saveBug: lockstep.NoFrame}
		if b, ok := rc.saveBug[i]; ok {
			ps[i].saveBug = b
		}
		if rc.lie != nil {
			seat := i
			ps[i].lie = func(f lockstep.Frame, sum uint64) uint64 { return rc.lie(seat, f, sum) }
		}
	}
	var ref []uint64
	checked := make([]int, rc.seats)
	tick := time.Second / 60
	stall := 0
	for ; ; res.ticks++ {
		done := true
		for i, p := range ps {
			if p.gone {
				continue
			}
			if l, ok := rc.leave[i]; ok && res.ticks == l {
				p.gone = true
				res.stats[i] = p.sess.Stats()
				_ = p.peer.Close()
				continue
			}
			// A held stick that changes now and then, as a player's does.
			if p.rng.IntN(8) == 0 || rc.erratic[i] {
				p.cur = input{X: int8(p.rng.IntN(5) - 2), Y: int8(p.rng.IntN(5) - 2), Buttons: uint8(p.rng.IntN(4))}
			}
			reqs, err := p.sess.Advance(p.cur)
			switch {
			case errors.Is(err, lockstep.ErrDropped), errors.Is(err, lockstep.ErrCutOff):
				p.gone, p.ended = true, err
				res.stats[i] = p.sess.Stats()
				continue
			case err != nil:
				return res, fmt.Errorf("seat %d tick %d: %w", i, res.ticks, err)
			}
			if err := p.apply(reqs); err != nil {
				return res, fmt.Errorf("seat %d tick %d: %w", i, res.ticks, err)
			}
			for _, e := range p.sess.PollEvents() {
				switch e.Kind {
				case lockstep.EventPlayerDropped:
					p.drops[e.Seat] = e.Frame
				case lockstep.EventDesync:
					var de *lockstep.DesyncError
					if !errors.As(e.Err, &de) {
						return res, fmt.Errorf("seat %d: EventDesync with Err %v, want a *lockstep.DesyncError", i, e.Err)
					}
					res.desyncs[i] = append(res.desyncs[i], de)
				}
			}
			// Every confirmed frame: the same state on every peer.
			for f := checked[i]; f < int(p.sess.Confirmed()); f++ {
				if f >= len(p.sums) {
					return res, fmt.Errorf("seat %d: frame %d confirmed but never simulated", i, f)
				}
				switch {
				case f < len(ref):
					if ref[f] != p.sums[f] && rc.saveBug == nil {
						return res, fmt.Errorf("seat %d: confirmed frame %d has checksum %#x, another seat %#x", i, f, p.sums[f], ref[f])
					}
				case f == len(ref):
					ref = append(ref, p.sums[f])
				}
				checked[i] = f + 1
			}
			if checked[i] < rc.frames {
				done = false
			}
		}
		if done {
			break
		}
		if stall++; stall > rc.frames*3+2000 {
			return res, fmt.Errorf("no end after %d ticks: confirmed %v", res.ticks, checked)
		}
		time.Sleep(tick)
	}
	for i, p := range ps {
		res.drops[i] = p.drops
		res.sums[i] = p.sums
		res.ended[i] = p.ended
		if !p.gone {
			res.stats[i] = p.sess.Stats()
		}
	}
	return res, nil
}
