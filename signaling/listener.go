package signaling

import (
	"net"
	"sync"
)

// LimitListener wraps ln so that at most perIP TCP connections from one
// client address are open at once (every connection: HTTP keep-alive,
// slow headers and WebSockets alike). A connection beyond the cap is
// closed at once, before any byte is read, and counted in
// Stats.Refusals[RefuseTCPPerIP] of stats (nil: not counted). perIP <= 0
// means no cap. The address is the TCP peer's (its /64 for IPv6): behind
// a reverse proxy, cap at the proxy instead.
//
// Accept never returns the refused connections, so one address cannot
// exhaust the process's file descriptors; what it can still do is bounded
// by perIP times the per-connection memory.
func LimitListener(ln net.Listener, perIP int, stats *Server) net.Listener {
	if perIP <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, perIP: perIP, srv: stats, open: make(map[string]int)}
}

type limitListener struct {
	net.Listener
	perIP int
	srv   *Server

	mu   sync.Mutex // guards open
	open map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrKey(addrIP(c.RemoteAddr()))
		l.mu.Lock()
		if l.open[ip] >= l.perIP {
			l.mu.Unlock()
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset: no TIME_WAIT kept for the flooder
			}
			_ = c.Close()
			if l.srv != nil && l.srv.Validate() == nil {
				l.srv.stats.refuse(RefuseTCPPerIP)
			}
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitConn{Conn: c, l: l, ip: ip}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	ip   string
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.ip]--; c.l.open[c.ip] <= 0 {
			delete(c.l.open, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
