package lockstep_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// TestPlayerLoss makes seats leave at random ticks, politely or silently,
// under impairment, and checks (through locksteptest) that the survivors
// drop each at one agreed frame, keep identical checksums, and finish.
func TestPlayerLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 24 {
		seats := []int{2, 3, 4, 8}[trial%4]
		leaving := 1 + rng.IntN(seats-1)
		if seats == 2 {
			leaving = 1
		}
		cfg := simConfig(seats, 1500)
		cfg.Seed = uint64(trial + 1)
		cfg.Link = memnet.Link{
			Latency: time.Duration(rng.IntN(80)) * time.Millisecond, Jitter: 10 * time.Millisecond,
			Loss: []float64{0, 0.05, 0.2}[trial%3], Duplicate: 0.02, Reorder: 0.02,
		}
		// Adaptive delay: a fixed 2-frame delay over an 80 ms link would
		// run at half speed (every frame waits for the link).
		cfg.Session.Adaptive.Enabled = true
		perm := rng.Perm(seats)
		for _, s := range perm[:leaving] {
			cfg.Leave = append(cfg.Leave, locksteptest.Leave{Seat: s, Tick: rng.IntN(1200), Silent: rng.IntN(2) == 0})
		}
		name := fmt.Sprintf("%d-seats-%d-leave-%v", seats, leaving, cfg.Link.Loss)
		t.Run(name, func(t *testing.T) {
			res := locksteptest.Run(t, cfg)
			survivor := -1
			for i := range seats {
				if len(res.Drops[i]) == leaving && res.Stats[i].Frame >= 1500 {
					survivor = i
				}
			}
			if survivor < 0 {
				t.Fatalf("no survivor ran every frame and dropped every leaver: %+v", res.Drops)
			}
			tot, long := res.Stalls()
			var relayed uint64
			for _, st := range res.Stats {
				relayed += st.Relayed
			}
			t.Logf("ticks %d, stalls %d, longest %d, relay datagrams %d", res.Ticks, tot, long, relayed)
			for _, l := range cfg.Leave {
				t.Logf("seat %d left at tick %d (silent %v), dropped at frame %d", l.Seat, l.Tick, l.Silent, res.Drops[survivor][l.Seat])
			}
		})
	}
}
