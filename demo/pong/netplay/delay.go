package netplay

import "github.com/peerplay/peerplay/sync/lockstep"

// MinInputDelay is the floor of a lockstep match's adaptive input delay:
// 2 frames, where lockstep's default floor is 1.
//
// Why: each pong ticks lockstep on a 60 Hz clock of its own (the GUI's
// drive goroutine, the headless loop), and an input stamped at tick k for
// frame k+d-1 must reach the peer before the peer's tick for that frame.
// With d = 1 that leaves only the phase between the two clocks (random,
// and zero slack in one direction or the other), so any loop that wakes
// a few milliseconds late (the window's software renderer, another
// window, a GC) stalls the peer. Lockstep's adaptive formula sees only
// the network (about 0.3 ms of RTT on loopback or a LAN) and lowers the
// delay to 1 there. d = 2 adds a whole tick (16.7 ms) of slack in both
// directions: TestLoopHiccupsNeedTwoFrames models two such loops with
// hiccups of up to 15 ms (lockstep over memnet in a synctest bubble):
// no stall after warm-up at 2, a few per minute at 1. A lockstep match
// therefore runs at 2 frames on a LAN, the "≤ 2 frames"; a
// rollback match (-rollback) keeps lockstep's floor: it predicts instead
// of waiting.
const MinInputDelay = 2

// adaptive turns on lockstep's adaptive input delay with pong's floor.
func adaptive(cfg *lockstep.Config, rollback bool) {
	cfg.Adaptive.Enabled = true
	if !rollback {
		cfg.Adaptive.Min = MinInputDelay
	}
}
