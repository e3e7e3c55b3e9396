package signaling

import (
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// TURN over TCP and TLS (for players whose network blocks UDP).
//
// A client that cannot send UDP to the server reaches TURN over a TCP
// connection (turn:HOST:PORT?transport=tcp, RFC 5766 section 2.1: STUN
// messages and 4-byte padded ChannelData back to back on the stream) or
// over TLS on top of it (turns:HOST:PORT?transport=tcp, usually on 443,
// which firewalls that let only web traffic out still pass). The
// allocation it gets is still a UDP relay socket on the server: only the
// client's leg is a stream, so the other peer needs nothing special. This
// is not RFC 6062 (TCP relay allocations), which TURNAllowTCP governs and
// WebRTC never uses.
//
// What a client can do with a stream listener that it cannot do with the
// UDP one: hold connections. TURNListener caps the connections per client
// address (LimitListener), drops a connection that sends nothing within
// TURNStreamFirstRead of accepting it (pion bounds a TLS handshake to
// 10 s as well) or stays silent for TURNStreamIdle afterwards (a live
// allocation refreshes at least every 5 minutes, and a used one carries
// ICE consent checks every few seconds). The guards of ServeTURN
// (permissions, quotas, credentials) apply to stream allocations alike,
// sharing one relay guard with the UDP listener, so a relay-to-relay path
// between a TCP client and a UDP client works.

// Bounds of TURN stream connections (see TURNListener).
const (
	// TURNStreamFirstRead is how long a new connection may take to send
	// its first bytes (a TLS ClientHello or a STUN message).
	TURNStreamFirstRead = 10 * time.Second
	// TURNStreamIdle is how long an established connection may stay
	// silent: above the 5-minute allocation refresh of pion (and the
	// 2-minute permission refresh of every TURN client).
	TURNStreamIdle = 6 * time.Minute
)

// The bounds TURNListener applies (tests shorten them).
var turnStreamFirstRead, turnStreamIdle = TURNStreamFirstRead, TURNStreamIdle

// ServeTURNStreams runs the TURN server of ServeTURN on pc (nil: no UDP
// listener) and on the stream listeners lns (TURN over TCP; wrap a
// listener with TLS for turns:, see TURNListener), one pion/turn server
// for all, until Close or Shutdown (then it returns ErrServerClosed). It
// needs what ServeTURN needs (TURNSecret, relay.IP). The Server owns pc
// and lns from then on.
func (s *Server) ServeTURNStreams(pc net.PacketConn, lns []net.Listener, relay TURNRelay) error {
	return s.serveTURN(pc, lns, relay)
}

// TURNListener prepares a TCP listener for ServeTURNStreams: at most
// perIP open connections per client address (<= 0: no cap; refusals are
// counted in srv's Stats when srv is not nil), the read bounds above, and
// TLS on top when tlsConf is not nil (for turns: URLs; the certificate
// must name the host in the URL, as for wss:).
func TURNListener(ln net.Listener, perIP int, tlsConf *tls.Config, srv *Server) net.Listener {
	ln = &idleListener{Listener: LimitListener(ln, perIP, srv), first: turnStreamFirstRead, idle: turnStreamIdle}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	return ln
}

// idleListener gives every accepted connection read deadlines: first for
// the first read, idle for each later one.
type idleListener struct {
	net.Listener
	first, idle time.Duration
}

func (l *idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &idleConn{Conn: c, first: l.first, idle: l.idle}, nil
}

type idleConn struct {
	net.Conn
	first, idle time.Duration

	mu   sync.Mutex // guards read
	read bool       // a read returned data
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	d := c.idle
	if !c.read {
		d = c.first
	}
	c.mu.Unlock()
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.read = true
		c.mu.Unlock()
	}
	return n, err
}
