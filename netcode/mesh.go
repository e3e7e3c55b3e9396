package netcode

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

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
	epoch time.Time // origin of the ping clock

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
	events        []Event
	polled        []Event // PollEvents' reused result
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
	m.polled = append(m.polled[:0], m.events...)
	clear(m.events)
	m.events = m.events[:0]
	return m.polled
}

// Stats returns a snapshot of every peer's link.
func (m *Mesh) Stats() Stats {
	m.mu.RLock()
	s := Stats{Local: m.local, Signaling: m.sigUpShared, EventsDropped: m.eventsDropped, Impersonations: m.impersonations}
	type entry struct {
		id        transport.PeerID // read under mu: the loop may rekey a peer
		p         *peer
		connected bool
	}
	peers := make([]entry, 0, len(m.peers))
	for id, p := range m.peers {
		peers = append(peers, entry{id, p, m.connected[id] == p})
	}
	m.mu.RUnlock()
	slices.SortFunc(peers, func(a, b entry) int { return cmp.Compare(a.id, b.id) })
	for _, e := range peers {
		p := e.p
		ps := PeerStats{Peer: e.id, Connected: e.connected, State: p.pc.ConnectionState().String()}
		p.mu.Lock()
		ps.Name, ps.ICERestarts = p.name, p.iceRestarts
		p.mu.Unlock()
		ps.Memory, ps.OverBudget = p.budget.held(), p.budget.over.Load()
		ps.RTT, ps.RTTJitter, ps.RTTSamples = p.rtt.summary()
		ps.LocalCandidate, ps.RemoteCandidate = selectedPair(p.pc)
		ps.Link = max(ps.LocalCandidate, ps.RemoteCandidate)
		if ps.LocalCandidate == LinkRelay {
			ps.RelayProtocol = relayProtocol(p.pc)
		}
		ts := transportStats(p.pc)
		ps.PacketsSent, ps.PacketsReceived = ts.PacketsSent, ts.PacketsReceived
		ps.BytesSent, ps.BytesReceived, ps.ICERTT = ts.BytesSent, ts.BytesReceived, ts.ICERTT
		for i, l := range p.links {
			ps.Channels = append(ps.Channels, l.stats(m.cfg.Channels[i].Label))
		}
		ctl, png := p.ctrl.stats(controlLabel), p.ping.stats(pingLabel)
		ps.Control = ChannelStats{Label: "control",
			MessagesSent: ctl.MessagesSent + png.MessagesSent, MessagesReceived: ctl.MessagesReceived + png.MessagesReceived,
			BytesSent: ctl.BytesSent + png.BytesSent, BytesReceived: ctl.BytesReceived + png.BytesReceived,
			Malformed: ctl.Malformed + png.Malformed}
		s.Peers = append(s.Peers, ps)
	}
	return s
}

func selectedPair(pc *webrtc.PeerConnection) (local, remote LinkType) {
	sctp := pc.SCTP()
	if sctp == nil {
		return
	}
	dtls := sctp.Transport()
	if dtls == nil || dtls.ICETransport() == nil {
		return
	}
	pair, err := dtls.ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return
	}
	return linkTypeOf(pair.Local.Typ), linkTypeOf(pair.Remote.Typ)
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
			flush := false
			if p.ctrl.pipe != nil && p.helloSent {
				flush = p.ctrl.writeControl(bye) == nil
			}
			m.teardown(p, EventUnknown, nil, flush)
		}
		for _, c := range m.challengers {
			m.teardown(c, EventUnknown, nil, false)
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
	if len(m.events) >= m.cfg.EventQueueLen {
		copy(m.events, m.events[1:]) // keep the buffer: PollEvents reuses it
		m.events = m.events[:len(m.events)-1]
		m.eventsDropped++
	}
	m.events = append(m.events, Event{Kind: kind, Peer: peer, Err: err, At: time.Now()})
}

// clock is the ping clock: time since Join, monotonic.
func (m *Mesh) clock() time.Duration { return time.Since(m.epoch) }

// taskQueue carries work from pion callbacks and read loops to the mesh
// loop. It is unbounded, but what feeds it is bounded by the number of
// peers and channels (callbacks) or limited to a few frames per peer
// (control read loops).
type taskQueue struct {
	mu   sync.Mutex
	q    []func()
	wake chan struct{} // capacity 1
}

func (m *Mesh) post(f func()) {
	m.tasks.mu.Lock()
	m.tasks.q = append(m.tasks.q, f)
	m.tasks.mu.Unlock()
	select {
	case m.tasks.wake <- struct{}{}:
	default:
	}
}

