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
//		Control:  mesh.Channel("control"), // reliable: rejoin (optional)
//	})
//	if err != nil {
//		return err
//	}
//	defer sess.Close()
//	for range ticker.C { // the game's fixed tick, 60 Hz by default
//		steps, err := sess.Advance(readInput())
//		if errors.Is(err, lockstep.ErrDropped) || errors.Is(err, lockstep.ErrCutOff) {
//			return err // out of the match: "you were dropped" / "opponent lost"
//		}
//		for _, st := range steps { // empty on a stall: just draw again
//			game.Step(st.Inputs) // st.Inputs[seat], same on every peer
//			sess.ReportChecksum(st.Frame, game.Checksum())
//		}
//		if seat, d := sess.Waiting(); d > time.Second {
//			// show "waiting for <Seats()[seat]>… d"
//		}
//		for _, e := range sess.PollEvents() {
//			switch e.Kind {
//			case lockstep.EventDesync:
//				return e.Err // the simulations diverged at e.Frame
//			case lockstep.EventPlayerDropped:
//				// e.Seat's input is the zero value from e.Frame on
//				// (st.Status[e.Seat] == lockstep.InputDropped).
//			}
//		}
//	}
//
// Over a netcode mesh, a session with Control signs its rejoin
// admissions with the mesh identity by default (see "Rejoin and join in
// progress": Config.Signer, Config.Unsigned). The package example runs
// exactly this over memnet. The session starts no
// goroutines, never calls game code and reads the clock only through
// Config.Now; the game loop drives it. It is not safe for concurrent use.
//
// # Frames, delay and determinism
//
// Seats are indexes into Config.Seats, in the order given, so that lobby
// seat i (lobby.Match.Seats) is lockstep seat i. Each seat authors its
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
// # Send interval
//
// By default every Advance sends a Frame datagram to each peer: at 60 Hz
// and 8 seats, 420 datagrams a second per peer, each paying about 93 bytes
// of IP/UDP/DTLS/SCTP headers. Config.SendInterval spaces them (an RTS
// sends every 200 ms: one datagram every 12 ticks); nothing else changes,
// because every datagram already carries every unacknowledged input: the
// ticks in between stamp their inputs as usual and the next datagram
// carries them all (acks, echoes and checksums ride along too, the echo's
// hold time counting the wait). An input given just after a send waits up
// to interval-1 ticks before it leaves, so the input delay must cover that
// too: the defaults of InputDelay and MaxInputDelay and the adaptive
// delay add those ticks (13 frames instead of 2 at 200 ms on a LAN).
// While a link is measured at start-up and while a seat is suspected or
// lost, datagrams go out every tick (an agreement should not wait), and a
// loop running late still sends when the interval has passed. The wire is
// unchanged; peers may use different intervals.
//
// # Wire
//
// Each tick the session sends one Frame datagram (FlatBuffers, schema
// internal/wire/lockstep.fbs, wire version 4, file identifier "PPL4") to
// every other seat. Its layout is chosen for size, since it is paid every
// tick on every link; in bytes, for 2 seats and one unacknowledged 3-byte
// input (a fast link):
//
//	root offset, identifier "PPL4"     8
//	vtable                             10, +2 per optional field; 2 padding
//	table: offset of its vtable        4
//	  head (struct)                    16: kind, flags (ping), seat, input size,
//	                                   seq (16-bit), lead, start frame, game tag
//	  inputs [ubyte]                   4 + 4 + 3, 1 padding: the local inputs not
//	                                   yet acknowledged by every seat, raw
//	                                   encoding/binary bytes of I from the start
//	                                   frame (the next frame is start + n - lead),
//	                                   or runs (flag Runs) when smaller
//	  acks [short]                     4 + 4 + 2 per other seat, padded: the last
//	                                   frame held of its inputs, minus the next
//	  echoes [Echo]                    when due: 4 + 4 + 6 per echo, padded
//	  checksums [Checksum]             when due: 4 + 4 + 12 per checksum
//	  lost (16-bit mask)               during a player-loss agreement: 2
//	  suspect (16-bit mask)            while the sender votes a seat out: 2
//
// Of those 64 bytes, 21 are content (head, input, ack), 4 the identifier
// and 39 FlatBuffers framing (offsets, vtable, vector lengths, padding).
// Optional fields cost nothing when absent. Every 4th Frame is a ping (a
// flag: its seq is its identity, the sender remembers when it sent it);
// each receiver echoes the seq in its next Frame to the pinging seat with
// how long it held it, so the pinging seat measures the RTT (a datagram
// with echoes is encoded per receiver, each with its own echo only: an
// echo is of no use to the other seats). At start-up, until every link has
// the 8 samples the adaptive delay waits for, every Frame is a ping and
// the newest echo is repeated. Version 3 added the suspect mask and the
// Dropped kind and made the lost mask a vote instead of an order (see
// Player loss); the steady-state datagram is unchanged (0 bytes more:
// both masks are absent unless a seat is in trouble). Version 4 added
// run-length encoded inputs: a run is a count byte (1..255) and one
// input, standing for that many consecutive frames, used when smaller
// than the raw inputs. With a send interval most inputs of a datagram are
// the same (12 or more per datagram at 200 ms; an RTS player gives a few
// commands a second): 30 inputs of 3 bytes with two commands take 5 runs,
// 20 bytes instead of 90. Runs carry no frame numbers (each starts where
// the previous one ended), so a lying peer cannot make them overlap, skip
// or reorder frames; a zero run and an expansion beyond 1024 bytes (what
// a raw datagram could carry) are malformed, so a small datagram claims
// no more frames than a large one could, and the frames it claims face
// the same checks as raw inputs (TestRedteamRuns, the wire's
// TestRunsHostile and FuzzRuns). Peers of another wire version are
// dropped and counted (Stats.Dropped.Version). A checksum rides in the 3 Frames
// after its frame ran (2 with a SendInterval: 400 ms at 200 ms). The lost mask is sent while a player-loss
// agreement is pending and until every survivor has run past the drop
// frame. The sender's own holdings are implied (start + n - 1), and acks
// far below the sender's frame (a dropped seat's, frozen) are sent as
// "unknown". With 3-byte inputs on a fast link (one unacknowledged input)
// a datagram is 64 bytes for 2 seats, 68 for 4 and 76 for 8; one with a
// ping echo is 16 bytes more and one with a checksum 24 more, for a mean
// of 70, 74 and 82 bytes (77 and 91 when every seat's echoes went to
// every seat; version 1: 160, 184 and 232, every field in every
// datagram). The RTS profile's datagram (8 seats, 200 ms, a command
// every 20 ticks) is 103 bytes on average (TestDatagramSizeRTS). Each further unacknowledged input adds 3 bytes: the
// test matrix averages 78 bytes at 50 ms RTT and 125 at 300 ms for 2
// seats (150 for 8 seats at 300 ms). TestDatagramSize pins these sizes.
//
// A lost datagram costs no retransmission round trip: the next one
// carries the same inputs. The unacknowledged run is bounded by
// Config.InputWindow (default 64 frames, lowered to what fits
// MaxDatagram = 1024 bytes: one SCTP packet, never fragmented); a full
// window stops the local input (a stall) until acks arrive. Three more
// kinds exist: Relay (a lost seat's inputs, between survivors), Bye (sent
// three times by Close) and Dropped (a survivor's answer to a dropped
// seat that still talks: "you were dropped at frame F", at most every
// 100 ms); they repeat the last Frame's seq.
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
// compare. A mismatch is delivered once, as an EventDesync whose Err is a
// *DesyncError{Frame, Seat, Local, Remote} (errors.Is ErrDesync), on every
// peer that sees it — in a 2-player game, both. Advance does not return it
// (one fact, one delivery: CONTRIBUTING.md; the deprecated
// Config.DesyncErrors restores the old second delivery for one release).
// The session goes on; the game decides. locksteptest.CheckDeterminism catches most causes before
// they ship.
//
// # Player loss and the split rule
//
// A seat is dropped at one frame every survivor agrees on, with identical
// inputs up to it, and only by a majority of the match's seats. The
// members are the seats not yet dropped and not gone by their own
// goodbye; a majority is more than half of them (3 of 4, 2 of 3, 3 of 5).
//
//  1. Suspicion (this peer's own evidence, recomputed every tick,
//     revocable): a seat silent for DisconnectTimeout (default 5 s;
//     JoinTimeout, 10 s, before it was ever heard); a seat heard but
//     blocking the next frame for DisconnectTimeout (only one blocker at
//     a time: the one furthest behind, ties the highest seat, so that a
//     link broken between two seats costs the match one of them; none
//     while a seat is silent, the likelier cause of the stall); a
//     survivor blocking a running drop agreement for JoinTimeout plus
//     DisconnectTimeout (an honest one may need its join timeout to agree).
//     Each peer publishes its suspicions (the suspect mask): votes.
//  2. Lost: a seat for which a majority of the members vote (this peer's
//     suspicion, and every other member's suspect or lost report), or one
//     that said goodbye itself. One peer's report is a vote, never an
//     order. A lost seat's datagrams are ignored from then on
//     (EventPlayerLost).
//  3. Survivors publish their lost mask and their holdings of every
//     seat's inputs (the acks), and relay a lost seat's inputs to any
//     survivor that holds fewer. A relay is accepted only for a seat the
//     receiver itself has lost and not yet dropped, from a survivor that
//     reports it lost.
//  4. A survivor decides once every other survivor reports the same lost
//     seats with the same holdings H, and it and they form a majority of
//     the members: the seat's input is the zero value from H+1 on
//     (EventPlayerDropped, Frame H+1; Step.Status says InputDropped).
//
// Everyone decides the same H: after a survivor marks a seat lost, its
// holdings of that seat grow only from another survivor that held more,
// so when one survivor sees all of them at H, none of them will ever hold
// more, and a later decision (even after another loss) reads the same H.
// No survivor can have run a frame past H with the seat's real input,
// since running a frame needs it.
//
// Never a split: two groups that each drop the other would each need a
// majority of the same members, and two majorities share a seat, which
// reports one lost mask. A peer that does not hear a majority (too
// many members silent or lost) is cut off: it stops advancing
// (EventCutOff), resumes if they come back (EventResumed), and gives up
// after another DisconnectTimeout (Advance returns *CutOffError). A seat
// that a majority dropped learns it from the survivors' Dropped answers
// (a majority of the other members must say so): EventDropped and
// *DroppedError with the drop frame F. It may have run up to InputDelay
// frames from F on with its own input before its pause, so its state
// from F on is not the match's; the survivors' is. A game loop that
// pauses (a hitch, a dragged window) does not count its own pause as the
// others' silence: back within DisconnectTimeout, it resumes; later, it
// is told it was dropped. A blackout of its network longer than that
// ends the same way, or cut off.
//
// Two seats: a majority of two is both, so neither seat can drop the
// other. When one falls silent, the other is cut off after
// DisconnectTimeout and the match ends for it after another
// (*CutOffError: "opponent lost"); the silent one, if it comes back
// later, hears nobody and ends the same way. Nobody plays on alone, so
// both sides of a broken link report the same thing rather than both
// "winning". A pause shorter than twice the timeout resumes. A goodbye
// (Close) is the seat's own word: the other plays on alone, dropping it,
// as GGRS does with a disconnected player.
//
// Waiting: when the next frame waits for a seat's input for WaitNotify
// (500 ms), EventWaiting names the seat; Waiting returns it and for how
// long, so a game shows "waiting for bob… 3 s"; EventResumed ends it.
// Each Step's Status says per seat InputConfirmed, InputDisconnecting
// (this peer suspects it or it is being dropped) or InputDropped.
//
// Cost: a silent seat stalls the others for DisconnectTimeout plus the
// agreement (a few RTTs); a seat that talks but stalls the match, the
// same. With the 5 s default the red-team tests measure 302 ticks (5.0 s)
// at 60 Hz.
//
// # Threat model
//
// The transport's sender identity is trusted (netcode derives PeerIDs
// from DTLS keys): a datagram whose seat is not its sender's is dropped.
// Beyond that, assume any one seat lies. It can always leave, lag, or send
// garbage, and it can make its own link to one honest seat look broken.
// It cannot:
//
//   - speak for a live seat: a relay of a seat the receiver has not
//     itself lost is refused, counted (Stats.Dropped.Refused) and reported
//     (EventRefused naming the sender);
//   - get an honest seat dropped by saying so: a lost or suspect report is
//     one vote; the receiver needs a majority, and reports about a seat
//     it hears well are reported as EventRefused;
//   - make peers drop it for impossible claims, or act on them: acks of
//     inputs the receiver never sent, frames far ahead, a Dropped notice
//     about another seat are dropped, counted and reported, never a
//     reason to drop anyone;
//   - tell a peer it was dropped: that takes a majority of the other
//     members;
//   - get one honest seat voted out with a goodbye told to it alone (a
//     Bye, or a join request counting as one, see Rejoin), which would
//     make it stop taking the liar's inputs while the others wait for
//     its own: a Frame newer than the goodbye undoes it there, counted
//     and reported (TestRedteamByeToOne); a liar that then also stops
//     sending to that seat is the broken-link case below;
//   - stall the match forever: a seat that keeps talking but sends no new
//     input, is suspected after DisconnectTimeout by every honest seat and
//     dropped by their majority (TestRedteamStallingLiar: 5.0 s); one that
//     blocks an agreement with reports that never match, after JoinTimeout
//     plus DisconnectTimeout (15 s);
//   - replace an input already held (conflicts are counted, the first is
//     kept), replay or reorder datagrams (sequence window);
//   - blame an honest seat for a desync: a checksum it lies about makes
//     every honest peer report an EventDesync naming the liar's seat, and
//     honest seats agree with each other.
//
// With any one liar and no other failure, the honest seats never stall
// longer than JoinTimeout plus DisconnectTimeout plus an agreement (5 s
// when the liar merely stops its inputs) and never simulate different
// states. Limits, all needing more than the liar's word:
//
//   - a majority needs honest seats: with 3 seats, a liar plus one
//     failure (a crash, a partition) leaves no majority, and the honest
//     seat stops (cut off) rather than guess;
//   - a liar that pretends its link to honest seat b is broken is
//     indistinguishable from a broken link: the majority then drops one
//     of the two (the one that stalls the others), possibly b, who is
//     told so;
//   - a liar that survives a real loss can relay made-up inputs of the
//     lost seat for frames no honest survivor held (a seat's inputs are
//     not signed); if it relays different ones to two honest survivors,
//     their checksums differ and both report EventDesync;
//   - readmissions (Rejoin): a liar can keep a newcomer out for good and,
//     as coordinator, have one survivor dropped by the blocker rule.
//
// The red-team tests are in redteam_test.go (TestRedteam...).
//
// # Bounds and overflow
//
// Everything is preallocated in NewSession: per-seat input rings (at
// least 256 frames), the step buffer, the encoder and decoder. In steady
// state Advance allocates nothing (benchmarked in bench/). Advance reads at
// most 64 datagrams per seat per call; the rest waits in the Conn's own
// bounded inbox. Inputs beyond a ring's room are not stored (the sender
// repeats them). The event queue holds 64 events; when full, the oldest is
// dropped and counted (Stats.EventsDropped): the repository's drain
// convention (CONTRIBUTING.md).
//
// # Replays
//
// With Config.Record set, the session writes a replay log: a versioned
// header (seats, local seat, seed, game ID, tick rate, input size, and the
// match settings: input delay, adaptive or not, checksum interval,
// disconnect timeout and the game's own Config.Settings), then every Step
// it returns and every checksum reported. NewReplay reads it back (a total
// decoder, fuzzed; version 1 logs too) and yields the same Steps. The
// replaying game calls Replay.Verify after each step: every recorded
// checksum is compared, even one written after later steps, a mismatch
// comes back from Next as a *DesyncError, and Replay.Checked counts the
// comparisons, so a test asserts Checked() > 0 rather than reading "no
// mismatch" from a replay that compared nothing.
//
// A session that joined a running match (Config.Join) records from its
// JoinFrame R (format version 3; versions 1 and 2 are still read): its
// header, written once it is admitted, says StartFrame R and carries the
// game's state of frame R if the game gave it (Session.RecordStart, once
// caught up, before the next Advance; the session returns no step in the
// Advance that admits it, so there is always that moment). A replaying
// game restores Header().StartState and applies the steps from R. A log
// that starts after 0 without a state can be read but not verified:
// Verify compares nothing and Next returns ErrReplayNoStart
// (TestJoinerReplay: a joiner admitted at 604 records 40 bytes of state,
// and its replay compares 29 checksums, all equal).
//
// # Spectators and catch-up
//
// A Streamer sends the match to subscribers over a Reliable channel (the
// stream format is in stream.go: 4-byte magic "PPS1", kind, game tag;
// the decoder is total and fuzzed by FuzzStreamMessage): every step's
// inputs (with a dropped-seat mask per frame, so Status survives), the
// checksums the game reports, and on demand a state snapshot. One player
// runs a Streamer for everyone, so the players' upload grows by one
// stream, not one per spectator. Live, Flush sends one message a tick:
// for 3 seats of 3-byte inputs, an 11-byte record plus 17 bytes of
// header, and a 21-byte checksum message every 30 frames: 29 bytes a
// frame, 1.7 kB/s at 60 Hz (TestSpectatorJoinsAtFrame1000: 20,033 bytes
// for 695 frames with a snapshot, 31,048 for 1,698 replayed from frame 0,
// where catch-up batches 1,489 records a message). A Spectator can feed
// its steps into its own Streamer to relay further.
//
// A Spectator is a seatless session: it subscribes to its Source, and
// to Witnesses for checksums only (12 bytes per checksum frame). It
// returns the same Steps the seats ran, Delay frames behind the newest
// received, and up to CatchUp (600) frames per Advance while behind, so a
// spectator joining mid-match fast-forwards without waiting for ticks.
// At the end of the match the source calls Streamer.Finish, and the
// spectator returns the frames it held back (Spectator.Ended). A
// spectator that lags at that moment (its sends failed, it still
// catches up) gets the rest, the final checksum and the end from the
// source's later Flush calls: the source keeps flushing until
// Streamer.Done or a deadline of its own, since a subscriber that left
// keeps Done false for good (TestSpectatorLaggingAtFinish: sends failing
// for the last 100 frames; before, such a spectator stopped Delay frames
// short of the end).
// How it catches up depends on StreamConfig.Snapshots: with snapshots, a
// subscriber waits until the game gives one (Streamer.Wanted asks for
// it; the session never calls game code), then gets
// the state (Spectator.Restore, chunked in 16 KiB messages) and the
// inputs since; without, it replays the log from frame 0, which the
// Streamer then keeps (MaxLog frames; beyond, new subscribers are
// refused: ErrStreamRefused).
//
// What a lying source can do with a snapshot: make up any state, and
// checksums consistent with it, so a spectator that trusts one source
// cannot tell. With Witnesses (the other seats' Streamers), the
// spectator compares the checksums of the state it simulates with every
// source: one that differs is a *DesyncError naming that source, and the
// state counts as verified (SpectatorStats.Verified) only at frames where
// a majority of the sources agree with it. A forged snapshot therefore
// fails at the next checksum frame (TestSpectatorForgedSnapshot); a
// liar can still cost the spectator its verification by lying as a
// witness (it is named), and a source that stops streaming is left
// (below).
//
// # Source failover
//
// A spectator must not freeze for good when its source dies, leaves, or
// (a liar) stops streaming while the match goes on. The rule
// (failover.go): the source lags when its link is down (it is not in
// Conn.Peers) or when a majority of the trusted witnesses (more than
// half of the sources other than the current one, distrusted ones and
// those whose link is down left out: a crashed first source's last word
// held the majority back for good, TestSpectatorFailoverDeadWitness)
// have sent the checksum of a frame the source has not sent. A witness
// whose link comes back (a restarted process) is subscribed again; the
// source itself is resubscribed with a resume (below), so a restarted
// source that streams again within Failover is kept
// (TestSpectatorFailoverSourceRestarts). A
// source that lags for SpectatorConfig.Failover (DefaultFailover 3 s;
// negative disables) without closing the gap (sending past the frame the
// witnesses had when the lag began, or getting closer to theirs: a
// catch-up from far behind that outpaces the match is no lag,
// TestSpectatorFailoverSlowCatchUp: 8 s over a 40 kbit/s link, no switch;
// for a link down, sending anything) is left: the spectator picks another source (not refused, trusted,
// link up, left the fewest times, the next in Source, Witnesses order)
// and resubscribes there with a resume (subscribe want 3, from the frame
// the spectator reached, stream.go). That Streamer sends the inputs from
// there if its log holds them (a streamer without snapshots keeps its
// whole log), or else, with snapshots, its next snapshot (the game gives
// one when Wanted): Restore is then pending again, and the frames
// received and not yet returned are superseded by it. The old source is
// demoted to checksums (its streamer replaces the subscription and frees
// the log it kept for it) and goes on witnessing; the others keep
// witnessing. The spectator reports EventSourceSwitched (Peer the new
// source, From the old, Frame the resume frame, Reason) from
// Spectator.PollEvents and counts SpectatorStats.Failovers;
// Spectator.Source names the current one. A source that refuses the
// resume (its log lost the frame and it has no snapshots), or the
// configured Source that refuses the first subscription (its
// MaxSubscribers taken: TestSpectatorFailoverSourceFull), is skipped the
// same way; ErrStreamRefused ends the spectator when every source
// refused. A stall of the whole match is no lag: the witnesses stop too.
//
// A source whose stream goes beyond what the trusted live witnesses
// vouch for (each: its newest checksum frame plus twice its report
// spacing plus twice what the match ran since, at its pace) does not get
// those frames to the game (Advance holds them, Restore a snapshot beyond
// them); if its stream stays beyond for Failover, it jumped ahead (a lie:
// a resume snapshot of frame 1,000,000 froze the spectator for good) and
// is left and distrusted, what it sent beyond is dropped, and the resume
// starts from the frame the game reached. FAILOVER.md lists what a lying
// peer can do with failover, each with its test, and the limits (a
// spectator without witnesses believes its sole source in everything).
//
// FAILOVER.md also says what is not covered (a new source forging what
// it resumes with; a relay that resumed from a snapshot).
//
// # Rejoin and join in progress
//
// A seat the majority dropped (a crashed process, a loop paused past the
// timeout) can come back with the same identity, and a seat listed in
// Config.Reserved (empty from frame 0) can be taken by a newcomer: the
// new session has Config.Join set and a Config.Control channel
// (Reliable; every session of the match passes one). The agreement
// (rejoin.go):
//
//  1. The joiner sends a join request on Control every 100 ms and
//     advances nothing (JoinFrame is NoFrame).
//  2. The coordinator, the lowest member seat other than the joiner,
//     picks R, the frame after its last stamped input, and stops
//     stamping there (the gate: no survivor can run R without its
//     input). It sends an admission (seat, R, the dropped seats and
//     their drop frames) to the survivors and the joiner.
//  3. A survivor accepts an admission from the coordinator for a seat
//     dropped here, at a frame not run yet: from R on it needs the seat's
//     input again (the frames between its drop and R stay InputDropped),
//     the seat votes again, it gates at R-1 too, and it acknowledges
//     (seat, R) to every survivor and to the joiner (EventRejoined, Frame
//     R).
//  4. Each survivor, the coordinator included, opens its own gate once
//     every other survivor acknowledged the same (seat, R) (the
//     coordinator's admission is its word): no one runs R before every
//     survivor stamped R, and no honest survivor stamps R before all
//     agreed, so every survivor runs R with the joiner's input.
//  5. Every other survivor answers the joiner's request with its view
//     (its membership: dropped seats, their drop frames, departed
//     seats); acknowledgements carry it too. The joiner starts at R
//     (EventRejoined, JoinFrame R) once every survivor of a membership
//     said that R and membership (its lowest, the coordinator, by its
//     admission; with three or more, the others' unanimous word suffices)
//     and no seat it names out spoke as a member within a second. Its
//     game must first reach the match's state after R-1, from a Streamer
//     through a Spectator (snapshot or log, fast-forwarded, checked by
//     the witnesses' checksums), then call Advance. The survivors stall at
//     R meanwhile: TestRejoinAfterLongPause measures 133 ms from the
//     restart to the first frame played (a 4-seat match over a 20 ms
//     memnet link, a snapshot taken on request).
//
// A seat that crashed and restarted before the others dropped it (in a
// 2-seat match the lone survivor never can: it is no majority) is let
// back the same way: its join request, which only its own transport
// identity can send, counts as its old session's goodbye, so the others
// drop the old session at once (no vote needed) and then admit the new
// one (TestSnapshotScenarios/two-seats-crash-rejoin: restarted 3 s after
// the crash, before the survivor gives up after twice the disconnect
// timeout; without it the restarted seat waited for good). A request
// counts only from a seat this peer has not heard for WaitNotify (a
// crashed session is silent, the restarted one repeats its request): a
// live seat's request, or one a readmitted seat repeated before its
// admission reached it, changes nothing (TestRejoinRequestFromLiveSeat,
// TestRejoinStaleRequest).
//
// A newcomer whose ID is not the seat's (a lobby fills an empty or freed
// seat with whoever asks: lobby.EventSeated) needs every other seat to
// Rebind the seat to its ID first; Rebind applies at once to a seat that
// is empty or dropped here, otherwise when the majority drops it, and
// never moves a seat that plays (TestJoinInProgressRebind).
//
// A join request carries a fingerprint of Config.Seed and Settings (8
// bytes of SHA-256: a lying host that forges a seed with the survivors'
// fingerprint searches ~2^64; FNV-1a's 4 bytes until "PPR4" took at most
// 2^32): the survivors refuse, name and never gate for a
// joiner whose lobby told it another match (TestRedteamRejoinOtherMatch;
// before, one told another seed was admitted and played another game).
// One told other seats is never admitted: its requests reach no seat that
// binds its ID, or the admission names another seat.
//
// Survivors that Rebind one seat to different peers (a lying lobby host
// that gives one open seat to two newcomers) admit neither: each survivor
// sends its word to the peer it binds, so each newcomer lacks some
// survivor's word, and the admission fails (the seat is dropped again at
// R, never heard). Admissions, acknowledgements and views end with a
// fingerprint of the peer the sender binds the seat to (FNV-1a, 64 bits),
// so each side names the other (EventRefused, reasonOtherPeer) but still
// acknowledges: refusing was tried, the refuser kept the seat's old
// holdings, the drop agreement could not match and that honest survivor
// was voted out after 938 ticks. After a failed admission the coordinator
// waits 1 s, 2 s, 4 s ... up to 3·JoinTimeout before admitting that seat
// again (reset by one that worked). Without it the survivors crawled
// while the newcomers asked: each admission gated them until the
// newcomer's repeated request counted as its goodbye
// (TestRedteamTwoNewcomersOneSeat: 734 frames in 3600 ticks before, 3395
// now, one 35-tick stall per attempt, nobody voted out).
//
// Checksums then compare as for any seat: the joiner's state after R
// equals everyone's or a desync is reported. A joiner that never sends
// is dropped again (JoinTimeout, then the usual majority).
//
// What a lying peer can do: an admission from a seat other than the
// coordinator, for a seat not dropped, or at a frame already run is
// refused and reported (EventRefused, TestRejoinLyingAdmission). A
// coordinator that admits at different frames toward different survivors
// or the joiner cannot split them (TestRedteamRejoinSplit): a survivor
// that hears an acknowledgement of another R than it was told refuses it
// (EventRefused) and keeps its gate shut; the joiner does not start.
// Nothing faster is safe: if the coordinator lied, an honest survivor
// gates at R'-1 and would run R..R'-1 without the joiner, so opening at R
// splits; if the acknowledging seat lied, it may have told another honest
// survivor R, which then opened, so voiding or moving the admission
// splits. Without signatures both worlds look the same (agreement with
// one liar among three needs 3f+1 = 4), and a conflicting acknowledgement
// is a vote against its sender (kept DisconnectTimeout, renewed while it
// repeats): a survivor lying in its acknowledgements is outvoted
// (TestRedteamRejoinLyingAck: one 35-tick stall; before, 392 frames in
// 2400 ticks), but a coordinator that tells survivors different frames
// turns the honest seats against each other: in a 6-seat match the seat
// told R+10 is voted out by the three told R, 0.65 s after the request,
// no liar's vote needed (TestRedteamCoordSplitVotesHonestOut without a
// Signer).
//
// Signed admissions (Config.Signer, control version "PPR5") tell the two
// worlds apart. The coordinator signs (match fingerprint, game tag, its
// seat, the seat, the seat's drop frame D, R) once per attempt; each
// acknowledgement carries the signed admission its sender acted on (the
// membership is not signed: it may change during an admission, and the
// joiner checks it against every survivor). An acknowledgement whose
// admission the coordinator did not sign at the R it claims is a vote
// against its sender (reasonBadSigned). Two validly signed admissions of
// one seat by one coordinator whose attempts overlap (an honest
// coordinator's next attempt follows a drop at R-1 or later) prove the
// coordinator lied: the survivor names it (reasonEquivocation), votes
// against it, and forwards the proof to every survivor; gates stay shut
// (moving one could still split). Once the coordinator and the silent
// joiner are out, the drop agreement accepts holdings of the joiner at
// any proven R and drops it at D, as if never admitted: nobody ran R
// with its input (an honest gate opens only on every survivor's R), and
// its frames after D were the zero input either way. Review1's test,
// signed: the coordinator dropped at tick 99, no honest seat, 35-tick
// stalls, the newcomer admitted at 132 (R was 64). A liar can still sign
// garbage to one survivor or withhold its admission (unprovable: it
// refuses, the others stall until the blocker rule drops one seat, 938
// ticks in TestRedteamRejoinSplit either way, as with a faked broken
// link), replay signatures into a later match with the same GameID, Seed
// and Settings, and, with a colluding survivor, do what two liars can.
// Every seat sets a Signer or none; a 2-seat match gains nothing.
//
// Signing is the default over netcode: a nil Config.Signer takes the
// session Conn's Signer (or Control's) when it is a
// transport.SignerSource, which a netcode channel is: it gives the mesh
// identity's netcode.Signer when every seat has a key-derived ID, and
// nil when one is a browser ID ("~...", which proves no key) or this
// mesh is a browser one, so every seat of a match decides alike. A game
// that follows the quick start is protected without wiring anything
// (bench TestRejoinOverNetcode: Stats.Signing, SignaturesOK). Over
// memnet or another transport nothing changes. Config.Unsigned turns
// the default off (every seat must); an explicit Config.Signer wins. A
// coordinator whose Signer fails or signs more than 255 bytes (an RSA
// identity: about 550) does not admit at all, and logs it once: every
// signing survivor would refuse the unsigned admission, and the gate it
// set would stall the survivors until they voted the coordinator out
// (TestDefaultSignerRejoin, "signature too long": the coordinator was
// dropped at tick 367 before; now no stall, the newcomer waits). So with
// RSA identities the seat whose identity is RSA cannot coordinate a
// rejoin: use ECDSA identities (NewIdentity's P-256, or P-384), or set
// Unsigned on every seat to get the unsigned agreement back. A build
// before this default (Signer nil, unsigned) meeting one with it: the
// signing seats refuse its admissions, as with any Signer mismatch.
//
// The joiner believes no word alone (control version "PPR3" and later; before, it
// took the R and membership of any admission and waited only for the
// seats it named): a non-coordinator's admission naming itself the only
// survivor is contradicted by the honest survivors' views
// (TestRedteamFakeAdmission: it started the joiner at frame 30 with seats
// 0 and 1 dropped), a coordinator's lie about the membership by their
// acknowledgements (TestRedteamAdmissionMembership: the joiner started
// with an honest seat dropped and the honest seats froze at R; now the
// two honest survivors' unanimous word starts it). With one liar and two
// survivors or more, the joiner starts on an honest survivor's R and
// membership. A conflict is named, but the joiner cannot tell which side
// lies: it waits, so a survivor that lies to it alone keeps it out (each
// admission fails, the honest seats stall 35 ticks per attempt under the
// coordinator's backoff: TestRedteamAckLieToJoiner, 3395 frames in 3600
// ticks). That is the one honest peer a single liar can stall for good
// (the newcomer; the match plays on). Why not start on what 2f+1 of 3f+1
// survivors said (3 of 4, the coordinator among them)? It would be safe
// for the survivors (their gates open only on every survivor's R, so the
// joiner at worst waits at an R that is then voided and asks again), but
// it helps only matches of 5 seats or more (4 survivors besides the
// joiner), the membership words must then come from one moment of the
// match (they change as seats drop), and the cost today is the
// newcomer's alone; left as a possible change, with signed admissions
// the R part of it could come from the coordinator's signature instead.
//
// A lone survivor (three seats or more, every other seat dropped or
// gone) has nobody to confirm its word: the joiner waits WaitNotify from
// its first request for a seat named out to speak as a member (every
// survivor answers a join request with its view), then tells the lone
// survivor it is clear, and only then is it admitted, so a joiner held
// back never gates the survivor (TestRejoinLoneSurvivor: 600 ms after
// the newcomer started). A liar can still keep it out there by speaking
// as a member after its drop or goodbye (the survivor plays on:
// TestRedteamLoneSurvivorContradicted), and a liar that is the lone
// survivor, or claims to be while no honest member reaches the joiner
// within WaitNotify, can start it on any membership (only the liar plays
// with it). A 2-seat match has one survivor, the coordinator: nobody else
// to agree with. The joiner's state is only as good as its Spectator's
// sources (see above).
//
// # Lockstep vs rollback
//
// Package sync/rollback runs this engine in predicting mode (through
// sync/internal/predict, no public API here): remote inputs not yet held
// are predicted, the game simulates ahead up to MaxPrediction frames (8)
// past the last confirmed frame and rolls back when an input differs. The
// wire, acks, checksums (of confirmed frames only), player loss, replays
// and the threat model are this package's; only where the local input is
// stamped (the rollback head plus its 0-2 frame delay instead of the next
// confirmed frame plus the delay), when the head may advance, and the
// time sync's reference (each seat's own newest input frame) differ.
//
// Choose lockstep when the game's state is big or costly to copy, its
// step is expensive (re-simulating 8 frames in one tick must fit the
// tick), many units act on orders (RTS, turn-heavy, board games), or
// input latency of a few frames does not matter. Choose rollback for
// action and fighting games, where the input must act at once: the
// game needs Save/Load of its whole state and a step cheap enough to run
// up to 9 times a tick, and must tolerate remote players' actions being
// corrected on screen. Measured in the same run over memnet, 2 peers at
// 60 Hz (bench TestRollbackVsLockstep, 30 s per cell, inputs changing
// every 8 ticks), frames from a local input to its effect on screen:
//
//	RTT ms     0   50  100  150  200  250    300
//	lockstep   1    3    4    6    7    9     10   (adaptive delay; 0 % stalls)
//	rollback   0    0    0    0    0    0      0   (delay 0; stalls 5.9 % at 250, 15.8 % at 300)
//	rollback   2    2    2    2    2    2      2   (delay 2; no stall up to 300)
//
// With 5 % loss lockstep needs 2 frames more (3 to 12) and rollback with
// delay 2 stalls 2.1 % of ticks at 300 ms. Rollback re-simulates about
// RTT/2 frames per input change (0.3 frames per tick at 50 ms, 1 at 300
// ms, 7.5 rollbacks a second here); beyond MaxPrediction frames of
// one-way latency it stalls like lockstep (delay 0: above 200 ms RTT).
// A rollback tick with a Pong-sized state costs about 0.9 µs of session
// CPU plus the game's steps (bench BenchmarkRollbackAdvance), 0 allocs.
//
// # Testing games
//
// Package locksteptest runs N sessions of a game over memnet with chosen
// impairment inside testing/synctest and fails on the first divergence or
// an unbounded stall; it also checks a simulation for determinism.
package lockstep
