// Package chat is text chat for the peers of a room, built on the topic
// bus of package pubsub (which other data can use too); both run over one
// Reliable transport.Conn of the mesh the game uses. The bus's names here
// (Bus, BusConfig, NewBus, ...) are deprecated aliases of pubsub's.
//
// Quick start (the game loop drives: no callbacks, no goroutines):
//
//	ch, err := chat.New(mesh.Channel("chat"), chat.Config{Name: "alice", Team: 1})
//	if err != nil {
//		return err
//	}
//	defer ch.Close()
//	ch.Say("gl hf")            // everyone
//	ch.SayTeam("rush B")       // my team
//	ch.Whisper(bob, "psst")    // one peer
//	for { // each frame
//		for _, m := range ch.PollMessages() {
//			show(m.String()) // "alice: gl hf", "* bob joined", ...
//		}
//	}
//
// Give the chat a channel of its own (it reads every message on it); the
// lockstep channel is not disturbed. PollMessages returns lines and system
// messages (KindJoined, KindLeft) in the order every peer shows; Mute hides
// a peer locally. It follows the repository's drain convention
// (CONTRIBUTING.md): the slice is valid until the next call, the queue
// under it keeps the newest deliveries and counts drops; Poll is its
// deprecated, copying alias. Display names: with Config.Names set to the
// game's *lobby.Lobby, the lobby owns the names the chat shows.
//
// # Order and history
//
// Lines come out in the bus's total order (package pubsub, "Order"): every
// peer shows the same sequence (restricted, for team lines and whispers,
// to what it may see), and a peer's own lines appear after one round trip,
// in their final place. A newcomer first gets the history the peers it
// meets serve, marked History. A relayed line's origin is only as
// trustworthy as the peer that relayed it: Message.Via names that peer,
// and Message.String shows it ("player0: … (relayed by p7)").
//
// # Limits
//
// Lines are checked on send and again on receipt: valid UTF-8, control
// and bidirectional-override characters removed (tabs and line breaks
// become spaces), at most Config.MaxRunes runes, not empty. Each peer's
// publications are rate limited by a token bucket (BusConfig.Rate and
// Burst): above it, Say fails with ErrRateLimited; a peer that floods
// anyway (a modified client) has its excess dropped on receipt — with 1.5×
// and 2× slack for network bunching — and counted in
// Bus.PeerStats(peer).Throttled, while everyone else's lines flow. Every
// message goes through a total decoder (sizes, identifiers, versions and
// counts checked under recover, fuzzed); what does not fit is dropped and
// counted.
//
// # Threat model
//
// Assume any one peer lies. A hostile peer can always: leave, stall (the
// order then waits for it up to BusConfig.MaxDelay), send garbage
// (dropped and counted: BusStats.Malformed; above MaxMessageSize = 16 KiB
// dropped unread: BusStats.Oversized), flood (its excess is throttled and
// counted per peer), say what it likes under its own name (Mute hides it
// locally), and make up history lines of others when it serves history to
// a newcomer: without signatures they cannot be told from real ones, so
// every History line carries the peer that relayed it (Message.Via) and a
// game should show it.
//
// It can never:
//
//   - Speak live under another peer's name: a live publication's origin is
//     the transport's sender (netcode proves it is the key's owner).
//   - Push the honest clocks out of range: a Lamport stamp more than
//     BusConfig.MaxClockLead (2^32) ahead of the receiver's clock is
//     refused and counted against its sender (BusStats.Refused,
//     PeerStats.Refused), and clock jumps are rate limited per peer (see
//     package pubsub, "Threat model"). Before, one line stamped 2^53−1
//     pushed every clock there and killed the chat for everyone
//     (TestRedTeamLamportOverflow, TestRedTeamLamportCreep).
//   - Change the order honest peers agree on for honest lines, or make a
//     line appear twice.
//
// # Bus
//
// Chat.Bus returns the chat's bus (a *pubsub.Bus) for the application's
// own topics, outside the "chat/" prefix.
//
// The wire format of chat lines (FlatBuffers "PPCL", version 1, the
// payload of a bus publication) is documented in internal/chatfb/README.md
// beside its schema; the bus's in internal/pubsubfb/README.md.
package chat
