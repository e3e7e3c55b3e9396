package netcode

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
)

// peer is one remote peer and its PeerConnection. Unless noted, fields
// are owned by the mesh loop goroutine.
type peer struct {
	m *Mesh
	// id is the peer's mesh identity as claimed in its signals (derived
	// from its key; see identity.go), until the DTLS handshake proves it
	// (verified). On the offering side it is the signaling ID until the
	// answer names the peer. It is fixed once the peer is announced
	// (EventConnecting).
	id transport.PeerID
	// addr is the signaling ID signals to the peer go to (it differs from
	// id after the peer's mesh re-joined a restarted signaling server).
	addr    transport.PeerID
	offerer bool
	session uint64
	// challenger: a link for an ID that already had one, from another
	// signaling seat; not in Mesh.peers until it proves the key (trust.go).
	challenger bool
	verified   bool      // the remote's DTLS certificate proved id
	retireAt   time.Time // a proven challenger whose job is done closes then
	// failOnAnswer: gathering found nothing before the answer named the
	// peer; it fails (EventFailed) once it is announced.
	failOnAnswer bool
	pc           *webrtc.PeerConnection
	created      time.Time
	announced    bool // EventConnecting was emitted

	remoteSet    bool
	pendingCands []webrtc.ICECandidateInit
	helloSent    bool
	helloRecv    bool
	opened       int
	connected    bool // handshake done, every channel open, published
	up           bool // the PeerConnection is in state connected
	gone         bool // the peer left signaling
	troubleSince time.Time
	restarts     int // ICE restarts in the current trouble
	lastRestart  time.Time
	// linkClass is the link's class at the last tick (upgrade.go);
	// upgrades counts relay->direct probes, upgradeAt is when the next
	// is due (zero: not scheduled); localDirect and remoteDirect say a
	// non-relay candidate was gathered here and received from the peer;
	// noPairSince is the first tick that saw the connected link without
	// a selected pair (zero: it has one).
	linkClass                 LinkClass
	upgrades                  int
	upgradeAt, noPairSince    time.Time
	nextLinkCheck             time.Time // watchLink's next look at the pair
	localDirect, remoteDirect bool
	pingSeq                   uint32
	nextPing                  time.Time
	closed                    bool
	done                      chan struct{} // closed when the peer is torn down
	localCands                int           // local ICE candidates gathered before the handshake
	turnErr                   *TURNError    // the latest failed TURN allocation, if any
	unwatch                   func()        // stops the browser's TURN error listener

	// punch primes this peer's sockets towards its direct candidates
	// (nil: not on this build); holdUntil, when set, is when the
	// candidates held in held go to pion (an upgrade probe we answer,
	// ice_punch.go).
	punch     *punchSet
	holdUntil time.Time
	held      []webrtc.ICECandidateInit

	ctrl, ping *link
	links      []*link // application channels, Config.Channels order
	budget     *budget // memory held for this peer (Config.PeerMemory)

	rtt rttWindow
	// lastPong is m.clock() at the last pong on the ping channel, written
	// by the ping link's read loop.
	lastPong atomic.Int64
	// probeSince is, for a proven challenger whose peer has a live link,
	// when that link was probed (m.clock()); 0: not probing.
	probeSince time.Duration

	mu            sync.Mutex // guards the following, read by Stats
	name          string
	iceRestarts   int
	upgradeProbes int
}

func (p *peer) allLinks() []*link {
	return append([]*link{p.ctrl, p.ping}, p.links...)
}

func newSession() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		if s := binary.BigEndian.Uint64(b[:]); s != 0 {
			return s
		}
	}
}

