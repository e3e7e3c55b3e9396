package natsbackplane

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// Tuning constants.
const (
	// tick is how often the maintenance loop looks at the connection and
	// at held seats whose grace ended.
	tick = 100 * time.Millisecond
	// opTimeout bounds one registry operation (a CAS loop).
	opTimeout = 5 * time.Second
	// casAttempts bounds a CAS loop; past it the operation fails with
	// unavailable (contention).
	casAttempts = 200
	// takeoverTimeout bounds the request that moves a seat's held
	// signals from its previous node; handoffKeep is how long a replaced
	// seat keeps them for that request.
	takeoverTimeout = 2 * time.Second
	handoffKeep     = 5 * time.Second
	// heldSignals bounds the signals kept for a held seat (oldest
	// dropped), like signaling's MemoryBackplane; pendingEvents bounds
	// the events that arrive while a seat is being joined or resumed.
	heldSignals   = 64
	pendingEvents = 1024
	// msgQueueLen is the queue between NATS and the dispatcher; NATS
	// drops (and counts a slow consumer) beyond it.
	msgQueueLen = 1 << 16
)

// State is the backplane's health.
type State int

const (
	// StateUnknown is the zero value.
	StateUnknown State = iota
	// StateOK: connected to NATS, the registry answers.
	StateOK
	// StateDegraded: connected to NATS, but the registry (JetStream KV)
	// fails: joins, resumes and leaves fail with unavailable; signals
	// between seated members still flow.
	StateDegraded
	// StateUnavailable: not connected to NATS (reconnecting forever), or
	// closed. Membership changes fail with unavailable; connected clients
	// stay connected.
	StateUnavailable
)

// String returns "ok", "degraded", "unavailable" or "unknown".
func (s State) String() string {
	switch s {
	case StateOK:
		return "ok"
	case StateDegraded:
		return "degraded"
	case StateUnavailable:
		return "unavailable"
	default:
		return "unknown"
	}
}

// Health is the backplane's state and, unless OK, why.
type Health struct {
	State State
	// Err says why the state is not OK.
	Err error
	// Since is when the state began.
	Since time.Time
	// Node is this node's name.
	Node string
}

// Stats are a node's backplane counters (they only grow) and gauges.
type Stats struct {
	Node  string
	State State
	// Seats and HeldSeats are this node's seats (held: the connection is
	// lost, the seat waits for a resume); Rooms and Nodes are what this
	// node sees of the cluster.
	Seats, HeldSeats, Rooms, Nodes int
	// Published and Received count seat messages on NATS; Dropped those
	// lost to an overflowing buffer (held seat, slow consumer) or
	// undecodable.
	Published, Received, Dropped uint64
	// Conflicts counts registry writes that lost a compare-and-set race
	// and were retried; RegistryErrors failed registry operations.
	Conflicts, RegistryErrors uint64
	// Reaped counts seats this node removed because their node died or
	// their hold ran out; Repaired seats it put back into the registry
	// after the registry lost them; Restored rooms it wrote back whole
	// (every member) after the registry lost them; Takeovers seats
	// resumed here from another node.
	Reaped, Repaired, Restored, Takeovers uint64
	// Outages counts registry write outages this node saw (no heartbeat
	// landed for TTL/2 or more, see the package doc).
	Outages uint64
	// Reconnects counts NATS reconnections.
	Reconnects uint64
}

type counters struct {
	published, received, dropped atomic.Uint64
	conflicts, registryErrors    atomic.Uint64
	reaped, repaired, takeovers  atomic.Uint64
	restored, outages            atomic.Uint64
}

type seatState int

const (
	seatJoining  seatState = iota + 1 // admitted locally, CAS in flight
	seatResuming                      // taken over from another node, CAS in flight
	seatAttached                      // a connection is attached (sink)
	seatHeld                          // connection lost; grace period running
	seatHandoff                       // resumed elsewhere; keeps held signals for the takeover request
	seatLeaving                       // being removed
)

type seatKey struct {
	room string
	peer transport.PeerID
}

// seat is this node's side of one registry seat.
type seat struct {
	key     seatKey
	subject string
	sub     *nats.Subscription
	name    string
	token   []byte // SHA-256 of the resume token
	attach  uint64
	next    uint64 // an attachment being committed by a same-node resume
	state   seatState
	sink    signaling.Sink
	held    []seatMsg // signals while held or handed off
	pending []seatMsg // events while joining or resuming
	commit  uint64    // registry revision of this node's last write of the seat
	until   time.Time // held: end of grace; handoff: when to forget it
	lost    bool      // attached, but the registry lost it: repair
	rec     *record   // last known record of its room (for repair)
}

type cached struct {
	rec  *record
	rev  uint64
	seen time.Time // local receipt time, for expiry in the listing
}

// Backplane is a signaling.Backplane over NATS: the room registry is a
// JetStream KV bucket, delivery uses one subject per seat. Several
// signaling.Servers on several machines, each with its own Backplane on
// the same NATS, serve the same rooms. Safe for concurrent use.
type Backplane struct {
	cfg       Config
	log       *slog.Logger
	nc        *nats.Conn
	ownNC     bool
	js        jetstream.JetStream
	msgs      chan *nats.Msg
	stop      chan struct{}
	maintDone chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	seq       atomic.Uint64
	st        counters

	mu          sync.Mutex // guards all following fields
	kv          jetstream.KeyValue
	stream      jetstream.Stream // the bucket's stream (for lastOpOf)
	watcher     jetstream.KeyWatcher
	watchCancel context.CancelFunc
	ctl         *nats.Subscription
	state       State
	stateErr    error
	stateSince  time.Time
	readySince  time.Time // registry set up and watched since; zero when not
	seats       map[seatKey]*seat
	bySubj      map[string]*seat
	byRoom      map[string]map[transport.PeerID]*seat
	rooms       map[string]*cached
	nodes       map[string]time.Time // node heartbeats seen (local time)
	synced      map[string]bool      // keys seen by the current watcher before its initial marker
	selfOrphan  map[seatKey]time.Time
	dialErr     error     // the last failed connection attempt
	beatPut     time.Time // a heartbeat put that the watch has not shown yet
	selfSeen    time.Time // when the watch last showed this node's heartbeat
	beatOK      time.Time // when this node's last heartbeat landed
	beatErr     error     // the last heartbeat's error; nil if it landed
	gapFrom     time.Time // the last registry write outage this node saw: from
	okSince     time.Time // (its last heartbeat before) to (the first after); zero if none
	closed      bool
}

var _ signaling.Backplane = (*Backplane)(nil)

