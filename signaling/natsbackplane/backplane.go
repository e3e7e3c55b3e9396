package natsbackplane

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peerplay/peerplay/signaling"
)

// Tuning constants.
const (
	// tick is how often the link looks at the connection and the sweep
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
	// landed for TTL/2 or more while it tried, see the package doc).
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

// Backplane is a signaling.Backplane over NATS: the room registry is a
// JetStream KV bucket, delivery uses one subject per seat. Several
// signaling.Servers on several machines, each with its own Backplane on
// the same NATS, serve the same rooms. Safe for concurrent use.
//
// It is made of parts with their own locks or goroutines (see the package
// doc, "Inside a node"): link (the connection's state machine, its own
// goroutine), registry (KV, watch, compare-and-set, restore), liveness
// (heartbeats, the outage window, the sweep goroutine that refreshes,
// reaps and repairs) and delivery (seats, their subjects, takeovers).
// Lock order: registry.mu, then delivery.mu, then liveness.mu and
// health.mu; nothing calls out (network, another part's lock earlier in
// the order) while holding a later one.
type Backplane struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn
	ownNC bool
	js    jetstream.JetStream
	ctl   *nats.Subscription
	st    counters

	// ctx is the backplane's life: Close cancels it, which ends the
	// link, sweep, heartbeat and dispatch goroutines and what they wait
	// for.
	ctx       context.Context
	cancel    context.CancelFunc
	loops     sync.WaitGroup // link (with its setup in flight), sweep, heartbeat
	wg        sync.WaitGroup // dispatch, registry watchers
	closeOnce sync.Once
	closed    atomic.Bool

	health health
	link   link
	reg    registry
	live   liveness
	dl     delivery
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
	b := &Backplane{cfg: c, log: c.Logger.With("node", c.Node)}
	b.health.init(b)
	b.link.b = b
	b.reg.init(b)
	b.live.init(b)
	b.dl.init(b)
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
			nats.ReconnectErrHandler(func(_ *nats.Conn, err error) { b.health.setDialErr(err) }),
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
		b.ctl, err = b.nc.Subscribe(b.dl.ctlSubject(c.Node), b.dl.onTakeover)
	}
	if err != nil {
		if b.ownNC {
			b.nc.Close()
		}
		return nil, fmt.Errorf("natsbackplane: %w", err)
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wg.Add(1)
	go b.dl.dispatch(b.ctx)
	b.loops.Add(3)
	go b.link.run(b.ctx)
	go b.live.heartbeat(b.ctx)
	go b.live.sweep(b.ctx)
	return b, nil
}

// Node is this node's name.
func (b *Backplane) Node() string { return b.cfg.Node }

// Health returns the backplane's state. It never blocks on the network.
func (b *Backplane) Health() Health { return b.health.get() }

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
		State:     b.health.get().State,
		Published: b.st.published.Load(), Received: b.st.received.Load(), Dropped: b.st.dropped.Load(),
		Conflicts: b.st.conflicts.Load(), RegistryErrors: b.st.registryErrors.Load(),
		Reaped: b.st.reaped.Load(), Repaired: b.st.repaired.Load(), Restored: b.st.restored.Load(),
		Takeovers: b.st.takeovers.Load(), Outages: b.st.outages.Load(),
		Reconnects: b.nc.Stats().Reconnects,
	}
	st.Seats, st.HeldSeats = b.dl.count()
	st.Rooms, st.Nodes = b.reg.counts(time.Now())
	return st
}

// Close leaves the cluster: this node's held seats are handed to the
// registry as orphans (any node removes them when their grace ends, unless
// they are resumed elsewhere first), its heartbeat is deleted, and every
// goroutine stops. It closes the NATS connection if it dialed it.
// Idempotent.
func (b *Backplane) Close() error {
	b.closeOnce.Do(func() {
		// Nothing may put a heartbeat or start a watch after this.
		b.cancel()
		b.loops.Wait()
		b.closed.Store(true)
		b.health.close()
		kv, stop := b.reg.shutdown()
		seats := b.dl.shutdown()
		if kv != nil && b.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			b.orphan(ctx, kv, seats)
			if err := kv.Delete(ctx, nodeKey(b.cfg.Node)); err != nil {
				b.log.Debug("natsbackplane: delete heartbeat", "err", err)
			}
			cancel()
		}
		stop()
		b.dl.dropAll()
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
func (b *Backplane) orphan(ctx context.Context, kv jetstream.KeyValue, seats []heldSeat) {
	byRoom := make(map[string][]heldSeat)
	for _, s := range seats {
		byRoom[s.key.room] = append(byRoom[s.key.room], s)
	}
	for room, held := range byRoom {
		_, _, err := b.reg.updateKV(ctx, kv, room, func(cur *record) (*record, error) {
			if cur == nil {
				return nil, errNoChange
			}
			n := cur.clone()
			changed := false
			for _, s := range held {
				if m, ok := n.Members[s.key.peer]; ok && m.Node == b.cfg.Node && m.Attach == s.attach {
					m.Node, m.HeldUntil = "", s.until.UnixMilli()
					n.Members[s.key.peer] = m
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

// health is the backplane's reported state. Its lock is a leaf.
type health struct {
	b       *Backplane
	mu      sync.Mutex
	state   State
	err     error
	since   time.Time
	dialErr error // the last failed connection attempt
	closed  bool
}

func (h *health) init(b *Backplane) {
	h.b, h.state, h.since = b, StateUnavailable, time.Now()
	h.err = errors.New("natsbackplane: connecting to NATS")
}

func (h *health) get() Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Health{State: h.state, Err: h.err, Since: h.since, Node: h.b.cfg.Node}
}

func (h *health) setDialErr(err error) {
	h.mu.Lock()
	h.dialErr = err
	h.mu.Unlock()
}

func (h *health) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLocked(StateUnavailable, ErrClosed)
	h.closed = true
}

func (h *health) set(s State, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setLocked(s, err)
}

func (h *health) setLocked(s State, err error) {
	if h.closed {
		return
	}
	changed := s != h.state || (err == nil) != (h.err == nil) || (err != nil && h.err != nil && err.Error() != h.err.Error())
	if !changed {
		return
	}
	if s != h.state {
		h.since = time.Now()
	}
	h.state, h.err = s, err
	if s == StateOK {
		h.b.log.Info("natsbackplane: healthy")
	} else {
		h.b.log.Warn("natsbackplane: "+s.String(), "err", err)
	}
}

// connErr describes why NATS is not connected.
func (h *health) connErr() error {
	nc := h.b.nc
	servers := strings.Join(nc.Servers(), ",")
	h.mu.Lock()
	err := h.dialErr
	h.mu.Unlock()
	if e := nc.LastError(); e != nil {
		err = e
	}
	status := strings.ToLower(nc.Status().String())
	if err != nil {
		return fmt.Errorf("natsbackplane: not connected to NATS (%s): %s: %w", servers, status, err)
	}
	return fmt.Errorf("natsbackplane: not connected to NATS (%s): %s", servers, status)
}

func newAttach() uint64 {
	var x [8]byte
	_, _ = crand.Read(x[:])
	return binary.LittleEndian.Uint64(x[:]) | 1
}
