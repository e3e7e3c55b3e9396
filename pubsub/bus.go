package pubsub

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/peerplay/peerplay/internal/drain"
	"github.com/peerplay/peerplay/internal/pubsubfb"
	"github.com/peerplay/peerplay/internal/pubsubwire"
	"github.com/peerplay/peerplay/netcode/transport"
)

// Bus is a small publish/subscribe layer over one Reliable Conn: topics,
// recipients (everyone, a set, one peer), one total order on every peer,
// per-origin sequence numbers without duplicates, history for late
// joiners and per-sender rate limits. Package chat is built on it; other topics
// can share it. See the package doc for the ordering protocol.
//
// The Bus starts no goroutine: Update (or any Subscription.Poll) reads
// the Conn and runs the timers. It owns the Conn's receive side and does
// not close the Conn. It is safe for concurrent use.
type Bus struct {
	conn  transport.Conn
	cfg   Config
	log   *slog.Logger
	local transport.PeerID

	mu         sync.Mutex // guards all following fields
	enc        pubsubwire.Encoder
	now        time.Time
	closed     bool
	clock      uint64 // Lamport clock
	advertised uint64 // the last clock we promised everyone
	seq        uint64 // our last publication's sequence number
	peers      map[transport.PeerID]*peerState
	pending    []*entry // undelivered, sorted by (stamp, origin, seq)
	seen       map[entryKey]struct{}
	ring       []*entry // delivered, newest last, at most cfg.History
	horizon    uint64   // stamps at or below it left the ring: too old to accept from history
	outbox     []outgoing
	sendLimit  bucket
	subs       []*Subscription
	stats      Stats
}

type peerState struct {
	connected bool
	firstSeen time.Time
	left      time.Time // when it disconnected; zero while connected
	helloSent bool      // our Hello is out: everything else we send follows it
	hello     bool      // its Hello arrived: it runs a bus here
	synced    bool      // its whole history arrived: its frontier counts
	served    bool      // we answered its Hello
	histGot   int       // history entries received this session
	frontier  uint64    // it promised every later stamp exceeds this
	lastSeq   uint64
	recv      bucket
	jumps     bucket // clock jumps it may still make us take
	st        PeerStats
}

type entryKey struct {
	origin     transport.PeerID
	seq, stamp uint64
}

type entry struct {
	origin     transport.PeerID
	seq, stamp uint64
	topic      string
	to         []transport.PeerID
	payload    []byte
	history    bool
	via        transport.PeerID
	arrived    time.Time
	ephemeral  bool
}

func (e *entry) key() entryKey { return entryKey{e.origin, e.seq, e.stamp} }

func (e *entry) before(o *entry) int {
	return cmp.Or(cmp.Compare(e.stamp, o.stamp), cmp.Compare(e.origin, o.origin), cmp.Compare(e.seq, o.seq))
}

// visibleTo reports whether p is a recipient.
func (e *entry) visibleTo(p transport.PeerID) bool { return len(e.to) == 0 || slices.Contains(e.to, p) }

type outgoing struct {
	topic     string
	to        []transport.PeerID
	payload   []byte
	ephemeral bool
}

// New starts a bus on conn, which must be a Reliable channel that no
// one else reads.
func New(conn transport.Conn, cfg Config) (*Bus, error) {
	if conn == nil {
		return nil, fmt.Errorf("%w: nil Conn", ErrInvalidConfig)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	local := conn.Local()
	if pubsubwire.CheckID(string(local)) != nil {
		return nil, fmt.Errorf("%w: local PeerID %q (1..%d bytes)", ErrInvalidConfig, local, MaxPeerIDSize)
	}
	return &Bus{
		conn:  conn,
		cfg:   c,
		log:   c.Logger.With("pkg", "pubsub", "local", string(local)),
		local: local,
		peers: make(map[transport.PeerID]*peerState),
		seen:  make(map[entryKey]struct{}),
	}, nil
}

// Local returns the local peer's ID.
func (b *Bus) Local() transport.PeerID { return b.local }

// Config returns the bus's configuration, defaults filled in.
func (b *Bus) Config() Config { return b.cfg }

// Clock returns the local Lamport clock.
func (b *Bus) Clock() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clock
}

// Subscription receives the deliveries whose topic starts with its prefix
// ("" matches every topic), and every Joined and Left. It is safe for
// concurrent use.
type Subscription struct {
	bus     *Bus
	prefix  string
	queue   drain.Queue[Delivery] // guarded by bus.mu
	dropped uint64                // guarded by bus.mu
	closed  bool                  // guarded by bus.mu
}

