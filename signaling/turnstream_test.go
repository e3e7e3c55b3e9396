package signaling

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "turn test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// turnStreams serves srv's TURN on a UDP socket, a TCP listener and a TLS
// listener on loopback, and returns their addresses and the pool trusting
// the TLS certificate.
func turnStreams(t *testing.T, srv *Server) (udp, tcp, tlsAddr string, pool *x509.CertPool) {
	t.Helper()
	pc := listenUDP(t)
	l1, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := selfSigned(t)
	lns := []net.Listener{
		TURNListener(l1, 4, nil, srv),
		TURNListener(l2, 4, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, srv),
	}
	serveUDP(t, srv, func() error {
		return srv.ServeTURNStreams(pc, lns, TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"})
	})
	return pc.LocalAddr().String(), l1.Addr().String(), l2.Addr().String(), pool
}

// streamClient is a TURN client over conn (TCP or TLS), set up as pion/ice
// does for turn:...?transport=tcp and turns: URLs.
func streamClient(t *testing.T, conn net.Conn, user, pass string) *turn.Client {
	t.Helper()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	c, err := turn.NewClient(&turn.ClientConfig{
		Conn: turn.NewSTUNConn(conn), Username: user, Password: pass, Realm: DefaultTURNRealm, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	return c
}

// roundTrip sends through relay to peer and back.
func roundTrip(t *testing.T, relay net.PacketConn, peer net.PacketConn, msg string) {
	t.Helper()
	if _, err := relay.WriteTo([]byte(msg), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != msg {
		t.Fatalf("peer read %q, %v; want %q", buf[:n], err, msg)
	}
	if _, err := peer.WriteTo([]byte("re: "+msg), from); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err = relay.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "re: "+msg {
		t.Fatalf("relay read %q, %v; want %q", buf[:n], err, "re: "+msg)
	}
}

// TestTURNStreams: allocations over TCP and over TLS relay datagrams both
// ways, with the credentials of the use-auth-secret scheme; forged ones
// are refused on a stream too.
func TestTURNStreams(t *testing.T) {
	const secret = "stream-secret"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true, TURNAllowPeers: []string{"127.0.0.1"}}
	_, tcpAddr, tlsAddr, pool := turnStreams(t, srv)
	user, pass := TURNCredentials(secret, "alice", time.Hour, time.Now())
	dial := map[string]func() net.Conn{
		"tcp": func() net.Conn {
			c, err := net.Dial("tcp4", tcpAddr)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		"tls": func() net.Conn {
			c, err := tls.Dial("tcp4", tlsAddr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
	}
	for name, d := range dial {
		t.Run(name, func(t *testing.T) {
			c := streamClient(t, d(), user, pass)
			relay, err := c.Allocate()
			if err != nil {
				t.Fatalf("allocate over %s: %v", name, err)
			}
			defer relay.Close()
			peer := listenUDP(t)
			defer peer.Close()
			roundTrip(t, relay, peer, "over "+name)

			fu, fp := TURNCredentials("not the secret", "alice", time.Hour, time.Now())
			if _, err := streamClient(t, d(), fu, fp).Allocate(); err == nil {
				t.Errorf("forged credentials allocated over %s", name)
			}
		})
	}
}

// TestTURNStreamToUDPRelay: a client over TCP and a client over UDP of
// the same server, relay to relay, without any allow list (the relay IP
// is loopback here, which the guard refuses but for live relay ports):
// the stream and UDP allocations share one relay guard, so a player
// behind a UDP-blocking firewall reaches a relay-only peer.
func TestTURNStreamToUDPRelay(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true}
	udpAddr, tcpAddr, _, _ := turnStreams(t, srv)
	user, pass := TURNCredentials(secret, "bob", time.Hour, time.Now())
	conn, err := net.Dial("tcp4", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	tcpRelay, err := streamClient(t, conn, user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer tcpRelay.Close()
	udpRelay, err := turnClient(t, udpAddr, user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer udpRelay.Close()
	// Both sides permit the other's relay address (as ICE checks do).
	if _, err := udpRelay.WriteTo([]byte("open"), tcpRelay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1500)
	for {
		if _, err := tcpRelay.WriteTo([]byte("tcp to udp"), udpRelay.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		_ = udpRelay.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := udpRelay.ReadFrom(buf)
		if err == nil && string(buf[:n]) == "tcp to udp" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing from the TCP client's relay reached the UDP client's relay (refusals %v)", srv.Stats().Refusals)
		}
	}
}

// TestRedteamTURNStreamHold: a stream connection that sends nothing, or
// garbage, is closed (it cannot hold a socket of the server); one client
// address holds at most the per-IP cap of connections.
func TestRedteamTURNStreamHold(t *testing.T) {
	old := turnStreamFirstRead
	turnStreamFirstRead = 300 * time.Millisecond
	t.Cleanup(func() { turnStreamFirstRead = old })
	srv := &Server{TURNSecret: "s", TURNAnyUser: true}
	_, tcpAddr, _, _ := turnStreams(t, srv)
	closed := func(c net.Conn, within time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(within))
		_, err := c.Read(make([]byte, 64))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false
		}
		return err != nil
	}
	silent, err := net.Dial("tcp4", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if !closed(silent, 10*time.Second) {
		t.Error("a silent connection was not closed")
	}
	junk, err := net.Dial("tcp4", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	// Neither STUN (top bits 00) nor ChannelData (0x4000-0x7fff).
	if _, err := junk.Write([]byte("\xff\xfe not a TURN frame at all, 32+ bytes")); err != nil {
		t.Fatal(err)
	}
	if !closed(junk, 10*time.Second) {
		t.Error("a connection sending garbage was not closed")
	}
	silent.Close()
	junk.Close()
	// The cap: 4 per address (turnStreams); the fifth is closed at once
	// (its connect may even see the reset).
	turnStreamFirstRead = old
	_, tcpAddr, _, _ = turnStreams(t, &Server{TURNSecret: "s", TURNAnyUser: true})
	for range 4 {
		c, err := net.Dial("tcp4", tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if fifth, err := net.Dial("tcp4", tcpAddr); err == nil {
		defer fifth.Close()
		if !closed(fifth, 5*time.Second) {
			t.Error("a fifth connection from one address was kept")
		}
	}
}
