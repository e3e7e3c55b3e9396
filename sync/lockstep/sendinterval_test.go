package lockstep_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

const tick60 = time.Second / 60

// pairRun is what playTwo measured after its warm-up.
type pairRun struct {
	stats  [2]lockstep.Stats // over the measured ticks (counters), at the end (gauges)
	delays [2][]int          // input delay at every measured tick
}

// playTwo plays two sessions on memnet (one-way latency lat) inside a
// synctest bubble for warm+measure ticks: a ticks on a 60 Hz grid, b half
// a tick later plus late(k) (its loop's lateness at tick k, under a
// tick). Both must step identical inputs.
func playTwo(t *testing.T, lat time.Duration, cfg lockstep.Config, warm, measure int, late func(k int) time.Duration) pairRun {
	t.Helper()
	var r pairRun
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{Latency: lat}})
		defer n.Close()
		ids := []transport.PeerID{"a", "b"}
		cfg.Seats = ids
		var ss [2]*lockstep.Session[input]
		for i, id := range ids {
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ss[i] = s
		}
		var ran [2][]input // seat 0's and 1's inputs, as peer 0 stepped them, then compared
		var base [2]lockstep.Stats
		start := time.Now()
		for k := range warm + measure {
			if k == warm {
				base[0], base[1] = ss[0].Stats(), ss[1].Stats()
			}
			grid := start.Add(time.Duration(k) * tick60)
			at := [2]time.Time{grid, grid.Add(tick60/2 + late(k))}
			for p, s := range ss {
				time.Sleep(time.Until(at[p]))
				steps, err := s.Advance(input{Buttons: uint8(k), Dx: int16(p)})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					if p == 0 {
						ran[0] = append(ran[0], st.Inputs...)
					} else {
						ran[1] = append(ran[1], st.Inputs...)
					}
				}
				if k >= warm {
					r.delays[p] = append(r.delays[p], s.Stats().InputDelay)
				}
			}
		}
		m := min(len(ran[0]), len(ran[1]))
		if m < 2*(warm+measure)/2 || !slices.Equal(ran[0][:m], ran[1][:m]) {
			t.Fatalf("peers ran %d and %d inputs, identical: %v", len(ran[0]), len(ran[1]), slices.Equal(ran[0][:m], ran[1][:m]))
		}
		for p, s := range ss {
			st := s.Stats()
			st.Stalls -= base[p].Stalls
			st.DatagramsSent -= base[p].DatagramsSent
			st.Ticks -= base[p].Ticks
			r.stats[p] = st
		}
	})
	return r
}

func onTime(int) time.Duration { return 0 }

// TestSendInterval: with a 200 ms interval at 60 Hz a peer sends one
// Frame datagram every 12 ticks in steady state, the fixed delay's
// default covers the wait (2 + 11 frames), and nothing stalls.
func TestSendInterval(t *testing.T) {
	tests := []struct {
		name      string
		cfg       lockstep.Config
		delay     int // want, fixed; or at least, adaptive
		every     uint64
		adaptive  bool
		latency   time.Duration
		maxStalls uint64
	}{
		{"every tick", lockstep.Config{}, 2, 1, false, 0, 0},
		{"200 ms fixed", lockstep.Config{SendInterval: 200 * time.Millisecond}, 13, 12, false, 0, 0},
		{"50 ms fixed", lockstep.Config{SendInterval: 50 * time.Millisecond}, 4, 3, false, 0, 0},
		{"200 ms adaptive, 50 ms RTT", lockstep.Config{SendInterval: 200 * time.Millisecond,
			Adaptive: lockstep.AdaptiveDelay{Enabled: true}}, 12, 12, true, 25 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const warm, measure = 300, 1200
			r := playTwo(t, tt.latency, tt.cfg, warm, measure, onTime)
			for p, st := range r.stats {
				if want := measure / tt.every; st.DatagramsSent < want || st.DatagramsSent > want+1 {
					t.Errorf("peer %d sent %d datagrams in %d ticks, want %d (one every %d ticks)", p, st.DatagramsSent, measure, want, tt.every)
				}
				if st.Stalls > tt.maxStalls {
					t.Errorf("peer %d stalled %d ticks, want at most %d", p, st.Stalls, tt.maxStalls)
				}
				if tt.adaptive && st.InputDelay < tt.delay || !tt.adaptive && st.InputDelay != tt.delay {
					t.Errorf("peer %d input delay %d, want %d (adaptive: at least)", p, st.InputDelay, tt.delay)
				}
			}
		})
	}
}
