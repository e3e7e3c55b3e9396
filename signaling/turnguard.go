package signaling

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // coturn's use-auth-secret scheme is HMAC-SHA1 by definition.
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// What ServeTURN relays to, and for whom (threat model: anyone who joins a
// room gets a TURN credential, so the relay must not be a way into the
// server's networks, nor a way to hold the server's sockets).
//
//   - Peer addresses: a permission (CreatePermission, ChannelBind, and the
//     Connect of a TCP allocation) to loopback, RFC 1918, CGNAT
//     (100.64/10), link-local, multicast, unspecified, reserved (240/4,
//     broadcast), IPv6 loopback, ULA (fc00::/7), link-local (fe80::/10),
//     multicast, IPv4-mapped forms of those, or one of the server's own
//     addresses (its interfaces) is refused, unless the address is in
//     TURNAllowPeers (a LAN deployment). The relay IP itself is allowed,
//     because two relay-only peers on one server talk relay to relay; but
//     a relay socket sends to the relay IP (or any own address) only on a
//     port of a live relay socket of this server, so the relay cannot
//     reach the server's own services (signaling, admin, SSH).
//   - TCP allocations (RFC 6062) are refused unless TURNAllowTCP.
//   - Quotas: at most TURNMaxAllocationsPerUser live allocations per
//     credential user (one seat) and TURNMaxAllocationsPerIP per client
//     address (beyond, 486 Allocation Quota Reached), and at most
//     TURNMaxPermissions permitted peer addresses per allocation (beyond,
//     403). pion/turn has no bandwidth limit: the allocation and
//     permission quotas bound what one member can hold.
//   - Credentials: an Allocate needs an unexpired credential of a seat
//     joined on this Server (unless TURNAnyUser); other requests on an
//     existing allocation (refresh, permission, channel bind) accept an
//     expired one, so a session outlives the short TTL while a leaked
//     credential soon opens nothing new.

// deniedPeers are the prefixes a TURN relay refuses by default.
var deniedPeers = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// parsePrefix reads "10.0.0.0/8" or a single address "192.168.1.7".
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// TURNPeerAllowed is ServeTURN's decision for a permission to ip: false
// for the denied ranges (see ServeTURN) and the server's own addresses
// (own), true for anything else or anything in allow.
func TURNPeerAllowed(ip net.IP, own, allow []netip.Prefix) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsPrivate() {
		return false
	}
	for _, list := range [][]netip.Prefix{deniedPeers, own} {
		for _, p := range list {
			if p.Contains(a) {
				return false
			}
		}
	}
	return true
}

// ownPrefixes are the server's own addresses: its interfaces' and the
// relay IP.
func ownPrefixes(relay net.IP) []netip.Prefix {
	var out []netip.Prefix
	add := func(ip net.IP) {
		if a, ok := netip.AddrFromSlice(ip); ok {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	add(relay)
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, ad := range addrs {
			if n, ok := ad.(*net.IPNet); ok {
				add(n.IP)
			}
		}
	}
	return out
}

// turnQuota counts live allocations per user and per client address,
// and the permitted peer addresses of each client 5-tuple's allocation.
type turnQuota struct {
	mu     sync.Mutex // guards the maps
	byUser map[string]int
	byIP   map[string]int
	perms  map[string]map[string]bool // client address → permitted peer IPs
}

// permit decides a permission for src to peer: an existing one (a
// refresh) always, a new one while src holds fewer than limit.
func (q *turnQuota) permit(src, peer string, limit int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	set := q.perms[src]
	return set[peer] || len(set) < limit
}

func (q *turnQuota) permission(src, peer string, add bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.perms == nil {
		q.perms = make(map[string]map[string]bool)
	}
	set := q.perms[src]
	if add {
		if set == nil {
			set = make(map[string]bool)
			q.perms[src] = set
		}
		set[peer] = true
		return
	}
	delete(set, peer)
	if len(set) == 0 {
		delete(q.perms, src)
	}
}

func addrIP(a net.Addr) string {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.IP.String()
	case *net.TCPAddr:
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func (q *turnQuota) add(user, ip string, d int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byUser == nil {
		q.byUser, q.byIP = make(map[string]int), make(map[string]int)
	}
	if q.byUser[user] += d; q.byUser[user] <= 0 {
		delete(q.byUser, user)
	}
	if q.byIP[ip] += d; q.byIP[ip] <= 0 {
		delete(q.byIP, ip)
	}
}

// allowAllocation is ServeTURN's QuotaHandler; user is what turnAuth
// returned (the credential's user part).
func (s *Server) allowAllocation(user, _ string, src net.Addr) bool {
	q := &s.quota
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.byUser[user] >= s.cfg.TURNMaxAllocationsPerUser:
		s.stats.refuse(RefuseTURNUser)
		return false
	case q.byIP[addrIP(src)] >= s.cfg.TURNMaxAllocationsPerIP:
		s.stats.refuse(RefuseTURNIP)
		return false
	}
	return true
}

// turnAuth is ServeTURN's AuthHandler: coturn's use-auth-secret scheme,
// with the Allocate rules above.
func (s *Server) turnAuth(ra *turn.RequestAttributes) (string, []byte, bool) {
	exp, user, ok := strings.Cut(ra.Username, ":")
	t, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || user == "" {
		return "", nil, false
	}
	if ra.Method == stun.MethodAllocate {
		if t < time.Now().Unix() {
			return "", nil, false
		}
		if !s.cfg.TURNAnyUser && !s.isSeated(user) {
			s.stats.refuse(RefuseTURNNotSeated)
			return "", nil, false
		}
	}
	m := hmac.New(sha1.New, []byte(s.cfg.TURNSecret))
	m.Write([]byte(ra.Username))
	password := base64.StdEncoding.EncodeToString(m.Sum(nil))
	return user, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

var errTURNTCPOff = errors.New("signaling: TURN TCP allocations are off")

// noTCPRelay refuses TCP allocations (RFC 6062) of the generator it wraps.
type noTCPRelay struct {
	turn.RelayAddressGenerator
	s *Server
}

func (g noTCPRelay) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	g.s.stats.refuse(RefuseTURNTCP)
	return nil, nil, errTURNTCPOff
}

func (g noTCPRelay) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	g.s.stats.refuse(RefuseTURNTCP)
	return nil, errTURNTCPOff
}

