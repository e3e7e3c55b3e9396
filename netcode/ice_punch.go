//go:build !js

package netcode

import (
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

// Crossed punches (#20; the package doc has the story and the figures).
// A Linux router that accepts unsolicited datagrams for itself (no
// WAN-input firewall) keeps a conntrack entry for a check that arrives
// from the peer before our own check to that peer left (peer:port ->
// wan:port); MASQUERADE then moves our checks to that peer onto another
// port (the tuple is taken), which the peer's NAT drops. ICE checks from
// both sides always cross like that, and every ICE restart crosses them
// again, so such a pair stays relayed. On the ICE restarts of a relayed
// link (the relay->direct probes, upgrade.go) netcode does two things:
//
//   - priming: a zero-length datagram with a TTL of punchTTL goes from
//     each of our ICE sockets to each direct IPv4 address the peer
//     offered, as soon as both the socket and the address are known. It
//     crosses our own router (hop 1), which maps our socket for that
//     peer address, and dies at the next hop, before it can reach (and
//     poison) the peer's router;
//   - holding: the answering (ICE-controlled) side primes at once but
//     hands the offer's direct candidates to pion only punchHold later,
//     so its own checks to them leave after the offering side has
//     learned our candidates and primed towards them; meanwhile it
//     answers the offering side's checks (pion learns their source as a
//     peer-reflexive candidate). Relay candidates go to pion at once:
//     checks to a TURN server cross nothing, and pion's controlled side
//     selects a pair only once its own check of it passed, so holding
//     the relay's too paused the link for the hold on every probe
//     (netlab, no direct path: longest pause 0.50 s against 0.15 s).
//
// Either alone leaves the pair relayed (netlab TestRelayUpgrade/noinput,
// measured with each turned off). pion has neither knob: its ICE agent
// never sends a TTL-limited datagram and the controlled agent checks
// every pair at once; so netcode sees pion's sockets through the
// transport.Net it hands pion (punchNet), and holds candidates itself.

// punchTTL is a primer's TTL: it crosses the host's own router and dies
// at the next hop.
const punchTTL = 2

// ttlCmsg is the IP_TTL control message that sends one datagram with
// punchTTL (nil where this build cannot: no priming).
var ttlCmsg = ttlControl(punchTTL)

// maxPunchConns and maxPunchRemotes bound a peer's priming sets: the
// oldest entries (sockets of earlier ICE generations, which pion closed,
// and candidates of earlier offers) go first.
const (
	maxPunchConns   = 32
	maxPunchRemotes = 16
)

// punchSet is one PeerConnection's ICE sockets (as pion's agent opens
// them) and its peer's direct IPv4 candidate addresses. It primes only
// once armed (the first upgrade probe, either side); a nil set does
// nothing.
type punchSet struct {
	// active is set once, when the PeerConnection is made, if pion opens
	// its sockets through our punchNet (not with a caller's own
	// transport.Net).
	active bool

	mu      sync.Mutex // guards the following
	armed   bool
	conns   []*net.UDPConn
	remotes []netip.AddrPort
	primed  int // primers sent
}

// newPunchSet returns a set when this build can send primers, else nil.
func newPunchSet() *punchSet {
	if ttlCmsg == nil {
		return nil
	}
	return &punchSet{}
}

// on reports whether the set primes (or will once armed).
func (s *punchSet) on() bool { return s != nil && s.active }

// arm starts priming: every socket opened and every candidate received
// from now on.
func (s *punchSet) arm() {
	if !s.on() {
		return
	}
	s.mu.Lock()
	s.armed = true
	s.mu.Unlock()
}

// addConn records a socket pion opened and primes it towards the known
// remote addresses.
func (s *punchSet) addConn(c *net.UDPConn) {
	if s == nil {
		return
	}
	if la, ok := c.LocalAddr().(*net.UDPAddr); !ok || la.IP.To4() == nil {
		return // priming is IPv4's (IPv6 has no NAT to cross, as a rule)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == maxPunchConns {
		s.conns = append(s.conns[:0], s.conns[1:]...)
	}
	s.conns = append(s.conns, c)
	if s.armed {
		for _, r := range s.remotes {
			s.prime(c, r)
		}
	}
}

// addRemote records the address of a remote candidate (an RFC 8839
// candidate-attribute line) if it is a direct IPv4 one, and primes every
// socket towards it. A known address primes nothing again.
func (s *punchSet) addRemote(line string) {
	if s == nil {
		return
	}
	if ap, ok := candidateAddr(line); ok {
		s.addRemoteAddr(ap)
	}
}

// addRemoteAddr is addRemote for a parsed address.
func (s *punchSet) addRemoteAddr(ap netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.remotes {
		if r == ap {
			return
		}
	}
	if len(s.remotes) == maxPunchRemotes {
		s.remotes = append(s.remotes[:0], s.remotes[1:]...)
	}
	s.remotes = append(s.remotes, ap)
	if s.armed {
		for i := 0; i < len(s.conns); i++ {
			if !s.prime(s.conns[i], ap) {
				s.conns = append(s.conns[:i], s.conns[i+1:]...) // closed by pion
				i--
			}
		}
	}
}

// prime sends one primer from c to r; s.mu is held. It returns false
// when c is closed.
func (s *punchSet) prime(c *net.UDPConn, r netip.AddrPort) bool {
	_, _, err := c.WriteMsgUDPAddrPort(nil, ttlCmsg, r)
	if err == nil {
		s.primed++
	}
	return !errors.Is(err, net.ErrClosed)
}

// primers returns how many primers were sent.
func (s *punchSet) primers() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.primed
}

