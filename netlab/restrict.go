package netlab

import (
	"fmt"
	"net/netip"
)

// BlockUDP makes the router drop every UDP packet it would forward
// between its LAN and the internet, both ways, as the firewall of an
// office, school or hotel network does: its hosts reach the internet over
// TCP only (UDP between two hosts of its LAN, and to the router itself,
// still works). ICE then needs TURN over TCP or TLS:
//
//	-I FORWARD -i lan0 -o wan0 -p udp -j DROP
//	-I FORWARD -i wan0 -o lan0 -p udp -j DROP
func (r *Router) BlockUDP() {
	l := r.lab
	l.tb.Helper()
	for _, dir := range [][2]string{{"lan0", "wan0"}, {"wan0", "lan0"}} {
		l.must(nsCmd(r.ns, "iptables", "-w", "5", "-I", "FORWARD", "-i", dir[0], "-o", dir[1], "-p", "udp", "-j", "DROP"))
	}
}

// LAN6Prefix is the prefix of IPv6 segment N: fd00:10:N::/64 (unique
// local addresses; they exist only inside the lab).
func LAN6Prefix(n int) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("fd00:10:%x::/64", n))
}

// AddLAN6 adds an isolated IPv6-only segment N (1, 2, ...; numbered apart
// from AddLAN's): a switch namespace with bridge lan0 at fd00:10:N::1/64,
// which its hosts use as default gateway and which forwards nothing. Its
// hosts (LAN.AddHost) get fd00:10:N::(10+M)/64 and no IPv4 address but
// loopback: the segment exercises IPv6 host candidates alone. Duplicate
// address detection is off (nodad), so addresses are usable at once.
func (l *Lab) AddLAN6(name string) *LAN {
	l.tb.Helper()
	l.checkName(name)
	if l.lans6 >= 250 {
		l.tb.Fatalf("netlab: too many IPv6 LANs")
	}
	l.lans6++
	ns := l.addNS(name)
	prefix := LAN6Prefix(l.lans6)
	gw := prefix.Addr().Next()
	l.enable6(ns)
	l.must(ipCmd("-n", ns, "link", "add", "lan0", "type", "bridge", "forward_delay", "0"))
	l.must(ipCmd("-n", ns, "link", "set", "lan0", "up"))
	l.must(ipCmd("-n", ns, "-6", "addr", "add", gw.String()+"/64", "dev", "lan0", "nodad"))
	l.must(nsCmd(ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=0"))
	return &LAN{lab: l, name: name, ns: ns, prefix: prefix, gw: gw, v6: true}
}

// enable6 turns IPv6 back on in a namespace (addNS turns it off) and
// makes new interfaces skip duplicate address detection.
func (l *Lab) enable6(ns string) {
	l.tb.Helper()
	l.must(nsCmd(ns, "sysctl", "-q", "-w",
		"net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf.default.accept_ra=0"))
}

// addHost6 creates a host namespace on an IPv6 segment: eth0 into bridge
// br of brNS, addr/64 without DAD, default route via gw, no IPv4 address.
func (l *Lab) addHost6(name, brNS, br, port string, addr, gw netip.Addr) *Host {
	l.tb.Helper()
	ns := l.addNS(name)
	l.enable6(ns)
	l.veth(ns, "eth0", brNS, port)
	l.must(ipCmd("-n", brNS, "link", "set", port, "master", br, "up"))
	l.must(ipCmd("-n", ns, "link", "set", "eth0", "up"))
	l.must(ipCmd("-n", ns, "-6", "addr", "add", addr.String()+"/64", "dev", "eth0", "nodad"))
	l.must(ipCmd("-n", ns, "-6", "route", "add", "default", "via", gw.String()))
	return &Host{lab: l, name: name, ns: ns, addr: addr, gw: gw}
}

// AddAddr adds another address (with its prefix length, e.g.
// "10.99.1.1/32") to the host's eth0, without any route beyond that
// prefix: a second address family or a stale address a test wants ICE to
// gather and find useless.
func (h *Host) AddAddr(prefix netip.Prefix) {
	l := h.lab
	l.tb.Helper()
	args := []string{"-n", h.ns, "addr", "add", prefix.String(), "dev", "eth0"}
	if prefix.Addr().Is6() {
		args = append(args, "nodad")
	}
	l.must(ipCmd(args...))
}