// New returns a Backplane for cfg. It does not wait for NATS: with URL it
// dials in the background, reconnecting forever, and sets up the registry
// bucket once connected (see Ready and Health). It fails only for an
// invalid Config or URL.
func New(cfg Config) (*Backplane, error) {
	c, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	b := &Backplane{
		cfg: c, log: c.Logger.With("node", c.Node),
		msgs: make(chan *nats.Msg, msgQueueLen), stop: make(chan struct{}), maintDone: make(chan struct{}),
		state: StateUnavailable, stateErr: errors.New("natsbackplane: connecting to NATS"), stateSince: time.Now(),
		seats: make(map[seatKey]*seat), bySubj: make(map[string]*seat), byRoom: make(map[string]map[transport.PeerID]*seat),
		rooms: make(map[string]*cached), nodes: make(map[string]time.Time), selfOrphan: make(map[seatKey]time.Time),
	}
	if c.Conn != nil {
		b.nc = c.Conn
	} else {
		opts := []nats.Option{
			nats.Name("signald " + c.Node),
			nats.RetryOnFailedConnect(true),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(250 * time.Millisecond),
			nats.ReconnectJitter(100*time.Millisecond, time.Second),
			nats.PingInterval(max(time.Second, c.TTL/4)),
			nats.MaxPingsOutstanding(2),
			nats.ConnectHandler(func(nc *nats.Conn) { b.log.Info("natsbackplane: connected to NATS", "url", nc.ConnectedUrlRedacted()) }),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				b.log.Info("natsbackplane: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
			}),
			nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
				b.mu.Lock()
				b.dialErr = err
				b.mu.Unlock()
			}),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				b.log.Warn("natsbackplane: disconnected from NATS", "err", err)
			}),
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				if errors.Is(err, nats.ErrSlowConsumer) {
					b.st.dropped.Add(1)
				}
				b.log.Warn("natsbackplane: NATS error", "err", err)
			}),
		}
		nc, err := nats.Connect(c.URL, append(opts, c.Options...)...)
		if err != nil {
			return nil, fmt.Errorf("natsbackplane: NATS %s: %w", c.URL, err)
		}
		b.nc, b.ownNC = nc, true
	}
	b.js, err = jetstream.New(b.nc)
	if err == nil {
		b.ctl, err = b.nc.Subscribe(b.ctlSubject(c.Node), b.onTakeover)
	}
	if err != nil {
		if b.ownNC {
			b.nc.Close()
		}
		return nil, fmt.Errorf("natsbackplane: %w", err)
	}
	b.wg.Add(2)
	go b.dispatch()
	go b.maintain()
	return b, nil
}

// Node is this node's name.
func (b *Backplane) Node() string { return b.cfg.Node }

func (b *Backplane) seatSubject(room string, peer transport.PeerID) string {
	return b.cfg.Subject + ".seat." + token(room) + "." + token(string(peer))
}

func (b *Backplane) ctlSubject(node string) string { return b.cfg.Subject + ".node." + node }

// Health returns the backplane's state. It never blocks on the network.
func (b *Backplane) Health() Health {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Health{State: b.state, Err: b.stateErr, Since: b.stateSince, Node: b.cfg.Node}
}

// Ready waits until the backplane is healthy (connected, registry set up),
// or returns ctx's error together with the reason it is not.
func (b *Backplane) Ready(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		h := b.Health()
		if h.State == StateOK {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (backplane %s: %v)", ctx.Err(), h.State, h.Err)
		case <-t.C:
		}
	}
}

// Stats returns a snapshot of the node's counters. Never blocks on the
// network.
func (b *Backplane) Stats() Stats {
	st := Stats{
		Node:      b.cfg.Node,
		Published: b.st.published.Load(), Received: b.st.received.Load(), Dropped: b.st.dropped.Load(),
		Conflicts: b.st.conflicts.Load(), RegistryErrors: b.st.registryErrors.Load(),
		Reaped: b.st.reaped.Load(), Repaired: b.st.repaired.Load(), Restored: b.st.restored.Load(),
		Takeovers: b.st.takeovers.Load(), Outages: b.st.outages.Load(),
		Reconnects: b.nc.Stats().Reconnects,
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	st.State = b.state
	for _, s := range b.seats {
		switch s.state {
		case seatAttached:
			st.Seats++
		case seatHeld:
			st.Seats++
			st.HeldSeats++
		}
	}
	cut := b.cutoffLocked(now)
	for _, c := range b.rooms {
		if !c.seen.Before(cut) {
			st.Rooms++
		}
	}
	for _, seen := range b.nodes {
		if now.Sub(seen) <= b.cfg.TTL {
			st.Nodes++
		}
	}
	return st
}

func (b *Backplane) setState(s State, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.setStateLocked(s, err)
}

func (b *Backplane) setStateLocked(s State, err error) {
	if b.closed && s != StateUnavailable {
		return
	}
	changed := s != b.state || (err == nil) != (b.stateErr == nil) || (err != nil && b.stateErr != nil && err.Error() != b.stateErr.Error())
	if !changed {
		return
	}
	if s != b.state {
		b.stateSince = time.Now()
	}
	b.state, b.stateErr = s, err
	if s == StateOK {
		b.log.Info("natsbackplane: healthy")
	} else {
		b.log.Warn("natsbackplane: "+s.String(), "err", err)
	}
}

// connErr describes why NATS is not connected.
func (b *Backplane) connErr() error {
	servers := strings.Join(b.nc.Servers(), ",")
	b.mu.Lock()
	err := b.dialErr
	b.mu.Unlock()
	if e := b.nc.LastError(); e != nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("natsbackplane: not connected to NATS (%s): %s: %w", servers, strings.ToLower(b.nc.Status().String()), err)
	}
	return fmt.Errorf("natsbackplane: not connected to NATS (%s): %s", servers, strings.ToLower(b.nc.Status().String()))
}

// Close leaves the cluster: this node's held seats are handed to the
// registry as orphans (any node removes them when their grace ends, unless
// they are resumed elsewhere first), its heartbeat is deleted, and every
// goroutine stops. It closes the NATS connection if it dialed it.
// Idempotent.
func (b *Backplane) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.maintDone
		b.mu.Lock()
		b.closed = true
		b.setStateLocked(StateUnavailable, ErrClosed)
		kv, w, wcancel := b.kv, b.watcher, b.watchCancel
		b.watcher, b.watchCancel = nil, nil
		var seats []*seat
		for _, s := range b.seats {
			seats = append(seats, s)
		}
		b.mu.Unlock()
		if kv != nil && b.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			b.orphan(ctx, kv, seats)
			if err := kv.Delete(ctx, nodeKey(b.cfg.Node)); err != nil {
				b.log.Debug("natsbackplane: delete heartbeat", "err", err)
			}
			cancel()
		}
		if w != nil {
			_ = w.Stop()
			wcancel()
		}
		b.mu.Lock()
		for _, s := range b.seats {
			b.dropSeatLocked(s)
		}
		b.mu.Unlock()
		_ = b.ctl.Unsubscribe()
		b.wg.Wait()
		if b.ownNC {
			b.nc.Close()
		}
	})
	return nil
}

// orphan hands seats to the registry at shutdown: node "" and a
// HeldUntil, so that any node removes them once their grace ends.
func (b *Backplane) orphan(ctx context.Context, kv jetstream.KeyValue, seats []*seat) {
	byRoom := make(map[string]map[transport.PeerID]time.Time)
	now := time.Now()
	for _, s := range seats {
		var until time.Time
		switch s.state {
		case seatHeld:
			until = s.until
		case seatAttached:
			until = now.Add(b.cfg.TTL)
		default:
			continue
		}
		if byRoom[s.key.room] == nil {
			byRoom[s.key.room] = make(map[transport.PeerID]time.Time)
		}
		byRoom[s.key.room][s.key.peer] = until
	}
	for room, peers := range byRoom {
		attach := make(map[transport.PeerID]uint64)
		b.mu.Lock()
		for p := range peers {
			if s := b.seats[seatKey{room, p}]; s != nil {
				attach[p] = s.attach
			}
		}
		b.mu.Unlock()
		_, _, err := b.updateKV(ctx, kv, room, func(cur *record) (*record, error) {
			if cur == nil {
				return nil, errNoChange
			}
			n := cur.clone()
			changed := false
			for p, until := range peers {
				if m, ok := n.Members[p]; ok && m.Node == b.cfg.Node && m.Attach == attach[p] {
					m.Node, m.HeldUntil = "", until.UnixMilli()
					n.Members[p] = m
					changed = true
				}
			}
			if !changed {
				return nil, errNoChange
			}
			return n, nil
		})
		if err != nil {
			b.log.Warn("natsbackplane: could not hand over seats at shutdown", "room", room, "err", err)
		}
	}
}

