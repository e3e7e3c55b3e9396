//go:build netlab

package netlab_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netlab"
)

// labCert writes a CA and a server certificate for 203.0.113.1 (and
// turn.lab) signed by it into dir, and returns the paths of the CA, the
// certificate and its key. Peers trust the CA through SSL_CERT_FILE, which
// Go's crypto/x509 reads on Linux (pion verifies turns: servers with the
// system roots).
func labCert(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netlab CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "turn.lab"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"turn.lab"}, IPAddresses: []net.IP{netlab.InternetAddr.AsSlice()},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("turn.pem", "CERTIFICATE", srvDER), write("turn.key", "EC PRIVATE KEY", keyDER)
}

// startCoturn runs Debian's coturn in the internet namespace: TURN on UDP
// and TCP addr:port, relaying from 203.0.113.1, with the use-auth-secret
// scheme signald's credentials follow.
func startCoturn(t *testing.T, lab *netlab.Lab, port string, dir string) *netlab.Proc {
	t.Helper()
	bin := "/usr/bin/turnserver"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("coturn (turnserver) is needed: apt-get install coturn: %v", err)
	}
	ip := netlab.InternetAddr.String()
	p := lab.Internet().Start(t, "coturn", bin, "-n", "--no-cli", "--no-tls", "--no-dtls",
		"--listening-ip="+ip, "--relay-ip="+ip, "--listening-port="+port,
		"--min-port=49152", "--max-port=65535",
		"--use-auth-secret", "--static-auth-secret="+turnSecret, "--realm=peerplay",
		// Without these coturn kills the allocation (and its TCP
		// connection) when a relayed datagram to a peer's private host
		// candidate fails with "network is unreachable" (see "coturn"
		// in the package doc).
		"--denied-peer-ip=10.0.0.0-10.255.255.255", "--denied-peer-ip=172.16.0.0-172.31.255.255",
		"--denied-peer-ip=192.168.0.0-192.168.255.255", "--denied-peer-ip=100.64.0.0-100.127.255.255",
		"--denied-peer-ip=169.254.0.0-169.254.255.255", "--no-multicast-peers",
		"--userdb="+filepath.Join(dir, "turndb"), "--pidfile="+filepath.Join(dir, "turn.pid"),
		"--log-file=stdout", "--simple-log", "-v")
	waitLine(t, p, 20*time.Second, `IO method`)
	return p
}

// timedMatch is a match and when its joiner started.
type timedMatch struct {
	match
	joinAt time.Time
}

