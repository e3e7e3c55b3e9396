package locksteptest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Loopback returns one Conn per id, joined by an instant, lossless network
// that allocates nothing per message once warm: each Conn's inbox is a
// ring of reused buffers. It exists for benchmarks and allocation tests of
// code that runs over a transport.Conn (memnet copies every message).
//
// It bends one rule of transport.Conn: a received Message's Data is valid
// only until the next TryRecv or Recv on the same Conn (its buffer is
// reused). Each inbox holds 256 messages; further sends are dropped, as an
// unreliable channel's would be.
func Loopback(ids ...transport.PeerID) []*LoopConn {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	net := &loopNet{conns: map[transport.PeerID]*LoopConn{}}
	out := make([]*LoopConn, 0, len(ids))
	for _, id := range ids {
		c := &LoopConn{net: net, id: id}
		for i := range c.ring {
			c.ring[i].Data = make([]byte, 0, 2048)
		}
		net.conns[id] = c
		out = append(out, c)
	}
	for _, c := range out {
		for _, id := range ids {
			if id != c.id {
				c.peers = append(c.peers, id)
			}
		}
	}
	return out
}

type loopNet struct {
	mu    sync.Mutex
	conns map[transport.PeerID]*LoopConn
}

// LoopConn is one end of a Loopback network. It is safe for concurrent
// use.
type LoopConn struct {
	net   *loopNet
	id    transport.PeerID
	peers []transport.PeerID

	// Guarded by net.mu.
	ring       [256]transport.Message
	head, size int
	Dropped    uint64 // messages dropped because this inbox was full
}

// Local returns the Conn's peer ID.
func (c *LoopConn) Local() transport.PeerID { return c.id }

// Peers returns the other peers, sorted.
func (c *LoopConn) Peers() []transport.PeerID { return slices.Clone(c.peers) }

// Send copies p into the inbox of to.
func (c *LoopConn) Send(to transport.PeerID, p []byte) error {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	dst := c.net.conns[to]
	if dst == nil || dst == c {
		return transport.ErrUnknownPeer
	}
	if dst.size == len(dst.ring) {
		dst.Dropped++
		return nil
	}
	m := &dst.ring[(dst.head+dst.size)%len(dst.ring)]
	m.From = c.id
	m.Data = append(m.Data[:0], p...)
	dst.size++
	return nil
}

// Broadcast sends p to every other peer.
func (c *LoopConn) Broadcast(p []byte) error {
	var first error
	for _, id := range c.peers {
		if err := c.Send(id, p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// TryRecv returns the oldest message, if any.
func (c *LoopConn) TryRecv() (transport.Message, bool) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	if c.size == 0 {
		return transport.Message{}, false
	}
	m := c.ring[c.head]
	c.head = (c.head + 1) % len(c.ring)
	c.size--
	return m, true
}

// Recv is TryRecv that fails with an error instead of waiting: a Loopback
// network has no clock, so a message that is not there now never comes.
func (c *LoopConn) Recv(ctx context.Context) (transport.Message, error) {
	if m, ok := c.TryRecv(); ok {
		return m, nil
	}
	if err := ctx.Err(); err != nil {
		return transport.Message{}, err
	}
	return transport.Message{}, errNoMessage
}

var errNoMessage = errors.New("locksteptest: loopback inbox empty")
