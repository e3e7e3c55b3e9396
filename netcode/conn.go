package netcode

import (
	"context"
	"sync"

	"github.com/peerplay/peerplay/netcode/transport"
)

// channel is one application channel of the mesh: the transport.Conn that
// Mesh.Channel returns. It holds the inbox every peer's read loop for this
// channel feeds. Safe for concurrent use.
type channel struct {
	m    *Mesh
	idx  int // index in Config.Channels
	spec ChannelSpec

	mu sync.Mutex // guards all following fields
	q  []queued
	// perPeer counts queued messages and bytes by sender: the inbox bound
	// is per channel and peer, so one flooding peer cannot crowd out the
	// others.
	perPeer map[transport.PeerID]*inboxCount
	// notify, made by a waiting Recv, is closed (and cleared) when a
	// message is queued or the channel closes.
	notify chan struct{}
	// space, made by a Reliable read loop waiting for room, is closed (and
	// cleared) when a message is taken or the channel closes.
	space  chan struct{}
	closed bool
}

type inboxCount struct{ n, bytes int }

// queued is one inbox message with what it holds of its sender's memory
// budget (given back when the game takes it).
type queued struct {
	msg    transport.Message
	charge int
	b      *budget
}

var (
	_ transport.Conn         = (*channel)(nil)
	_ transport.SignerSource = (*channel)(nil)
)

func newChannel(m *Mesh, idx int, spec ChannelSpec) *channel {
	return &channel{m: m, idx: idx, spec: spec, perPeer: make(map[transport.PeerID]*inboxCount)}
}

func (c *channel) Local() transport.PeerID   { return c.m.Local() }
func (c *channel) Peers() []transport.PeerID { return c.m.Peers() }

// Signer returns the mesh identity's Signer if every peer of group has a
// key-derived ID (one its DTLS certificate proves), else nil: a browser
// peer ("~...") proves no key, and a browser mesh has none to sign with.
// So every peer of a group gets a Signer, or none does. sync/lockstep
// signs its rejoin admissions with it by default (Config.Signer).
func (c *channel) Signer(group []transport.PeerID) transport.Signer {
	if c.m.signer == nil {
		return nil
	}
	for _, id := range group {
		if !keyID(id) {
			return nil
		}
	}
	return c.m.signer
}

// Send queues p for one peer; it never blocks. Errors: ErrTooLarge above
// the channel's limit, ErrUnknownPeer for a peer not in Peers,
// ErrSlowConsumer when a Reliable channel's SCTP queue to the peer is full,
// ErrClosed after Close. An Unreliable send dropped because the queue is
// already long returns nil (it is counted in Stats).
func (c *channel) Send(to transport.PeerID, p []byte) error {
	if err := c.checkSize(p); err != nil {
		return err
	}
	l, err := c.m.link(to, c.idx)
	if err != nil {
		return err
	}
	return l.send(p)
}

// Broadcast sends p to every connected peer and returns the first error.
func (c *channel) Broadcast(p []byte) error {
	if err := c.checkSize(p); err != nil {
		return err
	}
	links, err := c.m.links(c.idx)
	if err != nil {
		return err
	}
	var first error
	for _, l := range links {
		if err := l.send(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *channel) checkSize(p []byte) error {
	if len(p) > c.spec.MaxMessageBytes {
		return transport.ErrTooLarge
	}
	return nil
}

func (c *channel) TryRecv() (transport.Message, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.popLocked()
}

func (c *channel) Recv(ctx context.Context) (transport.Message, error) {
	for {
		c.mu.Lock()
		if msg, ok := c.popLocked(); ok {
			c.mu.Unlock()
			return msg, nil
		}
		if c.closed {
			c.mu.Unlock()
			return transport.Message{}, transport.ErrClosed
		}
		if c.notify == nil {
			c.notify = make(chan struct{})
		}
		notify := c.notify
		c.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return transport.Message{}, ctx.Err()
		}
	}
}

// popLocked takes the oldest message. Messages queued before Close are
// still delivered.
func (c *channel) popLocked() (transport.Message, bool) {
	if len(c.q) == 0 {
		return transport.Message{}, false
	}
	e := c.q[0]
	msg := e.msg
	c.q[0] = queued{}
	c.q = c.q[1:]
	if e.b != nil {
		e.b.dequeued(e.charge)
	}
	if len(c.q) == 0 {
		c.q = nil // let the backing array go
	}
	if pc := c.perPeer[msg.From]; pc != nil {
		pc.n--
		pc.bytes -= len(msg.Data)
		if pc.n == 0 {
			delete(c.perPeer, msg.From)
		}
	}
	wake(&c.space)
	return msg, true
}

// fitsLocked reports whether a message of n bytes from peer fits its
// inbox share.
func (c *channel) fitsLocked(from transport.PeerID, n int) bool {
	pc := c.perPeer[from]
	if pc == nil {
		return true
	}
	return pc.n < c.m.cfg.InboxLen && pc.bytes+n <= c.m.cfg.InboxBytes
}

func (c *channel) pushLocked(from transport.PeerID, data []byte, charge int, b *budget) {
	pc := c.perPeer[from]
	if pc == nil {
		pc = &inboxCount{}
		c.perPeer[from] = pc
	}
	pc.n++
	pc.bytes += len(data)
	c.q = append(c.q, queued{msg: transport.Message{From: from, Data: data}, charge: charge, b: b})
	if b != nil {
		b.queued(charge)
	}
	wake(&c.notify)
}

// offer queues an Unreliable message, or reports false when the sender's
// inbox share or memory budget (b, if not nil) is full (the message is
// dropped).
func (c *channel) offer(from transport.PeerID, data []byte, b *budget) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.fitsLocked(from, len(data)) {
		return false
	}
	if b != nil && !b.tryTake(cap(data)) {
		return false
	}
	c.pushLocked(from, data, cap(data), b)
	return true
}

// put queues a Reliable message, which already holds charge bytes of its
// sender's budget b (given back when the game takes it), waiting while
// the sender's inbox share is full: the read loop stops reading, SCTP's
// receive window fills, and the sender's Send fails with
// ErrSlowConsumer. It returns false if done closes (the peer went away)
// or the channel closes first (the caller then releases the charge).
func (c *channel) put(from transport.PeerID, data []byte, charge int, b *budget, done <-chan struct{}) bool {
	waiting := false // for the game: b.waiters counts it
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if c.fitsLocked(from, len(data)) {
			c.pushLocked(from, data, charge, b)
			c.mu.Unlock()
			return true
		}
		if c.space == nil {
			c.space = make(chan struct{})
		}
		space := c.space
		c.mu.Unlock()
		if b != nil && !waiting {
			waiting = true
			b.waiters.Add(1)
			defer b.waiters.Add(-1)
		}
		select {
		case <-space:
		case <-done:
			return false
		}
	}
}

// close wakes every waiter; queued messages stay readable.
func (c *channel) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	wake(&c.notify)
	wake(&c.space)
}

// wake closes and clears *ch if a waiter made it.
func wake(ch *chan struct{}) {
	if *ch != nil {
		close(*ch)
		*ch = nil
	}
}