// Subscribe returns a subscription to the topics starting with prefix.
// Deliveries made before it was created are not replayed.
func (b *Bus) Subscribe(prefix string) *Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &Subscription{bus: b, prefix: prefix}
	b.subs = append(b.subs, s)
	return s
}

// PollDeliveries runs the bus (as Bus.Update) and returns the
// subscription's deliveries since the last call, in order. It follows the
// drain convention (CONTRIBUTING.md): the returned slice is reused and
// valid until the next PollDeliveries (or Poll) on this subscription; the
// queue keeps the newest Config.QueueLen deliveries and counts the oldest
// it drops (Dropped, Stats.Overflow).
func (s *Subscription) PollDeliveries() []Delivery {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	b.updateLocked()
	return s.queue.Drain()
}

// Poll is PollDeliveries returning a copy the caller owns.
//
// Deprecated: use PollDeliveries (the drain convention, CONTRIBUTING.md);
// its slice is valid until the next call.
func (s *Subscription) Poll() []Delivery {
	d := s.PollDeliveries()
	if len(d) == 0 {
		return nil
	}
	return slices.Clone(d)
}

// Dropped counts deliveries dropped because the subscription's queue was
// full (Config.QueueLen): poll more often.
func (s *Subscription) Dropped() uint64 {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.dropped
}

// Close ends the subscription; later deliveries are not queued for it.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	s.closed = true
	s.queue.Reset()
	b.subs = slices.DeleteFunc(b.subs, func(x *Subscription) bool { return x == s })
}

// Update reads what arrived, answers peers, delivers what the total order
// allows and promises our clock to the others. Subscription.PollDeliveries
// calls it; call it yourself each frame if you publish without subscribing
// (the drain convention, CONTRIBUTING.md: Update pumps and returns
// nothing).
func (b *Bus) Update() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.updateLocked()
}

func (b *Bus) updateLocked() {
	if b.closed {
		return
	}
	b.now = b.cfg.Now()
	b.refreshPeers()
	for range maxPerPoll {
		m, ok := b.conn.TryRecv()
		if !ok {
			break
		}
		b.handle(m)
	}
	b.flushOutbox()
	b.deliver()
	b.advertise()
}

// Publish sends payload on topic to every peer. The bus copies payload.
func (b *Bus) Publish(topic string, payload []byte) error {
	return b.PublishWith(topic, payload, Options{})
}

// PublishTo sends payload on topic to the listed peers only (at most
// MaxRecipients); the local peer gets it too. The bus copies payload and
// to.
func (b *Bus) PublishTo(topic string, to []transport.PeerID, payload []byte) error {
	if len(to) == 0 {
		to = []transport.PeerID{b.local}
	}
	return b.PublishWith(topic, payload, Options{To: to})
}

// Options qualify a publication.
type Options struct {
	// To lists the recipients; nil means every peer. The local peer always
	// gets its own publications.
	To []transport.PeerID
	// NoHistory keeps the publication out of every peer's history: for
	// state that each peer re-announces anyway (presence, profiles), so
	// that it does not push older publications out.
	NoHistory bool
}

