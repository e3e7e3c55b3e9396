//go:build !js

package netcode

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/signaling"
)

// TestTURNOverTCPStats: two relay-only peers whose only TURN URL is
// signaling's embedded TURN over TCP (turn:...?transport=tcp) connect,
// and Stats says "relayed over TCP" on both ends.
func TestTURNOverTCPStats(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "turn:" + ln.Addr().String() + "?transport=tcp"
	sig := startSignalingWith(t, func() *signaling.Server {
		return &signaling.Server{TURNSecret: loopTURNSecret, ICEServers: []signaling.ICEServer{{URLs: []string{url}}}}
	})
	sig.mu.Lock()
	srv := sig.srv
	sig.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeTURNStreams(nil, []net.Listener{signaling.TURNListener(ln, 8, nil, srv)},
			signaling.TURNRelay{IP: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"})
	}()
	t.Cleanup(func() {
		sig.kill()
		if err := <-done; !errors.Is(err, signaling.ErrServerClosed) {
			t.Errorf("ServeTURNStreams: %v", err)
		}
	})
	tcp := func(c *Config) {
		c.RelayOnly = true
		c.SettingEngine = func(se *webrtc.SettingEngine) {
			loopbackOnly(se)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
		}
	}
	a := join(t, sig.url(), "room", "a", tcp)
	b := join(t, sig.url(), "room", "b", tcp)
	waitMesh(t, 20*time.Second, a, b)
	for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
		ps, _ := pair[0].Stats().Peer(pair[1].Local())
		if ps.LocalCandidate != LinkRelay || ps.RelayProtocol != "tcp" || ps.Describe() != "relayed over TCP" {
			t.Errorf("%s: local %v, relay protocol %q, %q; want relay, tcp, relayed over TCP",
				pair[0].cfg.Name, ps.LocalCandidate, ps.RelayProtocol, ps.Describe())
		}
		if err := pair[0].Channel("rel").Send(pair[1].Local(), []byte("via turn/tcp")); err != nil {
			t.Fatal(err)
		}
		if got := recvN(t, pair[1].Channel("rel"), 1, 5*time.Second)[0]; string(got.Data) != "via turn/tcp" {
			t.Errorf("got %q", got.Data)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tt := range []struct {
		ps   PeerStats
		want string
	}{
		{PeerStats{}, "connecting"},
		{PeerStats{Link: LinkHost}, "direct"},
		{PeerStats{Link: LinkPrflx}, "direct"},
		{PeerStats{Link: LinkRelay, LocalCandidate: LinkHost, RemoteCandidate: LinkRelay}, "relayed"},
		{PeerStats{Link: LinkRelay, LocalCandidate: LinkRelay, RelayProtocol: "udp"}, "relayed"},
		{PeerStats{Link: LinkRelay, LocalCandidate: LinkRelay, RelayProtocol: "tcp"}, "relayed over TCP"},
		{PeerStats{Link: LinkRelay, LocalCandidate: LinkRelay, RelayProtocol: "tls"}, "relayed over TLS"},
	} {
		if got := tt.ps.Describe(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.ps, got, tt.want)
		}
	}
}
