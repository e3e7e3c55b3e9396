package netcode

import (
	"errors"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

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
	m.teardown(p, kind, nil, 0)
}