// PublishWith sends payload on topic as opt says. The bus copies payload
// and opt.To. It fails with ErrRateLimited above the rate limit, and
// queues the publication (ErrQueueFull past Config.QueueLen) while the
// bus waits for a newly met peer's history.
func (b *Bus) PublishWith(topic string, payload []byte, opt Options) error {
	to := opt.To
	if to != nil && len(to) == 0 {
		to = []transport.PeerID{b.local}
	}
	switch {
	case topic == "" || !utf8.ValidString(topic):
		return fmt.Errorf("%w: %q", ErrInvalidTopic, topic)
	case len(topic) > MaxTopicSize || len(payload) > b.cfg.MaxPayload || len(to) > MaxRecipients:
		return fmt.Errorf("%w: topic %d bytes, payload %d bytes, %d recipients", ErrTooLarge, len(topic), len(payload), len(to))
	}
	if to != nil {
		to = slices.Clone(to)
		slices.Sort(to)
		to = slices.Compact(to)
		for _, p := range to {
			if pubsubwire.CheckID(string(p)) != nil {
				return fmt.Errorf("%w: recipient %q", ErrUnknownPeer, p)
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.now = b.cfg.Now()
	if len(b.outbox) >= b.cfg.QueueLen {
		return ErrQueueFull
	}
	if !b.sendLimit.take(b.now, b.cfg.Rate, b.cfg.Burst) {
		return ErrRateLimited
	}
	b.refreshPeers()
	b.outbox = append(b.outbox, outgoing{topic: topic, to: to, payload: slices.Clone(payload), ephemeral: opt.NoHistory})
	b.flushOutbox()
	return nil
}

// flushOutbox sends the waiting publications once we hold the history of
// every peer we are connected to (or stopped waiting for it): only then
// does our clock exceed everything those peers have delivered, so our
// stamps land after it in everyone's order.
func (b *Bus) flushOutbox() {
	if len(b.outbox) == 0 || !b.synced() {
		return
	}
	for _, o := range b.outbox {
		b.seq++
		b.clock++
		msg := &pubsubfb.PublishT{Seq: b.seq, Stamp: b.clock, Topic: o.topic, Payload: o.payload, Ephemeral: o.ephemeral}
		var dst []transport.PeerID
		if o.to == nil {
			dst = b.connectedPeers()
			b.advertised = b.clock
		} else {
			dst = o.to
			for _, p := range o.to {
				msg.To = append(msg.To, string(p))
			}
		}
		data := b.enc.Encode(pubsubfb.BodyPublish, msg)
		for _, p := range dst {
			if p == b.local {
				continue
			}
			if err := b.conn.Send(p, data); err != nil {
				b.stats.SendErrors++
				b.log.Debug("publish", "to", string(p), "err", err)
			}
		}
		b.stats.Published++
		b.ingest(&entry{origin: b.local, seq: b.seq, stamp: b.clock, topic: o.topic, to: o.to, payload: o.payload,
			arrived: b.now, ephemeral: o.ephemeral})
	}
	b.outbox = b.outbox[:0]
}

// synced reports whether every connected peer's history is in, or we
// stopped waiting for it.
func (b *Bus) synced() bool {
	for _, st := range b.peers {
		if st.connected && !st.synced && b.now.Sub(st.firstSeen) < b.cfg.SyncTimeout {
			return false
		}
	}
	return true
}

// connectedPeers returns the peers a publication to everyone goes to:
// those in the Conn's Peers, and those whose Hello arrived before the Conn
// listed them.
func (b *Bus) connectedPeers() []transport.PeerID {
	var out []transport.PeerID
	for p, st := range b.peers {
		if (st.connected || st.hello) && st.left.IsZero() {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (b *Bus) state(p transport.PeerID) *peerState {
	st := b.peers[p]
	if st == nil {
		st = &peerState{firstSeen: b.now}
		b.peers[p] = st
	}
	return st
}

func (b *Bus) refreshPeers() {
	cur := b.conn.Peers()
	for _, p := range cur {
		st := b.state(p)
		if !st.left.IsZero() {
			st = &peerState{firstSeen: b.now} // back: a new session
			b.peers[p] = st
		}
		if !st.connected {
			st.connected = true
			st.firstSeen = b.now
			b.sendHello(p, st)
		}
	}
	var gone []transport.PeerID
	for p, st := range b.peers {
		switch {
		case st.connected && !slices.Contains(cur, p):
			gone = append(gone, p)
		case !st.left.IsZero() && b.now.Sub(st.left) >= b.cfg.LeaveGrace:
			delete(b.peers, p) // its last publications had time to arrive
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		st := b.peers[p]
		if st.hello {
			b.route(Delivery{Kind: DeliveryLeft, From: p})
		}
		// Keep its state for LeaveGrace: publications it sent before it
		// left may still be on their way, and the order waits for them.
		st.connected = false
		st.hello = false
		st.left = b.now
	}
}

func (b *Bus) sendHello(p transport.PeerID, st *peerState) {
	if st.helloSent {
		return
	}
	st.helloSent = true
	b.send(p, pubsubfb.BodyHello, &pubsubfb.HelloT{Clock: b.clock, History: uint16(b.cfg.History)})
}

func (b *Bus) send(p transport.PeerID, typ pubsubfb.Body, v any) {
	if err := b.conn.Send(p, b.enc.Encode(typ, v)); err != nil {
		b.stats.SendErrors++
		b.log.Debug("send", "to", string(p), "type", typ.String(), "err", err)
	}
}

// admit reports whether a stamp from st's peer may move our clock (and
// the message carrying it be accepted); if not, it counts the refusal.
func (b *Bus) admit(from transport.PeerID, st *peerState, stamp uint64) bool {
	switch {
	case stamp <= b.clock+clockStep:
		return true
	case stamp <= b.clock+b.cfg.MaxClockLead && st.jumps.take(b.now, 1/clockJumpEvery.Seconds(), clockJumpBurst):
		return true
	}
	st.st.Refused++
	b.stats.Refused++
	b.log.Debug("refused stamp", "from", string(from), "stamp", stamp, "clock", b.clock)
	return false
}

func (b *Bus) bump(stamp uint64) {
	if stamp > b.clock {
		b.clock = stamp
	}
}

// ingest queues a publication for delivery in order, unless we hold it.
func (b *Bus) ingest(e *entry) {
	k := e.key()
	if _, dup := b.seen[k]; dup {
		b.stats.Duplicates++
		return
	}
	b.seen[k] = struct{}{}
	i, _ := slices.BinarySearchFunc(b.pending, e, (*entry).before)
	b.pending = slices.Insert(b.pending, i, e)
	if len(b.pending) > maxPending {
		b.stats.Forced++
		b.deliverOne()
	}
}

// deliver hands out, in order, every pending publication that no
// connected peer can still precede: each has promised (by a stamp or a
// Clock) that its later stamps exceed it. A peer whose history has not
// arrived blocks everything until it does or SyncTimeout passes; a
// publication waiting longer than MaxDelay goes out anyway.
func (b *Bus) deliver() {
	for len(b.pending) > 0 {
		head := b.pending[0]
		if !b.stable(head.stamp) {
			if b.now.Sub(head.arrived) < b.cfg.MaxDelay {
				return
			}
			b.stats.Forced++
		}
		b.deliverOne()
	}
}

func (b *Bus) stable(stamp uint64) bool {
	for _, st := range b.peers {
		switch {
		case !st.left.IsZero():
			if st.synced && st.frontier < stamp && b.now.Sub(st.left) < b.cfg.LeaveGrace {
				return false
			}
		case !st.connected:
		case st.synced:
			if st.frontier < stamp {
				return false
			}
		case b.now.Sub(st.firstSeen) < b.cfg.SyncTimeout:
			return false
		}
	}
	return true
}

func (b *Bus) deliverOne() {
	e := b.pending[0]
	b.pending = b.pending[1:]
	b.stats.Delivered++
	if e.ephemeral {
		delete(b.seen, e.key()) // live only: it cannot come back
	} else {
		b.ring = append(b.ring, e)
	}
	if len(b.ring) > b.cfg.History {
		old := b.ring[0]
		b.ring = b.ring[1:]
		delete(b.seen, old.key())
		b.horizon = max(b.horizon, old.stamp)
	}
	b.route(Delivery{
		Kind: DeliveryMessage, Topic: e.topic, From: e.origin, To: e.to, Seq: e.seq, Stamp: e.stamp,
		Payload: e.payload, History: e.history, Via: e.via,
	})
}

// route queues a delivery for every matching subscription.
func (b *Bus) route(d Delivery) {
	for _, s := range b.subs {
		if d.Kind == DeliveryMessage && !strings.HasPrefix(d.Topic, s.prefix) {
			continue
		}
		c := d
		c.To = slices.Clone(d.To)
		c.Payload = slices.Clone(d.Payload)
		if s.queue.Push(c, b.cfg.QueueLen) { // keeps the newest (drain convention)
			s.dropped++
			b.stats.Overflow++
		}
	}
}

// advertise promises our clock to every peer when it moved: they need it
// to deliver what we received.
func (b *Bus) advertise() {
	if b.clock <= b.advertised {
		return
	}
	b.advertised = b.clock
	data := b.enc.Encode(pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: b.clock})
	for _, p := range b.connectedPeers() {
		if b.peers[p].helloSent {
			if err := b.conn.Send(p, data); err != nil {
				b.stats.SendErrors++
			}
		}
	}
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// PeerStats returns the counters of one connected peer (zero if none).
func (b *Bus) PeerStats(p transport.PeerID) PeerStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	if st := b.peers[p]; st != nil {
		return st.st
	}
	return PeerStats{}
}

// Peers returns the connected peers that run a bus on this channel (their
// Hello arrived), sorted.
func (b *Bus) Peers() []transport.PeerID {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []transport.PeerID
	for p, st := range b.peers {
		if st.connected && st.hello {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Close stops the bus: later publications fail with ErrClosed and
// subscriptions receive nothing new. It does not close the Conn; peers
// see us leave when the transport does. Close is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, s := range b.subs {
		s.closed = true
	}
	b.subs = nil
	return nil
}
