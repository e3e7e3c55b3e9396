package netcode

import (
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/transport"
)

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
			m.teardown(p, EventUnknown, nil, 0)
		}
	}
}

// rekey gives the provisional peer p (offered to by signaling ID) its mesh
// ID from the answer. If that ID already has a link, p becomes a
// challenger (trust.go): it must prove the key before it counts. It
// reports false if p was dropped instead.
func (m *Mesh) rekey(p *peer, id transport.PeerID) bool {
	if m.isBlocked(id) || m.refused[id] {
		m.teardown(p, EventUnknown, nil, 0)
		return false
	}
	if old := m.peers[id]; old != nil {
		if !m.makeChallenger(p, id) {
			m.teardown(p, EventUnknown, nil, 0)
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
		m.holdCandidates(p)
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
		m.teardown(p, kind, nil, 0)
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
