package locksteptest_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// move is one player's input: -1, 0 or +1.
type move struct{ Dir int8 }

// race is a tiny game: every player runs along a track.
type race struct{ pos [2]int64 }

func (r *race) Step(_ lockstep.Frame, in []move) {
	for i, m := range in {
		r.pos[i] += int64(m.Dir)
	}
}

func (r *race) Checksum() uint64 { return uint64(r.pos[0])*31 + uint64(r.pos[1]) }

// leaky reads state shared by every instance: a classic determinism bug
// (as a clock, a global random source or map order would be).
type leaky struct{ race }

var shared int64

func (l *leaky) Step(f lockstep.Frame, in []move) {
	l.race.Step(f, in)
	shared++
	if f == 100 {
		l.pos[0] += shared % 2
	}
}

func randomMove(_, _ int, rng *rand.Rand) move { return move{Dir: int8(rng.IntN(3) - 1)} }

func ExampleFirstDivergence() {
	good := locksteptest.Config[move]{
		Seats: 2, Frames: 1000, Seed: 1, Input: randomMove,
		NewSim: func(int) locksteptest.Sim[move] { return &race{} },
	}
	_, _, _, diverged := locksteptest.FirstDivergence(good)
	fmt.Println("race diverged:", diverged)

	bad := good
	bad.NewSim = func(int) locksteptest.Sim[move] { return &leaky{} }
	frame, _, _, diverged := locksteptest.FirstDivergence(bad)
	fmt.Println("leaky diverged:", diverged, "at frame", frame)
	// Output:
	// race diverged: false
	// leaky diverged: true at frame 100
}
