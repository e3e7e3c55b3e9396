package memnet

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Network is a set of peers joined by impaired links. It is safe for
// concurrent use.
type Network struct {
	cfg Config

	mu     sync.Mutex // guards all following fields, and every Peer's and Conn's state
	peers  map[transport.PeerID]*Peer
	links  map[linkKey]*link
	seq    uint64 // orders messages due at the same instant by send order
	closed bool
}

type linkKey struct{ from, to transport.PeerID }

// link is one direction between two peers.
type link struct {
	cfg         Link
	rng         *rand.Rand
	busyUntil   time.Time // when the transmitter is free (bandwidth cap)
	partitioned bool
	held        []held // Reliable messages waiting for the partition to heal
	lastDue     map[string]time.Time
}

type held struct {
	dst  *Conn
	from transport.PeerID
	data []byte
}

// New returns a network configured by cfg. It panics with an error
// wrapping ErrInvalidConfig if cfg is invalid (a programmer error: configs
// are literals in tests).
func New(cfg Config) *Network {
	c, err := cfg.withDefaults()
	if err != nil {
		panic(err)
	}
	return &Network{
		cfg:   c,
		peers: make(map[transport.PeerID]*Peer),
		links: make(map[linkKey]*link),
	}
}

// Join adds a peer. It panics if a peer with that ID is already on the
// network or the network is closed.
func (n *Network) Join(id transport.PeerID) *Peer {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		panic("memnet: Join on a closed network")
	}
	if _, ok := n.peers[id]; ok {
		panic(fmt.Sprintf("memnet: peer %q joined twice", id))
	}
	p := &Peer{net: n, id: id, chans: make(map[string]*Conn)}
	n.peers[id] = p
	return p
}