// maintain owns the connection's life: it sets up the registry when NATS
// is reachable (in the background: JetStream's API may take seconds to
// answer while NATS elects leaders), refreshes, reaps, repairs, and ends
// grace periods. Heartbeats have their own goroutine, so that nothing
// here delays them.
func (b *Backplane) maintain() {
	defer b.wg.Done()
	defer close(b.maintDone)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		select {
		case <-b.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	beatDone := make(chan struct{})
	go func() {
		defer b.wg.Done()
		defer close(beatDone)
		b.heartbeat(ctx)
	}()
	var setupDone chan error // a setup in flight
	defer func() {
		// Close reads the watcher and deletes the heartbeat after this
		// returns: nothing may put or watch any more.
		cancel()
		<-beatDone
		if setupDone != nil {
			<-setupDone
		}
	}()
	t := time.NewTicker(tick)
	defer t.Stop()
	reconnects := b.nc.Stats().Reconnects
	ready := false
	stale := false                    // the setup in flight began before the connection changed
	var lastCycle, lastFail time.Time // lastFail: setup is retried once a second
	for {
		connected := b.nc.IsConnected()
		if r := b.nc.Stats().Reconnects; !connected || r != reconnects {
			reconnects = r
			if ready {
				ready = false
				b.unready()
			}
			stale = stale || setupDone != nil
		}
		if connected && !ready && setupDone == nil && time.Since(lastFail) >= time.Second {
			setupDone = make(chan error, 1)
			b.wg.Add(1)
			go func(done chan<- error) {
				defer b.wg.Done()
				done <- b.setup(ctx)
			}(setupDone)
		}
		if setupDone != nil {
			select {
			case err := <-setupDone:
				setupDone = nil
				switch {
				case ctx.Err() != nil:
					return
				case stale:
					// Its watch began on the previous connection: again.
					stale = false
					b.unready()
				case err != nil:
					lastFail = time.Now()
					b.st.registryErrors.Add(1)
					b.setState(StateDegraded, err)
				default:
					ready, lastCycle = true, time.Time{}
					// Put back what the registry lost before saying healthy.
					b.repair(ctx)
				}
			default:
			}
		}
		if ready && b.watchStalled() {
			b.log.Warn("natsbackplane: the registry watch stalled; watching again")
			ready = false
			b.unready()
		}
		if connected && time.Since(lastCycle) >= b.cfg.TTL/4 {
			lastCycle = time.Now()
			// Refresh also while setting up again: rooms must not
			// expire because this node's watch is being replaced.
			b.refresh(ctx)
			if ready {
				b.reap(ctx)
				b.repair(ctx)
			}
		}
		if ready {
			b.expireHeld(ctx)
		}
		b.updateState(connected, ready)
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
	}
}

// updateState sets the health from the connection, the registry setup and
// the last heartbeat. A failed setup has set StateDegraded itself.
func (b *Backplane) updateState(connected, ready bool) {
	if !connected {
		b.setState(StateUnavailable, b.connErr())
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !ready:
		// Setting up (again): the state stays what it was.
	case b.beatErr != nil:
		b.setStateLocked(StateDegraded, fmt.Errorf("natsbackplane: registry heartbeat failed: %w", b.beatErr))
	case !b.beatOK.IsZero():
		b.setStateLocked(StateOK, nil)
	}
}

// unready forgets the watcher after a disconnection; the next setup makes
// a new one.
func (b *Backplane) unready() {
	b.mu.Lock()
	w, cancel := b.watcher, b.watchCancel
	b.watcher, b.watchCancel = nil, nil
	b.readySince, b.beatPut, b.selfSeen = time.Time{}, time.Time{}, time.Time{}
	b.mu.Unlock()
	if w != nil {
		_ = w.Stop()
		cancel()
	}
}

// setup finds or creates the bucket and starts watching it.
func (b *Backplane) setup(ctx context.Context) error {
	b.mu.Lock()
	kv, stream := b.kv, b.stream
	b.mu.Unlock()
	if kv == nil || stream == nil {
		var err error
		if kv, stream, err = b.findBucket(ctx); err != nil {
			return err
		}
	}
	// The watcher lives as long as its context (nats.go unsubscribes when
	// it ends), so it gets its own, cancelled when it is replaced; a
	// timer bounds its creation instead (generously: right after a NATS
	// server died, JetStream may take seconds to create a consumer, and
	// an attempt given up is work for nothing).
	wctx, wcancel := context.WithCancel(context.Background())
	slow := time.AfterFunc(2*opTimeout, wcancel)
	w, err := kv.WatchAll(wctx)
	if !slow.Stop() || err != nil {
		wcancel()
		if err == nil {
			err = errors.New("timed out")
		}
		if errors.Is(err, nats.ErrStreamNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			// NATS lost the bucket: look it up (create it) again.
			b.mu.Lock()
			b.kv, b.stream = nil, nil
			b.mu.Unlock()
		}
		return fmt.Errorf("natsbackplane: watch registry: %w", err)
	}
	b.mu.Lock()
	old, oldCancel := b.watcher, b.watchCancel
	b.kv, b.stream, b.watcher, b.watchCancel, b.readySince = kv, stream, w, wcancel, time.Time{}
	b.synced = make(map[string]bool)
	b.mu.Unlock()
	if old != nil {
		_ = old.Stop()
		oldCancel()
	}
	synced := make(chan struct{})
	b.wg.Add(1)
	go b.watch(w, synced)
	// Wait for the registry's current values, so that what follows
	// (repair, health OK) works on a complete view.
	select {
	case <-synced:
		return nil
	case <-time.After(opTimeout):
		return errors.New("natsbackplane: registry watch did not deliver its initial values")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// findBucket finds the registry's bucket, or creates it, and its stream.
func (b *Backplane) findBucket(ctx context.Context) (jetstream.KeyValue, jetstream.Stream, error) {
	sctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	kv, err := b.js.KeyValue(sctx, b.cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		storage := jetstream.FileStorage
		if b.cfg.MemoryStorage {
			storage = jetstream.MemoryStorage
		}
		kv, err = b.js.CreateKeyValue(sctx, jetstream.KeyValueConfig{
			Bucket: b.cfg.Bucket, Description: "peerplay signaling room registry",
			History: 1, TTL: b.cfg.TTL, Replicas: b.cfg.Replicas, Storage: storage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.js.KeyValue(sctx, b.cfg.Bucket)
		}
		if err == nil {
			b.log.Info("natsbackplane: created registry bucket", "bucket", b.cfg.Bucket, "ttl", b.cfg.TTL, "replicas", b.cfg.Replicas)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("natsbackplane: registry bucket %s (is JetStream enabled?): %w", b.cfg.Bucket, err)
	}
	stream, err := b.js.Stream(sctx, "KV_"+b.cfg.Bucket)
	if err != nil {
		return nil, nil, fmt.Errorf("natsbackplane: registry stream: %w", err)
	}
	if st, err := kv.Status(sctx); err == nil && st.TTL() != b.cfg.TTL {
		b.log.Warn("natsbackplane: the bucket's TTL differs from this node's; use the same -nats-ttl on every node",
			"bucket_ttl", st.TTL(), "node_ttl", b.cfg.TTL)
	}
	return kv, stream, nil
}

// watch applies a watcher's entries to the local view until it stops. It
// always drains: the NATS callback blocks on a full channel.
func (b *Backplane) watch(w jetstream.KeyWatcher, synced chan<- struct{}) {
	defer b.wg.Done()
	for e := range w.Updates() {
		now := time.Now()
		b.mu.Lock()
		if b.watcher != w {
			b.mu.Unlock()
			continue
		}
		if e == nil {
			// The initial values are in (deletions included, as
			// delete markers): a room with no entry at all expired
			// while we were away. Drop it, unless live nodes (this
			// one included) hold seats in it: then the registry lost
			// it, and they write it back from their copies (repair
			// here). Heartbeats are kept as long as they count as
			// live: they may have expired in the same outage.
			// A copy kept forgets its revision: it is from before
			// (revisions start again from 1 when NATS lost its
			// store), no compare-and-set may use it.
			for room, c := range b.rooms {
				switch {
				case b.synced[roomKey(room)]:
				case b.holdsSeatsLocked(room):
					c.rev = 0
					for _, s := range b.byRoom[room] {
						s.commit = 0
						if s.state == seatAttached {
							s.lost = true
						}
					}
				case b.liveInViewLocked(room, now):
					c.rev = 0
				default:
					b.applyRoomLocked(room, nil, 0, true, now)
				}
			}
			cut := b.cutoffLocked(now)
			for n, seen := range b.nodes {
				if !b.synced[nodeKey(n)] && seen.Before(cut) {
					delete(b.nodes, n)
				}
			}
			b.synced = nil
			if b.readySince.IsZero() {
				b.readySince = now // the view is complete from now on
			}
			b.mu.Unlock()
			if synced != nil {
				close(synced)
				synced = nil
			}
			continue
		}
		initial := b.synced != nil
		if initial {
			b.synced[e.Key()] = true
		}
		b.applyEntryLocked(e, initial, now)
		b.mu.Unlock()
	}
}

// applyEntryLocked applies a watched entry. initial: one of a new
// watcher's initial values, which replace what the view had whatever its
// revision (revisions start again from 1 when NATS lost its store).
func (b *Backplane) applyEntryLocked(e jetstream.KeyValueEntry, initial bool, now time.Time) {
	key := e.Key()
	del := e.Operation() != jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, "node."):
		if del {
			delete(b.nodes, key[len("node."):])
		} else {
			b.nodes[key[len("node."):]] = now
			if key == nodeKey(b.cfg.Node) {
				b.selfSeen = now
			}
		}
	case strings.HasPrefix(key, "room."):
		if del {
			// The room's name is only in the values; find it by key.
			for room := range b.rooms {
				if roomKey(room) == key {
					b.applyRoomLocked(room, nil, e.Revision(), initial, now)
				}
			}
			for room := range b.byRoom {
				if roomKey(room) == key {
					b.applyRoomLocked(room, nil, e.Revision(), initial, now)
				}
			}
			return
		}
		rec, err := decodeRecord(e.Value())
		if err != nil || roomKey(rec.Room) != key {
			b.st.dropped.Add(1)
			b.log.Warn("natsbackplane: undecodable room record", "key", key, "err", err)
			return
		}
		b.applyRoomLocked(rec.Room, rec, e.Revision(), initial, now)
	}
}

// applyRoomLocked records revision rev of room (rec nil: gone) and
// reconciles this node's seats in it. force applies it whatever its
// revision (a new watcher's initial values, expiry found at re-sync), and
// makes it the seats' last known write.
func (b *Backplane) applyRoomLocked(room string, rec *record, rev uint64, force bool, now time.Time) {
	if c := b.rooms[room]; c != nil && rev <= c.rev && !force {
		if rev == c.rev {
			c.seen = now
		}
		return
	}
	if rec == nil {
		delete(b.rooms, room)
	} else {
		b.rooms[room] = &cached{rec: rec, rev: rev, seen: now}
	}
	for _, s := range b.byRoom[room] {
		if s.state != seatAttached && s.state != seatHeld && s.state != seatHandoff {
			continue
		}
		if !force && s.commit >= rev {
			continue
		}
		var m member
		ok := false
		if rec != nil {
			s.rec = rec
			m, ok = rec.Members[s.key.peer]
			if force {
				s.commit = rev
			}
		}
		switch {
		case ok && m.Node == b.cfg.Node && (m.Attach == s.attach || m.Attach == s.next):
			s.lost = false
		case ok && m.Node == b.cfg.Node:
			// Only this node resumes its seats in place, and it does
			// not write an attachment it does not hold: another node
			// restored the room from a copy older than a resume here.
			// Repair writes the attachment again.
			if s.state == seatAttached {
				s.lost = true
			}
		case ok:
			b.replacedLocked(s, now)
		case s.state == seatAttached:
			if !s.lost {
				b.log.Debug("natsbackplane: the registry lost a seat", "room", room, "peer", s.key.peer, "rev", rev, "commit", s.commit, "force", force)
			}
			s.lost = true
		case s.state == seatHeld:
			b.dropSeatLocked(s)
		}
	}
}

// replacedLocked: the seat was resumed on another node. The connection
// here (if any) ends with replaced; held signals wait for the takeover
// request.
func (b *Backplane) replacedLocked(s *seat, now time.Time) {
	if s.state == seatHandoff {
		return
	}
	if s.state == seatAttached && s.sink != nil {
		s.sink(signaling.Event{Err: signaling.ErrReplaced})
	}
	s.sink, s.state, s.until, s.lost = nil, seatHandoff, now.Add(handoffKeep), false
}

// dispatch hands seat messages to their seats.
func (b *Backplane) dispatch() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.msgs:
			b.deliver(m)
		}
	}
}

