package signaling

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

func listenUDP(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// serveUDP runs serve in a goroutine and checks at cleanup that it ended
// with ErrServerClosed.
func serveUDP(t *testing.T, srv *Server, serve func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- serve() }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve ended with %v, want ErrServerClosed", err)
		}
	})
}

func TestSTUNBinding(t *testing.T) {
	srv := &Server{}
	pc := listenUDP(t)
	addr := pc.LocalAddr().String()
	serveUDP(t, srv, func() error { return srv.ServeSTUN(pc) })

	// Garbage first: ignored, the server keeps answering.
	junk, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = junk.Write([]byte("not stun"))
	_ = junk.Close()

	uc, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	local := uc.LocalAddr().(*net.UDPAddr)
	c, err := stun.NewClient(uc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got stun.XORMappedAddress
	var cbErr error
	if err := c.Do(stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.Fingerprint), func(ev stun.Event) {
		if ev.Error != nil {
			cbErr = ev.Error
			return
		}
		cbErr = got.GetFrom(ev.Message)
	}); err != nil {
		t.Fatal(err)
	}
	if cbErr != nil {
		t.Fatal(cbErr)
	}
	if !got.IP.Equal(local.IP) || got.Port != local.Port {
		t.Fatalf("XOR-MAPPED-ADDRESS %v, want %v", got.String(), local)
	}
	if n := srv.Stats().STUNRequests; n != 1 {
		t.Fatalf("STUNRequests = %d, want 1", n)
	}
}

// turnAllocate allocates on the TURN server at addr with the credentials
// and proves the relay carries data both ways to a loopback peer.
func turnAllocate(t *testing.T, addr, realm, user, pass string) error {
	t.Helper()
	conn := listenUDP(t)
	defer conn.Close()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: realm, LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := client.Allocate()
	if err != nil {
		return err
	}
	defer relay.Close()

	peer := listenUDP(t)
	defer peer.Close()
	// Permission for the peer, then a round trip through the relay.
	if _, err := relay.WriteTo([]byte("to peer"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil {
		t.Fatalf("peer read: %v", err)
	}
	if string(buf[:n]) != "to peer" || from.String() != relay.LocalAddr().String() {
		t.Fatalf("peer got %q from %v, want %q from the relay %v", buf[:n], from, "to peer", relay.LocalAddr())
	}
	if _, err := peer.WriteTo([]byte("to client"), from); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err = relay.ReadFrom(buf)
	if err != nil {
		t.Fatalf("relay read: %v", err)
	}
	if string(buf[:n]) != "to client" || from.String() != peer.LocalAddr().String() {
		t.Fatalf("client got %q from %v", buf[:n], from)
	}
	return nil
}

func TestTURN(t *testing.T) {
	const secret = "turn-secret"
	// TURNAnyUser: the credential scheme, for a user not seated here
	// (TestTURNNotSeated tests the seat check).
	srv := &Server{TURNSecret: secret, TURNAnyUser: true, TURNAllowPeers: []string{"127.0.0.1"}}
	pc := listenUDP(t)
	addr := pc.LocalAddr().String()
	serveUDP(t, srv, func() error { return srv.ServeTURN(pc, TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}) })

	now := time.Now()
	user, pass := TURNCredentials(secret, "alice", time.Hour, now)
	if err := turnAllocate(t, addr, DefaultTURNRealm, user, pass); err != nil {
		t.Fatalf("allocate with issued credentials: %v", err)
	}
	expUser, expPass := TURNCredentials(secret, "alice", -time.Minute, now)
	forgedUser, forgedPass := TURNCredentials("wrong secret", "alice", time.Hour, now)
	for _, tc := range []struct{ name, user, pass string }{
		{"expired", expUser, expPass},
		{"forged", forgedUser, forgedPass},
		{"tampered expiry", strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + ":alice", pass},
	} {
		if err := turnAllocate(t, addr, DefaultTURNRealm, tc.user, tc.pass); err == nil {
			t.Errorf("%s credentials: allocation succeeded, want refusal", tc.name)
		}
	}
}

// TestWelcomeICE: the welcome carries the configured servers, with fresh
// credentials for TURN entries, which the TURN server accepts.
func TestWelcomeICE(t *testing.T) {
	const secret = "s"
	// The test's peer is on loopback, which a TURN relay refuses unless
	// allowed (TestTURNRefusesInternalPeers).
	srv := &Server{TURNSecret: secret, TURNAllowPeers: []string{"127.0.0.0/8"}, ICEServers: []ICEServer{
		{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}},
		{URLs: []string{"turn:static.example:3478"}, Username: "u", Credential: "c"},
	}}
	pc := listenUDP(t)
	serveUDP(t, srv, func() error { return srv.ServeTURN(pc, TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}) })
	url, _ := testServer(t, srv)
	c := dial(t, url, "r", DialOptions{})
	ice := c.ICEServers()
	if len(ice) != 3 || ice[0].Username != "" || ice[2].Username != "u" || ice[2].Credential != "c" {
		t.Fatalf("ICE servers %+v", ice)
	}
	user, pass := ice[1].Username, ice[1].Credential
	exp, id, ok := strings.Cut(user, ":")
	if !ok || id != string(c.Local())+"@r" {
		t.Fatalf("TURN username %q, want <expiry>:%s@r", user, c.Local())
	}
	if e, _ := strconv.ParseInt(exp, 10, 64); time.Unix(e, 0).Before(time.Now().Add(DefaultTURNCredentialTTL - time.Minute)) {
		t.Fatalf("TURN credential expires at %v, want about now+%v", time.Unix(e, 0), DefaultTURNCredentialTTL)
	}
	if err := turnAllocate(t, pc.LocalAddr().String(), DefaultTURNRealm, user, pass); err != nil {
		t.Fatalf("allocate with welcome credentials: %v", err)
	}
}

