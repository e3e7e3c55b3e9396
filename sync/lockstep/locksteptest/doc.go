// Package locksteptest runs a game's simulation under lockstep on an
// impaired in-memory network and fails on the first divergence.
//
// Quick start:
//
//	func TestMyGameLockstep(t *testing.T) {
//		locksteptest.Run(t, locksteptest.Config[mygame.Input]{
//			Seats:  4,
//			Frames: 10_000,
//			Link:   memnet.Link{Latency: 75 * time.Millisecond, Jitter: 20 * time.Millisecond, Loss: 0.05},
//			Seed:   1,
//			NewSim: func(seat int) locksteptest.Sim[mygame.Input] { return mygame.New(42) },
//			Input:  func(seat, tick int, rng *rand.Rand) mygame.Input { return mygame.Input{Dir: int8(rng.IntN(3) - 1)} },
//		})
//	}
//
//	func TestMyGameDeterministic(t *testing.T) {
//		locksteptest.CheckDeterminism(t, locksteptest.Config[mygame.Input]{
//			Seats: 2, Frames: 5_000, NewSim: ..., Input: ...,
//		})
//	}
//
// Run creates one memnet peer and one lockstep.Session per seat inside a
// testing/synctest bubble, so time is virtual: 10,000 frames at 60 Hz over
// a 300 ms link take well under a second of CPU. Every tick each seat
// calls Advance, applies the returned steps to its own simulation and
// reports each frame's checksum to its session; the runner compares every
// frame's checksum across seats and fails on the first difference
// (*DivergenceError), on a desync a session reports, on a seat stalled for
// more than MaxStall ticks (*StallError), and, when seats leave (Leave),
// when the survivors disagree on the frame each was dropped at. Result
// carries every seat's lockstep.Stats (stall counts, bytes, drops).
//
// Hiccups: Pause freezes a seat's game loop (no Advance) and Blackout
// cuts its network, each for a number of ticks. Within the disconnect
// timeout the match must resume with nobody dropped; beyond it the others
// drop the seat by majority, and the seat ends told so (Result.Ended: a
// *lockstep.DroppedError with the frame they agreed, or a
// *lockstep.CutOffError). A hiccuping seat's checksums are checked at the
// end, up to its drop frame, so a seat that played on alone past it fails
// the run:
//
//	res := locksteptest.Run(t, locksteptest.Config[mygame.Input]{
//		Seats: 4, Frames: 1500, NewSim: ..., Input: ...,
//		Pause: []locksteptest.Pause{{Seat: 3, Tick: 300, Ticks: 3 * 60}}, // alt-tab for 3 s
//	})
//
// Joining a running match: Rejoin crashes a seat (no goodbye) and
// restarts it with the same identity after a number of ticks; LateJoin
// leaves a seat empty (lockstep.Config.Reserved) until a newcomer takes
// it; Spectators join at a tick. Every seat then has a Control channel
// and a Streamer; joiners and spectators catch up by replaying the
// stream's log from frame 0 (so any Sim works), witnessed by up to two
// seats, and every frame they run is checked like any seat's:
//
//	c.Rejoin = []locksteptest.Rejoin{{Seat: 3, Tick: 300, Ticks: 8 * 60}}
//	c.LateJoin = []locksteptest.LateJoin{{Seat: 2, Tick: 600}}
//	c.Spectators = []locksteptest.Spectate{{Tick: 1000, Delay: 30}}
//	c.Pause = []locksteptest.Pause{{Seat: 3, Tick: 300, Ticks: 10 * 60, Rejoin: true}}
//
// A Sim that is also a Snapshotter (Snapshot, Restore) is caught up from
// a snapshot of the source seat instead (its checksum checked against
// the source's; Result.Restored says the frame, Result.Joined the
// JoinFrame). Pause with Rejoin is the "paused past the timeout" story:
// the majority drops the seat, its loop comes back, is told it was
// dropped (at the frame the others agreed, checked, as are its frames
// before it) and restarts with the same identity. The scenarios of issue
// #15 are TestHiccups (a loop stalled or a peer blacked out for 1, 3,
// 10 s), TestJoinScenarios (log catch-up) and TestSnapshotScenarios
// (snapshot catch-up, paused 10 s then rejoin, a delayed spectator).
//
// CheckDeterminism needs no network: it runs the simulation twice on the
// same inputs and reports the first frame whose checksums differ, which
// catches map iteration order, clocks and unseeded randomness in game code.
package locksteptest
