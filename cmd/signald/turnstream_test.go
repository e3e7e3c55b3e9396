package main

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"

	"github.com/peerplay/peerplay/signaling/sigclient"
)

func TestSortTURNURLs(t *testing.T) {
	in := []string{
		"turns:t.example.org:443?transport=tcp", "turn:t.example.org:3479?transport=tcp",
		"turn:t.example.org:3479?transport=udp", "turn:t.example.org:3479", "TURN:b:1?transport=TCP",
	}
	want := []string{
		"turn:t.example.org:3479?transport=udp", "turn:t.example.org:3479",
		"turn:t.example.org:3479?transport=tcp", "TURN:b:1?transport=TCP", "turns:t.example.org:443?transport=tcp",
	}
	if got := sortTURNURLs(in); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestTURNStreamFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-turn-tcp-addr", ":0"}, "need -turn-secret"},
		{[]string{"-turns-addr", ":0", "-turn-secret", "s", "-turn-relay-ip", "127.0.0.1"}, "needs a certificate"},
		{[]string{"-turns-cert", "x"}, "go together"},
		{[]string{"-turn-tcp-addr", ":0", "-turn-secret", "s", "-turn-relay-ip", "127.0.0.1"}, ""},
		{[]string{"-turns-addr", ":0", "-turn-secret", "s", "-turn-relay-ip", "127.0.0.1", "-tls-cert", "c", "-tls-key", "k"}, ""},
	} {
		_, err := parseFlags(tc.args, func(string) string { return "" }, io.Discard)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("parseFlags(%v) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestTURNOverTCPAndTLS: with -turn-tcp-addr and -turns-addr (and no UDP
// TURN), signald allocates over TCP and over TLS (the certificate of
// -tls-cert), and the welcome lists the TURN URLs UDP, TCP, TLS.
func TestTURNOverTCPAndTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	a, logs, stop := start(t, []string{
		"-addr", "127.0.0.1:0", "-stun-addr", "", "-turn-secret", "s", "-turn-relay-ip", "127.0.0.1",
		"-turn-relay-bind", "127.0.0.1", "-turn-tcp-addr", "127.0.0.1:0", "-turns-addr", "127.0.0.1:0",
		"-tls-cert", certFile, "-tls-key", keyFile,
		"-turn-url", "turns:127.0.0.1:443?transport=tcp,turn:127.0.0.1:3479?transport=tcp,turn:127.0.0.1:3479?transport=udp",
	}, nil)
	if len(a.TURNStreams) != 2 || a.TURN != "" {
		t.Fatalf("bound TURN %q, streams %q; want no UDP and two streams", a.TURN, a.TURNStreams)
	}
	dials := []func() (net.Conn, error){
		func() (net.Conn, error) { return net.Dial("tcp4", a.TURNStreams[0]) },
		func() (net.Conn, error) {
			return tls.Dial("tcp4", a.TURNStreams[1], &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		},
	}
	// A seat's credentials: join a room first.
	ctx := t.Context()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer hc.CloseIdleConnections()
	c, err := sigclient.Dial(ctx, "wss://"+a.HTTP+"/ws", "r", sigclient.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ice := c.ICEServers()
	if len(ice) != 1 || !slices.Equal(ice[0].URLs, []string{
		"turn:127.0.0.1:3479?transport=udp", "turn:127.0.0.1:3479?transport=tcp", "turns:127.0.0.1:443?transport=tcp",
	}) {
		t.Fatalf("welcome ICE servers %+v, want the TURN URLs UDP, TCP, TLS", ice)
	}
	for i, dial := range dials {
		conn, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		lf := logging.NewDefaultLoggerFactory()
		lf.DefaultLogLevel = logging.LogLevelError
		cl, err := turn.NewClient(&turn.ClientConfig{Conn: turn.NewSTUNConn(conn),
			Username: ice[0].Username, Password: ice[0].Credential, LoggerFactory: lf})
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Listen(); err != nil {
			t.Fatal(err)
		}
		relay, err := cl.Allocate()
		if err != nil {
			t.Errorf("allocate over stream %d: %v\n%s", i, err, logs.String())
		} else {
			_ = relay.Close()
		}
		cl.Close()
		_ = conn.Close()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
