// Package rollback keeps a multiplayer game identical on every peer while
// hiding the network's round trip: remote inputs that have not arrived are
// predicted, the game simulates ahead, and when a real input differs from
// its prediction the game restores the last correct state and simulates
// the frames since again (rollback netcode, as GGPO and GGRS).
//
// It is the lockstep engine (package sync/lockstep) in predicting mode, so
// the datagrams (wire version 4, "PPL4"), acks, redundancy, checksums,
// player loss with its majority rule, time sync, replays and the threat
// model are lockstep's, unchanged: read lockstep's package doc. Only
// which frame the local input is stamped for, and when the session may
// simulate, differ (see sync/internal/predict).
//
// Quick start — one peer's game loop (no callbacks, as GGRS):
//
//	sess, err := rollback.NewSession[Input](conn, rollback.Config{
//		Lockstep: lockstep.Config{Seats: match.Seats, Seed: match.Seed},
//	})
//	if err != nil {
//		return err
//	}
//	defer sess.Close()
//	states := make([]State, sess.Slots()) // the game's own buffers
//	for range ticker.C {
//		reqs, err := sess.Advance(readInput())
//		// errors as lockstep's: ErrDropped, ErrCutOff (a desync is an event)
//		for _, r := range reqs { // empty on a stall: just draw again
//			switch r.Kind {
//			case rollback.Save:
//				game.SaveTo(&states[r.Slot])
//			case rollback.Load:
//				game.LoadFrom(&states[r.Slot])
//			case rollback.Advance:
//				game.Step(r.Inputs) // r.Status[seat]: lockstep.InputPredicted, ...
//				sess.ReportChecksum(r.Frame, game.Checksum())
//			}
//		}
//		for _, e := range sess.PollEvents() {
//			if e.Kind == lockstep.EventDesync {
//				return e.Err // a *lockstep.DesyncError
//			}
//		}
//	}
//
// # Frames, prediction and rollback
//
// The session's head is the next frame to simulate; the confirmed frame
// (Confirmed) is lockstep's next frame: every frame before it has every
// seat's final input. Each tick, Advance stamps the local input for frame
// head+InputDelay (0 to 2 frames; 0 by default) and asks the game to
// simulate the head, as long as the head is less than MaxPrediction
// frames (default 8) past the confirmed frame; beyond, it stalls like
// lockstep (an empty list) until inputs arrive. A seat's input for a frame
// is its real input when held (it may arrive before the frame is
// confirmed), zero once the seat is dropped, and otherwise a prediction:
// by default its newest input repeated (Session.SetPredictor plugs in
// another), with Status lockstep.InputPredicted.
//
// Requests, in order: when an input arrives that differs from what a
// simulated frame used (or a seat is dropped whose input was predicted),
// Load{F} of the first such frame, then Advance of every frame from F to
// the head again, each later one preceded by Save; then, unless stalled,
// Save{head} and Advance{head}. State "of frame F" is the state before F
// is simulated. A Save is asked only while its frame may still be rolled
// back to (at or after the confirmed frame). The game keeps Slots()
// (MaxPrediction+2) state buffers; a request names the slot (F mod
// Slots()), so a steady tick allocates nothing in the session, and in
// the game if its Save copies into the buffer. Advance.Confirmed marks a
// simulation whose state is final: the place for sounds and scores that
// must not be undone.
//
// # Checksums and desyncs
//
// The game reports a checksum after every Advance request. A prediction's
// checksum means nothing: the session keeps it and hands it to the
// engine only once its frame is confirmed as simulated (or the frame is
// simulated again with confirmed inputs), so peers compare confirmed
// states only, every ChecksumInterval frames; a mismatch is lockstep's
// EventDesync (its Err a *DesyncError), delivered once.
//
// # Time sync
//
// Each seat's newest own input frame (in every datagram: its head plus
// its delay) tells the others where its simulation is; Stats.FramesAhead
// and SlowDown are lockstep's, computed from those instead of confirmed
// frames, so a peer that runs ahead skips ticks and rollbacks stay short.
//
// # Threat model and bounds
//
// Everything in lockstep's threat model holds: the trust rules live in
// the shared engine. What rollback adds, and what a lying seat can do
// with it:
//
//   - force rollbacks: by changing its input every frame and sending it
//     late. The cost is bounded: a tick re-simulates at most
//     MaxPrediction frames plus the new one (the harness checks it every
//     tick; TestErraticSeat pushes it to the limit), which the game must
//     afford anyway on a slow link;
//   - not rewrite the past: an input once held is never replaced (the
//     engine keeps the first copy and counts the conflict), so no datagram
//     can make a peer roll back a frame whose inputs it already had, nor
//     change a confirmed frame;
//   - not desync honest seats by prediction: a predicted frame's checksum
//     is never sent, and confirmed frames have the same inputs
//     everywhere;
//   - skew time sync: its own input frames tell the others where it is;
//     claiming to be behind (holding back inputs) makes others slow down
//     at most as SlowDown allows (8 ticks a second), no more than a slow
//     honest seat does; inputs far ahead are dropped (FarFuture) as in
//     lockstep.
//
// Bounds: the session preallocates its request list (2·Slots()+2), its
// inputs (Slots() frames of every seat) and rings of Slots() entries, and
// Advance allocates nothing in steady state (TestAdvanceZeroAllocs, with
// rollbacks and with a custom predictor).
//
// # Rejoin, join in progress and spectators
//
// Lockstep's agreement (its package doc, "Rejoin and join in progress")
// works unchanged: every session passes a Control channel in
// Config.Lockstep; a player back with the same identity, or a newcomer
// in a reserved seat (Config.Lockstep.Reserved; one with another ID after
// the others' Rebind), starts with Config.Lockstep.Join. While it waits
// for admission Advance returns no request (JoinFrame is NoFrame). Once
// admitted at R, its game must hold the match's state of frame R before
// it carries out the next Advance's requests, which start at R (Save{R},
// Advance{R}); nothing before R is simulated. Rollback adds three things:
//
//   - Steps returns the confirmed frames made final in the game (below
//     Confirmed and Head), each once, and ConfirmedState says which state
//     buffer (or the current state) holds the state after them: feed a
//     lockstep.Streamer with both (Step; Snapshot when Wanted), and a
//     joiner or spectator follows the match with a lockstep.Spectator
//     exactly as in lockstep.
//   - Frames a readmitted seat missed (between its drop and R) are dropped
//     (zero input, InputDropped) in predictions too, as in lockstep's
//     confirmed steps; and a frame simulated with a seat dropped that is
//     not dropped any more (or the reverse) is rolled back even when the
//     input bytes are equal (a newcomer's zero head start at R: without
//     it, TestJoinInProgressRollback's survivors differed at R).
//   - The coordinator of an admission stops its head where the gate stops
//     its input, as a lockstep coordinator stalls at R.
//
// TestRejoinRollback (3 seats, 20 ms links, input delay 0 and 2): seat 2
// pauses 10 s, is dropped, restarts with Join, restores seat 0's snapshot
// and the frames up to R-1, and simulates 83 ms (delay 0) / 150 ms (delay
// 2) after its restart; every confirmed frame to 1,800 has the same
// checksum on the three seats, its frames from R on included. Without the
// missed-frames rule the survivors' confirmed checksums differ at R-1.
// Limit: the joiner's snapshot must be of a frame before R (the source
// makes it when the joiner subscribes, one way before the admission
// completes); a snapshot made later, after the survivors confirmed R,
// cannot start a rollback joiner (the game should resubscribe).
//
// # Testing games
//
// SyncTest is GGRS's SyncTestSession: one local session that rolls back
// and re-simulates every frame by a check distance and compares the
// checksums, catching nondeterminism in Save, Load or Step at the first
// frame it shows. Package rollbacktest runs it over a game
// (rollbacktest.SyncTest), and plays N rollback sessions of a game over
// impaired memnet under testing/synctest, failing on the first confirmed
// frame whose state differs between peers (rollbacktest.Run).
package rollback