func (b *Backplane) deliver(nm *nats.Msg) {
	m, err := decodeSeatMsg(nm.Data)
	if err != nil {
		b.st.dropped.Add(1)
		b.log.Warn("natsbackplane: dropped a malformed seat message", "subject", nm.Subject, "err", err)
		return
	}
	b.st.received.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.bySubj[nm.Subject]
	if s == nil {
		return
	}
	switch s.state {
	case seatAttached:
		s.sink(m.event())
	case seatHeld, seatHandoff:
		// Like MemoryBackplane: a held seat keeps signals only; the
		// resume's peer list stands for the membership events.
		if m.Kind == kindSignal {
			if len(s.held) >= heldSignals {
				s.held = s.held[1:]
				b.st.dropped.Add(1)
			}
			s.held = append(s.held, m)
		}
	case seatJoining, seatResuming:
		if len(s.pending) >= pendingEvents {
			s.pending = s.pending[1:]
			b.st.dropped.Add(1)
		}
		s.pending = append(s.pending, m)
	}
}

// addSeat registers and subscribes a new local seat.
func (b *Backplane) addSeat(k seatKey, st seatState) (*seat, error) {
	s := &seat{key: k, subject: b.seatSubject(k.room, k.peer), state: st}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, signaling.ErrShutdown
	}
	if b.seats[k] != nil {
		return nil, refuse(signaling.CodeResumeFailed, "seat %s of room %s is busy", k.peer, k.room)
	}
	sub, err := b.nc.ChanSubscribe(s.subject, b.msgs)
	if err != nil {
		return nil, unavailable("subscribe: %v", err)
	}
	s.sub = sub
	b.seats[k] = s
	b.bySubj[s.subject] = s
	if b.byRoom[k.room] == nil {
		b.byRoom[k.room] = make(map[transport.PeerID]*seat)
	}
	b.byRoom[k.room][k.peer] = s
	return s, nil
}

