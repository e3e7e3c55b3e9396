// Package memnet is an in-memory network of peers whose channels implement
// transport.Conn, with seeded, configurable impairment per link: latency,
// jitter, loss, duplication, reordering and a bandwidth cap, plus partitions
// and peers leaving at run time. Lockstep, lobby and chat are tested on it.
//
// Quick start:
//
//	n := memnet.New(memnet.Config{Seed: 7, Link: memnet.Link{
//		Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.05,
//	}})
//	defer n.Close()
//	alice := n.Join("alice").Channel("input", transport.Unreliable)
//	bob := n.Join("bob").Channel("input", transport.Unreliable)
//	_ = alice.Send("bob", []byte{1, 2, 3})
//	msg, err := bob.Recv(ctx) // about 40 ms later, unless lost
//
// # Model
//
// memnet starts no goroutines. Send computes, from the link's seeded random
// source, whether a message is lost, duplicated or delayed for reordering,
// and when it is due at the receiver (latency ± jitter after the link's
// transmitter is free, if a bandwidth cap is set); the message then waits in
// the receiver's inbox until that time. TryRecv and Recv hand out messages
// whose time has come. Time is read from the time package, so inside
// testing/synctest a minute of impaired play runs in milliseconds, and the
// same seed and the same sends give the same deliveries.
//
// Jitter is uniform in [-Jitter, +Jitter] around Latency (never below
// zero). Reorder delays a message by ReorderDelay beyond its computed time,
// so later messages overtake it. Duplicates get their own jitter.
//
// Reliable channels model SCTP reliable ordered delivery: no loss, no
// duplication, no reordering (a message is never due before the previous
// one on the same link and channel), and traffic across a partition is held
// and delivered in order after the partition heals, as SCTP retransmission
// would. Unreliable channels suffer every impairment, and what is sent
// across a partition is dropped.
//
// # Queues and overflow
//
// Each channel of each peer has one inbox bounded by Config.QueueLen
// messages, counting those still in flight to it. An Unreliable message
// that does not fit is dropped and counted (Stats.Overflow). A Reliable Send
// that does not fit fails with transport.ErrSlowConsumer and queues
// nothing: reliable traffic is never dropped silently. Unreliable messages
// above Config.MaxUnreliableSize (default 1150 bytes, one SCTP packet) and
// Reliable ones above Config.MaxReliableSize fail with transport.ErrTooLarge.
//
// A peer that leaves (Peer.Close) disappears from every other peer's
// Peers(); messages in flight to it are discarded, and Sends to it fail
// with transport.ErrUnknownPeer.
package memnet