// newPeer creates the PeerConnection and its pre-negotiated channels, and
// wires pion's callbacks to the mesh loop.
func (m *Mesh) newPeer(id, addr transport.PeerID, offerer bool, session uint64) (*peer, error) {
	p := &peer{m: m, id: id, addr: addr, offerer: offerer, session: session,
		created: time.Now(), done: make(chan struct{}), budget: newBudget(m.cfg.PeerMemory)}
	conf := webrtc.Configuration{ICEServers: m.iceServers()}
	if m.cfg.RelayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	if !m.cfg.RelayOnly {
		p.punch = newPunchSet()
	}
	pc, unwatch, err := m.api.newPeerConnection(conf, func(e *TURNError) {
		m.post(func() { m.onTURNError(p, e) })
	}, p.punch)
	if err != nil {
		return nil, fmt.Errorf("netcode: new PeerConnection: %w", err)
	}
	p.pc, p.unwatch = pc, unwatch
	mk := func(kind linkKind, id uint16, label string, rel transport.Reliability, ch *channel) (*link, error) {
		dc, err := pc.CreateDataChannel(label, dataChannelInit(id, rel))
		if err != nil {
			return nil, fmt.Errorf("netcode: data channel %q: %w", label, err)
		}
		l := &link{p: p, kind: kind, ch: ch, rel: rel, dc: dc}
		dc.OnOpen(func() {
			// Detach here, in OnOpen, as pion requires.
			pp, err := openPipe(dc)
			m.post(func() { m.onLinkOpen(p, l, pp, err) })
		})
		return l, nil
	}
	if p.ctrl, err = mk(linkControl, controlChannelID, controlLabel, transport.Reliable, nil); err == nil {
		p.ping, err = mk(linkPing, pingChannelID, pingLabel, transport.Unreliable, nil)
	}
	for i, ch := range m.chans {
		if err != nil {
			break
		}
		var l *link
		l, err = mk(linkUser, uint16(firstUserChannelID+i), ch.spec.Label, ch.spec.Reliability, ch)
		p.links = append(p.links, l)
	}
	if err != nil {
		m.closeAsync(p, 0)
		return nil, err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			m.post(func() { m.gatheringDone(p) })
			return
		}
		init := c.ToJSON()
		m.post(func() { m.sendCandidate(p, init) })
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		m.post(func() { m.onPCState(p, s) })
	})
	return p, nil
}

// iceServers converts the configured or signaled servers for pion.
func (m *Mesh) iceServers() []webrtc.ICEServer {
	src := m.cfg.ICEServers
	if src == nil && m.sig != nil {
		src = m.sig.ICEServers()
	}
	out := make([]webrtc.ICEServer, 0, len(src))
	for _, s := range src {
		ws := webrtc.ICEServer{URLs: slices.Clone(s.URLs), Username: s.Username}
		if s.Credential != "" {
			ws.Credential = s.Credential
		}
		out = append(out, ws)
	}
	return out
}

func (m *Mesh) signal(p *peer, msg signalMsg) {
	msg.ID = m.local
	if m.cfg.testClaim != "" {
		msg.ID = m.cfg.testClaim
	}
	msg.Session = p.session
	if m.sig == nil {
		return
	}
	if err := m.sig.Signal(p.addr, encodeSignal(msg)); err != nil {
		m.log.Debug("netcode: signal not sent", "peer", p.id, "type", msg.Type, "err", err)
	}
}

// sendOffer creates and sends an offer (an ICE restart if restart).
func (m *Mesh) sendOffer(p *peer, restart bool) error {
	var opts *webrtc.OfferOptions
	if restart {
		opts = &webrtc.OfferOptions{ICERestart: true}
	}
	offer, err := p.pc.CreateOffer(opts)
	if err != nil {
		return fmt.Errorf("netcode: create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("netcode: set local offer: %w", err)
	}
	m.signal(p, signalMsg{Type: "offer", SDP: offer.SDP})
	return nil
}

// answer applies a remote offer and sends the answer.
func (m *Mesh) answer(p *peer, sdp string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("netcode: set remote offer: %w", err)
	}
	m.remoteDescriptionSet(p)
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("netcode: create answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("netcode: set local answer: %w", err)
	}
	m.signal(p, signalMsg{Type: "answer", SDP: ans.SDP})
	return nil
}

