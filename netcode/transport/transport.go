package transport

import (
	"context"
	"fmt"
)

// PeerID names a peer in a room. The signaling server assigns it; it is
// compared as a plain string, so a sorted []PeerID is the same on every peer
// (lockstep seats and lobby host rules rely on that).
type PeerID string

// Reliability says what a channel promises about delivery.
type Reliability int

const (
	// ReliabilityUnknown is the zero value; it is never a valid channel kind.
	ReliabilityUnknown Reliability = iota
	// Reliable channels deliver every message, once, in send order (SCTP
	// reliable ordered). Use them for lobby and chat, never for inputs.
	Reliable
	// Unreliable channels may drop, duplicate and reorder messages (SCTP
	// unordered, maxRetransmits 0). Use them for lockstep datagrams, which
	// carry their own redundancy.
	Unreliable
)

// String returns "reliable", "unreliable" or "unknown(N)".
func (r Reliability) String() string {
	switch r {
	case Reliable:
		return "reliable"
	case Unreliable:
		return "unreliable"
	case ReliabilityUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("unknown(%d)", int(r))
	}
}

// Valid reports whether r is Reliable or Unreliable.
func (r Reliability) Valid() bool { return r == Reliable || r == Unreliable }

// Message is one message received on a Conn. The receiver owns Data: the
// Conn never touches it again.
type Message struct {
	From PeerID
	Data []byte
}

// Conn is one logical channel from the local peer to every connected peer of
// a room. Implementations are safe for concurrent use.
//
// Overflow rules (every implementation follows them): an Unreliable
// channel's bounded inbox drops and counts what does not fit; a Reliable
// channel never drops silently: a Send that cannot be queued fails with
// ErrSlowConsumer.
type Conn interface {
	// Local is this peer's ID.
	Local() PeerID
	// Peers returns the connected remote peers, sorted.
	Peers() []PeerID
	// Send queues p for one peer. It never blocks and copies p, so the
	// caller may reuse p as soon as Send returns.
	Send(to PeerID, p []byte) error
	// Broadcast sends p to every connected peer, as Send does. It returns
	// the first error met, after trying every peer.
	Broadcast(p []byte) error
	// TryRecv returns the next message if one is ready, without blocking.
	TryRecv() (Message, bool)
	// Recv blocks until a message arrives, ctx is done (ctx.Err()) or the
	// Conn is closed (ErrClosed).
	Recv(ctx context.Context) (Message, error)
}