// candidateAddr returns the address of a direct (host, srflx or prflx)
// IPv4 UDP candidate line that is neither loopback, link-local,
// multicast nor unspecified.
func candidateAddr(line string) (netip.AddrPort, bool) {
	if !directCandidate(line) {
		return netip.AddrPort{}, false
	}
	// candidate:<foundation> <component> <transport> <priority> <address> <port> typ ...
	f := strings.Fields(strings.TrimPrefix(line, "candidate:"))
	if len(f) < 6 || !strings.EqualFold(f[2], "udp") {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddr(f[4])
	if err != nil || !a.Is4() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[5], 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(port)), true
}

// mdnsPort is multicast DNS's port (RFC 6762).
const mdnsPort = 5353

// punchNet is the transport.Net of one PeerConnection's ICE agent: the
// standard one, with every UDP socket it opens for host and
// server-reflexive candidates recorded in the peer's punchSet. The
// sockets are pion's own *net.UDPConn, not wrapped, so pion's fast paths
// (it matches the concrete type) stay.
type punchNet struct {
	transport.Net
	set *punchSet
}

func (n punchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if laddr != nil && laddr.Port == mdnsPort {
		return c, err // pion's mDNS socket, not an ICE candidate's
	}
	if u, ok := c.(*net.UDPConn); ok && err == nil {
		n.set.addConn(u)
	}
	return c, err
}

// usePunchNet makes se's ICE agent open its sockets through a punchNet
// for s, unless s is nil or the caller's SettingEngine hook chose a
// transport.Net of its own (a vnet in tests): pion keeps that field
// private with no getter, so it is read by reflection; a pion without it
// gets no priming (s stays inactive).
func usePunchNet(se *webrtc.SettingEngine, s *punchSet) {
	if s == nil {
		return
	}
	f := reflect.ValueOf(se).Elem().FieldByName("net")
	if !f.IsValid() || f.Kind() != reflect.Interface || !f.IsNil() {
		return
	}
	std, err := stdnet.NewNet()
	if err != nil {
		return
	}
	se.SetNet(punchNet{Net: std, set: s})
	s.active = true
}

// punchHold is how long the answering side of an upgrade probe holds the
// offer's candidates: long enough for ours to reach the offering side
// through signaling and its primers to leave (in the lab a few ms; on
// the internet about the signaling round trip, which the link's RTT
// stands in for).
func punchHold(rtt time.Duration) time.Duration {
	return min(250*time.Millisecond+2*rtt, time.Second)
}

// holdCandidates is called for an ICE restart offer we answer: while the
// link is relayed (an upgrade probe) it arms priming and holds the
// offer's direct candidates ("holding" above); watchLink releases them.
func (m *Mesh) holdCandidates(p *peer) {
	if !p.punch.on() || !p.connected || p.linkClass != LinkRelayed {
		return
	}
	p.punch.arm()
	rtt, _, _ := p.rtt.summary()
	p.holdUntil = time.Now().Add(punchHold(rtt))
	p.held = p.held[:0]
}

// releaseHeld hands the held candidates to pion once their time is up.
func (m *Mesh) releaseHeld(p *peer, now time.Time) {
	if p.holdUntil.IsZero() || now.Before(p.holdUntil) {
		return
	}
	p.holdUntil = time.Time{}
	held := p.held
	p.held = nil
	for _, c := range held {
		m.addRemoteCandidate(p, c)
	}
}
