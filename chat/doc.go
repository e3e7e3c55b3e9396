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
// relayed line's origin is only as trustworthy as the peer that relayed it
// (Delivery.Via).
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