// remoteDescriptionSet adds the remote candidates that arrived too early.
func (m *Mesh) remoteDescriptionSet(p *peer) {
	p.remoteSet = true
	for _, c := range p.pendingCands {
		if err := p.pc.AddICECandidate(c); err != nil {
			m.log.Debug("netcode: remote candidate rejected", "peer", p.id, "err", err)
		}
	}
	p.pendingCands = nil
}

// maxPendingCandidates bounds the remote candidates queued before the
// remote description: a real peer has a handful.
const maxPendingCandidates = 64

func (m *Mesh) addRemoteCandidate(p *peer, c webrtc.ICECandidateInit) {
	p.remoteDirect = p.remoteDirect || directCandidate(c.Candidate)
	p.punch.addRemote(c.Candidate)
	if !p.holdUntil.IsZero() && directCandidate(c.Candidate) {
		if len(p.held) < maxPendingCandidates {
			p.held = append(p.held, c)
		}
		return
	}
	if !p.remoteSet {
		if len(p.pendingCands) < maxPendingCandidates {
			p.pendingCands = append(p.pendingCands, c)
		}
		return
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		m.log.Debug("netcode: remote candidate rejected", "peer", p.id, "err", err)
	}
}

func (m *Mesh) sendCandidate(p *peer, c webrtc.ICECandidateInit) {
	if p.closed {
		return
	}
	p.localCands++
	p.localDirect = p.localDirect || directCandidate(c.Candidate)
	m.signal(p, signalMsg{Type: "cand", Cand: &c})
}

// errNoCandidates fails a peer whose ICE gathering found nothing to offer.
var errNoCandidates = errors.New("netcode: no local ICE candidate")

// onTURNError records that a TURN server gave p no relay allocation: the
// error travels with p's EventFailed, should p fail.
func (m *Mesh) onTURNError(p *peer, e *TURNError) {
	if p.closed {
		return
	}
	m.log.Warn("netcode: TURN allocation failed", "peer", p.id, "err", e)
	p.turnErr = e
}

// gatheringDone runs when p's ICE gathering is complete. A peer with no
// local candidate at all and a failed TURN allocation (RelayOnly with bad
// credentials, typically) cannot connect: it fails now rather than after
// ConnectTimeout.
func (m *Mesh) gatheringDone(p *peer) {
	if p.closed || p.connected || p.localCands > 0 || p.turnErr == nil {
		return
	}
	if !p.announced && p.offerer {
		// The answer names the peer (its mesh ID): fail it then, so the
		// game hears about it under that ID.
		p.failOnAnswer = true
		return
	}
	m.log.Info("netcode: no ICE candidate, TURN failed", "peer", p.id)
	m.fail(p, errNoCandidates)
}

// onLinkOpen runs when one data channel of p opened and was detached.
func (m *Mesh) onLinkOpen(p *peer, l *link, pp *pipe, err error) {
	if p.closed {
		if pp != nil {
			m.wg.Go(func() { _ = pp.close() })
		}
		return
	}
	if err != nil {
		m.log.Warn("netcode: data channel detach failed", "peer", p.id, "err", err)
		m.fail(p, fmt.Errorf("netcode: data channel: %w", err))
		return
	}
	l.pipe = pp
	p.opened++
	if !m.verify(p) || p.challenger {
		return // refused, or a challenger: it never carries data
	}
	if l.kind == linkControl && !m.startControl(p, l) {
		return
	}
	m.maybeConnected(p)
}

