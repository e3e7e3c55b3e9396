// Package rollbacktest tests a game's rollback code: Run plays N rollback
// sessions of the game over impaired memnet inside testing/synctest and
// fails on the first confirmed frame whose state differs between peers;
// SyncTest runs rollback.SyncTest over a game to catch nondeterministic
// Save, Load or Step at the first bad frame. It is lockstep's
// locksteptest for sync/rollback.
package rollbacktest

import (
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

// Sim is the game under test, with its own state buffers.
type Sim[I any] interface {
	// Step applies one frame's inputs, indexed by seat.
	Step(frame lockstep.Frame, inputs []I)
	// Checksum summarizes the whole game state.
	Checksum() uint64
	// Save copies the state into buffer slot; Load restores it. Slots
	// are 0..rollback.MaxMaxPrediction+1.
	Save(slot int)
	Load(slot int)
}

// Config describes a run. Seats, Frames and NewSim are required.
type Config[I any] struct {
	// Seats is the number of players, 1..lockstep.MaxSeats.
	Seats int
	// Frames is how many frames every seat must confirm.
	Frames int
	// Link is the impairment of every directed link (RTT = 2·Latency).
	Link memnet.Link
	// Seed seeds the network and the input generators.
	Seed uint64
	// NewSim returns a fresh simulation for a seat.
	NewSim func(seat int) Sim[I]
	// Input returns a seat's input for a tick. nil means the zero input.
	Input func(seat, tick int, rng *rand.Rand) I
	// Session is the template of every seat's rollback.Config; Run fills
	// in Lockstep.Seats.
	Session rollback.Config
}

// Result is what a run measured.
type Result struct {
	Ticks int
	Stats []rollback.Stats // each seat's at the end
}

// Run plays cfg inside a synctest bubble and fails t at the first
// confirmed frame whose checksum differs between two seats, a desync a
// session reports, a tick that simulates more than MaxPrediction+1
// frames, or a match that does not finish in 3·Frames+2000 ticks.
func Run[I any](t *testing.T, cfg Config[I]) Result {
	t.Helper()
	var res Result
	var err error
	synctest.Test(t, func(*testing.T) { res, err = Simulate(cfg) })
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Simulate is Run without the synctest bubble and testing.T: call it
// inside synctest.Test (or accept real time).
func Simulate[I any](cfg Config[I]) (Result, error) {
	if cfg.Seats < 1 || cfg.Seats > lockstep.MaxSeats || cfg.Frames < 1 || cfg.NewSim == nil {
		return Result{}, fmt.Errorf("rollbacktest: invalid config: %d seats, %d frames, NewSim set: %v",
			cfg.Seats, cfg.Frames, cfg.NewSim != nil)
	}
	net := memnet.New(memnet.Config{Seed: cfg.Seed, Link: cfg.Link})
	defer net.Close()
	ids := make([]transport.PeerID, cfg.Seats)
	for i := range ids {
		ids[i] = transport.PeerID(fmt.Sprintf("seat%02d", i))
	}
	type player struct {
		sess *rollback.Session[I]
		sim  Sim[I]
		rng  *rand.Rand
		sums []uint64
		done int
	}
	ps := make([]*player, cfg.Seats)
	defer func() {
		for _, p := range ps {
			if p != nil {
				_ = p.sess.Close()
			}
		}
	}()
	for i, id := range ids {
		c := cfg.Session
		c.Lockstep.Seats = ids
		sess, err := rollback.NewSession[I](net.Join(id).Channel("lockstep", transport.Unreliable), c)
		if err != nil {
			return Result{}, err
		}
		ps[i] = &player{sess: sess, sim: cfg.NewSim(i), rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
	}
	var ref []uint64
	res := Result{}
	for ; ; res.Ticks++ {
		done := true
		for i, p := range ps {
			var in I
			if cfg.Input != nil {
				in = cfg.Input(i, res.Ticks, p.rng)
			}
			reqs, err := p.sess.Advance(in)
			if err != nil {
				return res, fmt.Errorf("rollbacktest: seat %d, tick %d: %w", i, res.Ticks, err)
			}
			advances := 0
			for _, r := range reqs {
				switch r.Kind {
				case rollback.Save:
					p.sim.Save(r.Slot)
				case rollback.Load:
					p.sim.Load(r.Slot)
				case rollback.Advance:
					advances++
					p.sim.Step(r.Frame, r.Inputs)
					sum := p.sim.Checksum()
					p.sess.ReportChecksum(r.Frame, sum)
					for int(r.Frame) >= len(p.sums) {
						p.sums = append(p.sums, 0)
					}
					p.sums[r.Frame] = sum
				}
			}
			if advances > p.sess.Slots()-1 {
				return res, fmt.Errorf("rollbacktest: seat %d simulated %d frames in one tick", i, advances)
			}
			for _, e := range p.sess.PollEvents() {
				if e.Kind == lockstep.EventDesync {
					return res, fmt.Errorf("rollbacktest: seat %d: %w", i, e.Err)
				}
			}
			for f := p.done; f < min(int(p.sess.Confirmed()), len(p.sums)); f++ {
				switch {
				case f < len(ref):
					if ref[f] != p.sums[f] {
						return res, &lockstep.DesyncError{Frame: lockstep.Frame(f), Seat: i, Peer: ids[i], Local: ref[f], Remote: p.sums[f]}
					}
				case f == len(ref):
					ref = append(ref, p.sums[f])
				}
				p.done = f + 1
			}
			if p.done < cfg.Frames {
				done = false
			}
		}
		if done {
			break
		}
		if res.Ticks > 3*cfg.Frames+2000 {
			return res, errors.New("rollbacktest: the match does not finish")
		}
		time.Sleep(time.Second / 60)
	}
	for _, p := range ps {
		res.Stats = append(res.Stats, p.sess.Stats())
	}
	return res, nil
}

// SyncTest runs frames frames of a fresh simulation of seats seats
// through rollback.SyncTest with check distance dist (every frame rolled
// back and simulated again dist frames later) and returns the first
// mismatch (a *lockstep.DesyncError at the first frame whose
// re-simulation differs), or nil after checking that comparisons
// happened.
func SyncTest[I any](sim Sim[I], seats, dist, frames int, input func(seat, frame int) I) error {
	st, err := rollback.NewSyncTest[I](seats, dist)
	if err != nil {
		return err
	}
	in := make([]I, seats)
	for f := range frames {
		if input != nil {
			for s := range in {
				in[s] = input(s, f)
			}
		}
		reqs, err := st.Advance(in)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			switch r.Kind {
			case rollback.Save:
				sim.Save(r.Slot)
			case rollback.Load:
				sim.Load(r.Slot)
			case rollback.Advance:
				sim.Step(r.Frame, r.Inputs)
				st.ReportChecksum(r.Frame, sim.Checksum())
			}
		}
	}
	// One last tick to compare the last frames' re-simulation.
	if _, err := st.Advance(in); err != nil {
		return err
	}
	if frames > dist && st.Checked() == 0 {
		return errors.New("rollbacktest: no checksum compared")
	}
	return nil
}
