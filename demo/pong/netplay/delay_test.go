package netplay

import (
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// hiccup is how late a 60 Hz game loop wakes on a busy desktop: mostly
// under a millisecond, sometimes a few, now and then up to 15 ms (the
// window's software renderer, the other window, a GC); never a whole
// tick.
func hiccup(r *rand.Rand) time.Duration {
	switch x := r.Float64(); {
	case x < 0.90:
		return time.Duration(r.IntN(1000)) * time.Microsecond
	case x < 0.99:
		return time.Duration(1000+r.IntN(4000)) * time.Microsecond
	default:
		return time.Duration(5000+r.IntN(10000)) * time.Microsecond
	}
}

// loopStalls plays a minute of two pongs in lockstep over a loopback-like
// memnet link (75 µs each way), each Advancing on a 60 Hz ticker of its
// own, the second started phase after the first, each tick late by a
// hiccup; both skip ticks on SlowDown as Match.Tick does. It returns each
// side's stalls after warm-up (frame warmFrames, as Summary counts).
func loopStalls(t *testing.T, minDelay int, phase time.Duration, seed uint64) [2]int {
	var stalls [2]int
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Config{Seed: seed + 1, Link: memnet.Link{Latency: 75 * time.Microsecond}})
		defer net.Close()
		ids := []transport.PeerID{"ann", "bob"}
		var wg sync.WaitGroup
		for i, id := range ids {
			cfg := lockstep.Config{Seats: ids, GameID: MatchGameID(99, 1)}
			adaptive(&cfg, false)
			if minDelay > 0 {
				cfg.Adaptive.Min = minDelay
			}
			s, err := lockstep.NewSession[sim.Input](net.Join(id).Channel(chanInput, transport.Unreliable), cfg)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer s.Close()
				if i == 1 {
					time.Sleep(phase)
				}
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				st := sim.New(sim.Config{Seed: 1, WinScore: 99})
				tick := time.NewTicker(time.Second / 60)
				defer tick.Stop()
				skip := 0
				for range 3600 {
					<-tick.C
					time.Sleep(hiccup(rng))
					if skip > 0 {
						skip--
						continue
					}
					steps, err := s.Advance(sim.Bot(&st, i))
					if err != nil {
						t.Error(err)
						return
					}
					skip = s.SlowDown()
					if len(steps) == 0 && st.Frame >= warmFrames {
						stalls[i]++
					}
					for _, x := range steps {
						var in [2]sim.Input
						copy(in[:], x.Inputs)
						st.Step(in)
					}
					s.PollEvents()
				}
			}()
		}
		wg.Wait()
	})
	return stalls
}

// TestLoopHiccupsNeedTwoFrames: with pong's floor (MinInputDelay) two
// loops that wake up to 15 ms late never stall each other after warm-up,
// whatever the phase between their clocks; with lockstep's floor of 1
// frame, which its adaptive delay reaches on loopback, the same loops
// stall (see MinInputDelay).
func TestLoopHiccupsNeedTwoFrames(t *testing.T) {
	const phases = 6
	old := 0
	for k := range phases {
		phase := time.Duration(k) * (time.Second / 60) / phases
		seed := uint64(k + 1)
		if s := loopStalls(t, 0, phase, seed); s != [2]int{} {
			t.Errorf("phase %v: stalls after warm-up with MinInputDelay: ann %d, bob %d; want none", phase, s[0], s[1])
		}
		s := loopStalls(t, 1, phase, seed)
		old += s[0] + s[1]
	}
	t.Logf("with a floor of 1 frame the same loops stalled %d times in %d minutes of two sides", old, phases)
	if old == 0 {
		t.Error("with a floor of 1 frame the loops never stalled: the model no longer shows why MinInputDelay is 2")
	}
}