// relayGuard wraps the relay address generator: it records the ports of
// live relay sockets and wraps each socket so that it sends to an own
// address only on one of those ports.
type relayGuard struct {
	turn.RelayAddressGenerator
	s   *Server
	own []netip.Prefix

	mu    sync.Mutex // guards ports
	ports map[int]int
}

func (g *relayGuard) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGenerator.AllocatePacketConn(c)
	if err != nil {
		return pc, addr, err
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	g.mu.Lock()
	if g.ports == nil {
		g.ports = make(map[int]int)
	}
	g.ports[port]++
	g.mu.Unlock()
	return &guardedRelay{PacketConn: pc, g: g, port: port}, addr, nil
}

// allowed reports whether a is in TURNAllowPeers (the guard then lets
// every port through, as the permission handler does).
func (g *relayGuard) allowed(a netip.Addr) bool {
	for _, p := range g.s.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (g *relayGuard) isRelayPort(port int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ports[port] > 0
}

type guardedRelay struct {
	net.PacketConn
	g    *relayGuard
	port int
	once sync.Once
}

func (r *guardedRelay) WriteTo(p []byte, to net.Addr) (int, error) {
	if ua, ok := to.(*net.UDPAddr); ok {
		if a, ok := netip.AddrFromSlice(ua.IP); ok && !r.g.allowed(a.Unmap()) {
			a = a.Unmap()
			for _, pf := range r.g.own {
				if pf.Contains(a) && !r.g.isRelayPort(ua.Port) {
					r.g.s.stats.refuse(RefuseTURNPeer)
					return len(p), nil // dropped, like a filtered datagram
				}
			}
		}
	}
	return r.PacketConn.WriteTo(p, to)
}

func (r *guardedRelay) Close() error {
	r.once.Do(func() {
		r.g.mu.Lock()
		if r.g.ports[r.port]--; r.g.ports[r.port] <= 0 {
			delete(r.g.ports, r.port)
		}
		r.g.mu.Unlock()
	})
	return r.PacketConn.Close()
}

// turnGuards returns the permission handler, quota handler and event
// handler of ServeTURN, and wraps gen in the relay guard.
func (s *Server) turnGuards(relay net.IP, gen turn.RelayAddressGenerator) (turn.PermissionHandler, turn.QuotaHandler, turn.EventHandler, turn.RelayAddressGenerator) {
	own := ownPrefixes(nil)
	relayIP, _ := netip.AddrFromSlice(relay)
	relayIP = relayIP.Unmap()
	guard := &relayGuard{RelayAddressGenerator: gen, s: s, own: append(ownPrefixes(relay), netip.PrefixFrom(relayIP, relayIP.BitLen()))}
	perm := func(src net.Addr, peer net.IP) bool {
		if !s.quota.permit(src.String(), peer.String(), s.cfg.TURNMaxPermissions) {
			s.stats.refuse(RefuseTURNPerms)
			return false
		}
		if a, ok := netip.AddrFromSlice(peer); ok && a.Unmap() == relayIP {
			return true // relay to relay; ports checked by the guard
		}
		if TURNPeerAllowed(peer, own, s.allow) {
			return true
		}
		s.stats.refuse(RefuseTURNPeer)
		s.log.Debug("signaling: TURN permission refused", "peer", peer)
		return false
	}
	ev := turn.EventHandler{
		OnAllocationCreated: func(src, _ net.Addr, _, user, _ string, _ net.Addr, _ int) {
			s.quota.add(user, addrIP(src), 1)
		},
		OnAllocationDeleted: func(src, _ net.Addr, _, user, _ string) {
			s.quota.add(user, addrIP(src), -1)
		},
		OnPermissionCreated: func(src, _ net.Addr, _, _, _ string, _ net.Addr, peer net.IP) {
			s.quota.permission(src.String(), peer.String(), true)
		},
		OnPermissionDeleted: func(src, _ net.Addr, _, _, _ string, _ net.Addr, peer net.IP) {
			s.quota.permission(src.String(), peer.String(), false)
		},
		OnAuth: func(_, _ net.Addr, _, _, _ string, _ string, verdict bool) {
			if !verdict {
				s.stats.refuse(RefuseTURNAuth)
			}
		},
	}
	return perm, s.allowAllocation, ev, guard
}