func (b *Backplane) dropSeat(s *seat) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropSeatLocked(s)
}

func (b *Backplane) dropSeatLocked(s *seat) {
	if b.seats[s.key] != s {
		return
	}
	_ = s.sub.Unsubscribe()
	delete(b.seats, s.key)
	delete(b.bySubj, s.subject)
	if r := b.byRoom[s.key.room]; r != nil {
		delete(r, s.key.peer)
		if len(r) == 0 {
			delete(b.byRoom, s.key.room)
		}
	}
	s.state, s.sink = seatLeaving, nil
}

// onTakeover answers another node that resumed one of our seats: the
// connection here (if any) is replaced, the held signals go to the
// requester.
func (b *Backplane) onTakeover(nm *nats.Msg) {
	t, err := decodeTakeover(nm.Data)
	if err != nil {
		b.log.Warn("natsbackplane: malformed takeover request", "err", err)
		return
	}
	var held []seatMsg
	b.mu.Lock()
	if s := b.seats[seatKey{t.Room, t.Peer}]; s != nil && s.attach != t.Attach &&
		(s.state == seatAttached || s.state == seatHeld || s.state == seatHandoff) {
		if s.state == seatAttached && s.sink != nil {
			s.sink(signaling.Event{Err: signaling.ErrReplaced})
		}
		held = s.held
		b.dropSeatLocked(s)
	}
	b.mu.Unlock()
	out, _ := json.Marshal(takeoverReply{V: wireVersion, Held: held})
	_ = nm.Respond(out)
}

// requestTakeover asks node for the seat; it returns the signals that node
// held. A dead node (no responders) or a slow one gives none.
func (b *Backplane) requestTakeover(ctx context.Context, node, room string, peer transport.PeerID, attach uint64) []seatMsg {
	req, _ := json.Marshal(takeover{V: wireVersion, Room: room, Peer: peer, Attach: attach})
	ctx, cancel := context.WithTimeout(ctx, takeoverTimeout)
	defer cancel()
	resp, err := b.nc.RequestWithContext(ctx, b.ctlSubject(node), req)
	if err != nil {
		b.log.Debug("natsbackplane: takeover without the previous node", "prev", node, "room", room, "peer", peer, "err", err)
		return nil
	}
	r, err := decodeTakeoverReply(resp.Data)
	if err != nil {
		b.log.Warn("natsbackplane: malformed takeover reply", "prev", node, "err", err)
		return nil
	}
	return r.Held
}

// publish sends m to the seat (room, peer).
func (b *Backplane) publish(room string, peer transport.PeerID, m *seatMsg) error {
	m.ID = b.cfg.Node + "." + strconv.FormatUint(b.seq.Add(1), 10)
	if err := b.nc.Publish(b.seatSubject(room, peer), encodeSeatMsg(m)); err != nil {
		return unavailable("publish: %v", err)
	}
	b.st.published.Add(1)
	return nil
}

// publishAll sends m to every member of rec but except.
func (b *Backplane) publishAll(rec *record, except transport.PeerID, m seatMsg) {
	for p := range rec.Members {
		if p != except {
			mm := m
			if err := b.publish(rec.Room, p, &mm); err != nil {
				b.log.Warn("natsbackplane: publish", "room", rec.Room, "to", p, "err", err)
			}
		}
	}
}