// TestCoturnInterop: Debian's coturn, started with --use-auth-secret and
// the same secret, accepts the credentials this package issues.
func TestCoturnInterop(t *testing.T) {
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("turnserver (coturn) not found: install it (apt-get install coturn); this test needs it: %v", err)
	}
	const secret = "interop-secret"
	port := freeUDPPort(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	// UDP only: freeUDPPort says nothing about the TCP port of the same
	// number, and coturn retries a busy TCP bind forever instead of serving.
	cmd := exec.CommandContext(ctx, bin, "-n", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--min-port=49152", "--max-port=65535", "--allow-loopback-peers",
		"--use-auth-secret", "--static-auth-secret="+secret, "--realm=peerplay",
		"--userdb="+filepath.Join(dir, "turndb"), "--log-file="+filepath.Join(dir, "turn.log"),
		"--pidfile="+filepath.Join(dir, "turn.pid"), "--simple-log", "--no-stdout-log")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start turnserver: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// coturn needs a moment to listen: retry the allocation until it
	// answers (bounded).
	user, pass := TURNCredentials(secret, "alice", time.Hour, time.Now())
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := turnAllocate(t, addr, "peerplay", user, pass)
		if err == nil {
			break
		}
		select {
		case e := <-exited:
			exited <- e
			log, _ := os.ReadFile(filepath.Join(dir, "turn.log"))
			t.Fatalf("turnserver exited: %v\n%s\n%s", e, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "turn.log"))
			t.Fatalf("coturn refused our credentials: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// And refuses forged ones: proves it really checks the secret.
	fu, fp := TURNCredentials("not the secret", "alice", time.Hour, time.Now())
	if err := turnAllocate(t, addr, "peerplay", fu, fp); err == nil {
		t.Fatal("coturn accepted forged credentials")
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc := listenUDP(t)
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func TestTURNCredentialsMatchPion(t *testing.T) {
	// pion's generator uses time.Now; derive ours from its username's
	// expiry and compare the passwords.
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials("k", "bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, _ := strings.Cut(user, ":")
	e, _ := strconv.ParseInt(exp, 10, 64)
	gotUser, gotPass := TURNCredentials("k", "bob", time.Hour, time.Unix(e, 0).Add(-time.Hour))
	if gotUser != user || gotPass != pass {
		t.Fatalf("got %q/%q, pion %q/%q", gotUser, gotPass, user, pass)
	}
}
