package locksteptest

import (
	"math/rand/v2"
	"testing"

	"github.com/peerplay/peerplay/sync/lockstep"
)

// FirstDivergence runs two fresh simulations (cfg.NewSim(0), twice) side
// by side on the same seeded inputs for cfg.Frames frames, with
// cfg.Seats inputs per frame from cfg.Input, and returns the first frame
// after which their checksums differ. It needs no network: it catches
// nondeterminism inside the game code (map iteration, clocks, global
// random numbers, float drift across code paths) before lockstep would
// report it as a desync.
func FirstDivergence[I any](cfg Config[I]) (frame lockstep.Frame, a, b uint64, diverged bool) {
	simA, simB := cfg.NewSim(0), cfg.NewSim(0)
	rngs := make([]*rand.Rand, cfg.Seats)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
	}
	inA := make([]I, cfg.Seats)
	inB := make([]I, cfg.Seats)
	for f := range cfg.Frames {
		for i := range inA {
			var in I
			if cfg.Input != nil {
				in = cfg.Input(i, f, rngs[i])
			}
			inA[i], inB[i] = in, in
		}
		simA.Step(lockstep.Frame(f), inA)
		simB.Step(lockstep.Frame(f), inB)
		if a, b := simA.Checksum(), simB.Checksum(); a != b {
			return lockstep.Frame(f), a, b, true
		}
	}
	return 0, 0, 0, false
}

// CheckDeterminism fails t with the first frame at which two runs of the
// simulation on the same inputs differ (see FirstDivergence).
func CheckDeterminism[I any](t testing.TB, cfg Config[I]) {
	t.Helper()
	if f, a, b, ok := FirstDivergence(cfg); ok {
		t.Fatalf("locksteptest: simulation is not deterministic: frame %d gives checksum %#x, then %#x on the same inputs", f, a, b)
	}
}