// heartbeat writes this node's heartbeat every beatEvery until ctx ends.
func (b *Backplane) heartbeat(ctx context.Context) {
	t := time.NewTicker(b.beatEvery())
	defer t.Stop()
	for {
		b.beat(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// beatEvery is the heartbeat period: TTL/8, so that a gap of TTL/2
// between two heartbeats that landed (an outage, see beat) stands out
// from scheduling delays.
func (b *Backplane) beatEvery() time.Duration { return b.cfg.TTL / 8 }

// outageGap is the gap between two heartbeats that landed from which this
// node takes the registry to have been unwritable: entries may have
// expired meanwhile (see settledLocked).
func (b *Backplane) outageGap() time.Duration { return b.cfg.TTL / 2 }

// beat writes this node's heartbeat (if the registry is set up and NATS
// connected) and keeps the books that settledLocked reads.
func (b *Backplane) beat(ctx context.Context) {
	b.mu.Lock()
	kv, n := b.kv, len(b.seats)
	b.mu.Unlock()
	if kv == nil || !b.nc.IsConnected() {
		return
	}
	v, _ := json.Marshal(struct {
		V     int    `json:"v"`
		Node  string `json:"node"`
		Seats int    `json:"seats"`
		At    int64  `json:"at"`
	}{wireVersion, b.cfg.Node, n, time.Now().UnixMilli()})
	cctx, cancel := context.WithTimeout(ctx, min(opTimeout, b.cfg.TTL/2))
	defer cancel()
	start := time.Now() // the watch may show the put before Put returns
	_, err := kv.Put(cctx, nodeKey(b.cfg.Node), v)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.st.registryErrors.Add(1)
		b.beatErr = err
		return
	}
	if !b.beatOK.IsZero() && now.Sub(b.beatOK) > b.outageGap() {
		b.gapFrom, b.okSince = b.beatOK, now
		b.st.outages.Add(1)
		b.log.Warn("natsbackplane: no heartbeat landed for a while, the registry may have lost entries meanwhile: new rooms wait",
			"gap", now.Sub(b.beatOK).Round(time.Millisecond), "until", now.Add(b.cfg.TTL))
	}
	b.beatOK, b.beatErr = now, nil
	if b.watcher != nil && (b.beatPut.IsZero() || !b.selfSeen.Before(b.beatPut)) {
		b.beatPut = start // the oldest heartbeat the watch has not shown yet
	}
}

// settledLocked reports whether the registry can be taken to have every
// live entry: this node's heartbeats land (the last within outageGap) and
// the last write outage it saw ended at least TTL ago, time enough for the
// live nodes to put back what expired during it. If not, it returns when
// it will be (zero: unknown, an outage is going on).
func (b *Backplane) settledLocked(now time.Time) (time.Time, bool) {
	if b.beatOK.IsZero() || now.Sub(b.beatOK) > b.outageGap() {
		return time.Time{}, false
	}
	if end := b.okSince.Add(b.cfg.TTL); !b.okSince.IsZero() && now.Before(end) {
		return end, false
	}
	return now, true
}

// newRoomsWaitLocked reports whether a room with no trace at all (not in
// the registry, not in this node's view, no delete marker) must not be
// created yet, and until when (zero: unknown): while the registry is not
// settled, unless this node's watch ran throughout the outage, so that its
// view has every room that was there (the live ones lost in the outage
// are restored from it, see absent).
func (b *Backplane) newRoomsWaitLocked(now time.Time) (time.Time, bool) {
	at, settled := b.settledLocked(now)
	if settled || b.beatOK.IsZero() {
		return now, false // no outage seen (a node that just started cannot know of one)
	}
	from := b.gapFrom
	if now.Sub(b.beatOK) > b.outageGap() {
		from = b.beatOK // going on
	}
	if !b.readySince.IsZero() && b.readySince.Before(from) {
		return now, false
	}
	return at, true
}

// cutoffLocked is the time before which a room record last seen is taken
// for expired (its nodes died): TTL ago, or TTL before a registry write
// outage that is going on or ended less than TTL ago (rooms could not be
// refreshed during it; their nodes restore them after it).
func (b *Backplane) cutoffLocked(now time.Time) time.Time {
	cut := now.Add(-b.cfg.TTL)
	var from time.Time
	switch {
	case !b.beatOK.IsZero() && now.Sub(b.beatOK) > b.outageGap():
		from = b.beatOK
	case !b.okSince.IsZero() && now.Sub(b.okSince) < b.cfg.TTL:
		from = b.gapFrom
	}
	if !from.IsZero() && from.Add(-b.cfg.TTL).Before(cut) {
		cut = from.Add(-b.cfg.TTL)
	}
	return cut
}

// watchStalled reports a watch that did not show this node's own
// heartbeat for a while: its consumer died (e.g. with the NATS server
// that held it) without the connection noticing.
func (b *Backplane) watchStalled() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	stall := min(b.cfg.TTL/2, 3*time.Second)
	return !b.beatPut.IsZero() && b.selfSeen.Before(b.beatPut) && time.Since(b.beatPut) > stall
}

// refresh rewrites the records of rooms with seats here that nobody wrote
// for a while, so that they outlive the bucket's TTL. A record that is
// gone (it expired while the registry could not be written, e.g. during a
// JetStream leader election) is restored from this node's copy. A round
// stops at the first failure: the registry is unavailable, every other
// write would wait for its timeout too.
func (b *Backplane) refresh(ctx context.Context) {
	type job struct {
		room string
		rec  *record
		rev  uint64
	}
	var jobs []job
	now := time.Now()
	b.mu.Lock()
	kv := b.kv
	for room := range b.byRoom {
		c := b.rooms[room]
		if c == nil {
			continue
		}
		jitter := time.Duration(rand.Int64N(int64(b.cfg.TTL/6) + 1))
		if now.Sub(c.seen) > b.cfg.TTL/3+jitter {
			jobs = append(jobs, job{room, c.rec, c.rev})
		}
	}
	b.mu.Unlock()
	if kv == nil {
		return
	}
	for _, j := range jobs {
		// A copy kept at a re-sync has no revision to compare: it
		// goes straight to restore, which writes it only if the
		// registry has nothing.
		var rev uint64
		err := errNoChange
		if j.rev != 0 {
			cctx, cancel := context.WithTimeout(ctx, min(opTimeout, b.cfg.TTL/2))
			rev, err = kv.Update(cctx, roomKey(j.room), encodeRecord(j.rec), j.rev)
			cancel()
		}
		switch {
		case err == nil:
			b.mu.Lock()
			b.applyRoomLocked(j.room, j.rec, rev, false, time.Now())
			b.mu.Unlock()
		case err == errNoChange || isConflict(err):
			// Someone else wrote it (it is fresh), or it is gone.
			cctx, cancel := context.WithTimeout(ctx, min(opTimeout, b.cfg.TTL/2))
			err := b.restore(cctx, j.room)
			cancel()
			if err != nil {
				b.log.Debug("natsbackplane: restore", "room", j.room, "err", err)
				return
			}
		default:
			b.st.registryErrors.Add(1)
			b.log.Debug("natsbackplane: refresh", "room", j.room, "err", err)
			return
		}
	}
}

// restore writes room back, whole, if the registry lost it while this
// node holds seats in it (see restoreLocked).
func (b *Backplane) restore(ctx context.Context, room string) error {
	var restored *record
	_, _, err := b.update(ctx, room, func(cur *record) (*record, error) {
		restored = nil
		if cur != nil {
			return nil, errNoChange
		}
		op, err := b.lastOpOf(ctx, room)
		if err != nil {
			return nil, err
		}
		if op != lastNone {
			// Deleted on purpose (this node's seats are lost: repair
			// puts them back), or not quite gone.
			return nil, errNoChange
		}
		b.mu.Lock()
		n := b.restoreLocked(room)
		b.mu.Unlock()
		if n == nil {
			return nil, errNoChange
		}
		restored = n
		return n, nil
	})
	if err == nil && restored != nil {
		b.st.restored.Add(1)
		b.log.Info("natsbackplane: restored a room the registry lost", "room", room, "members", len(restored.Members))
	}
	return err
}

// restoreLocked returns the record to write back for room, which the
// registry lost (it expired while no one could refresh it, or NATS lost
// its store) although this node may know live members: this node's last
// copy of the room (every member, as the watch last showed it), with this
// node's own members as it holds them (attached or held seats; members it
// does not hold are left out). Without a copy (the watch showed a
// deletion), only this node's seats, with the room's settings from their
// last record. Nil if that leaves no member.
func (b *Backplane) restoreLocked(room string) *record {
	var n *record
	if c := b.rooms[room]; c != nil {
		n = c.rec.clone()
	} else {
		for _, s := range b.byRoom[room] {
			if s.rec != nil {
				n = s.rec.clone()
				n.Members = make(map[transport.PeerID]member)
				break
			}
		}
	}
	if n == nil {
		return nil
	}
	holds := func(s *seat) bool { return s != nil && (s.state == seatAttached || s.state == seatHeld) }
	for p, m := range n.Members {
		if m.Node != b.cfg.Node {
			continue
		}
		if s := b.seats[seatKey{room, p}]; holds(s) {
			m.Attach, m.HeldUntil = s.attach, 0
			n.Members[p] = m
		} else {
			delete(n.Members, p)
		}
	}
	for p, s := range b.byRoom[room] {
		if _, listed := n.Members[p]; !listed && holds(s) && s.token != nil {
			n.Members[p] = member{Name: s.name, Token: s.token, Node: b.cfg.Node, Attach: s.attach}
		}
	}
	if len(n.Members) == 0 {
		return nil
	}
	return n
}

// holdsSeatsLocked reports whether this node holds a seat (attached or
// held) in room.
func (b *Backplane) holdsSeatsLocked(room string) bool {
	for _, s := range b.byRoom[room] {
		if s.state == seatAttached || s.state == seatHeld {
			return true
		}
	}
	return false
}

// liveInViewLocked reports whether this node's view of the registry has
// room with a member on another node whose heartbeat counts as live (seen
// within the TTL, or before an outage, see cutoffLocked): if the registry
// has no such room, it lost it (a deletion would have reached the view).
func (b *Backplane) liveInViewLocked(room string, now time.Time) bool {
	c := b.rooms[room]
	if c == nil {
		return false
	}
	cut := b.cutoffLocked(now)
	for _, m := range c.rec.Members {
		if m.Node == "" || m.Node == b.cfg.Node {
			continue
		}
		if seen, ok := b.nodes[m.Node]; ok && !seen.Before(cut) {
			return true
		}
	}
	return false
}

// lastOp is what the registry's stream holds last for a key.
type lastOp int

const (
	lastNone    lastOp = iota // nothing: never written, expired, or lost
	lastPut                   // a value (a replica behind another: look again)
	lastDeleted               // a delete marker: deliberately removed
)

// lastOpOf reads what the registry's stream holds last for room's key: a
// deletion leaves a marker (for the TTL), an expiry or a lost store
// nothing.
func (b *Backplane) lastOpOf(ctx context.Context, room string) (lastOp, error) {
	b.mu.Lock()
	st := b.stream
	b.mu.Unlock()
	if st == nil {
		return lastNone, unavailable("natsbackplane: the registry is not set up")
	}
	cctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	m, err := st.GetLastMsgForSubject(cctx, "$KV."+b.cfg.Bucket+"."+roomKey(room))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return lastNone, nil
	case err != nil:
		b.st.registryErrors.Add(1)
		return lastNone, unavailable("registry: %v", err)
	}
	switch m.Header.Get("KV-Operation") {
	case "DEL", "PURGE":
		return lastDeleted, nil
	}
	return lastPut, nil
}