// startControl starts p's control link l: its read loop and our Hello.
func (m *Mesh) startControl(p *peer, l *link) bool {
	m.wg.Go(l.readLoop)
	hello, err := wire.AppendHello(nil, m.hello())
	if err == nil && m.cfg.testHello != nil {
		hello = m.cfg.testHello(hello)
	}
	if err == nil {
		err = l.writeControl(hello)
	}
	if err != nil {
		m.log.Warn("netcode: hello not sent", "peer", p.id, "err", err)
		m.fail(p, err)
		return false
	}
	p.helloSent = true
	return true
}

// adoptChallenger does for a challenger that replaced a link after a probe
// (challengerTick) what onLinkOpen skipped while it was a challenger: the
// handshake on its control link, if that link is open.
func (m *Mesh) adoptChallenger(p *peer) {
	if p.closed {
		return
	}
	if l := p.ctrl; l != nil && l.pipe != nil && !p.helloSent && !m.startControl(p, l) {
		return
	}
	m.maybeConnected(p)
}

func (m *Mesh) hello() wire.Hello {
	h := wire.Hello{Version: wire.ProtocolVersion, GameID: m.cfg.GameID, Build: m.cfg.Build, Name: m.cfg.Name}
	for _, c := range m.cfg.Channels {
		h.Channels = append(h.Channels, wire.Channel{Reliability: uint8(c.Reliability), Label: c.Label})
	}
	return h
}

// onControl handles what p's control read loop posts.
func (m *Mesh) onControl(p *peer, c wire.Control, err error) {
	if p.closed {
		return
	}
	if err != nil {
		if !p.helloRecv {
			m.refuse(p, wire.ReasonBadHandshake, err.Error())
		}
		return
	}
	switch c.Kind {
	case wire.KindHello:
		if p.helloRecv {
			return
		}
		mine := m.hello()
		switch {
		case c.Hello.Version != mine.Version:
			m.refuse(p, wire.ReasonVersion, fmt.Sprintf("ours %d, theirs %d", mine.Version, c.Hello.Version))
			return
		case c.Hello.GameID != mine.GameID || c.Hello.Build != mine.Build:
			m.refuse(p, wire.ReasonGameID, fmt.Sprintf("ours %q build %q, theirs %q build %q",
				mine.GameID, mine.Build, c.Hello.GameID, c.Hello.Build))
			return
		case !slices.Equal(c.Hello.Channels, mine.Channels):
			m.refuse(p, wire.ReasonChannels, fmt.Sprintf("ours %v, theirs %v", mine.Channels, c.Hello.Channels))
			return
		}
		p.helloRecv = true
		p.mu.Lock()
		p.name = c.Hello.Name
		p.mu.Unlock()
		m.maybeConnected(p)
	case wire.KindRefuse:
		if c.Reason != wire.ReasonBlocked {
			// A peer that blocked us may lift the block: keep trying
			// (its refusal of our offers is silent, so that is cheap).
			m.refused[p.id] = true
		}
		m.teardown(p, EventRefused, &RefusedError{Peer: p.id, ByRemote: true, Reason: c.Reason.String(), Detail: c.Detail}, 0)
	case wire.KindBye:
		m.teardown(p, EventLeft, nil, 0)
	}
}

// refuse ends the handshake with p: it tells p why, then closes.
func (m *Mesh) refuse(p *peer, r wire.Reason, detail string) {
	m.log.Info("netcode: refusing peer", "peer", p.id, "reason", r, "detail", detail)
	_ = p.ctrl.writeControl(wire.AppendRefuse(nil, r, detail))
	m.refused[p.id] = true
	m.teardown(p, EventRefused, &RefusedError{Peer: p.id, Reason: r.String(), Detail: detail}, flushRefuse)
}

// maybeConnected publishes p once the handshake is done and every channel
// is open: only then do Send and Peers see it and its read loops start.
func (m *Mesh) maybeConnected(p *peer) {
	if p.connected || !p.helloSent || !p.helloRecv || p.opened != 2+len(p.links) {
		return
	}
	p.connected = true
	p.up = true
	p.nextPing = time.Now()
	m.mu.Lock()
	m.connected[p.id] = p
	m.publishLocked()
	m.mu.Unlock()
	m.wg.Go(p.ping.readLoop)
	for _, l := range p.links {
		m.wg.Go(l.readLoop)
	}
	m.log.Info("netcode: peer connected", "peer", p.id, "offerer", p.offerer, "after", time.Since(p.created))
	m.emit(EventConnected, p.id, nil)
}

