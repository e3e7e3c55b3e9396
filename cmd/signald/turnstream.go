package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/peerplay/peerplay/signaling"
)

// turnStreamFlags are the flags of TURN over TCP and TLS (turnstream.go).
type turnStreamFlags struct {
	tcpAddr, tlsAddr string
	tlsCert, tlsKey  string
}

// checkTURNStreams validates the stream flags after parsing.
func (c *config) checkTURNStreams() error {
	ts := &c.turnStream
	if (ts.tcpAddr != "" || ts.tlsAddr != "") && (c.turnSecret == "" || c.turnRelayIP == "") {
		return errors.New("-turn-tcp-addr and -turns-addr need -turn-secret and -turn-relay-ip")
	}
	if (ts.tlsCert == "") != (ts.tlsKey == "") {
		return errors.New("-turns-cert and -turns-key go together")
	}
	if ts.tlsAddr != "" && ts.tlsCert == "" && c.tlsCert == "" {
		return errors.New("-turns-addr needs a certificate: -turns-cert/-turns-key or -tls-cert/-tls-key")
	}
	return nil
}

// listenTURNStreams opens the TURN over TCP and over TLS listeners the
// flags ask for (none: nil), each capped to maxTCPPerIP connections per
// client address. The caller serves or closes them.
func listenTURNStreams(c *config, srv *signaling.Server) ([]net.Listener, error) {
	var lns []net.Listener
	fail := func(err error) ([]net.Listener, error) {
		for _, ln := range lns {
			_ = ln.Close()
		}
		return nil, err
	}
	ts := c.turnStream
	if ts.tcpAddr != "" {
		ln, err := net.Listen("tcp", ts.tcpAddr)
		if err != nil {
			return fail(fmt.Errorf("turn tcp: %w", err))
		}
		lns = append(lns, signaling.TURNListener(ln, c.maxTCPPerIP, nil, srv))
	}
	if ts.tlsAddr != "" {
		cert, key := ts.tlsCert, ts.tlsKey
		if cert == "" {
			cert, key = c.tlsCert, c.tlsKey
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return fail(fmt.Errorf("turns: %w", err))
		}
		ln, err := net.Listen("tcp", ts.tlsAddr)
		if err != nil {
			return fail(fmt.Errorf("turns: %w", err))
		}
		conf := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		lns = append(lns, signaling.TURNListener(ln, c.maxTCPPerIP, conf, srv))
	}
	return lns, nil
}

// turnURLRank orders TURN URLs as clients should get them: UDP first
// (the cheapest relay), then TCP, then TLS (the last resort, through
// firewalls that pass only web traffic). pion and browsers gather all of
// them at once and prefer relay candidates in that order (RFC 8445's
// local preference: UDP above TCP above TLS), so the order only matters
// to clients that try the list in turn, and to whoever reads it.
func turnURLRank(u string) int {
	l := strings.ToLower(u)
	switch {
	case strings.HasPrefix(l, "turns:"):
		return 2
	case strings.Contains(l, "transport=tcp"):
		return 1
	default:
		return 0
	}
}

// sortTURNURLs sorts urls by turnURLRank, keeping the given order within
// a rank.
func sortTURNURLs(urls []string) []string {
	out := slices.Clone(urls)
	slices.SortStableFunc(out, func(a, b string) int { return turnURLRank(a) - turnURLRank(b) })
	return out
}
