package hosted

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var loopback = netip.MustParseAddr("127.0.0.1")

func listen(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if !cfg.RelayIP.IsValid() {
		cfg.RelayIP = loopback
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dialAs joins room on s as a client that dialed host (any address: the
// connection itself always goes to s on loopback, only the Host header
// names host), and returns the ICE servers of its welcome.
func dialAs(t *testing.T, s *Server, host, room string) []signaling.ICEServer {
	t.Helper()
	local := "127.0.0.1:" + strconv.Itoa(s.Port())
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, local)
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sigclient.Dial(ctx, "ws://"+host+"/ws", room, sigclient.DialOptions{HTTPClient: hc, Name: "t"})
	if err != nil {
		t.Fatalf("dial as %s: %v", host, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.ICEServers()
}

func TestAdvertisesTheDialedAddress(t *testing.T) {
	s := listen(t, Config{})
	port := strconv.Itoa(s.Port())
	if a, ok := s.PublicAddr(); ok && !strings.HasPrefix(a, "127.") {
		// A machine with a public interface address reports it; the
		// learned-address check below would not tell.
		t.Logf("this machine has a public address %s", a)
	}
	tests := []struct {
		dialed string
		want   string // host:port of STUN and TURN in the welcome; "" = none
	}{
		{"127.0.0.1:" + port, ""},                      // the hosting game itself
		{"localhost:" + port, ""},                      // the same
		{"192.168.1.2:" + port, "192.168.1.2:" + port}, // a LAN friend
		{"203.0.113.7:17700", "203.0.113.7:17700"},     // through a forward on another port
		{"game.example.org:" + port, "game.example.org:" + port},
		{"[2001:db8::7]:" + port, "[2001:db8::7]:" + port},
		{"bad_host!:" + port, "127.0.0.1:" + port}, // unusable: the default (relay IP)
	}
	for i, tt := range tests {
		ice := dialAs(t, s, tt.dialed, "R"+strconv.Itoa(i))
		if tt.want == "" {
			if len(ice) != 0 {
				t.Errorf("dialed %s: welcome ICE %+v, want none", tt.dialed, ice)
			}
			continue
		}
		if len(ice) != 1 || len(ice[0].URLs) != 2 {
			t.Fatalf("dialed %s: welcome ICE %+v, want one STUN+TURN entry", tt.dialed, ice)
		}
		if got := ice[0].URLs; got[0] != "stun:"+tt.want || got[1] != "turn:"+tt.want+"?transport=udp" {
			t.Errorf("dialed %s: URLs %v, want stun:/turn: at %s", tt.dialed, got, tt.want)
		}
		if ice[0].Username == "" || ice[0].Credential == "" {
			t.Errorf("dialed %s: TURN without credentials: %+v", tt.dialed, ice[0])
		}
	}
	if a, ok := s.PublicAddr(); !ok || a != "203.0.113.7:17700" {
		t.Errorf("PublicAddr = %q, %v; want the first public address dialed, 203.0.113.7:17700", a, ok)
	}
}

func TestPublicAddrConfigured(t *testing.T) {
	s := listen(t, Config{PublicAddr: "198.51.100.9"})
	dialAs(t, s, "203.0.113.7:7700", "R")
	want := "198.51.100.9:" + strconv.Itoa(s.Port())
	if a, ok := s.PublicAddr(); !ok || a != want {
		t.Errorf("PublicAddr = %q, %v; want the configured %s", a, ok, want)
	}
	if _, err := Listen(Config{Addr: "127.0.0.1:0", PublicAddr: "no such host!"}); err == nil {
		t.Error("Listen accepted a malformed PublicAddr")
	}
}

// TestMaxHostsOverflow: past MaxHosts distinct dialed addresses, clients
// get the default ICE servers (a client cannot make the host keep a server
// per Host header it invents).
func TestMaxHostsOverflow(t *testing.T) {
	s := listen(t, Config{MaxHosts: 2})
	port := strconv.Itoa(s.Port())
	dialAs(t, s, "192.168.1.2:"+port, "A")
	dialAs(t, s, "192.168.1.3:"+port, "B")
	ice := dialAs(t, s, "192.168.1.4:"+port, "C")
	if len(ice) != 1 || ice[0].URLs[0] != "stun:127.0.0.1:"+port {
		t.Errorf("third address: ICE %+v, want the default (relay IP) servers", ice)
	}
	s.mu.Lock()
	n := len(s.byHost)
	s.mu.Unlock()
	if n > 3 { // two addresses and the default
		t.Errorf("%d signaling servers for MaxHosts 2", n)
	}
}

// TestSTUNAndTURNOnTheSignalingPort: the UDP socket on the signaling port
// answers STUN, and the welcome's TURN credentials allocate a relay there
// that reaches this machine's own address (the hosting game), which
// signaling's TURN refuses by default; any other private address stays
// refused.
func TestSTUNAndTURNOnTheSignalingPort(t *testing.T) {
	s := listen(t, Config{})
	ice := dialAs(t, s, "192.0.2.1:"+strconv.Itoa(s.Port()), "R") // not "local": gets TURN
	if len(ice) != 1 {
		t.Fatalf("ICE %+v", ice)
	}
	server := "127.0.0.1:" + strconv.Itoa(s.Port())
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	client, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server, TURNServerAddr: server, Conn: conn,
		Username: ice[0].Username, Password: ice[0].Credential, Realm: "peerplay", LoggerFactory: lf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Listen(); err != nil {
		t.Fatal(err)
	}
	mapped, err := client.SendBindingRequest()
	if err != nil {
		t.Fatalf("STUN on the signaling port: %v", err)
	}
	if mapped.String() != conn.LocalAddr().String() {
		t.Errorf("STUN mapped %v, want %v", mapped, conn.LocalAddr())
	}
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("TURN allocate with the welcome's credentials: %v", err)
	}
	defer relay.Close()
	if ra := relay.LocalAddr().(*net.UDPAddr); !ra.IP.Equal(net.IP(loopback.AsSlice())) {
		t.Errorf("relay address %v, want the relay IP %v", ra, loopback)
	}

	// The hosting game: a socket on this machine's (relay) address.
	game, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer game.Close()
	if _, err := relay.WriteTo([]byte("to the host"), game.LocalAddr()); err != nil {
		t.Fatalf("relay to this machine: %v", err)
	}
	buf := make([]byte, 1500)
	_ = game.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, from, err := game.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the host" {
		t.Fatalf("the host got %q, %v; want the relayed datagram", buf[:n], err)
	}
	if _, err := game.WriteTo([]byte("to the joiner"), from); err != nil {
		t.Fatal(err)
	}
	_ = relay.SetReadDeadline(time.Now().Add(20 * time.Second))
	if n, _, err = relay.ReadFrom(buf); err != nil || string(buf[:n]) != "to the joiner" {
		t.Fatalf("the joiner got %q, %v", buf[:n], err)
	}

	// Another private address: refused (the permission fails).
	if _, err := relay.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 9, 8, 7), Port: 9}); err == nil {
		t.Error("relay to 10.9.8.7 allowed; only this machine's own addresses are")
	}
	if got := s.Stats().Refusals[signaling.RefuseTURNPeer]; got == 0 {
		t.Error("no turn_peer refusal counted")
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct {
		in            string
		host          string
		port          int
		local, public bool
	}{
		{"203.0.113.7:7700", "203.0.113.7", 7700, false, true},
		{"203.0.113.7", "203.0.113.7", 1, false, true},
		{"192.168.1.2:7700", "192.168.1.2", 7700, false, false},
		{"100.64.1.2:7700", "100.64.1.2", 7700, false, false},
		{"127.0.0.1:7700", "127.0.0.1", 7700, true, false},
		{"[::1]:7700", "::1", 7700, true, false},
		{"[2001:DB8::1]:80", "2001:db8::1", 80, false, true},
		{"Game.Example.org:7700", "game.example.org", 7700, false, true},
		{"mypc:7700", "mypc", 7700, false, false},
		{"mypc.local:7700", "mypc.local", 7700, false, false},
		{"localhost:7700", "localhost", 7700, true, false},
		{"host:0", "", 0, false, false},
		{"host:99999", "", 0, false, false},
		{"a_b:7700", "", 0, false, false},
		{"[fe80::1%eth0]:7700", "", 0, false, false},
		{"", "", 0, false, false},
		{"-x.org:1", "", 0, false, false},
	}
	for _, tt := range tests {
		d := parseHost(tt.in, 1)
		if d.host != tt.host || (tt.host != "" && (d.port != tt.port || d.local != tt.local || d.public != tt.public)) {
			t.Errorf("parseHost(%q) = %+v, want host %q port %d local %v public %v", tt.in, d, tt.host, tt.port, tt.local, tt.public)
		}
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"203.0.113.7:7700", "[2001:db8::1]:80", "game.example.org", "a_b:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		d := parseHost(h, 7700)
		if d.host == "" {
			return
		}
		// What the server advertises must read back as the same address.
		again := parseHost(d.hostPort(), 1)
		if again != d {
			t.Fatalf("parseHost(%q) = %+v; its hostPort %q reads back as %+v", h, d, d.hostPort(), again)
		}
	})
}
