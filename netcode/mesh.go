package netcode

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/peerplay/peerplay/internal/drain"
	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// Mesh is this program's place in a full mesh of WebRTC data channels
// with every other peer of a room. Its methods are safe for concurrent
// use. Library goroutines never call game code: the game drains channels
// (TryRecv) and events (PollEvents) from its own loop.
type Mesh struct {
	cfg   Config
	log   *slog.Logger
	api   *pionAPI
	local transport.PeerID
	// signer signs with the mesh identity (nil in the browser build, whose
	// mesh has no identity key): what its channels give as their
	// transport.SignerSource.
	signer *Signer
	epoch  time.Time // origin of the ping clock

	chans   []*channel
	byLabel map[string]*channel

	tasks    taskQueue
	quit     <-chan struct{} // quitCtx.Done(), closed by Close
	quitCtx  context.Context // cancelled by Close; the redial derives from it
	stop     context.CancelFunc
	loopDone chan struct{}
	redialed chan signaler
	closing  sync.Once
	wg       sync.WaitGroup // every goroutine the mesh starts

	mu sync.RWMutex // guards all following fields
	// peers holds every peer with a PeerConnection, by mesh ID; the loop
	// writes it (under mu) and reads it freely.
	peers map[transport.PeerID]*peer
	// connected holds the published peers (handshake done).
	connected     map[transport.PeerID]*peer
	sorted        []transport.PeerID // keys of connected, sorted
	peersChanged  chan struct{}      // made by WaitPeers; closed on change
	events        drain.Queue[Event]
	eventsDropped uint64
	sigUpShared   bool
	closed        bool

	// Owned by the loop goroutine (and by Close after the loop exits).
	sig       signaler
	sigEvents <-chan sigclient.Event
	sigLocal  transport.PeerID // our current signaling ID
	sigUp     bool
	redialing bool
	present   map[transport.PeerID]bool             // signaling IDs in the room
	who       map[transport.PeerID]transport.PeerID // signaling ID → mesh ID
	sessions  map[uint64]*peer
	refused   map[transport.PeerID]bool      // mesh IDs never retried
	retryAt   map[transport.PeerID]time.Time // signaling ID → earliest re-offer
	// challengers are PeerConnections for an ID we already have a link
	// to, opened from another signaling seat: kept out of peers until
	// their DTLS certificate proves the ID (identity.go, trust.go).
	challengers map[uint64]*peer
	badSeats    map[transport.PeerID]bool   // signaling IDs that lied about an ID
	blocked     map[transport.PeerID]string // Mesh.Block: mesh ID → reason
	// impersonations counts refused identity claims (Stats).
	impersonations uint64
	kickedSeats    map[transport.PeerID]transport.PeerID // Block asked the server to kick: mesh ID → seat

	// The room listing (room.go). roomMu guards the following fields; it
	// orders SetRoomInfo against the loop handing the listing to a new
	// signaling client. Taken before mu, never while holding it.
	roomMu      sync.Mutex
	roomSig     signaler // the latest signaling client (maybe closed)
	roomUp      bool     // roomSig is connected
	roomKnown   RoomMeta // the listing as heard, our updates merged in
	roomHave    bool     // roomKnown holds something
	roomPending RoomMeta // our updates not yet given to a connected client
	roomDirty   bool     // roomPending holds something
}

// Join connects to the signaling server, enters cfg.Room and returns the
// Mesh at once; peers connect in the background (WaitPeers waits for
// them). ctx bounds only the signaling handshake.
func Join(ctx context.Context, cfg Config) (*Mesh, error) {
	cfg = copyConfig(cfg)
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dial := cfg.dial
	if dial == nil {
		dial = dialSignaling
	}
	sig, err := dial(ctx, &cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignaling, err)
	}
	if cfg.RelayOnly && cfg.ICEServers == nil && !hasTURN(sig.ICEServers()) {
		_ = sig.Close()
		return nil, fmt.Errorf("%w: RelayOnly, but the signaling server hands out no TURN server", ErrInvalidConfig)
	}
	ident, local, err := localIdentity(&cfg)
	if err != nil {
		_ = sig.Close()
		return nil, err
	}
	quitCtx, stop := context.WithCancel(context.Background())
	m := &Mesh{
		cfg: cfg, log: cfg.Logger, local: local, epoch: time.Now(),
		quitCtx: quitCtx, stop: stop, quit: quitCtx.Done(),
		byLabel:  make(map[string]*channel),
		loopDone: make(chan struct{}),
		redialed: make(chan signaler),
		peers:    make(map[transport.PeerID]*peer), connected: make(map[transport.PeerID]*peer),
		sigUpShared: true,
		present:     make(map[transport.PeerID]bool), who: make(map[transport.PeerID]transport.PeerID),
		sessions: make(map[uint64]*peer), refused: make(map[transport.PeerID]bool),
		retryAt:     make(map[transport.PeerID]time.Time),
		challengers: make(map[uint64]*peer), badSeats: make(map[transport.PeerID]bool),
		blocked: make(map[transport.PeerID]string), kickedSeats: make(map[transport.PeerID]transport.PeerID),
	}
	m.tasks.wake = make(chan struct{}, 1)
	if m.api, err = newAPI(&m.cfg, ident); err != nil {
		_ = sig.Close()
		return nil, err
	}
	if ident != nil {
		if m.signer, err = NewSigner(ident); err != nil {
			_ = sig.Close()
			return nil, err
		}
	}
	for i, spec := range cfg.Channels {
		ch := newChannel(m, i, spec)
		m.chans = append(m.chans, ch)
		m.byLabel[spec.Label] = ch
	}
	m.adopt(sig)
	m.roomSig, m.roomUp = sig, true
	m.log.Info("netcode: joined", "room", cfg.Room, "local", m.local, "peers", len(m.present))
	go m.run()
	return m, nil
}