// retryLater is returned by the functions a join or resume passes to
// update when the registry's answer (no such room) cannot be trusted yet:
// look again at at (zero: unknown), or fail with err.
type retryLater struct {
	at  time.Time
	err error
}

func (r *retryLater) Error() string { return r.err.Error() }
func (r *retryLater) Unwrap() error { return r.err }

// retryWindow bounds how long a join or resume looks again (updateRetry).
const retryWindow = 500 * time.Millisecond

// absent decides what a join or resume does about room, which the
// registry does not have. If nothing suggests a loss (this node holds no
// seat there, its view shows no member on a live node, no recent outage),
// the room is new: (nil, nil). Otherwise it asks the stream: a delete
// marker means the room was removed on purpose (new, too); no trace at all
// means the registry lost it: then it returns the room restored from this
// node's copy (restoreLocked) to admit into and write back; without a
// copy, after an outage this node's view did not watch throughout, it
// answers retryLater (unavailable: clients retry) until the outage is TTL
// behind (newRoomsWaitLocked).
func (b *Backplane) absent(ctx context.Context, room string) (*record, error) {
	b.mu.Lock()
	now := time.Now()
	suspect := b.holdsSeatsLocked(room) || b.liveInViewLocked(room, now)
	at, wait := b.newRoomsWaitLocked(now)
	b.mu.Unlock()
	if !suspect && !wait {
		return nil, nil
	}
	op, err := b.lastOpOf(ctx, room)
	if err != nil {
		return nil, err
	}
	switch op {
	case lastDeleted:
		return nil, nil
	case lastPut:
		// Written since the read (or a replica behind another): read
		// again.
		return nil, &retryLater{at: time.Now(), err: unavailable("the registry's answers about room %s disagree", room)}
	}
	if suspect {
		b.mu.Lock()
		n := b.restoreLocked(room)
		b.mu.Unlock()
		if n != nil {
			return n, nil
		}
	}
	if wait {
		return nil, &retryLater{at: at,
			err: unavailable("the registry was unavailable (NATS failover?): rooms it does not have wait until it settles")}
	}
	return nil, nil
}

// updateRetry is update for joins and resumes: it looks again while fn
// answers retryLater, for at most retryWindow from the first such answer
// (and casAttempts times).
func (b *Backplane) updateRetry(ctx context.Context, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	var deadline time.Time
	for attempt := 0; ; attempt++ {
		rec, rev, err := b.update(ctx, room, fn)
		var later *retryLater
		if !errors.As(err, &later) {
			return rec, rev, err
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(retryWindow)
		}
		if later.at.IsZero() || later.at.After(deadline) || attempt >= casAttempts {
			return nil, 0, later.err
		}
		t := time.NewTimer(time.Until(later.at))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, 0, later.err
		}
	}
}

// reap removes seats whose node died (its heartbeat expired), orphans
// whose hold ran out, and seats the registry says are ours that this node
// does not know (after a restart under the same name).
func (b *Backplane) reap(ctx context.Context) {
	now := time.Now()
	b.mu.Lock()
	if b.readySince.IsZero() || now.Sub(b.readySince) < b.cfg.TTL {
		// Not watching long enough to have seen every live heartbeat.
		b.mu.Unlock()
		return
	}
	if _, ok := b.settledLocked(now); !ok {
		// The registry could not be written for a while (or cannot
		// now): live nodes' heartbeats may have expired meanwhile.
		// They put them back within TTL/8 of its return.
		b.mu.Unlock()
		return
	}
	kv := b.kv
	// Forget what NATS expired without telling watchers: rooms nobody
	// refreshed and heartbeats of dead nodes.
	for room, c := range b.rooms {
		if now.Sub(c.seen) > 2*b.cfg.TTL && b.byRoom[room] == nil {
			delete(b.rooms, room)
		}
	}
	for n, seen := range b.nodes {
		if now.Sub(seen) > 10*b.cfg.TTL {
			delete(b.nodes, n)
		}
	}
	suspects := make(map[string]bool)
	rooms := make(map[string]bool)
	orphans := make(map[seatKey]time.Time)
	for room, c := range b.rooms {
		if now.Sub(c.seen) > b.cfg.TTL {
			continue
		}
		for p, m := range c.rec.Members {
			switch {
			case m.Node == "":
				if m.HeldUntil < now.UnixMilli() {
					rooms[room] = true
				}
			case m.Node == b.cfg.Node:
				k := seatKey{room, p}
				if b.seats[k] == nil {
					first, ok := b.selfOrphan[k]
					if !ok {
						first = now
					}
					orphans[k] = first
					if now.Sub(first) > b.cfg.TTL {
						rooms[room] = true
					}
				}
			default:
				if seen, ok := b.nodes[m.Node]; !ok || now.Sub(seen) > b.cfg.TTL {
					suspects[m.Node] = true
					rooms[room] = true
				}
			}
		}
	}
	b.selfOrphan = orphans
	b.mu.Unlock()
	if len(rooms) == 0 {
		return
	}
	dead := make(map[string]bool)
	for n := range suspects {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		_, err := kv.Get(cctx, nodeKey(n))
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			dead[n] = true
			b.log.Info("natsbackplane: node is gone; removing its seats", "dead", n)
		case err == nil:
			b.mu.Lock()
			b.nodes[n] = time.Now()
			b.mu.Unlock()
		}
	}
	for room := range rooms {
		var gone []transport.PeerID
		rec, _, err := b.update(ctx, room, func(cur *record) (*record, error) {
			gone = gone[:0]
			if cur == nil {
				return nil, errNoChange
			}
			nowMs := time.Now().UnixMilli()
			n := cur.clone()
			b.mu.Lock()
			for p, m := range cur.Members {
				first, orphan := b.selfOrphan[seatKey{room, p}]
				if (m.Node == "" && m.HeldUntil < nowMs) || dead[m.Node] ||
					(m.Node == b.cfg.Node && orphan && time.Since(first) > b.cfg.TTL && b.seats[seatKey{room, p}] == nil) {
					delete(n.Members, p)
					gone = append(gone, p)
				}
			}
			b.mu.Unlock()
			if len(gone) == 0 {
				return nil, errNoChange
			}
			if len(n.Members) == 0 {
				return nil, nil
			}
			return n, nil
		})
		if err != nil {
			b.log.Debug("natsbackplane: reap", "room", room, "err", err)
			continue
		}
		b.st.reaped.Add(uint64(len(gone)))
		if len(gone) > 0 {
			b.log.Info("natsbackplane: reaped seats", "room", room, "peers", gone)
		}
		if rec != nil {
			for _, p := range gone {
				b.publishAll(rec, "", seatMsg{Kind: kindLeft, Peer: p})
			}
		}
	}
}

