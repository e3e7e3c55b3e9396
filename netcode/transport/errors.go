package transport

import "errors"

var (
	// ErrClosed is returned by calls on a closed Conn.
	ErrClosed = errors.New("transport: closed")
	// ErrUnknownPeer is returned by Send to a peer that is not connected.
	ErrUnknownPeer = errors.New("transport: unknown peer")
	// ErrSlowConsumer is returned by Send on a Reliable channel whose
	// receiver (or send queue) is full: the message was not queued, and the
	// caller decides whether to retry, back off or drop the peer. Reliable
	// channels never drop silently.
	ErrSlowConsumer = errors.New("transport: slow consumer")
	// ErrTooLarge is returned by Send for a message above the channel's
	// size limit.
	ErrTooLarge = errors.New("transport: message too large")
)
