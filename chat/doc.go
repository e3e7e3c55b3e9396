// Package chat is text chat for the peers of a room, built on Bus, a small
// publish/subscribe layer that other data can use too; both run over one
// Reliable transport.Conn of the mesh the game uses.
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
//		for _, m := range ch.Poll() {
//			show(m.String()) // "alice: gl hf", "* bob joined", ...
//		}
//	}
//
// Give the chat a channel of its own (it reads every message on it); the
// lockstep channel is not disturbed. Poll returns lines and system
// messages (KindJoined, KindLeft) in the order every peer shows; Mute hides
// a peer locally.
//
// # Order
//
// Every publication carries its origin's sequence number (1, 2, ...) and a
// Lamport stamp; every peer delivers publications sorted by (stamp, origin,
// sequence). A peer delivers a publication only once every other connected
// peer has promised — by a later stamp or by a Clock message, which each
// peer sends when its clock moves — that nothing it sends later can sort
// before it. So every peer delivers the same sequence (restricted, for
// team lines and whispers, to what it may see), and a peer's own lines
// appear after one round trip, in their final place. A duplicate (the same
// origin, sequence and stamp) is dropped wherever it comes from.
//
// Limits of that guarantee: a peer that stops polling holds delivery back
// for at most BusConfig.MaxDelay, after which the others deliver without
// its promise (counted as BusStats.Forced) and a line it then sends may
// land in different places on different peers. A peer that disconnects is
// waited for BusConfig.LeaveGrace, for the lines it sent just before.
//
// # History
//
// When two peers meet, each sends the other a Hello with its clock, and
// answers the other's with up to BusConfig.History of the publications it
// holds that the other may see. A newcomer delivers nothing and stamps
// nothing until every peer it is connected to has answered (or
// SyncTimeout passed): then its clock exceeds everything those peers
// delivered, its first lines sort after them everywhere, and the merged
// histories (duplicates dropped) come out first, marked History. A
// relayed line's origin is only as trustworthy as the peer that relayed it:
// Message.Via (Delivery.Via) names that peer, and Message.String shows it
// ("player0: … (relayed by p7)").
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
//   - Push the honest clocks out of range. A Lamport stamp (of a
//     publication, a Clock, a Hello, a History message or entry) more than
//     BusConfig.MaxClockLead (2^32) ahead of the receiver's clock is
//     refused and counted against its sender (BusStats.Refused,
//     PeerStats.Refused), and the message is dropped; one more than 2^16
//     ahead is a jump, of which each peer gets 4 and then one per 10 s.
//     Exhausting the 2^53 stamp space would so take an attacker more than
//     2^21 jumps, i.e. months. Before, one line stamped 2^53−1 pushed every
//     clock there and killed the chat for everyone
//     (TestRedTeamLamportOverflow, TestRedTeamLamportCreep).
//   - Change the order honest peers agree on for honest lines, or make a
//     line appear twice.
//
// # Bus
//
// Bus.Subscribe(prefix) receives the topics starting with prefix (chat
// uses "chat/"); Publish sends to everyone, PublishTo to a set of peers,
// PublishWith can keep a publication out of history. Chat.Bus returns the
// chat's bus for the application's own topics.
//
// The wire formats (FlatBuffers: the bus "PPBS" and chat lines "PPCL",
// version 1) are documented in internal/chatfb/README.md beside their
// schemas.
package chat
