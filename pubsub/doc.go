// Package pubsub is a small publish/subscribe layer over one Reliable
// transport.Conn of the mesh a game uses: topics, recipients (everyone, a
// set, one peer), one total order on every peer, per-origin sequence
// numbers without duplicates, history for late joiners and per-sender
// rate limits. Package chat is built on it; a game's own data can share
// it or run on a bus of its own.
//
//	bus, err := pubsub.New(mesh.Channel("bus"), pubsub.Config{})
//	if err != nil {
//		return err
//	}
//	defer bus.Close()
//	scores := bus.Subscribe("score/")
//	bus.Publish("score/round1", []byte("a:3 b:1"))
//	for { // each frame
//		for _, d := range scores.PollDeliveries() { // the same order on every peer
//			show(d.From, d.Payload)
//		}
//	}
//
// Like every game-side package it starts no goroutine:
// Subscription.PollDeliveries (or Bus.Update) reads the Conn and runs the
// timers. Draining follows the repository's drain convention
// (CONTRIBUTING.md): PollDeliveries' slice is valid until its next call,
// a full subscription queue drops its oldest delivery and counts it
// (Subscription.Dropped); Subscription.Poll is the deprecated, copying
// alias. Subscribe(prefix)
// receives the topics starting with prefix; Publish sends to everyone,
// PublishTo to a set of peers, PublishWith can keep a publication out of
// history.
//
// # Order
//
// Every publication carries its origin's sequence number (1, 2, ...) and a
// Lamport stamp; every peer delivers publications sorted by (stamp, origin,
// sequence). A peer delivers a publication only once every other connected
// peer has promised — by a later stamp or by a Clock message, which each
// peer sends when its clock moves — that nothing it sends later can sort
// before it. So every peer delivers the same sequence (restricted, for
// team publications and whispers, to what it may see), and a peer's own publications
// appear after one round trip, in their final place. A duplicate (the same
// origin, sequence and stamp) is dropped wherever it comes from.
//
// Limits of that guarantee: a peer that stops polling holds delivery back
// for at most Config.MaxDelay, after which the others deliver without
// its promise (counted as Stats.Forced) and a line it then sends may
// land in different places on different peers. A peer that disconnects is
// waited for Config.LeaveGrace, for the publications it sent just before.
//
// # History
//
// When two peers meet, each sends the other a Hello with its clock, and
// answers the other's with up to Config.History of the publications it
// holds that the other may see. A newcomer delivers nothing and stamps
// nothing until every peer it is connected to has answered (or
// SyncTimeout passed): then its clock exceeds everything those peers
// delivered, its first publications sort after them everywhere, and the merged
// histories (duplicates dropped) come out first, marked History. A
// relayed publication's origin is only as trustworthy as the peer that
// relayed it: Delivery.Via names that peer.
//
// # Limits
//
// Each peer's publications are rate limited by a token bucket
// (Config.Rate and Burst): above it, Publish fails with ErrRateLimited; a
// peer that floods anyway has its excess dropped on receipt — with 1.5×
// and 2× slack for network bunching — and counted in
// PeerStats(peer).Throttled. Every message goes through a total decoder
// (sizes, identifiers, versions and counts checked under recover, fuzzed;
// internal/pubsubwire); what does not fit is dropped and counted.
//
// # Threat model
//
// Assume any one peer lies. A hostile peer can always: leave, stall (the
// order then waits for it up to Config.MaxDelay), send garbage (dropped
// and counted: Stats.Malformed; above MaxMessageSize = 16 KiB dropped
// unread: Stats.Oversized), flood (its excess is throttled and counted per
// peer), publish what it likes under its own name, and make up history
// entries of others when it serves history to a newcomer: without
// signatures they cannot be told from real ones, so every history
// delivery carries the peer that relayed it (Delivery.Via).
//
// It can never:
//
//   - Publish live under another peer's name: a live publication's origin
//     is the transport's sender (netcode proves it is the key's owner).
//   - Push the honest clocks out of range. A Lamport stamp (of a
//     publication, a Clock, a Hello, a History message or entry) more than
//     Config.MaxClockLead (2^32) ahead of the receiver's clock is refused
//     and counted against its sender (Stats.Refused, PeerStats.Refused),
//     and the message is dropped; one more than 2^16 ahead is a jump, of
//     which each peer gets 4 and then one per 10 s. Exhausting the 2^53
//     stamp space would so take an attacker more than 2^21 jumps, i.e.
//     months. Before, one publication stamped 2^53−1 pushed every clock
//     there and killed the bus for everyone (chat's
//     TestRedTeamLamportOverflow and TestRedTeamLamportCreep).
//   - Change the order honest peers agree on for honest publications, or
//     make one appear twice.
//
// The wire format (FlatBuffers, identifier "PPBS", version 1; unchanged
// since it lived in package chat) is documented in
// internal/pubsubfb/README.md beside its schema.
package pubsub
