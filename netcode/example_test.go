//go:build !js

package netcode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
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

// A member publishes the room's listing on the signaling server, where
// GET /rooms shows it (a lobby would publish its State().Listing()).
func ExampleMesh_SetRoomInfo() {
	srv := &signaling.Server{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mesh, err := netcode.Join(ctx, netcode.Config{
		SignalURL: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws",
		Room:      "friday",
		GameID:    "pong",
		Channels:  []netcode.ChannelSpec{{Label: "lobby", Reliability: transport.Reliable}},
	})
	if err != nil {
		panic(err)
	}
	defer mesh.Close()

	if err := mesh.SetRoomInfo(netcode.RoomMeta{Name: "Friday league", State: "open", Max: 4}); err != nil {
		panic(err)
	}
	// SetRoomInfo only queues the update: RoomInfo shows it once the
	// server has it.
	for i := 0; i < 500 && mesh.RoomInfo().State != "open"; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(ts.URL + "/rooms")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var list struct{ Rooms []netcode.RoomInfo }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		panic(err)
	}
	for _, r := range list.Rooms {
		fmt.Printf("%s: %q, %s, %d/%d players, %s\n", r.Room, r.Name, r.Game, r.Players, r.Max, r.State)
	}
	// Output:
	// friday: "Friday league", pong, 1/4 players, open
}
