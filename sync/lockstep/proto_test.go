package lockstep_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

func TestProto(t *testing.T) {
	for _, seats := range []int{2, 4, 8} {
		for _, rtt := range []time.Duration{0, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
			for _, loss := range []float64{0, 0.05, 0.2} {
				name := fmt.Sprintf("%d/%v/%v", seats, rtt, loss)
				t.Run(name, func(t *testing.T) {
					cfg := simConfig(seats, 10000)
					cfg.Link = memnet.Link{Latency: rtt / 2, Jitter: 20 * time.Millisecond, Loss: loss, Duplicate: 0.02, Reorder: 0.02}
					cfg.Session.Adaptive.Enabled = true
					start := time.Now()
					res := locksteptest.Run(t, cfg)
					tot, long := res.Stalls()
					st := res.Stats[0]
					t.Logf("%s: cpu %v ticks %d stalls %d longest %d delay %d rtt %v jit %v largest %d", name, time.Since(start), res.Ticks, tot, long, st.InputDelay, st.RTT, st.Jitter, st.LargestSent)
				})
			}
		}
	}
}
