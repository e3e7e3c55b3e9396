package memnet

import (
	"fmt"
	"slices"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Peer is one program on the network, with any number of labelled
// channels. It is safe for concurrent use.
type Peer struct {
	net *Network
	id  transport.PeerID

	// Guarded by net.mu.
	chans  map[string]*Conn
	closed bool
}

// ID returns the peer's ID.
func (p *Peer) ID() transport.PeerID { return p.id }

// Channel returns the peer's channel with this label, opening it on first
// use. Messages sent to a label before the receiver opens it wait in its
// inbox. It panics if rel is not Reliable or Unreliable, or differs from
// the reliability the label was first used with: both are programmer
// errors, as with a data channel negotiated differently on two sides.
func (p *Peer) Channel(label string, rel transport.Reliability) *Conn {
	if !rel.Valid() {
		panic(fmt.Sprintf("memnet: channel %q: invalid reliability %v", label, rel))
	}
	p.net.mu.Lock()
	defer p.net.mu.Unlock()
	return p.connLocked(label, rel)
}

func (p *Peer) connLocked(label string, rel transport.Reliability) *Conn {
	c, ok := p.chans[label]
	if !ok {
		c = &Conn{peer: p, label: label, rel: rel, wake: make(chan struct{})}
		c.closed = p.closed
		p.chans[label] = c
	} else if c.rel != rel {
		panic(fmt.Sprintf("memnet: channel %q is %v, used as %v", label, c.rel, rel))
	}
	return c
}

// Close makes the peer leave the network: its channels close, every other
// peer stops seeing it, and messages in flight to it are discarded. It is
// idempotent.
func (p *Peer) Close() error {
	p.net.mu.Lock()
	defer p.net.mu.Unlock()
	if p.net.peers[p.id] == p {
		delete(p.net.peers, p.id)
	}
	p.closeLocked()
	return nil
}

func (p *Peer) closeLocked() {
	if p.closed {
		return
	}
	p.closed = true
	for _, c := range p.chans {
		c.closeLocked()
	}
}

// peersLocked returns the other peers on the network, sorted.
func (p *Peer) peersLocked() []transport.PeerID {
	if p.closed {
		return nil
	}
	ids := make([]transport.PeerID, 0, len(p.net.peers))
	for id := range p.net.peers {
		if id != p.id {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
