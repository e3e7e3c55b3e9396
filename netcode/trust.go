package netcode

import (
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
)

// maxChallengers bounds the challenger PeerConnections open at once (one
// per signaling seat at most): each costs a PeerConnection, so seats that
// claim the IDs of connected peers cannot make us open many.
const maxChallengers = 8

// challengerGrace is how long a proven challenger stays open after it
// proved the key, so that the remote's side of it also sees the DTLS
// handshake finish (and learns our seat) before we close it.
const challengerGrace = time.Second

// challenge answers an offer from signaling seat from for msg.ID, an ID
// that already has a link from another seat: with a challenger, which
// proves the key or is refused, and never touches the existing link
// before it has.
func (m *Mesh) challenge(from transport.PeerID, msg signalMsg) {
	if m.refused[msg.ID] || !keyID(msg.ID) || !m.challengerRoom(from) {
		m.log.Debug("netcode: offer for a linked ID ignored", "id", msg.ID, "signaling-id", from)
		return
	}
	c, err := m.newPeer(msg.ID, from, false, msg.Session)
	if err != nil {
		m.log.Warn("netcode: cannot create PeerConnection", "peer", msg.ID, "err", err)
		return
	}
	c.challenger = true
	m.challengers[c.session] = c
	m.sessions[c.session] = c
	m.log.Info("netcode: another signaling seat claims a linked ID; it must prove the key", "id", msg.ID, "signaling-id", from)
	if err := m.answer(c, msg.SDP); err != nil {
		m.log.Warn("netcode: answering a challenger", "peer", msg.ID, "err", err)
		m.teardown(c, EventUnknown, nil, 0)
	}
}

// challengerRoom reports whether seat may open a challenger now.
func (m *Mesh) challengerRoom(seat transport.PeerID) bool {
	if len(m.challengers) >= maxChallengers {
		return false
	}
	for _, c := range m.challengers {
		if c.addr == seat {
			return false
		}
	}
	return true
}

// makeChallenger turns the provisional offering peer p, whose answer
// names id (which already has a link), into a challenger.
func (m *Mesh) makeChallenger(p *peer, id transport.PeerID) bool {
	if !keyID(id) || !m.challengerRoom(p.addr) {
		return false
	}
	m.mu.Lock()
	if m.peers[p.id] == p {
		delete(m.peers, p.id)
	}
	p.id = id
	m.mu.Unlock()
	p.challenger = true
	m.challengers[p.session] = p
	return true
}

// verify checks, once DTLS is up, that the certificate the remote
// presented proves the ID it claimed. It reports whether p may go on; a
// peer that fails is refused (EventRefused naming the ID its key does
// prove, with an *IdentityError) and its signaling seat ignored from then
// on. A proven challenger is resolved (resolveChallenger).
func (m *Mesh) verify(p *peer) bool {
	if p.verified {
		return true
	}
	if p.closed {
		return false
	}
	proven := false
	if der := remoteCert(p); der == nil {
		if canReadRemoteCert || !keyID(p.id) && !browserID(p.id) {
			m.impersonation(p, "", errNoRemoteCert)
			return false
		}
		m.log.Warn("netcode: cannot read the remote DTLS certificate here; ID not checked", "peer", p.id)
	} else {
		actual, err := certID(der)
		switch {
		case err != nil:
			m.impersonation(p, "", fmt.Errorf("netcode: remote DTLS certificate: %w", err))
			return false
		case actual == p.id:
			proven = true
		case browserID(p.id):
			// A browser cannot bind its ID to its certificate: accepted
			// unproven (see "Threat model").
		case !keyID(p.id):
			m.impersonation(p, actual, fmt.Errorf("netcode: claimed ID %q is not derived from a key", p.id))
			return false
		default:
			m.impersonation(p, actual, nil)
			return false
		}
	}
	p.verified = true
	if m.isBlocked(p.id) {
		m.refuseBlocked(p)
		return false
	}
	if p.challenger {
		if !proven {
			// Only a proof may touch an existing link.
			m.teardown(p, EventUnknown, nil, 0)
			return false
		}
		m.resolveChallenger(p)
		return !p.closed && !p.challenger
	}
	return true
}

