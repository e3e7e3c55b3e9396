//go:build !js

package netcode_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// Two players in one process, on loopback: a signaling server, two
// meshes, a chat message.
func Example() {
	srv := &signaling.Server{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	join := func(name string) *netcode.Mesh {
		m, err := netcode.Join(ctx, netcode.Config{
			SignalURL: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws",
			Room:      "example",
			Name:      name,
			GameID:    "pong",
			Channels: []netcode.ChannelSpec{
				{Label: "chat", Reliability: transport.Reliable},
				{Label: "input", Reliability: transport.Unreliable},
			},
			// Keep this example on loopback, without mDNS.
			SettingEngine: func(se *webrtc.SettingEngine) {
				se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
				se.SetIncludeLoopbackCandidate(true)
				se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
			},
		})
		if err != nil {
			panic(err)
		}
		return m
	}
	alice := join("alice")
	defer alice.Close()
	bob := join("bob")
	defer bob.Close()
	if err := alice.WaitPeers(ctx, 1); err != nil {
		panic(err)
	}
	if err := bob.WaitPeers(ctx, 1); err != nil {
		panic(err)
	}

	_ = alice.Channel("chat").Broadcast([]byte("hello"))
	msg, err := bob.Channel("chat").Recv(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("bob got %q from alice: %v\n", msg.Data, msg.From == alice.Local())
	for _, ev := range bob.PollEvents() {
		fmt.Println(ev.Kind)
	}
	// Output:
	// bob got "hello" from alice: true
	// connecting
	// connected
}
