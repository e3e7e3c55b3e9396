package netlab

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"syscall"
	"time"
)

// NAT is the behaviour of a home router.
type NAT int

const (
	// NATUnknown is the zero value; AddRouter rejects it.
	NATUnknown NAT = iota
	// NATRestricted is iptables MASQUERADE: endpoint-independent mapping in
	// practice (conntrack keeps the source port unless it clashes) and
	// address-and-port-dependent filtering (only the exact remote addr:port
	// a host sent to may answer). RFC 4787 calls the combination
	// "port-restricted cone"; ICE gets through with server-reflexive
	// candidates.
	NATRestricted
	// NATSymmetric is MASQUERADE --random-fully: every new 5-tuple gets a
	// random source port, so the mapping STUN sees is not the one a peer
	// sees (address-and-port-dependent mapping), with the same filtering.
	// Two of them need TURN.
	NATSymmetric
)

func (n NAT) String() string {
	switch n {
	case NATRestricted:
		return "restricted"
	case NATSymmetric:
		return "symmetric"
	default:
		return "unknown"
	}
}

// Host is one network namespace with an address: a player's machine, a
// public server, or the internet namespace itself.
type Host struct {
	lab  *Lab
	name string
	ns   string
	addr netip.Addr
	gw   netip.Addr
}

// Name is the name the test gave the host.
func (h *Host) Name() string { return h.name }

// Namespace is the host's network namespace ("<prefix>-<run>-<name>").
func (h *Host) Namespace() string { return h.ns }

// Addr is the host's IPv4 address on its segment.
func (h *Host) Addr() netip.Addr { return h.addr }

// Gateway is the host's default gateway (invalid for the internet
// namespace, which has no default route).
func (h *Host) Gateway() netip.Addr { return h.gw }

func (h *Host) String() string { return h.name + "(" + h.addr.String() + ")" }

// Command returns a command that runs name inside the host's namespace
// (ip netns exec). It is killed when ctx ends and, through Pdeathsig, when
// the test process dies.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	ip, err := lookPath("ip")
	if err != nil {
		ip = "ip"
	}
	cmd := exec.CommandContext(ctx, ip, append([]string{"netns", "exec", h.ns, name}, args...)...)
	cmd.Env = toolEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Run runs a command inside the host's namespace and returns its combined
// output; the context bounds it.
func (h *Host) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := h.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %s %v: %w", h.name, name, args, err)
	}
	return out, nil
}

// Router is a home router: a namespace with a WAN leg on the internet
// bridge and a LAN bridge its hosts hang off, NATing them with iptables.
type Router struct {
	Host   // the router's own namespace; Addr is its WAN address
	nat    NAT
	lan    netip.Prefix
	lanGW  netip.Addr
	nhosts int
}

// NAT is the router's NAT behaviour.
func (r *Router) NAT() NAT { return r.nat }

// LAN is the router's LAN prefix (192.168.N.0/24).
func (r *Router) LAN() netip.Prefix { return r.lan }