// startMatchEnv is startMatch with environment variables for both pong
// processes (run through env(1)).
func startMatchEnv(t *testing.T, name string, env []string, h1, h2 *netlab.Host, extra ...string) timedMatch {
	t.Helper()
	common := append([]string{"-headless", "-bot", "-score", "1", "-tps", pongTPS, "-timeout", "90"}, extra...)
	args := func(more ...string) []string {
		return append(append(append(append(pongHome(t), env...), pong(t)), common...), more...)
	}
	host := h1.Start(t, h1.Name()+"/pong", "env", args("-host", "-name", h1.Name())...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	at := time.Now()
	join := h2.Start(t, h2.Name()+"/pong", "env", args("-join", code, "-name", h2.Name())...)
	return timedMatch{match{name: name, host: host, join: join}, at}
}

// TestPongUDPBlocked: a player whose network drops every UDP packet to and
// from the internet (router "office", BlockUDP) plays a headless pong
// match against a player at an ordinary home, three times at once, each
// time through another relay the blocked side reaches over TCP only:
//
//	tcp     signald's embedded TURN over TCP  turn:203.0.113.1:3479?transport=tcp
//	tls     signald's embedded TURN over TLS  turns:203.0.113.1:443?transport=tcp
//	coturn  Debian's coturn over TCP          turn:203.0.113.1:3480?transport=tcp
//
// Each pair has a signald of its own handing out only that TURN URL (and
// STUN), so the match can only come up through it. Both sides print equal
// result lines.
func TestPongUDPBlocked(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, cert, key := labCert(t, dir)
	startEcho(t, lab.Internet(), "203.0.113.1:7001")
	office := lab.AddRouter("office", netlab.NATRestricted)
	office.BlockUDP()
	home := lab.AddRouter("home", netlab.NATRestricted)
	b1, b2, b3 := office.AddHost("b1"), office.AddHost("b2"), office.AddHost("b3")
	o1, o2, o3 := home.AddHost("o1"), home.AddHost("o2"), home.AddHost("o3")
	// A baseline: two ordinary homes, direct (for the connect time).
	d1, d2 := home.AddHost("d1"), lab.AddRouter("home2", netlab.NATRestricted).AddHost("d2")

	if lines, err := runProbe(t, b1, "probe", "-to", "203.0.113.1:7001", "-timeout", "1s"); err == nil {
		t.Fatalf("UDP from the office reaches the internet: %v", lines)
	}
	if lines, err := runProbe(t, o1, "probe", "-to", "203.0.113.1:7001", "-timeout", "3s"); err != nil {
		t.Fatalf("UDP from the home does not reach the internet: %v %v", err, lines)
	}

	sig := netlab.InternetAddr.String()
	signald := func(name, port string, args ...string) {
		bin := bins.Build(t, "../cmd/signald")
		p := lab.Internet().Start(t, name, bin, append([]string{
			"-addr", sig + ":" + port, "-stun-addr", "", "-stun-url", "stun:" + sig + ":3478",
			"-turn-secret", turnSecret, "-turn-relay-ip", sig,
		}, args...)...)
		waitLine(t, p, 20*time.Second, `signald: serving`)
	}
	// The first one also serves STUN for all.
	signald("signald-tcp", "8081", "-stun-addr", sig+":3478",
		"-turn-tcp-addr", sig+":3479", "-turn-url", "turn:"+sig+":3479?transport=tcp")
	signald("signald-tls", "8082", "-turns-addr", sig+":443", "-turns-cert", cert, "-turns-key", key,
		"-turn-url", "turns:"+sig+":443?transport=tcp")
	startCoturn(t, lab, "3480", dir)
	signald("signald-coturn", "8083", "-turn-relay-ip", "", "-turn-url", "turn:"+sig+":3480?transport=tcp")

	env := []string{"SSL_CERT_FILE=" + ca}
	matches := []timedMatch{
		startMatchEnv(t, "tcp", env, b1, o1, "-signal", "ws://"+sig+":8081/ws", "-lan=false"),
		startMatchEnv(t, "tls", env, b2, o2, "-signal", "ws://"+sig+":8082/ws", "-lan=false"),
		startMatchEnv(t, "coturn", env, b3, o3, "-signal", "ws://"+sig+":8083/ws", "-lan=false"),
		startMatchEnv(t, "direct", env, d1, d2, "-signal", "ws://"+sig+":8081/ws", "-lan=false"),
	}
	for _, m := range matches {
		m.check(t)
		if m.name == "direct" {
			t.Logf("%s (baseline, no relay): connected in %v", m.name, connectTime(t, m.join, m.joinAt))
			continue
		}
		// The office side can only be relayed (its UDP is blocked).
		if _, l, err := m.host.WaitLine(waitCtx(t, 5*time.Second), 0, regexp.MustCompile(`^link .*type=(\S+) local=(\S+)`)); err != nil || l[1] != "relay" || l[2] != "relay" {
			t.Errorf("%s: office link %v (%v), want type=relay local=relay", m.name, l, err)
		}
		t.Logf("%s: connected in %v", m.name, connectTime(t, m.join, m.joinAt))
	}
}

var startingRE = regexp.MustCompile(`^time=(\S+) .*msg="room: starting in`)

// connectTime is how long the joiner took from its start to the lobby's
// countdown, which needs the mesh up (signaling, ICE, DTLS, SCTP and the
// lobby's first messages), from pong's log timestamps.
func connectTime(t *testing.T, p *netlab.Proc, start time.Time) time.Duration {
	t.Helper()
	_, m, err := p.WaitLine(waitCtx(t, time.Second), 0, startingRE)
	if err != nil {
		t.Errorf("%s: no countdown line: %v", p.Name(), err)
		return 0
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Errorf("%s: %v", p.Name(), err)
		return 0
	}
	return at.Sub(start)
}

// TestPongDualStackPrefersWorking: two players with an IPv4 and an IPv6
// address each, where only IPv6 connects them (the IPv4 addresses are
// /32s on the segment with no route between them, like a stale or
// firewalled family): ICE gathers both families and the match comes up
// over IPv6 host candidates.
func TestPongDualStackPrefersWorking(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	seg := lab.AddLAN6("dual")
	h1, h2 := seg.AddHost("w1"), seg.AddHost("w2")
	h1.AddAddr(netip.MustParsePrefix("10.99.1.1/32"))
	h2.AddAddr(netip.MustParsePrefix("10.99.2.1/32"))
	common := []string{"-headless", "-bot", "-score", "1", "-tps", pongTPS, "-timeout", "90", "-lan=false"}
	host := startPong(t, h1, "w1/pong", append(append([]string{}, common...), "-host", "-name", "w1")...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	target := net.JoinHostPort(h1.Addr().String(), "7700") + "/" + code
	join := startPong(t, h2, "w2/pong", append(append([]string{}, common...), "-join", target, "-name", "w2")...)
	m := match{name: "dual-stack", host: host, join: join}
	m.check(t)
	// A direct link between the hosts' own addresses: local host, remote
	// host or prflx (no NAT on the segment, so a prflx remote is the
	// peer's host address, learned from its check before its trickled
	// candidate arrived: fast ICE makes that race common), never relayed.
	for _, p := range []*netlab.Proc{host, join} {
		_, l, err := p.WaitLine(waitCtx(t, 5*time.Second), 0, regexp.MustCompile(`^link .*local=(\S+) remote=(\S+) relayed=(\S+)`))
		if err != nil || l[1] != "host" || (l[2] != "host" && l[2] != "prflx") || l[3] != "false" {
			t.Errorf("%s: link %v (%v), want a direct link between host addresses", p.Name(), l, err)
		}
	}
}

// TestPongIPv6Only: two players on a segment with IPv6 addresses only
// (fd00:10:1::/64, no IPv4 but loopback) play a headless pong match: the
// host's embedded signaling on [fd00:10:1::11]:7700, the joiner dials it
// by address, and ICE pairs IPv6 host candidates. Both print equal result
// lines and a host link.
func TestPongIPv6Only(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	seg := lab.AddLAN6("six")
	h1, h2 := seg.AddHost("v1"), seg.AddHost("v2")
	if !h1.Addr().Is6() || h1.Addr().String() != "fd00:10:1::b" {
		t.Fatalf("host address %v, want fd00:10:1::b", h1.Addr())
	}
	out, err := h2.Run(waitCtx(t, 10*time.Second), "ip", "-4", "-o", "addr")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "eth0") {
		t.Fatalf("the IPv6 segment's host has an IPv4 address:\n%s", out)
	}
	common := []string{"-headless", "-bot", "-score", "1", "-tps", pongTPS, "-timeout", "90", "-lan=false"}
	host := startPong(t, h1, "v1/pong", append(append([]string{}, common...), "-host", "-name", "v1")...)
	code := waitLine(t, host, 30*time.Second, `^host room=(\S+)$`)[1]
	target := net.JoinHostPort(h1.Addr().String(), "7700") + "/" + code
	joinAt := time.Now()
	join := startPong(t, h2, "v2/pong", append(append([]string{}, common...), "-join", target, "-name", "v2")...)
	m := match{name: "ipv6", host: host, join: join}
	m.check(t)
	t.Logf("ipv6: connected in %v", connectTime(t, join, joinAt))
	// A direct link between the hosts' own addresses: local host, remote
	// host or prflx (no NAT on the segment, so a prflx remote is the
	// peer's host address, learned from its check before its trickled
	// candidate arrived: fast ICE makes that race common), never relayed.
	for _, p := range []*netlab.Proc{host, join} {
		_, l, err := p.WaitLine(waitCtx(t, 5*time.Second), 0, regexp.MustCompile(`^link .*local=(\S+) remote=(\S+) relayed=(\S+)`))
		if err != nil || l[1] != "host" || (l[2] != "host" && l[2] != "prflx") || l[3] != "false" {
			t.Errorf("%s: link %v (%v), want a direct link between host addresses", p.Name(), l, err)
		}
	}
}
