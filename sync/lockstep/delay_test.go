package lockstep_test

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// TestAdaptiveDelayFollowsRTT changes every link's latency during a game:
// the adaptive delay rises with the RTT and falls back after it, and the
// seats never diverge while it changes (locksteptest compares every
// frame). Each peer picks its own delay; frame numbers keep them in step.
func TestAdaptiveDelayFollowsRTT(t *testing.T) {
	cfg := simConfig(3, 3000)
	cfg.Link = memnet.Link{Latency: 10 * time.Millisecond, Jitter: 2 * time.Millisecond}
	cfg.Session.Adaptive = lockstep.AdaptiveDelay{Enabled: true, Hold: time.Second}
	var peers []transport.PeerID
	cfg.Setup = func(_ *memnet.Network, ids []transport.PeerID) { peers = ids }
	setAll := func(n *memnet.Network, l memnet.Link) {
		for _, a := range peers {
			for _, b := range peers {
				if a != b {
					n.SetLink(a, b, l)
				}
			}
		}
	}
	cfg.OnTick = func(tick int, n *memnet.Network) {
		switch tick {
		case 800:
			setAll(n, memnet.Link{Latency: 120 * time.Millisecond, Jitter: 10 * time.Millisecond})
		case 1800:
			setAll(n, memnet.Link{Latency: 10 * time.Millisecond, Jitter: 2 * time.Millisecond})
		}
	}
	res := locksteptest.Run(t, cfg)
	for i, evs := range res.Events {
		peak, last := 0, 0
		var trace []int
		for _, e := range evs {
			if e.Kind == lockstep.EventInputDelay {
				peak, last = max(peak, e.Delay), e.Delay
				trace = append(trace, e.Delay)
			}
		}
		t.Logf("seat %d delays: %v", i, trace)
		// 240 ms RTT + 10 ms jitter at 60 Hz needs ~8-10 frames; 20 ms
		// needs 1-3.
		if peak < 8 || peak > 12 || last > 3 || res.Stats[i].InputDelay > 3 {
			t.Errorf("seat %d: peak delay %d, final %d; want 8..12 during the slow phase, <= 3 after", i, peak, last)
		}
	}
	total, longest := res.Stalls()
	t.Logf("stalls %d, longest %d", total, longest)
}

// TestSlowDownHint: a peer whose loop runs faster than another's sees
// itself ahead (Stats.FramesAhead > 0) and gets SlowDown hints; the slow
// one never does.
func TestSlowDownHint(t *testing.T) {
	var hints [2]int
	var ahead [2]float64
	twoSessions(t, memnet.Link{Latency: 30 * time.Millisecond}, lockstep.Config{InputDelay: 4}, 1200,
		func(tick int, ss []*lockstep.Session[input]) {
			for i, s := range ss {
				if i == 1 && tick%8 == 0 {
					continue // seat 1's loop runs 12% slow
				}
				if _, err := s.Advance(input{}); err != nil {
					t.Fatal(err)
				}
				hints[i] += s.SlowDown()
				if tick == 600 {
					ahead[i] = s.Stats().FramesAhead
				}
			}
		})
	if hints[0] == 0 || hints[1] != 0 {
		t.Errorf("SlowDown hints: fast seat %d, slow seat %d; want > 0 and 0", hints[0], hints[1])
	}
	if ahead[0] <= 0 || ahead[1] >= ahead[0] {
		t.Errorf("FramesAhead: fast seat %.2f, slow seat %.2f", ahead[0], ahead[1])
	}
	t.Logf("hints %v, frames ahead at tick 600 %v", hints, ahead)
}
