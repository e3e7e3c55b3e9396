package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// Channel labels of the bench meshes.
const (
	LabelInput = "input" // Unreliable: lockstep datagrams, pings
	LabelBulk  = "bulk"  // Reliable: throughput
	LabelChat  = "chat"  // Reliable: the chat package
)

// MeshChannels is the channel table of every bench mesh.
var MeshChannels = []netcode.ChannelSpec{
	{Label: LabelInput, Reliability: transport.Unreliable},
	{Label: LabelBulk, Reliability: transport.Reliable},
	{Label: LabelChat, Reliability: transport.Reliable},
}

// Meshes is n netcode meshes in one process, joined to one room of an
// in-process signaling server on 127.0.0.1, every pion agent restricted
// to loopback UDP4 with mDNS off.
type Meshes struct {
	M []*netcode.Mesh
	// Formation is the time from starting every Join at once until every
	// mesh saw all n-1 others connected (handshake done, channels open).
	Formation time.Duration

	sig *signaling.Server
	ts  *httptest.Server
}

// LoopbackSettings keeps a pion SettingEngine on loopback UDP4 without
// mDNS; netcode.Config.SettingEngine takes it.
func LoopbackSettings(se *webrtc.SettingEngine) {
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

// JoinMeshes starts a signaling server and n meshes, all joining at once.
func JoinMeshes(ctx context.Context, n int) (*Meshes, error) {
	return JoinMeshesCounted(ctx, n, nil)
}

// JoinMeshesCounted is JoinMeshes with mesh i's UDP sends counted in
// wire[i] (wire nil: none counted).
func JoinMeshesCounted(ctx context.Context, n int, wire []*WireCounter) (*Meshes, error) {
	return JoinMeshesTuned(ctx, n, wire, nil)
}

// JoinMeshesTuned is JoinMeshesCounted with every mesh's netcode.Config
// passed to tune (nil: untouched) before it joins.
func JoinMeshesTuned(ctx context.Context, n int, wire []*WireCounter, tune func(*netcode.Config)) (*Meshes, error) {
	ms := &Meshes{sig: &signaling.Server{MaxRoomSize: max(n, 2)}}
	ms.ts = httptest.NewServer(ms.sig)
	url := "ws" + strings.TrimPrefix(ms.ts.URL, "http") + "/ws"
	ms.M = make([]*netcode.Mesh, n)
	errs := make([]error, n)
	done := make([]time.Time, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		var w *WireCounter
		if wire != nil {
			w = wire[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := JoinOneTuned(ctx, url, "bench", fmt.Sprintf("p%d", i), w, tune)
			if err != nil {
				errs[i] = err
				return
			}
			ms.M[i] = m
			errs[i] = m.WaitPeers(ctx, n-1)
			done[i] = time.Now()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		ms.Close()
		return nil, fmt.Errorf("bench: %d-peer mesh: %w", n, err)
	}
	var last time.Time
	for _, d := range done {
		if d.After(last) {
			last = d
		}
	}
	ms.Formation = last.Sub(t0)
	return ms, nil
}

// Close closes every mesh, then the signaling server.
func (ms *Meshes) Close() {
	var wg sync.WaitGroup
	for _, m := range ms.M {
		if m != nil {
			wg.Add(1)
			go func() { defer wg.Done(); _ = m.Close() }()
		}
	}
	wg.Wait()
	_ = ms.sig.Close()
	ms.ts.Close()
}

// JoinOne joins one mesh with the bench channel table to room at the
// signaling URL (ws://...), on loopback only; if wire is not nil, its UDP
// sends are counted there.
func JoinOne(ctx context.Context, url, room, name string, wire *WireCounter) (*netcode.Mesh, error) {
	return JoinOneTuned(ctx, url, room, name, wire, nil)
}

// JoinOneTuned is JoinOne with the netcode.Config passed to tune (nil:
// untouched) before it joins.
func JoinOneTuned(ctx context.Context, url, room, name string, wire *WireCounter, tune func(*netcode.Config)) (*netcode.Mesh, error) {
	settings := LoopbackSettings
	if wire != nil {
		net, err := countingNetFor(wire)
		if err != nil {
			return nil, err
		}
		settings = func(se *webrtc.SettingEngine) {
			LoopbackSettings(se)
			se.SetNet(net)
		}
	}
	cfg := netcode.Config{
		SignalURL:     url,
		Room:          room,
		Name:          name,
		GameID:        "bench",
		Channels:      MeshChannels,
		ICEServers:    []netcode.ICEServer{},
		SettingEngine: settings,
	}
	if tune != nil {
		tune(&cfg)
	}
	return netcode.Join(ctx, cfg)
}