func (m *Mesh) onPCState(p *peer, s webrtc.PeerConnectionState) {
	if p.closed {
		return
	}
	m.log.Debug("netcode: connection state", "peer", p.id, "state", s)
	if p.challenger {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			m.verify(p)
		case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			m.teardown(p, EventUnknown, nil, 0)
		}
		return
	}
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if !m.verify(p) {
			return
		}
		p.up = true
		if !p.troubleSince.IsZero() {
			p.troubleSince = time.Time{}
			p.restarts = 0
			if p.connected {
				m.emit(EventConnected, p.id, nil)
			}
		}
	case webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed:
		p.up = false
		if !p.connected {
			if s == webrtc.PeerConnectionStateFailed {
				m.fail(p, errors.New("netcode: ICE failed before the handshake"))
			}
			return
		}
		if p.gone {
			m.teardown(p, EventLeft, nil, 0)
			return
		}
		if p.troubleSince.IsZero() {
			p.troubleSince = time.Now()
			m.emit(EventDisconnected, p.id, nil)
		}
		if s == webrtc.PeerConnectionStateFailed {
			// The last restart's candidates did not work either (they may
			// have been gathered while the network was down): try again
			// now rather than after restartGap.
			p.lastRestart = time.Time{}
		}
		m.maybeRestart(p, time.Now())
	case webrtc.PeerConnectionStateClosed:
		// The remote closed (DTLS close_notify).
		if !p.connected {
			// Before the handshake: the remote gave up on this attempt
			// (its connect timeout came first). A failed attempt, as
			// ours would be (EventFailed, the offerer retries), not a
			// peer that left (TestVNetSCTPHandshakeLost: one side
			// reported EventLeft, 3 in 6 runs at session start).
			m.fail(p, errors.New("netcode: the peer closed the connection before the handshake"))
			return
		}
		m.teardown(p, EventLeft, nil, 0)
	}
}

// restartGap spaces ICE restart attempts.
const restartGap = 2 * time.Second

func (m *Mesh) maybeRestart(p *peer, now time.Time) {
	if !p.offerer || !m.sigUp || p.restarts >= m.cfg.ICERestarts || now.Sub(p.lastRestart) < restartGap {
		return
	}
	if p.pc.SignalingState() != webrtc.SignalingStateStable {
		// The last offer is not answered yet (a loaded peer): another
		// offer now would fail (have-local-offer cannot take a second
		// one) and waste an attempt. Wait for the answer; PeerTimeout
		// still bounds the trouble.
		return
	}
	p.restarts++
	p.lastRestart = now
	p.mu.Lock()
	p.iceRestarts++
	p.mu.Unlock()
	m.log.Info("netcode: ICE restart", "peer", p.id, "attempt", p.restarts)
	if err := m.sendOffer(p, true); err != nil {
		m.log.Warn("netcode: ICE restart failed", "peer", p.id, "err", err)
	}
}

// fail drops p with EventFailed (if it was announced) and, on the offering
// side, schedules a fresh attempt while the peer stays in the room.
//
// A failed TURN allocation of p is wrapped into err: when no relay could
// be had, that is the likely reason, and the one an application can fix.
func (m *Mesh) fail(p *peer, err error) {
	if p.turnErr != nil && !errors.Is(err, ErrTURN) {
		err = fmt.Errorf("%w: %w", err, p.turnErr)
	}
	if p.offerer {
		m.retryAt[p.addr] = time.Now().Add(m.cfg.PingInterval + restartGap)
	}
	kind := EventFailed
	if !p.announced {
		kind = EventUnknown
	}
	m.teardown(p, kind, err, 0)
}