// repair puts this node's attached seats that the registry lost (NATS lost
// its store, or this node was cut off longer than the TTL and reaped)
// back, re-creating the room if needed, and announces them again.
func (b *Backplane) repair(ctx context.Context) {
	type job struct {
		s      *seat
		rec    *record
		attach uint64
		name   string
		token  []byte
	}
	var jobs []job
	b.mu.Lock()
	for room, seats := range b.byRoom {
		_, known := b.rooms[room]
		for _, s := range seats {
			if s.state == seatAttached && (s.lost || !known) && s.rec != nil {
				jobs = append(jobs, job{s, s.rec, s.attach, s.name, s.token})
			}
		}
	}
	b.mu.Unlock()
	for _, j := range jobs {
		room, peer := j.s.key.room, j.s.key.peer
		var taken, wrote bool
		rec, rev, err := b.update(ctx, room, func(cur *record) (*record, error) {
			taken, wrote = false, false
			var n *record
			if cur == nil {
				// The room is gone: write it back whole (every member
				// this node knows of), not just this seat.
				b.mu.Lock()
				n = b.restoreLocked(room)
				b.mu.Unlock()
				if n == nil {
					n = j.rec.clone()
					n.Members = make(map[transport.PeerID]member)
				}
			} else {
				if m, ok := cur.Members[peer]; ok {
					if m.Node == b.cfg.Node && m.Attach == j.attach {
						return nil, errNoChange
					}
					if m.Node != b.cfg.Node {
						taken = true
						return nil, errNoChange
					}
					// Restored from an older copy: set the attachment.
					n = cur.clone()
					m.Attach = j.attach
					n.Members[peer] = m
					wrote = true
					return n, nil
				}
				if cur.Max > 0 && len(cur.Members) >= cur.Max {
					return nil, refuse(signaling.CodeResumeFailed, "the registry lost this seat and room %s is full now", room)
				}
				n = cur.clone()
			}
			n.Members[peer] = member{Name: j.name, Token: j.token, Node: b.cfg.Node, Attach: j.attach}
			wrote = true
			return n, nil
		})
		b.mu.Lock()
		if b.seats[j.s.key] != j.s || j.s.attach != j.attach || j.s.state != seatAttached {
			b.mu.Unlock()
			continue
		}
		switch {
		case err != nil && errors.Is(err, signaling.ErrResumeFailed):
			j.s.sink(signaling.Event{Err: err})
			b.dropSeatLocked(j.s)
		case err != nil:
			// NATS trouble: try again next round.
		case taken:
			b.replacedLocked(j.s, time.Now())
		default:
			j.s.lost = false
			if rev > j.s.commit {
				j.s.commit = rev
			}
		}
		b.mu.Unlock()
		if err == nil && wrote {
			b.st.repaired.Add(1)
			b.log.Info("natsbackplane: repaired a seat the registry lost", "room", room, "peer", peer)
			b.publishAll(rec, peer, seatMsg{Kind: kindJoined, Peer: peer, Name: j.name})
		}
	}
}

// expireHeld removes held seats whose grace ended, and forgets handed-off
// seats nobody asked for.
func (b *Backplane) expireHeld(ctx context.Context) {
	now := time.Now()
	var due []*seat
	b.mu.Lock()
	for _, s := range b.seats {
		switch {
		case s.state == seatHeld && now.After(s.until):
			s.state = seatLeaving
			due = append(due, s)
		case s.state == seatHandoff && now.After(s.until):
			b.dropSeatLocked(s)
		}
	}
	b.mu.Unlock()
	for _, s := range due {
		if err := b.removeSeat(ctx, s, true); err != nil {
			// Try again on the next tick.
			b.mu.Lock()
			if b.seats[s.key] == s && s.state == seatLeaving {
				s.state = seatHeld
			}
			b.mu.Unlock()
		}
	}
}

var errNoChange = errors.New("natsbackplane: no change")

// isConflict reports a lost compare-and-set: the key's revision moved.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// update runs fn on room's current record in a compare-and-set loop until
// its write lands. fn gets the record (nil: no such room) and returns the
// new one (nil: delete the room), errNoChange to write nothing, or an
// error to give up; it may run several times. update returns the record
// and revision it wrote (or found, for errNoChange; the revision is 0 for
// a deletion).
func (b *Backplane) update(ctx context.Context, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	kv, err := b.registry()
	if err != nil {
		return nil, 0, err
	}
	return b.updateKV(ctx, kv, room, fn)
}

// updateKV is update on kv, whatever the backplane's state (Close hands
// seats over after it has set closed).
func (b *Backplane) updateKV(ctx context.Context, kv jetstream.KeyValue, room string, fn func(cur *record) (*record, error)) (*record, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	key := roomKey(room)
	for attempt := 0; ; attempt++ {
		if attempt >= casAttempts {
			b.st.registryErrors.Add(1)
			return nil, 0, unavailable("registry contention on room %s", room)
		}
		var cur *record
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if cur, err = decodeRecord(e.Value()); err != nil {
				b.st.registryErrors.Add(1)
				return nil, 0, refuse(signaling.CodeInternal, "room %s: %v", room, err)
			}
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			b.st.registryErrors.Add(1)
			return nil, 0, unavailable("registry: %v", err)
		}
		next, err := fn(cur)
		if errors.Is(err, errNoChange) {
			return cur, rev, nil
		}
		if err != nil {
			return nil, 0, err
		}
		var newRev uint64
		switch {
		case cur == nil && next == nil:
			return nil, 0, nil
		case cur == nil:
			newRev, err = kv.Create(ctx, key, encodeRecord(next))
		case next == nil:
			err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
		default:
			newRev, err = kv.Update(ctx, key, encodeRecord(next), rev)
		}
		if err == nil {
			b.mu.Lock()
			if next != nil && !b.closed { // closed: Close's hand-over, seats are going
				b.applyRoomLocked(room, next, newRev, false, time.Now())
			}
			b.mu.Unlock()
			return next, newRev, nil
		}
		if !isConflict(err) {
			b.st.registryErrors.Add(1)
			return nil, 0, unavailable("registry: %v", err)
		}
		b.st.conflicts.Add(1)
		// Back off a little, randomly, so that racing nodes spread out.
		d := time.Duration(rand.Int64N(int64(min(attempt+1, 20))*int64(time.Millisecond)) + 1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, 0, unavailable("registry: %v", ctx.Err())
		}
	}
}

// registry returns the KV bucket if the backplane can use it now.
func (b *Backplane) registry() (jetstream.KeyValue, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, signaling.ErrShutdown
	}
	if b.kv == nil || !b.nc.IsConnected() {
		err := b.stateErr
		if err == nil {
			err = errors.New("not ready")
		}
		return nil, unavailable("%v", err)
	}
	return b.kv, nil
}

func newAttach() uint64 {
	var x [8]byte
	_, _ = crand.Read(x[:])
	return binary.LittleEndian.Uint64(x[:]) | 1
}