// adopt makes sig the signaling client (at Join and after a re-dial).
func (m *Mesh) adopt(sig signaler) {
	m.sig, m.sigEvents, m.sigLocal, m.sigUp = sig, sig.Events(), sig.Local(), true
	clear(m.present)
	for _, id := range sig.Peers() {
		if id != m.sigLocal {
			m.present[id] = true
		}
	}
	m.mu.Lock()
	m.sigUpShared = true
	m.mu.Unlock()
}

// Local is this peer's ID, derived from its identity key
// (Config.Identity): the same for the life of the Mesh, across signaling
// outages, and across runs with the same Identity. (In the browser build:
// a random ID of the browser form; see "Threat model".)
func (m *Mesh) Local() transport.PeerID { return m.local }

// Peers returns the connected peers (handshake done), sorted.
func (m *Mesh) Peers() []transport.PeerID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.sorted)
}

// WaitPeers blocks until at least n peers are connected, ctx is done
// (ctx.Err()) or the mesh is closed (ErrClosed).
func (m *Mesh) WaitPeers(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return ErrClosed
		}
		if len(m.sorted) >= n {
			m.mu.Unlock()
			return nil
		}
		if m.peersChanged == nil {
			m.peersChanged = make(chan struct{})
		}
		ch := m.peersChanged
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Channel returns the application channel with the given label, one
// transport.Conn to every connected peer. It panics if label is not in
// Config.Channels (a programmer error).
func (m *Mesh) Channel(label string) transport.Conn {
	ch, ok := m.byLabel[label]
	if !ok {
		panic(fmt.Sprintf("netcode: no channel %q in Config.Channels", label))
	}
	return ch
}

// PollEvents returns the events since the last call, oldest first, and
// never blocks. It follows the drain convention (CONTRIBUTING.md): the
// returned slice is reused and valid until the next PollEvents; the queue
// keeps the newest Config.EventQueueLen events and counts the oldest it
// drops in Stats.EventsDropped.
func (m *Mesh) PollEvents() []Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events.Drain()
}

// Close says goodbye to every peer, leaves the room and returns when every
// goroutine the mesh started has exited. Messages already received stay
// readable with TryRecv. Close is idempotent.
func (m *Mesh) Close() error {
	var err error
	m.closing.Do(func() {
		m.stop()
		<-m.loopDone
		// The loop is gone: its state is ours now.
		m.mu.Lock()
		m.closed = true
		wake(&m.peersChanged)
		m.mu.Unlock()
		bye := wire.AppendBye(nil)
		for _, p := range m.peers {
			var flush time.Duration
			if p.ctrl.pipe != nil && p.helloSent {
				if p.ctrl.writeControl(bye) == nil {
					flush = flushBye
				}
			}
			m.teardown(p, EventUnknown, nil, flush)
		}
		for _, c := range m.challengers {
			m.teardown(c, EventUnknown, nil, 0)
		}
		if m.sig != nil {
			err = m.sig.Close()
		}
		for _, ch := range m.chans {
			ch.close()
		}
		m.wg.Wait()
		m.log.Info("netcode: closed", "local", m.local)
	})
	return err
}

// link returns the link to a connected peer on application channel idx.
func (m *Mesh) link(to transport.PeerID, idx int) (*link, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, transport.ErrClosed
	}
	p := m.connected[to]
	if p == nil {
		return nil, transport.ErrUnknownPeer
	}
	return p.links[idx], nil
}

// links returns the links of every connected peer on channel idx.
func (m *Mesh) links(idx int) ([]*link, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, transport.ErrClosed
	}
	out := make([]*link, 0, len(m.sorted))
	for _, id := range m.sorted {
		out = append(out, m.connected[id].links[idx])
	}
	return out, nil
}

// publishLocked recomputes the sorted peer list after connected changed.
func (m *Mesh) publishLocked() {
	m.sorted = m.sorted[:0:0]
	for id := range m.connected {
		m.sorted = append(m.sorted, id)
	}
	slices.Sort(m.sorted)
	wake(&m.peersChanged)
}

// emit queues an event, dropping the oldest when the queue is full.
func (m *Mesh) emit(kind EventKind, peer transport.PeerID, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events.Push(Event{Kind: kind, Peer: peer, Err: err, At: time.Now()}, m.cfg.EventQueueLen) {
		m.eventsDropped++
	}
}

// clock is the ping clock: time since Join, monotonic.
func (m *Mesh) clock() time.Duration { return time.Since(m.epoch) }