// AddRouter adds a home router N (1, 2, ...): WAN 203.0.113.(10+N) on the
// internet bridge with the internet namespace as default gateway, LAN
// 192.168.N.0/24 on bridge lan0 with the router at .1, IPv4 forwarding on,
// and iptables:
//
//	-t nat -A POSTROUTING -s 192.168.N.0/24 -o wan0 -j MASQUERADE [--random-fully]
//	-A FORWARD -i lan0 -o lan0 -j ACCEPT  (bridged LAN traffic, with br_netfilter)
//	-A FORWARD -i lan0 -o wan0 -j ACCEPT
//	-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
//	-P FORWARD DROP
//	-A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
//	-A INPUT -i wan0 -j DROP
//
// The INPUT drop is what a home router's firewall does, and it matters for
// hole punching: an unsolicited datagram that the router accepted for
// itself would leave a conntrack entry (peer:port -> wan:port) behind, and
// MASQUERADE would then move the host's own packet to that peer onto
// another port (the tuple is taken), so both NATs would drop each other's
// packets for as long as the peer keeps sending. Dropped in the filter
// table, the datagram's conntrack entry is never confirmed.
func (l *Lab) AddRouter(name string, nat NAT) *Router {
	l.tb.Helper()
	l.checkName(name)
	if nat != NATRestricted && nat != NATSymmetric {
		l.tb.Fatalf("netlab: AddRouter %s: NAT %v", name, nat)
	}
	if l.routers >= 89 {
		l.tb.Fatalf("netlab: too many routers")
	}
	l.routers++
	n := l.routers
	ns := l.addNS(name)
	wan := netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + n)})
	lan := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(n), 0}), 24)
	lanGW := netip.AddrFrom4([4]byte{192, 168, byte(n), 1})

	inetPort := fmt.Sprintf("r%d", n)
	l.veth(ns, "wan0", l.inet.ns, inetPort)
	l.must(ipCmd("-n", l.inet.ns, "link", "set", inetPort, "master", "inet0", "up"))
	l.must(ipCmd("-n", ns, "addr", "add", wan.String()+"/24", "dev", "wan0"))
	l.must(ipCmd("-n", ns, "link", "set", "wan0", "up"))
	l.must(ipCmd("-n", ns, "route", "add", "default", "via", InternetAddr.String()))
	l.must(ipCmd("-n", ns, "link", "add", "lan0", "type", "bridge", "forward_delay", "0"))
	l.must(ipCmd("-n", ns, "addr", "add", lanGW.String()+"/24", "dev", "lan0"))
	l.must(ipCmd("-n", ns, "link", "set", "lan0", "up"))
	l.must(nsCmd(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))

	masq := []string{"iptables", "-w", "5", "-t", "nat", "-A", "POSTROUTING", "-s", lan.String(), "-o", "wan0", "-j", "MASQUERADE"}
	if nat == NATSymmetric {
		masq = append(masq, "--random-fully")
	}
	l.must(nsCmd(ns, masq...))
	for _, rule := range [][]string{
		{"-A", "FORWARD", "-i", "lan0", "-o", "lan0", "-j", "ACCEPT"},
		{"-A", "FORWARD", "-i", "lan0", "-o", "wan0", "-j", "ACCEPT"},
		{"-A", "FORWARD", "-i", "wan0", "-o", "lan0", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-P", "FORWARD", "DROP"},
		{"-A", "INPUT", "-i", "wan0", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-i", "wan0", "-j", "DROP"},
	} {
		l.must(nsCmd(ns, append([]string{"iptables", "-w", "5"}, rule...)...))
	}

	return &Router{
		Host: Host{lab: l, name: name, ns: ns, addr: wan, gw: InternetAddr},
		nat:  nat, lan: lan, lanGW: lanGW,
	}
}

// AddHost adds host M (1, 2, ...) on the router's LAN: 192.168.N.(10+M),
// default route via the router. Hosts of one router share a segment and
// reach each other directly.
func (r *Router) AddHost(name string) *Host {
	l := r.lab
	l.tb.Helper()
	l.checkName(name)
	if r.nhosts >= 200 {
		l.tb.Fatalf("netlab: too many hosts on %s", r.name)
	}
	r.nhosts++
	addr := netip.AddrFrom4([4]byte{192, 168, r.lan.Addr().As4()[2], byte(10 + r.nhosts)})
	return l.addHost(name, r.ns, "lan0", fmt.Sprintf("h%d", r.nhosts), addr, r.lanGW)
}

// AddPublicHost adds host N (1, 2, ...) straight on the internet bridge with
// a public address 203.0.113.(100+N) and no NAT.
func (l *Lab) AddPublicHost(name string) *Host {
	l.tb.Helper()
	l.checkName(name)
	if l.publics >= 99 {
		l.tb.Fatalf("netlab: too many public hosts")
	}
	l.publics++
	addr := netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + l.publics)})
	return l.addHost(name, l.inet.ns, "inet0", fmt.Sprintf("p%d", l.publics), addr, InternetAddr)
}

