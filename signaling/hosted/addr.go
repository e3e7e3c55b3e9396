package hosted

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// dialed is what a client's Host header says it dialed.
type dialed struct {
	host   string // IP (no brackets) or DNS name, lower case; "" = unusable
	port   int
	local  bool // loopback or "localhost": the hosting game's own client
	public bool // an address or name of the internet, not of a LAN
}

// parseHost reads an HTTP Host header ("203.0.113.7:7700", "[2001:db8::1]:7700",
// "game.example.org", ...). A missing port is defPort. Anything that is not
// an IP or a plausible DNS name gives host "" (the caller's default).
func parseHost(h string, defPort int) dialed {
	host, portStr, err := net.SplitHostPort(h)
	if err != nil {
		host, portStr = h, ""
	}
	port := defPort
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p <= 0 || p > 65535 {
			return dialed{}
		}
		port = p
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return dialed{}
		}
		a = a.Unmap()
		d := dialed{host: a.String(), port: port}
		d.local = a.IsLoopback() || a.IsUnspecified()
		d.public = !d.local && a.IsGlobalUnicast() && !a.IsPrivate() && !isCGNAT(a)
		return d
	}
	if !validName(host) {
		return dialed{}
	}
	d := dialed{host: host, port: port, local: host == "localhost" || strings.HasSuffix(host, ".localhost")}
	d.public = !d.local && strings.Contains(host, ".") && !lanName(host)
	return d
}

// hostPort is d as "host:port" (brackets for IPv6).
func (d dialed) hostPort() string { return net.JoinHostPort(d.host, strconv.Itoa(d.port)) }

func isCGNAT(a netip.Addr) bool {
	return netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// lanName: names only a LAN resolves (mDNS, home routers' suffixes).
func lanName(h string) bool {
	for _, s := range []string{".local", ".lan", ".home", ".internal", ".home.arpa", ".localdomain"} {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// validName is a DNS name: labels of letters, digits and hyphens, at most
// 253 bytes, no label empty or longer than 63 or starting/ending with '-'.
func validName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ownAddrs are this machine's interface addresses, loopback excluded.
func ownAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr().Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() {
			continue
		}
		out = append(out, ip)
	}
	return out
}

// LANAddr returns this machine's first private IPv4 address (the one a
// friend on the LAN dials), else its first other non-loopback IPv4, else
// (an IPv6-only machine) its first IPv6 address that is neither loopback
// nor link-local, from the interface list; it sends nothing.
func LANAddr() (netip.Addr, bool) {
	var fallback, v6 netip.Addr
	for _, ip := range ownAddrs() {
		if !ip.Is4() {
			if !v6.IsValid() {
				v6 = ip
			}
			continue
		}
		if ip.IsPrivate() {
			return ip, true
		}
		if !fallback.IsValid() {
			fallback = ip
		}
	}
	if !fallback.IsValid() {
		fallback = v6
	}
	return fallback, fallback.IsValid()
}
