// Package lockstep keeps a multiplayer game identical on every peer
// without sending game state: every peer applies the same inputs to the
// same frames in the same order (deterministic lockstep, delay-based, as
// GGPO/GGRS without the rollback).
//
// Quick start — one peer's game loop:
//
//	type Input struct{ Buttons uint8 } // any fixed-size binary value
//
//	conn := mesh.Channel("lockstep") // unreliable, unordered transport.Conn
//	sess, err := lockstep.NewSession[Input](conn, lockstep.Config{
//		Seats:    match.Seats, // every peer passes the same IDs
//		Seed:     match.Seed,
//		Adaptive: lockstep.AdaptiveDelay{Enabled: true},
//	})
//	if err != nil {
//		return err
//	}
//	defer sess.Close()
//	for range ticker.C { // the game's fixed tick, 60 Hz by default
//		steps, err := sess.Advance(readInput())
//		if de := (*lockstep.DesyncError)(nil); errors.As(err, &de) {
//			return err // the simulations diverged at de.Frame
//		}
//		for _, st := range steps { // empty on a stall: just draw again
//			game.Step(st.Inputs) // st.Inputs[seat], same on every peer
//			sess.ReportChecksum(st.Frame, game.Checksum())
//		}
//		for _, e := range sess.PollEvents() {
//			if e.Kind == lockstep.EventPlayerDropped {
//				// e.Seat's input is the zero value from e.Frame on.
//			}
//		}
//	}
//
// The package example runs exactly this over memnet. The session starts no
// goroutines, never calls game code and reads the clock only through
// Config.Now; the game loop drives it. It is not safe for concurrent use.
//
// # Frames, delay and determinism
//
// Seats are indexes into the sorted Config.Seats. Each seat authors its
// own input stream: one input per frame, frames 0, 1, 2, ... Advance gives
// the session this tick's local input and stamps it with a target frame:
// next+delay-1, where next is the next frame to run. Frames 0..delay-1
// carry the zero input (the delay's head start), sent like any other. A
// frame runs when every seat's input for it is held, so with delay D an
// input takes effect D ticks after it was given, and its datagram has D
// ticks to reach every peer.
//
// Because the sender stamps each input with its frame, the delay is a
// purely local choice and may change at any tick: stamping never skips
// nor repeats a frame number. When the delay rises, one Advance's input
// fills several frames (it is held); when it falls, Advance stamps nothing
// until the run catches up (those inputs are discarded, as GGPO's input
// queue does). Peers may even use different delays. Every frame still has
// exactly one input per seat, the same everywhere.
//
// A fixed delay (Config.InputDelay, default 2 frames) suits a LAN; the
// adaptive delay (AdaptiveDelay) follows the worst link:
// ceil((rtt/2 + Margin·jitter)/tick) plus a frame or more on lossy links,
// rising at once, falling one frame per Hold. On the loss-free cells of
// the test matrix it settles 1 or 2 frames above the physical minimum
// ceil((RTT/2 + jitter)/16.7 ms) at 60 Hz: 3 frames at 50 ms RTT (minimum
// 2), 6 at 150 ms (5), 11 or 12 at 300 ms (9 or 10), because the RTT is
// measured between ticks, as inputs travel; 20 % loss adds 4 frames.
//
// Advance returns at most Config.CatchUp frames (default 1) and at least
// none. One frame per tick after a stall keeps the local inputs evenly
// spaced; a peer that runs ahead of the slowest seat sees it in
// Stats.FramesAhead, and SlowDown hints how many ticks to skip so it
// waits smoothly instead of stalling in bursts.
//
// # Wire
//
// Each tick the session sends one Frame datagram (FlatBuffers, schema
// internal/wire/lockstep.fbs, wire version 2, file identifier "PPL2") to
// every other seat. Its layout is chosen for size, since it is paid every
// tick on every link; in bytes, for 2 seats and one unacknowledged 3-byte
// input (a fast link):
//
//	root offset, identifier "PPL2"     8
//	vtable                             10, +2 per optional field; 2 padding
//	table: offset of its vtable        4
//	  head (struct)                    16: kind, flags (ping), seat, input size,
//	                                   seq (16-bit), lead, start frame, game tag
//	  inputs [ubyte]                   4 + 4 + 3, 1 padding: the local inputs not
//	                                   yet acknowledged by every seat, raw
//	                                   encoding/binary bytes of I from the start
//	                                   frame (the next frame is start + n - lead)
//	  acks [short]                     4 + 4 + 2 per other seat, padded: the last
//	                                   frame held of its inputs, minus the next
//	  echoes [Echo]                    when due: 4 + 4 + 6 per echo, padded
//	  checksums [Checksum]             when due: 4 + 4 + 12 per checksum
//	  lost (16-bit mask)               during a player-loss agreement: 2
//
// Of those 64 bytes, 21 are content (head, input, ack), 4 the identifier
// and 39 FlatBuffers framing (offsets, vtable, vector lengths, padding).
// Optional fields cost nothing when absent. Every 4th Frame is a ping (a
// flag: its seq is its identity, the sender remembers when it sent it);
// each receiver echoes the seq in its next Frame with how long it held it,
// so the pinging seat measures the RTT. At start-up, until every link has
// the 8 samples the adaptive delay waits for, every Frame is a ping and
// the newest echo is repeated. A checksum rides in the 3 Frames
// after its frame ran. The lost mask is sent while a player-loss
// agreement is pending and until every survivor has run past the drop
// frame. The sender's own holdings are implied (start + n - 1), and acks
// far below the sender's frame (a dropped seat's, frozen) are sent as
// "unknown". With 3-byte inputs on a fast link (one unacknowledged input)
// a datagram is 64 bytes for 2 seats, 68 for 4 and 76 for 8; one with a
// ping echo is 16 bytes more and one with a checksum 24 more, for a mean
// of 70, 77 and 91 bytes (version 1: 160, 184 and 232, every field in
// every datagram). Each further unacknowledged input adds 3 bytes: the
// test matrix averages 78 bytes at 50 ms RTT and 125 at 300 ms for 2
// seats (150 for 8 seats at 300 ms). TestDatagramSize pins these sizes.
//
// A lost datagram costs no retransmission round trip: the next one
// carries the same inputs. The unacknowledged run is bounded by
// Config.InputWindow (default 64 frames, lowered to what fits
// MaxDatagram = 1024 bytes: one SCTP packet, never fragmented); a full
// window stops the local input (a stall) until acks arrive. Two more
// kinds exist: Relay (a lost seat's inputs, between survivors) and Bye
// (sent by Close); they repeat the last Frame's seq.
//
// Decoding is total: size, identifier, root offset and version are
// checked, every count is bounded by this package's capacity, the
// FlatBuffers accessors run under recover, and the decoder is fuzzed.
// Then the session checks the semantics: the datagram's seat must be the
// transport sender's (peers cannot speak for each other), the game tag
// (the two halves of Config.GameID XORed) and the input size must match, frames and acks must be within reach (far-future
// frames are dropped), and a 64-datagram sliding window per sender (over
// Frame sequence numbers, in 16-bit serial arithmetic) drops duplicates
// and replays. The same sequence numbers measure each seat's loss
// (Stats.Seats[i].Loss). Every drop is counted by reason in
// Stats.Dropped; none is fatal. A seat's input for a frame, once held, is
// never replaced (a conflicting copy is counted).
//
// # Desync detection
//
// The game reports its state checksum after each frame
// (ReportChecksum); every ChecksumInterval frames (default 30) peers
// compare. A mismatch yields a *DesyncError{Frame, Seat, Local, Remote}
// (errors.Is ErrDesync) from the next Advance and an EventDesync, on every
// peer that sees it — in a 2-player game, both. The session goes on; the
// game decides. locksteptest.CheckDeterminism catches most causes before
// they ship.
//
// # Player loss
//
// A seat silent for DisconnectTimeout (default 2 s; JoinTimeout, 10 s,
// before it was ever heard), or one that said goodbye, is dropped at one
// frame every survivor agrees on, with identical inputs up to it:
//
//  1. A survivor marks the seat lost (EventPlayerLost), ignores its
//     datagrams from then on, and publishes its lost mask. A seat any
//     survivor reports lost is lost for all (the masks converge).
//  2. Survivors publish their holdings of every seat's inputs (the acks)
//     and relay the lost seat's inputs to any survivor that holds fewer.
//  3. A survivor decides once every other survivor publishes the same
//     mask and the same holdings H of each lost seat: the seat's input is
//     the zero value from H+1 on (EventPlayerDropped, Frame H+1), and the
//     game keeps running.
//
// Everyone decides the same H: after a survivor marks a seat lost, its
// holdings of that seat grow only from another survivor that held more,
// so when one survivor sees all of them at H, none of them will ever hold
// more, and a later decision (even after another loss) reads the same H.
// No survivor can have run a frame past H with the seat's real input,
// since running a frame needs it. No deadlock: a survivor that stops
// answering is itself timed out, which shrinks the set to wait for. A
// partition splits the game: each side drops the other and plays on (a
// peer cut off from everyone continues alone); between two seats that
// only lose each other, the others side with whichever report reaches
// them first.
//
// # Bounds and overflow
//
// Everything is preallocated in NewSession: per-seat input rings (at
// least 256 frames), the step buffer, the encoder and decoder. In steady
// state Advance allocates nothing (benchmarked in bench/). Advance reads at
// most 64 datagrams per seat per call; the rest waits in the Conn's own
// bounded inbox. Inputs beyond a ring's room are not stored (the sender
// repeats them). The event queue holds 64 events; when full, new events
// are dropped and counted (Stats.EventsDropped).
//
// # Replays
//
// With Config.Record set, the session writes a replay log: a versioned
// header (seats, local seat, seed, game ID, tick rate, input size), then
// every Step it returns and every checksum reported. NewReplay reads it
// back (a total decoder, fuzzed) and yields the same Steps, so a replayed
// game reaches the same checksums (Replay.Checksum).
//
// # Testing games
//
// Package locksteptest runs N sessions of a game over memnet with chosen
// impairment inside testing/synctest and fails on the first divergence or
// an unbounded stall; it also checks a simulation for determinism.
package lockstep