// impersonation refuses p, whose certificate proves actual (empty if
// none could be read), not the ID it claimed.
func (m *Mesh) impersonation(p *peer, actual transport.PeerID, err error) {
	e := &IdentityError{Claimed: p.id, Actual: actual, Seat: p.addr, Err: err}
	m.log.Warn("netcode: peer refused: identity not proven", "err", e)
	m.badSeats[p.addr] = true
	if actual != "" {
		m.refused[actual] = true
	}
	m.mu.Lock()
	m.impersonations++
	m.mu.Unlock()
	announced := p.announced && !p.challenger
	if p.ctrl != nil && p.ctrl.pipe != nil {
		_ = p.ctrl.writeControl(wire.AppendRefuse(nil, wire.ReasonIdentity, ""))
	}
	m.teardown(p, EventUnknown, nil, flushRefuse)
	who := actual
	if who == "" {
		who = p.addr
	}
	m.emit(EventRefused, who, e)
	if announced {
		// The game saw EventConnecting for the claimed ID: end it.
		m.emit(EventFailed, e.Claimed, e)
	}
}

// resolveChallenger handles a challenger that proved the key. If the
// link is down the challenger replaces it. If the link still looks up,
// either the peer only moved in signaling (it re-joined a restarted
// server, or the server lost its rooms: the link is fine) or it restarted
// with its kept Identity (the link is dead and ICE has not noticed yet;
// the server may still hold its old seat for its resume grace, so the old
// seat need not have left): the link is probed with a ping, and
// challengerTick keeps it if a pong comes back (the link learns the new
// seat and the challenger closes after challengerGrace), or replaces it
// after probeTimeout.
func (m *Mesh) resolveChallenger(c *peer) {
	live := m.peers[c.id]
	m.who[c.addr] = c.id
	if live != nil && live.connected && live.up {
		c.probeSince = m.clock()
		live.pingSeq++
		_ = live.ping.writeControl(wire.AppendPing(buf8(), live.pingSeq, uint64(c.probeSince)))
		return
	}
	m.replaceLink(live, c)
}

// keepLink keeps live, which answered, and retires the challenger c.
func (m *Mesh) keepLink(live, c *peer) {
	m.log.Info("netcode: peer proved its key from a new signaling seat", "peer", c.id, "signaling-id", c.addr)
	live.addr = c.addr
	live.gone = false
	c.probeSince = 0
	c.retireAt = time.Now().Add(challengerGrace)
}

// replaceLink makes the challenger c the peer's link in place of live (nil
// if there is none).
func (m *Mesh) replaceLink(live, c *peer) {
	if live != nil {
		kind := EventUnknown
		if live.connected {
			kind = EventDisconnected
		}
		m.log.Info("netcode: peer replaces its connection (key proven)", "peer", c.id)
		m.teardown(live, kind, nil, 0)
	}
	c.probeSince = 0
	delete(m.challengers, c.session)
	c.challenger = false
	m.addPeer(c)
	m.announce(c)
}

// probeTimeout is how long a probed link has to answer: a few round
// trips, at least one ping interval.
func (m *Mesh) probeTimeout(live *peer) time.Duration {
	median, _, _ := live.rtt.summary()
	return max(m.cfg.PingInterval, 4*median)
}

// challengerTick resolves probing challengers and closes challengers that
// are done or too slow.
func (m *Mesh) challengerTick(now time.Time) {
	for _, c := range m.challengers {
		if c.probeSince != 0 {
			live := m.peers[c.id]
			switch {
			case live != nil && live.connected && live.up && time.Duration(live.lastPong.Load()) > c.probeSince:
				m.keepLink(live, c)
			case live == nil || !live.connected || !live.up || m.clock()-c.probeSince > m.probeTimeout(live):
				m.replaceLink(live, c)
				m.adoptChallenger(c)
			}
			continue
		}
		if !c.retireAt.IsZero() && now.After(c.retireAt) || now.Sub(c.created) > m.cfg.ConnectTimeout {
			m.teardown(c, EventUnknown, nil, 0)
		}
	}
}

