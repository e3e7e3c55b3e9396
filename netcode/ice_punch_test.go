//go:build linux

package netcode

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestCandidateAddr: only direct IPv4 UDP candidates that can cross a
// router are primed.
func TestCandidateAddr(t *testing.T) {
	for _, c := range []struct {
		line string
		want string // "" none
	}{
		{"candidate:1596354072 1 udp 1694498815 203.0.113.12 46808 typ srflx raddr 0.0.0.0 rport 46808", "203.0.113.12:46808"},
		{"candidate:791886321 1 udp 2130706431 192.168.2.11 45357 typ host ufrag x generation 1", "192.168.2.11:45357"},
		{"candidate:1 1 UDP 1 198.51.100.7 9 typ prflx", "198.51.100.7:9"},
		{"candidate:4210878271 1 udp 1023 203.0.113.1 43928 typ relay raddr 0.0.0.0 rport 36042", ""},
		{"candidate:1 1 tcp 1 203.0.113.12 9 typ host tcptype active", ""},
		{"candidate:1 1 udp 1 2001:db8::1 9 typ host", ""},
		{"candidate:1 1 udp 1 127.0.0.1 9 typ host", ""},
		{"candidate:1 1 udp 1 169.254.1.1 9 typ host", ""},
		{"candidate:1 1 udp 1 0.0.0.0 9 typ host", ""},
		{"candidate:1 1 udp 1 224.0.0.1 9 typ host", ""},
		{"candidate:1 1 udp 1 203.0.113.12 0 typ host", ""},
		{"candidate:1 1 udp 1 203.0.113.12 70000 typ host", ""},
		{"candidate:1 1 udp 1 x.local 9 typ host", ""},
		{"candidate:1 1 udp typ host", ""},
		{"", ""},
	} {
		ap, ok := candidateAddr(c.line)
		got := ""
		if ok {
			got = ap.String()
		}
		if got != c.want {
			t.Errorf("candidateAddr(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

// loopUDP opens a UDP socket on 127.0.0.1.
func loopUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestPunchPrimer: an armed set sends one zero-length datagram with TTL
// 2 from each recorded socket to each remote address (read back on
// loopback with IP_RECVTTL), whichever of the two it learns first; none
// before it is armed.
func TestPunchPrimer(t *testing.T) {
	rx := loopUDP(t)
	raw, err := rx.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVTTL, 1) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	rxAddr := rx.LocalAddr().(*net.UDPAddr).AddrPort()

	s := newPunchSet()
	if s == nil {
		t.Fatal("no punch set on linux")
	}
	s.active = true
	s.addConn(loopUDP(t))
	s.addRemoteAddr(netip.AddrPortFrom(rxAddr.Addr(), rxAddr.Port()+1)) // learnt before arming: no primer
	if s.primers() != 0 {
		t.Fatalf("%d primers before arming", s.primers())
	}
	s.arm()
	s.addRemoteAddr(rxAddr) // a known socket, a new address
	s.addConn(loopUDP(t))   // a new socket, known addresses: rx and rx+1
	s.addRemoteAddr(rxAddr) // known: nothing
	for i := range 2 {
		buf, oob := make([]byte, 16), make([]byte, 64)
		_ = rx.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, oobn, _, from, err := rx.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			t.Fatalf("primer %d: %v", i, err)
		}
		ttl := -1
		msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_TTL && len(m.Data) >= 4 {
				ttl = int(*(*int32)(unsafe.Pointer(&m.Data[0])))
			}
		}
		if n != 0 || ttl != punchTTL {
			t.Errorf("primer %d from %v: %d bytes, TTL %d; want 0 bytes, TTL %d", i, from, n, ttl, punchTTL)
		}
	}
	if got := s.primers(); got != 3 { // rx from both sockets, rx+1 from the second
		t.Errorf("%d primers, want 3", got)
	}
}

// TestPunchBound: what a peer's candidates can make us send. Each new
// direct address primes each live socket once; a repeated address primes
// nothing; the set remembers at most maxPunchRemotes addresses and
// maxPunchConns sockets, and drops the sockets pion closed. So a lying
// peer that trickles candidates gets one zero-length TTL-2 datagram per
// live socket per new address (the signaling server rate-limits its
// messages): less than the ICE checks pion sends to the same addresses.
func TestPunchBound(t *testing.T) {
	s := newPunchSet()
	s.active = true
	s.arm()
	sink := loopUDP(t)
	base := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	live := []*net.UDPConn{loopUDP(t), loopUDP(t)}
	closed := loopUDP(t)
	for _, c := range append([]*net.UDPConn{closed}, live...) {
		s.addConn(c)
	}
	closed.Close()
	for range 3 {
		s.addRemoteAddr(base)
	}
	if got := s.primers(); got != len(live) {
		t.Errorf("one address sent three times: %d primers, want %d", got, len(live))
	}
	for i := range 100 {
		s.addRemoteAddr(netip.AddrPortFrom(base.Addr(), uint16(40000+i)))
	}
	s.mu.Lock()
	remotes, conns, primed := len(s.remotes), len(s.conns), s.primed
	s.mu.Unlock()
	if remotes != maxPunchRemotes || conns != len(live) || primed != len(live)*101 {
		t.Errorf("after 101 addresses: %d remembered, %d sockets, %d primers; want %d, %d, %d",
			remotes, conns, primed, maxPunchRemotes, len(live), len(live)*101)
	}
	for range maxPunchConns + 5 {
		s.addConn(loopUDP(t))
	}
	s.mu.Lock()
	conns = len(s.conns)
	s.mu.Unlock()
	if conns != maxPunchConns {
		t.Errorf("%d sockets remembered, want %d", conns, maxPunchConns)
	}
}
