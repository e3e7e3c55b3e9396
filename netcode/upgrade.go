package netcode

import (
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// upgradeFirst is how long a link stays relayed before the first
// relay->direct probe; each later quick probe waits twice as long as the
// one before (1, 2, 4, 8, 16 s with the default five), capped at
// Config.UpgradeInterval, which then spaces the slow probes.
const upgradeFirst = time.Second

// upgradeDelay is how long after the link is back on a relayed pair the
// probe that follows n earlier ones is due, and false when none is.
func upgradeDelay(cfg *Config, n int) (time.Duration, bool) {
	if cfg.UpgradeProbes < 0 {
		return 0, false
	}
	slow := cfg.UpgradeInterval
	if slow > 0 {
		slow = max(slow, upgradeFirst)
	}
	if n < cfg.UpgradeProbes {
		d := upgradeFirst << min(n, 30)
		if slow > 0 {
			d = min(d, slow)
		}
		return d, true
	}
	return slow, slow > 0
}

// linkCheckInterval paces watchLink per peer: reading the selected pair
// copies both candidates through their string form in pion (a few
// allocations), so not at every 100 ms tick.
const linkCheckInterval = 250 * time.Millisecond

// watchLink runs on every tick for each peer. For a connected peer that
// is up, it reports a change of the link's class (EventLinkChanged) and,
// on the offering side, makes the relay->direct probes: while the
// selected pair is relayed and both sides offered a direct candidate, an
// ICE restart now and then (Config.UpgradeProbes quick ones, spaced by
// upgradeFirst doubling, then one per Config.UpgradeInterval for as long
// as the link stays relayed). The count is never reset for a peer, so a
// link that goes direct and relayed again gets the slow pace at once: a
// peer cannot buy itself quick probes again. An ICE restart keeps DTLS, SCTP and every data
// channel; it gathers and checks every pair again, and the acceptance
// waits (pion_native.go) make a direct pair that works win over the
// relay. A probe that finds no direct path leaves the link relayed after
// a short pause (see the package doc, "Relay to direct").
//
// A connected link without a selected pair (an ICE restart in progress,
// on either side: a probe, or the offerer's probe as the answerer sees
// it) for longer than Config.ICEDisconnectedTimeout counts as a
// disconnection (EventDisconnected, then the usual ICE restarts): the
// path was lost meanwhile, and pion, whose restarted agent is still
// checking, would report that only after its disconnected and failed
// timeouts together.
func (m *Mesh) watchLink(p *peer, now time.Time) {
	m.releaseHeld(p, now)
	if !p.connected || !p.up || !p.troubleSince.IsZero() {
		p.noPairSince = time.Time{}
		return
	}
	if now.Before(p.nextLinkCheck) {
		return
	}
	p.nextLinkCheck = now.Add(linkCheckInterval)
	local, remote := selectedPair(p.pc)
	class := max(local, remote).Class()
	if class == LinkClassUnknown {
		if p.noPairSince.IsZero() {
			p.noPairSince = now
		} else if now.Sub(p.noPairSince) > m.cfg.ICEDisconnectedTimeout {
			m.log.Info("netcode: no ICE pair after a restart", "peer", p.id, "for", now.Sub(p.noPairSince))
			p.noPairSince = time.Time{}
			p.up = false
			p.troubleSince = now
			m.emit(EventDisconnected, p.id, nil)
			m.maybeRestart(p, now)
		}
		return
	}
	p.noPairSince = time.Time{}
	if class != p.linkClass {
		if p.linkClass != LinkClassUnknown {
			m.log.Info("netcode: link changed", "peer", p.id, "link", max(local, remote), "probes", p.upgrades)
			m.emit(EventLinkChanged, p.id, nil)
		}
		p.linkClass = class
	}
	if class != LinkRelayed {
		p.upgradeAt = time.Time{}
		return
	}
	if !p.offerer || !m.sigUp || m.cfg.RelayOnly || !p.localDirect || !p.remoteDirect {
		return
	}
	if p.upgradeAt.IsZero() {
		if d, ok := upgradeDelay(&m.cfg, p.upgrades); ok {
			p.upgradeAt = now.Add(d)
		}
		return
	}
	if now.Before(p.upgradeAt) || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	p.upgrades++
	p.upgradeAt = time.Time{} // the next is scheduled once the link is back on a pair
	p.mu.Lock()
	p.upgradeProbes++
	p.mu.Unlock()
	m.log.Info("netcode: ICE restart to find a direct path", "peer", p.id, "probe", p.upgrades)
	p.punch.arm() // prime our sockets for this restart (ice_punch.go)
	if err := m.sendOffer(p, true); err != nil {
		m.log.Warn("netcode: ICE restart failed", "peer", p.id, "err", err)
	}
}

// directCandidate reports whether an ICE candidate line (RFC 8839
// candidate-attribute, as trickled) is a direct one: host, srflx or
// prflx, not relay. An empty line (end of candidates) is not.
func directCandidate(line string) bool {
	i := strings.Index(line, " typ ")
	if i < 0 {
		return false
	}
	typ, _, _ := strings.Cut(line[i+len(" typ "):], " ")
	return typ == "host" || typ == "srflx" || typ == "prflx"
}