// SetLink sets the impairment of the direction from → to, replacing the
// default. Messages already in flight keep their schedule. It panics with
// an error wrapping ErrInvalidConfig if l is invalid.
func (n *Network) SetLink(from, to transport.PeerID, l Link) {
	if err := l.Validate(); err != nil {
		panic(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.linkLocked(from, to).cfg = l
}

// Partition cuts both directions between a and b until Heal. Unreliable
// messages sent meanwhile are lost; Reliable ones are held.
func (n *Network) Partition(a, b transport.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.linkLocked(a, b).partitioned = true
	n.linkLocked(b, a).partitioned = true
}

// Heal ends a partition between a and b and sends the held Reliable
// messages, in order.
func (n *Network) Heal(a, b transport.PeerID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for _, k := range []linkKey{{a, b}, {b, a}} {
		l := n.linkLocked(k.from, k.to)
		l.partitioned = false
		for _, h := range l.held {
			if !h.dst.closed {
				n.scheduleLocked(l, h.dst, h.from, h.data, now, true)
			}
		}
		l.held = nil
	}
}

// Isolate partitions id from every peer now on the network: the peer is
// cut off but does not know it, as when its cable is pulled.
func (n *Network) Isolate(id transport.PeerID) {
	for _, other := range n.peerIDs() {
		if other != id {
			n.Partition(id, other)
		}
	}
}

// Restore heals every partition of id made by Isolate or Partition.
func (n *Network) Restore(id transport.PeerID) {
	for _, other := range n.peerIDs() {
		if other != id {
			n.Heal(id, other)
		}
	}
}

func (n *Network) peerIDs() []transport.PeerID {
	n.mu.Lock()
	defer n.mu.Unlock()
	ids := make([]transport.PeerID, 0, len(n.peers))
	for id := range n.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Close closes every peer. It is idempotent.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for _, p := range n.peers {
		p.closeLocked()
	}
	clear(n.peers)
	return nil
}

func (n *Network) linkLocked(from, to transport.PeerID) *link {
	k := linkKey{from, to}
	l, ok := n.links[k]
	if !ok {
		h := fnv.New64a()
		h.Write([]byte(from))
		h.Write([]byte{0})
		h.Write([]byte(to))
		l = &link{
			cfg:     n.cfg.Link,
			rng:     rand.New(rand.NewPCG(n.cfg.Seed, h.Sum64())),
			lastDue: make(map[string]time.Time),
		}
		n.links[k] = l
	}
	return l
}

// sendLocked moves p from src to the peer to over the link between them.
func (n *Network) sendLocked(src *Conn, to transport.PeerID, p []byte) error {
	dstPeer, ok := n.peers[to]
	if !ok || to == src.peer.id {
		return fmt.Errorf("%w: %q", transport.ErrUnknownPeer, to)
	}
	limit := n.cfg.MaxUnreliableSize
	if src.rel == transport.Reliable {
		limit = n.cfg.MaxReliableSize
	}
	if len(p) > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", transport.ErrTooLarge, len(p), limit)
	}
	dst := dstPeer.connLocked(src.label, src.rel)
	l := n.linkLocked(src.peer.id, to)
	now := time.Now()

	if src.rel == transport.Reliable {
		if dst.inFlight >= n.cfg.QueueLen {
			return fmt.Errorf("%w: %q on %q", transport.ErrSlowConsumer, to, src.label)
		}
		src.stats.Sent++
		data := slices.Clone(p)
		if l.partitioned {
			dst.inFlight++ // held messages count against the bound too
			l.held = append(l.held, held{dst, src.peer.id, data})
			return nil
		}
		n.scheduleLocked(l, dst, src.peer.id, data, now, false)
		return nil
	}

	src.stats.Sent++
	if l.partitioned {
		src.stats.Partitioned++
		return nil
	}
	// Roll the dice in a fixed order so a seed replays exactly.
	lost := l.rng.Float64() < l.cfg.Loss
	dup := l.rng.Float64() < l.cfg.Duplicate
	reorder := l.rng.Float64() < l.cfg.Reorder
	due := n.dueLocked(l, len(p), now)
	if lost {
		src.stats.Lost++
		return nil
	}
	if reorder {
		src.stats.Reordered++
		d := l.cfg.ReorderDelay
		if d == 0 {
			d = max(l.cfg.Latency, time.Millisecond)
		}
		due = due.Add(d)
	}
	n.deliverLocked(dst, src.peer.id, slices.Clone(p), due)
	if dup {
		src.stats.Duplicated++
		n.deliverLocked(dst, src.peer.id, slices.Clone(p), n.dueLocked(l, 0, now))
	}
	return nil
}

// scheduleLocked queues a Reliable message: never due before the previous
// one on the same link and channel, so order holds whatever the jitter.
func (n *Network) scheduleLocked(l *link, dst *Conn, from transport.PeerID, data []byte, now time.Time, wasHeld bool) {
	due := n.dueLocked(l, len(data), now)
	if last := l.lastDue[dst.label]; due.Before(last) {
		due = last
	}
	l.lastDue[dst.label] = due
	if wasHeld {
		dst.inFlight-- // deliverLocked counts it again
	}
	n.deliverLocked(dst, from, data, due)
}

// dueLocked returns when a message of size bytes sent now arrives.
func (n *Network) dueLocked(l *link, size int, now time.Time) time.Time {
	start := now
	if l.cfg.Bandwidth > 0 {
		if l.busyUntil.After(start) {
			start = l.busyUntil
		}
		tx := time.Duration(int64(size) * 8 * int64(time.Second) / l.cfg.Bandwidth)
		start = start.Add(tx)
		l.busyUntil = start
	}
	d := l.cfg.Latency
	if l.cfg.Jitter > 0 {
		d += time.Duration(l.rng.Int64N(int64(2*l.cfg.Jitter)+1)) - l.cfg.Jitter
		d = max(d, 0)
	}
	return start.Add(d)
}

func (n *Network) deliverLocked(dst *Conn, from transport.PeerID, data []byte, due time.Time) {
	if dst.closed {
		return
	}
	if dst.inFlight >= n.cfg.QueueLen {
		dst.stats.Overflow++
		return
	}
	n.seq++
	dst.inbox.push(pending{due: due, seq: n.seq, msg: transport.Message{From: from, Data: data}})
	dst.inFlight++
	dst.wakeLocked()
}