// remoteCert returns the DER certificate the remote presented in the DTLS
// handshake, or nil.
func remoteCert(p *peer) []byte {
	sctp := p.pc.SCTP()
	if sctp == nil {
		return nil
	}
	dtls := sctp.Transport()
	if dtls == nil {
		return nil
	}
	return dtls.GetRemoteCertificate()
}

// Block closes every link to the peer with mesh ID id and refuses it
// (offers, answers, its handshake) until Unblock: the network side of a
// lobby kick. The peer is told (a Refuse frame with reason "blocked") and
// leaves Peers at once; EventRefused follows with a *RefusedError that
// matches ErrBlocked. Messages it sent before are still in the inboxes.
// reason (at most 255 bytes are sent) is for the blocked peer and the
// logs. Block returns ErrClosed after Close.
//
// If this mesh owns the signaling room (RoomInfo().Owner is its seat:
// the creator, then the oldest member), Block also has the server kick
// the peer's seat (the seat its proven link came from), so it leaves the
// room and stops counting in its listing; an honest kicked mesh then
// stays out (EventSignalingLost with ErrKicked). Unblock unkicks it. The
// server knows seats, not keys: a hostile peer can join again under a new
// seat, and then every mesh that blocked it still refuses its links.
func (m *Mesh) Block(id transport.PeerID, reason string) error {
	return m.onLoop(func() {
		m.blocked[id] = reason
		if p := m.peers[id]; p != nil {
			if p.verified && m.sig != nil && m.sigUp && m.sig.RoomInfo().Owner == m.sigLocal {
				// We own the signaling room: have the server remove the
				// peer's seat too, so it stops counting in the room. Only
				// a seat learned from a link that proved the key.
				if err := m.sig.Kick(p.addr); err == nil {
					m.kickedSeats[id] = p.addr
				}
			}
			m.refuseBlocked(p)
		}
		for _, c := range m.challengers {
			if c.id == id {
				m.teardown(c, EventUnknown, nil, 0)
			}
		}
	})
}

// Unblock lifts Block: the peer may connect again (the side with the
// lower signaling ID offers when it next reconciles, within a second or
// so). It returns ErrClosed after Close.
func (m *Mesh) Unblock(id transport.PeerID) error {
	return m.onLoop(func() {
		delete(m.blocked, id)
		delete(m.refused, id)
		if seat, ok := m.kickedSeats[id]; ok {
			delete(m.kickedSeats, id)
			if m.sig != nil {
				_ = m.sig.Unkick(seat)
			}
		}
	})
}

// Blocked returns the IDs Block blocked, with their reasons.
func (m *Mesh) Blocked() map[transport.PeerID]string {
	out := make(map[transport.PeerID]string)
	_ = m.onLoop(func() {
		for id, r := range m.blocked {
			out[id] = r
		}
	})
	return out
}

func (m *Mesh) isBlocked(id transport.PeerID) bool {
	_, ok := m.blocked[id]
	return ok
}

// refuseBlocked tells p it is blocked and tears it down.
func (m *Mesh) refuseBlocked(p *peer) {
	reason := m.blocked[p.id]
	if len(reason) > wire.MaxString {
		reason = reason[:wire.MaxString]
	}
	if p.ctrl != nil && p.ctrl.pipe != nil {
		_ = p.ctrl.writeControl(wire.AppendRefuse(nil, wire.ReasonBlocked, reason))
	}
	kind := EventRefused
	if !p.announced {
		kind = EventUnknown
	}
	m.log.Info("netcode: peer blocked", "peer", p.id, "reason", reason)
	m.teardown(p, kind, &RefusedError{Peer: p.id, Reason: wire.ReasonBlocked.String(), Detail: reason}, flushRefuse)
}

// onLoop runs f on the mesh loop and waits for it.
func (m *Mesh) onLoop(f func()) error {
	done := make(chan struct{})
	m.post(func() { f(); close(done) })
	select {
	case <-done:
		return nil
	case <-m.loopDone:
		select {
		case <-done:
			return nil
		default:
		}
		return ErrClosed
	}
}