// teardown removes p, emits kind (unless EventUnknown) and closes the
// PeerConnection in the background, after letting a queued control frame
// out for up to flush (0: at once; flushBye, flushRefuse).
func (m *Mesh) teardown(p *peer, kind EventKind, err error, flush time.Duration) {
	if p.closed {
		return
	}
	p.closed = true
	close(p.done)
	m.mu.Lock()
	if m.peers[p.id] == p {
		delete(m.peers, p.id)
	}
	if m.connected[p.id] == p {
		delete(m.connected, p.id)
		m.publishLocked()
	}
	m.mu.Unlock()
	delete(m.sessions, p.session)
	if m.challengers[p.session] == p {
		delete(m.challengers, p.session)
	}
	if kind != EventUnknown {
		m.log.Info("netcode: peer gone", "peer", p.id, "event", kind, "err", err)
		m.emit(kind, p.id, err)
	}
	if kind == EventLeft {
		// Its signaling PeerLeft is probably on the way: do not offer to
		// it again meanwhile.
		m.retryAt[p.addr] = time.Now().Add(leaveGrace)
	}
	m.closeAsync(p, flush)
}

// closeAsync closes p's channels and PeerConnection in a goroutine:
// GracefulClose waits for pion and must not run in a pion callback.
func (m *Mesh) closeAsync(p *peer, flush time.Duration) {
	m.wg.Go(func() {
		if flush > 0 && p.ctrl != nil && p.ctrl.pipe != nil {
			// A refusal's wait ends early when the mesh closes (Close's
			// own Bye frames wait flushBye, the mesh closed already).
			var quit <-chan struct{}
			if flush == flushRefuse {
				quit = m.quit
			}
			deadline := time.Now().Add(flush)
			t := time.NewTicker(2 * time.Millisecond)
		wait:
			for p.ctrl.pipe.buffered() > 0 && time.Now().Before(deadline) {
				select {
				case <-t.C:
				case <-quit:
					break wait
				}
			}
			t.Stop()
		}
		for _, l := range p.allLinks() {
			if l != nil && l.pipe != nil {
				_ = l.pipe.close()
			}
		}
		for _, l := range p.links {
			if l != nil {
				l.releaseHeld() // an unfinished message of a peer that is gone
			}
		}
		if err := closePC(p.pc); err != nil {
			m.log.Debug("netcode: close PeerConnection", "peer", p.id, "err", err)
		}
		if p.unwatch != nil {
			p.unwatch()
		}
	})
}

// leaveGrace is how long a peer that left is not offered to again while
// signaling still lists it.
const leaveGrace = 5 * time.Second

// How long a closing peer waits for its last control frame to be
// acknowledged (the control link's buffered amount back to 0) before it
// closes the connection, which drops whatever SCTP has not sent yet.
//
// flushBye: a Bye is on the wire within microseconds on an idle machine,
// and losing it costs nothing (the remote learns of the close from DTLS
// close_notify and reports EventLeft all the same), so Close does not
// wait for the acknowledgement (SCTP's 200 ms delayed SACK).
//
// flushRefuse: a Refuse is what tells the remote why (EventRefused with
// the reason), and it never hears it otherwise: it would report the
// close as EventLeft or EventFailed and retry, and we ignore its offers.
// 30 ms was not enough on a starved machine (TestHostileHandshake failed
// under a CPU hog; with no wait at all, 28 runs in 50): wait for the
// acknowledgement, about 200 ms, or 1 s more if the packet was lost
// (SCTP's minimum RTO; TestVNetRefusalLost), bounded. A lying peer that
// never acknowledges keeps its refused PeerConnection open that long, in
// the background; Close cuts the wait short.
const (
	flushBye    = 30 * time.Millisecond
	flushRefuse = 5 * time.Second
)