func (m *Mesh) runTasks() {
	for {
		m.tasks.mu.Lock()
		q := m.tasks.q
		m.tasks.q = nil
		m.tasks.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

// tickInterval paces timers: pings, timeouts, restarts, retries.
const tickInterval = 100 * time.Millisecond

// run is the mesh loop: the one goroutine that owns the peer table.
func (m *Mesh) run() {
	defer close(m.loopDone)
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	m.reconcile(time.Now())
	for {
		select {
		case <-m.quit:
			return
		case ev, ok := <-m.sigEvents:
			if !ok {
				m.signalingGone(errors.New("event stream closed"))
				continue
			}
			m.onSigEvent(ev)
		case sig := <-m.redialed:
			m.redialing = false
			m.adopt(sig)
			m.roomRejoined(sig)
			m.log.Info("netcode: signaling re-joined", "signaling-id", m.sigLocal)
			m.emit(EventSignalingRestored, "", nil)
			m.reconcile(time.Now())
		case <-m.tasks.wake:
			m.runTasks()
		case now := <-ticker.C:
			m.tick(now)
		}
	}
}

// onSigEvent handles one event of the signaling client (kinds it does
// not know are ignored).
func (m *Mesh) onSigEvent(ev sigclient.Event) {
	switch ev.Kind {
	case sigclient.EventPeerJoined:
		if ev.Peer != m.sigLocal {
			m.present[ev.Peer] = true
			m.reconcile(time.Now())
		}
	case sigclient.EventPeerLeft:
		m.peerLeftSignaling(ev.Peer)
	case sigclient.EventSignal:
		m.onSignal(ev.Peer, ev.Data)
	case sigclient.EventDisconnected:
		m.roomDown()
		if m.sigUp {
			m.sigUp = false
			m.setSigShared(false)
			m.emit(EventSignalingLost, "", nil)
		}
	case sigclient.EventReconnected:
		if !m.sigUp {
			m.sigUp = true
			m.setSigShared(true)
			m.emit(EventSignalingRestored, "", nil)
		}
		clear(m.present)
		for _, id := range m.sig.Peers() {
			if id != m.sigLocal {
				m.present[id] = true
			}
		}
		m.roomResumed()
		m.reconcile(time.Now())
	case sigclient.EventRoomUpdated:
		if ev.Room != nil {
			m.roomHeard(*ev.Room)
		}
	case sigclient.EventFailed:
		if errors.Is(ev.Err, ErrKicked) {
			m.kickedOut(ev.Err)
			return
		}
		m.signalingGone(errors.New("signaling client gave up"))
	}
}

func (m *Mesh) setSigShared(up bool) {
	m.mu.Lock()
	m.sigUpShared = up
	m.mu.Unlock()
}

// kickedOut handles the room's owner kicking us from the signaling room:
// the links carry on (peers that blocked us close theirs), but the mesh
// does not re-join the room.
func (m *Mesh) kickedOut(why error) {
	old := m.sig
	m.sig, m.sigEvents = nil, nil
	m.roomDown()
	if m.sigUp {
		m.sigUp = false
		m.setSigShared(false)
	}
	m.log.Warn("netcode: kicked from the signaling room", "err", why)
	m.emit(EventSignalingLost, "", why)
	if old != nil {
		m.wg.Go(func() { _ = old.Close() })
	}
}

// signalingGone handles a signaling client that will not come back: it is
// closed and a new one dialed with backoff, while the mesh carries on.
func (m *Mesh) signalingGone(why error) {
	old := m.sig
	m.sig, m.sigEvents = nil, nil
	m.roomDown()
	if m.sigUp {
		m.sigUp = false
		m.setSigShared(false)
		m.emit(EventSignalingLost, "", nil)
	}
	m.log.Warn("netcode: signaling lost; re-dialing", "err", why)
	if old != nil {
		m.wg.Go(func() { _ = old.Close() })
	}
	if !m.redialing {
		m.redialing = true
		m.wg.Go(m.redial)
	}
}

// redial dials signaling again until it works or the mesh closes.
func (m *Mesh) redial() {
	ctx := m.quitCtx // Close cancels a dial in progress
	dial := m.cfg.dial
	if dial == nil {
		dial = dialSignaling
	}
	backoff := 250 * time.Millisecond
	for {
		sig, err := dial(ctx, &m.cfg)
		if err == nil {
			select {
			case m.redialed <- sig:
			case <-m.quit:
				_ = sig.Close()
			}
			return
		}
		m.log.Debug("netcode: signaling re-dial failed", "err", err, "retry-in", backoff)
		select {
		case <-m.quit:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// meshID maps a signaling ID to the mesh identity learned from its
// signals (the same ID unless the peer re-joined signaling).
func (m *Mesh) meshID(sigID transport.PeerID) transport.PeerID {
	if id, ok := m.who[sigID]; ok {
		return id
	}
	return sigID
}

// reconcile offers to every peer in the room this side should offer to
// (the lower signaling ID offers) and has no PeerConnection with.
func (m *Mesh) reconcile(now time.Time) {
	if !m.sigUp || m.sig == nil {
		return
	}
	for s := range m.present {
		id := m.meshID(s)
		if m.sigLocal >= s || m.peers[id] != nil || m.refused[id] || id == m.local || m.badSeats[s] || m.isBlocked(id) {
			continue
		}
		if at, ok := m.retryAt[s]; ok && now.Before(at) {
			continue
		}
		delete(m.retryAt, s)
		m.startOffer(s, id)
	}
}

func (m *Mesh) startOffer(addr, id transport.PeerID) {
	p, err := m.newPeer(id, addr, true, newSession())
	if err != nil {
		m.log.Warn("netcode: cannot create PeerConnection", "peer", id, "err", err)
		m.retryAt[addr] = time.Now().Add(restartGap)
		return
	}
	m.addPeer(p)
	// Not announced yet: until the answer names the peer's mesh ID, id may
	// be only its signaling ID (a re-joined peer, or one whose mesh ID we
	// never learned), and a "dup" answer drops the attempt; announcing now
	// would leave an EventConnecting for an ID that never gets another
	// event (issue #17). The answer announces it (onSignal).
	if err := m.sendOffer(p, false); err != nil {
		m.log.Warn("netcode: offer failed", "peer", id, "err", err)
		m.fail(p, err)
	}
}

func (m *Mesh) addPeer(p *peer) {
	m.mu.Lock()
	m.peers[p.id] = p
	m.mu.Unlock()
	m.sessions[p.session] = p
}

func (m *Mesh) announce(p *peer) {
	if !p.announced {
		p.announced = true
		m.emit(EventConnecting, p.id, nil)
	}
}

func (m *Mesh) onSignal(from transport.PeerID, data []byte) {
	msg, err := decodeSignal(data)
	if err != nil || msg.ID == m.local || m.badSeats[from] {
		m.log.Debug("netcode: bad signal ignored", "from", from, "err", err)
		return
	}
	if id, ok := m.who[from]; ok && id != msg.ID {
		if p := m.peers[id]; p != nil && p.addr == from {
			// One room member speaks for one mesh peer at a time, so a
			// member cannot make us open connections for made-up IDs.
			m.log.Debug("netcode: signal under a second identity ignored", "from", from, "id", msg.ID, "known-as", id)
			return
		}
	}
	m.who[from] = msg.ID
	switch msg.Type {
	case "offer":
		m.onOffer(from, msg)
	case "answer":
		p := m.sessions[msg.Session]
		if p == nil || !p.offerer || p.addr != from {
			return
		}
		if p.id != msg.ID && !m.rekey(p, msg.ID) {
			return
		}
		if !p.challenger {
			m.announce(p)
		}
		if p.failOnAnswer {
			m.fail(p, errNoCandidates)
			return
		}
		if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
			return // a duplicate answer
		}
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP}); err != nil {
			m.log.Warn("netcode: set remote answer", "peer", p.id, "err", err)
			return
		}
		m.remoteDescriptionSet(p)
	case "cand":
		if p := m.sessions[msg.Session]; p != nil && p.addr == from {
			m.addRemoteCandidate(p, *msg.Cand)
		}
	case "dup":
		// The peer says it already has a link to us (older meshes): drop
		// the new attempt. Where that peer lives in signaling is learned
		// only from a link that proves its key (trust.go), never from a
		// claim.
		if p := m.sessions[msg.Session]; p != nil && p.offerer && p.addr == from && !p.connected {
			m.log.Debug("netcode: peer already connected under its mesh ID", "peer", msg.ID, "signaling-id", from)
			m.teardown(p, EventUnknown, nil, false)
		}
	}
}

// rekey gives the provisional peer p (offered to by signaling ID) its mesh
// ID from the answer. If that ID already has a link, p becomes a
// challenger (trust.go): it must prove the key before it counts. It
// reports false if p was dropped instead.
func (m *Mesh) rekey(p *peer, id transport.PeerID) bool {
	if m.isBlocked(id) || m.refused[id] {
		m.teardown(p, EventUnknown, nil, false)
		return false
	}
	if old := m.peers[id]; old != nil {
		if !m.makeChallenger(p, id) {
			m.teardown(p, EventUnknown, nil, false)
			return false
		}
		return true
	}
	m.mu.Lock()
	delete(m.peers, p.id)
	p.id = id
	m.peers[id] = p
	m.mu.Unlock()
	return true
}

func (m *Mesh) onOffer(from transport.PeerID, msg signalMsg) {
	if m.isBlocked(msg.ID) {
		return
	}
	if c := m.sessions[msg.Session]; c != nil && c.challenger {
		return // challengers are short-lived: no ICE restarts
	}
	p := m.peers[msg.ID]
	if p != nil && p.session == msg.Session {
		// An ICE restart (or a repeat) on a connection we answer.
		if p.offerer || p.addr != from {
			return
		}
		if err := m.answer(p, msg.SDP); err != nil {
			m.log.Warn("netcode: answering ICE restart", "peer", p.id, "err", err)
		}
		return
	}
	if p != nil && p.addr != from {
		// Another signaling seat speaks for an ID we have a link to: the
		// peer re-joined signaling, or restarted with its kept Identity,
		// or someone claims its ID. Only a link that proves the key can
		// count (trust.go); ours is untouched meanwhile.
		m.challenge(from, msg)
		return
	}
	if p != nil {
		// The peer started over from the seat we know it by: replace the
		// old connection.
		m.log.Info("netcode: peer replaces its connection", "peer", p.id)
		kind := EventUnknown
		if p.connected {
			kind = EventDisconnected
		}
		m.teardown(p, kind, nil, false)
	}
	if m.refused[msg.ID] {
		return
	}
	p, err := m.newPeer(msg.ID, from, false, msg.Session)
	if err != nil {
		m.log.Warn("netcode: cannot create PeerConnection", "peer", msg.ID, "err", err)
		return
	}
	m.addPeer(p)
	m.announce(p)
	if err := m.answer(p, msg.SDP); err != nil {
		m.log.Warn("netcode: answering offer", "peer", p.id, "err", err)
		m.fail(p, err)
	}
}

func (m *Mesh) peerLeftSignaling(sigID transport.PeerID) {
	delete(m.present, sigID)
	delete(m.retryAt, sigID)
	id := m.meshID(sigID)
	delete(m.who, sigID)
	p := m.peers[id]
	if p == nil || p.addr != sigID {
		return
	}
	if p.connected && p.up {
		// The data path still works: keep the peer until it says bye, its
		// connection closes, or ICE loses it.
		p.gone = true
		return
	}
	kind := EventLeft
	if !p.announced {
		kind = EventUnknown
	}
	m.teardown(p, kind, nil, false)
}

// tick runs the timers: connect and peer timeouts, ICE restarts, pings,
// retries.
func (m *Mesh) tick(now time.Time) {
	for _, p := range m.peers {
		switch {
		case !p.connected:
			if now.Sub(p.created) > m.cfg.ConnectTimeout {
				m.log.Info("netcode: connect timeout", "peer", p.id)
				// A timeout is never a refusal (refused peers are not
				// retried): under loss pion's SCTP handshake can give up
				// (8 lost INITs or COOKIE ECHOs) and leave a "connected"
				// PeerConnection without data channels, on one side or
				// both, so a missing Hello may only mean a dead
				// association. Fail, and the offering side retries.
				what := "no data channel"
				if p.helloSent {
					what = "no Hello"
				}
				m.fail(p, fmt.Errorf("netcode: no connection within %v (%s)", m.cfg.ConnectTimeout, what))
			}
			continue
		case !p.troubleSince.IsZero():
			if now.Sub(p.troubleSince) > m.cfg.PeerTimeout {
				m.fail(p, fmt.Errorf("netcode: disconnected for %v", m.cfg.PeerTimeout))
				continue
			}
			m.maybeRestart(p, now)
		}
		if p.connected && p.budget.waiters.Load() == 0 {
			// (While a read loop of the peer waits for the game, SCTP's
			// shared receive window may starve the peer's other streams:
			// their silence is ours, not the sender's.)
			for _, l := range p.links {
				if l.rel == transport.Reliable {
					l.expire(now, m.cfg.ChunkTimeout)
				}
			}
		}
		if p.connected && !now.Before(p.nextPing) {
			p.nextPing = now.Add(m.cfg.PingInterval)
			p.pingSeq++
			_ = p.ping.writeControl(wire.AppendPing(buf8(), p.pingSeq, uint64(m.clock())))
		}
	}
	m.challengerTick(now)
	m.roomTick()
	m.reconcile(now)
}
