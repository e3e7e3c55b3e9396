package rollbacktest_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
	"github.com/peerplay/peerplay/sync/rollback/rollbacktest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type input struct{ Move int8 }

type state struct {
	Pos [8]int32
	H   uint64
}

// sim is a test game; bug, unless NoFrame, makes Save forget the hash
// from that frame on.
type sim struct {
	s     state
	slots [rollback.MaxMaxPrediction + 2]state
	frame lockstep.Frame
	bug   lockstep.Frame
}

func (g *sim) Step(f lockstep.Frame, in []input) {
	for t, x := range in {
		g.s.Pos[t] += int32(x.Move)
		g.s.H = (g.s.H ^ uint64(uint8(x.Move)) ^ uint64(t)<<8) * 1099511628211
	}
	g.frame = f + 1
}

func (g *sim) Checksum() uint64 {
	h := g.s.H
	for _, p := range g.s.Pos {
		h = (h ^ uint64(uint32(p))) * 1099511628211
	}
	return h
}

func (g *sim) Save(slot int) {
	g.slots[slot] = g.s
	if g.bug != lockstep.NoFrame && g.frame >= g.bug {
		g.slots[slot].H = 0
	}
}

func (g *sim) Load(slot int) { g.s = g.slots[slot] }

func move(seat, tick int, rng *rand.Rand) input {
	return input{Move: int8((tick/6+seat)%3 - 1)}
}

func TestRun(t *testing.T) {
	res := rollbacktest.Run(t, rollbacktest.Config[input]{
		Seats: 3, Frames: 600, Seed: 1,
		Link:   memnet.Link{Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.1, Duplicate: 0.05, Reorder: 0.05},
		NewSim: func(int) rollbacktest.Sim[input] { return &sim{bug: lockstep.NoFrame} },
		Input:  move,
	})
	if res.Stats[0].Rollbacks == 0 {
		t.Error("no rollback: the run proves nothing")
	}
}

// TestRunCatchesSaveBug: a Save that corrupts the state from frame 100 on,
// on one seat, makes Simulate fail with the divergence of a confirmed
// frame at or after 100 (its next rollback loads a bad state).
func TestRunCatchesSaveBug(t *testing.T) {
	var err error
	synctestRun(t, func() {
		_, err = rollbacktest.Simulate(rollbacktest.Config[input]{
			Seats: 2, Frames: 600, Seed: 2,
			Link: memnet.Link{Latency: 80 * time.Millisecond, Loss: 0.1},
			NewSim: func(seat int) rollbacktest.Sim[input] {
				if seat == 1 {
					return &sim{bug: 100}
				}
				return &sim{bug: lockstep.NoFrame}
			},
			Input: func(seat, tick int, rng *rand.Rand) input { return input{Move: int8(rng.IntN(3) - 1)} },
		})
	})
	var de *lockstep.DesyncError
	if !errors.As(err, &de) || de.Frame < 100 {
		t.Fatalf("err %v, want a divergence at frame 100 or after", err)
	}
}

func TestSyncTest(t *testing.T) {
	in := func(seat, f int) input { return input{Move: int8((f+seat)%3 - 1)} }
	if err := rollbacktest.SyncTest[input](&sim{bug: lockstep.NoFrame}, 2, 4, 200, in); err != nil {
		t.Fatalf("deterministic sim: %v", err)
	}
	err := rollbacktest.SyncTest[input](&sim{bug: 50}, 2, 4, 200, in)
	var de *lockstep.DesyncError
	if !errors.As(err, &de) || de.Frame != 50 {
		t.Fatalf("save bug at frame 50: %v", err)
	}
}
