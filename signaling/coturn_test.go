package signaling

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// TestCoturnSendErrorClosesAllocation pins the coturn behaviour behind
// issue #23's "connection reset by peer" (README "Players whose network
// blocks UDP", netlab's package doc): when a relayed datagram's sendto
// fails, coturn closes the whole allocation and, for a TURN-over-TCP
// client, its connection. Here the failing send goes from a relay socket
// bound to 127.0.0.1 to 198.51.100.9 (EINVAL: loopback source, outside
// destination); in the lab it was ENETUNREACH towards a private host
// candidate. A control datagram to a
// loopback peer keeps the allocation alive. Should this test fail, coturn
// changed: update the README's warning.
func TestCoturnSendErrorClosesAllocation(t *testing.T) {
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Fatalf("turnserver (coturn) not found: install it (apt-get install coturn): %v", err)
	}
	const secret = "send-error-secret"
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-n", "--no-cli", "--no-tls", "--no-dtls", "--no-udp",
		"--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--listening-port="+strconv.Itoa(port),
		"--min-port=49152", "--max-port=65535", "--allow-loopback-peers",
		"--use-auth-secret", "--static-auth-secret="+secret, "--realm="+DefaultTURNRealm,
		"--userdb="+filepath.Join(dir, "turndb"), "--log-file="+filepath.Join(dir, "turn.log"),
		"--pidfile="+filepath.Join(dir, "turn.pid"), "--simple-log", "--no-stdout-log", "-v")
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-exited })
	logs := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "turn.log"))
		o, _ := os.ReadFile(filepath.Join(dir, "stdout"))
		return string(o) + string(b)
	}
	dial := func() net.Conn {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := net.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("coturn does not listen: %v\n%s", err, logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	user, pass := TURNCredentials(secret, "alice", time.Hour, time.Now())
	c := streamClient(t, dial(), user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v\n%s", err, logs())
	}
	defer relay.Close()
	peer := listenUDP(t)
	defer peer.Close()
	roundTrip(t, relay, peer, "control")
	sendErrorVerdict(t, c, relay, peer, false)
}

// sendErrorVerdict makes the relay's next send fail (a relay socket bound
// to 127.0.0.1 sending to 198.51.100.9 gets EINVAL), pokes the relay from
// peer, and checks whether the allocation still takes requests.
func sendErrorVerdict(t *testing.T, c *turn.Client, relay, peer net.PacketConn, survives bool) {
	t.Helper()
	// Control: pokes and permissions work before the failed send.
	for range 3 {
		if _, err := peer.WriteTo([]byte("poke"), relay.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != nil {
			t.Fatalf("control permission: %v", err)
		}
	}

	if _, err := relay.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 9}); err != nil && !survives {
		t.Fatalf("send: %v", err)
	}
	// The failed send marks the relay socket "to be closed"; the next
	// datagram a peer sends to the relay makes coturn close the whole
	// session ("closed (2nd stage) ... reason: general") and the TCP
	// connection: a new permission on it fails.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := peer.WriteTo([]byte("poke"), relay.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}); err != nil {
			if survives {
				t.Fatalf("the allocation died after a failed send: %v", err)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !survives {
		t.Fatal("the allocation survived a failed send: coturn changed, update the README")
	}
}

// TestTURNSendErrorKeepsAllocation: the embedded TURN server (pion/turn)
// drops a datagram whose send fails and keeps the allocation, unlike
// coturn (TestCoturnSendErrorClosesAllocation).
func TestTURNSendErrorKeepsAllocation(t *testing.T) {
	const secret = "s"
	srv := &Server{TURNSecret: secret, TURNAnyUser: true, TURNAllowPeers: []string{"127.0.0.1"}}
	_, tcpAddr, _, _ := turnStreams(t, srv)
	conn, err := net.Dial("tcp4", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := TURNCredentials(secret, "alice", time.Hour, time.Now())
	c := streamClient(t, conn, user, pass)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	peer := listenUDP(t)
	defer peer.Close()
	roundTrip(t, relay, peer, "control")
	sendErrorVerdict(t, c, relay, peer, true)
}
