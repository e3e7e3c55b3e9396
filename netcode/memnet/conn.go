package memnet

import (
	"context"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Stats counts what happened to one channel's traffic. Send-side counters
// are kept by the sender's Conn, Overflow by the receiver's.
type Stats struct {
	Sent        uint64 // messages accepted by Send (each Broadcast target counts)
	Received    uint64 // messages handed to the application
	Lost        uint64 // Unreliable messages lost on the link
	Duplicated  uint64 // Unreliable messages delivered twice
	Reordered   uint64 // Unreliable messages held back to be overtaken
	Partitioned uint64 // Unreliable messages dropped by a partition
	Overflow    uint64 // arriving Unreliable messages dropped: inbox full
}

// Conn is one peer's end of a labelled channel. It implements
// transport.Conn and is safe for concurrent use.
type Conn struct {
	peer  *Peer
	label string
	rel   transport.Reliability

	// Guarded by peer.net.mu.
	inbox    inbox
	inFlight int           // messages in inbox plus Reliable ones held by partitions
	wake     chan struct{} // closed and replaced when a message arrives or the Conn closes
	closed   bool
	stats    Stats
}

var _ transport.Conn = (*Conn)(nil)

// Local returns the peer's ID.
func (c *Conn) Local() transport.PeerID { return c.peer.id }

// Label returns the channel's label.
func (c *Conn) Label() string { return c.label }

// Reliability returns the channel's kind.
func (c *Conn) Reliability() transport.Reliability { return c.rel }

// Peers returns the other peers on the network, sorted.
func (c *Conn) Peers() []transport.PeerID {
	c.peer.net.mu.Lock()
	defer c.peer.net.mu.Unlock()
	return c.peer.peersLocked()
}

// Send queues a copy of p for the peer to. It never blocks.
func (c *Conn) Send(to transport.PeerID, p []byte) error {
	n := c.peer.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.closed {
		return transport.ErrClosed
	}
	return n.sendLocked(c, to, p)
}

// Broadcast sends p to every other peer and returns the first error, after
// trying them all.
func (c *Conn) Broadcast(p []byte) error {
	n := c.peer.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if c.closed {
		return transport.ErrClosed
	}
	var first error
	for _, to := range c.peer.peersLocked() {
		if err := n.sendLocked(c, to, p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TryRecv returns the next message whose time has come.
func (c *Conn) TryRecv() (transport.Message, bool) {
	c.peer.net.mu.Lock()
	defer c.peer.net.mu.Unlock()
	m, ok, _ := c.popLocked(time.Now())
	return m, ok
}

// Recv waits for the next message, ctx, or Close.
func (c *Conn) Recv(ctx context.Context) (transport.Message, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		c.peer.net.mu.Lock()
		if c.closed {
			c.peer.net.mu.Unlock()
			return transport.Message{}, transport.ErrClosed
		}
		now := time.Now()
		m, ok, next := c.popLocked(now)
		wake := c.wake
		c.peer.net.mu.Unlock()
		if ok {
			return m, nil
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			if timer == nil {
				timer = time.NewTimer(next.Sub(now))
			} else {
				timer.Reset(next.Sub(now))
			}
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return transport.Message{}, ctx.Err()
		case <-wake:
		case <-tc:
		}
	}
}

// Stats returns the channel's counters.
func (c *Conn) Stats() Stats {
	c.peer.net.mu.Lock()
	defer c.peer.net.mu.Unlock()
	return c.stats
}

// Close closes this channel only; the peer stays on the network. Messages
// waiting for it are discarded. It is idempotent.
func (c *Conn) Close() error {
	c.peer.net.mu.Lock()
	defer c.peer.net.mu.Unlock()
	c.closeLocked()
	return nil
}

func (c *Conn) closeLocked() {
	if c.closed {
		return
	}
	c.closed = true
	c.inbox = nil
	c.inFlight = 0
	close(c.wake)
}

func (c *Conn) wakeLocked() {
	close(c.wake)
	c.wake = make(chan struct{})
}

// popLocked returns the first message due by now; if none is, it returns
// when the next one is due (zero if the inbox is empty).
func (c *Conn) popLocked(now time.Time) (transport.Message, bool, time.Time) {
	if c.closed || len(c.inbox) == 0 {
		return transport.Message{}, false, time.Time{}
	}
	if head := c.inbox[0]; head.due.After(now) {
		return transport.Message{}, false, head.due
	}
	p := c.inbox.pop()
	c.inFlight--
	c.stats.Received++
	return p.msg, true, time.Time{}
}