// AddLoopbackHost adds a machine with no network but loopback: a
// namespace with only lo up (127.0.0.1), no other interface and no route.
// Addr is 127.0.0.1; it reaches nothing but itself.
func (l *Lab) AddLoopbackHost(name string) *Host {
	l.tb.Helper()
	l.checkName(name)
	ns := l.addNS(name)
	return &Host{lab: l, name: name, ns: ns, addr: netip.AddrFrom4([4]byte{127, 0, 0, 1})}
}

// LAN is an isolated segment: a switch namespace with bridge lan0 and no
// uplink, so its hosts reach each other and nothing else.
type LAN struct {
	lab    *Lab
	name   string
	ns     string
	prefix netip.Prefix
	gw     netip.Addr
	nhosts int
	v6     bool // an IPv6-only segment (AddLAN6)
}

// Prefix is the segment's prefix (10.10.N.0/24, or fd00:10:N::/64 for
// AddLAN6).
func (s *LAN) Prefix() netip.Prefix { return s.prefix }

// Namespace is the switch's namespace.
func (s *LAN) Namespace() string { return s.ns }

// AddLAN adds isolated segment N (1, 2, ...): 10.10.N.0/24. The switch
// namespace holds the bridge and answers at 10.10.N.1, which its hosts use
// as default gateway, but it forwards nothing and has no uplink: like a
// home LAN whose internet line is down. (The default route matters: a
// socket sending to 255.255.255.255 or to a multicast group gets
// "network is unreachable" without one, and browsers gather no ICE
// candidates.)
func (l *Lab) AddLAN(name string) *LAN {
	l.tb.Helper()
	l.checkName(name)
	if l.lans >= 250 {
		l.tb.Fatalf("netlab: too many LANs")
	}
	l.lans++
	n := l.lans
	ns := l.addNS(name)
	prefix := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 10, byte(n), 0}), 24)
	gw := netip.AddrFrom4([4]byte{10, 10, byte(n), 1})
	l.must(ipCmd("-n", ns, "link", "add", "lan0", "type", "bridge", "forward_delay", "0"))
	l.must(ipCmd("-n", ns, "addr", "add", gw.String()+"/24", "dev", "lan0"))
	l.must(ipCmd("-n", ns, "link", "set", "lan0", "up"))
	l.must(nsCmd(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"))
	return &LAN{lab: l, name: name, ns: ns, prefix: prefix, gw: gw}
}

// AddHost adds host M (1, 2, ...) on the segment: 10.10.N.(10+M), or
// fd00:10:N::(10+M) on an IPv6 segment.
func (s *LAN) AddHost(name string) *Host {
	l := s.lab
	l.tb.Helper()
	l.checkName(name)
	if s.nhosts >= 200 {
		l.tb.Fatalf("netlab: too many hosts on %s", s.name)
	}
	s.nhosts++
	if s.v6 {
		a := s.prefix.Addr().As16()
		a[15] = byte(10 + s.nhosts)
		return l.addHost6(name, s.ns, "lan0", fmt.Sprintf("h%d", s.nhosts), netip.AddrFrom16(a), s.gw)
	}
	addr := netip.AddrFrom4([4]byte{10, 10, s.prefix.Addr().As4()[2], byte(10 + s.nhosts)})
	return l.addHost(name, s.ns, "lan0", fmt.Sprintf("h%d", s.nhosts), addr, s.gw)
}

// addHost creates a host namespace whose eth0 is a veth into bridge br of
// namespace brNS (port name port).
func (l *Lab) addHost(name, brNS, br, port string, addr, gw netip.Addr) *Host {
	l.tb.Helper()
	ns := l.addNS(name)
	l.veth(ns, "eth0", brNS, port)
	l.must(ipCmd("-n", brNS, "link", "set", port, "master", br, "up"))
	l.must(ipCmd("-n", ns, "addr", "add", addr.String()+"/24", "dev", "eth0"))
	l.must(ipCmd("-n", ns, "link", "set", "eth0", "up"))
	l.must(ipCmd("-n", ns, "route", "add", "default", "via", gw.String()))
	return &Host{lab: l, name: name, ns: ns, addr: addr, gw: gw}
}
