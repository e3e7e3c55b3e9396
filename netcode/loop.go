package netcode

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/peerplay/peerplay/netcode/internal/wire"
	"github.com/peerplay/peerplay/netcode/transport"
)

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
		m.watchLink(p, now)
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
