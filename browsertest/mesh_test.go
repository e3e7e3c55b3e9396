//go:build browser && !js

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerplay/peerplay/browsertest/scenario"
	"github.com/peerplay/peerplay/netcode"
)

// joinNative joins a native mesh on loopback for a scenario.
func joinNative(t *testing.T, ctx context.Context, s *site, room, name string, channels []netcode.ChannelSpec) *netcode.Mesh {
	t.Helper()
	m, err := netcode.Join(ctx, netcode.Config{
		SignalURL: s.signalURL(), Room: room, Channels: channels,
		GameID: scenario.GameID, Build: scenario.Build, Name: name,
		ICEServers: []netcode.ICEServer{}, SettingEngine: loopbackOnly,
	})
	if err != nil {
		t.Fatalf("%s: join: %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// pageURL is the test peer's page for a scenario.
func pageURL(s *site, room, scen, name string, extra url.Values) string {
	q := url.Values{"signal": {s.signalURL()}, "room": {room}, "scenario": {scen}, "name": {name}}
	for k, v := range extra {
		q[k] = v
	}
	return s.URL + "/?" + q.Encode()
}

// result waits for the page's RESULT line and decodes it into v.
func (p *Page) result(v any) {
	p.t.Helper()
	l := p.Wait(4*time.Minute, "RESULT ", "ERROR ", "EXCEPTION ")
	if !strings.HasPrefix(l, "RESULT ") {
		p.t.Fatalf("%s: %s", p.name, l)
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "RESULT ")), v); err != nil {
		p.t.Fatalf("%s: result %q: %v", p.name, l, err)
	}
}

// checkMesh asserts one peer received everything from every other peer.
func checkMesh(t *testing.T, who string, r *scenario.MeshResult, want int) {
	t.Helper()
	if len(r.Peers) != want {
		t.Errorf("%s (%s): heard from %d peers, want %d", who, r.Local, len(r.Peers), want)
	}
	for from, p := range r.Peers {
		t.Logf("%s (%s) from %s: reliable %d/%d in order %v, unreliable %d/%d, big %d bytes ok=%v sha %s",
			who, r.Local, from, p.Reliable, scenario.Reliables, p.InOrder, p.Unreliable, scenario.Unreliables, p.BigLen, p.BigOK, p.BigSHA)
		if p.Reliable != scenario.Reliables || !p.InOrder {
			t.Errorf("%s from %s: reliable %d in order %v, want %d in order", who, from, p.Reliable, p.InOrder, scenario.Reliables)
		}
		if !p.BigOK || p.BigLen != scenario.BigSize {
			t.Errorf("%s from %s: big message %d bytes, intact %v; want %d intact", who, from, p.BigLen, p.BigOK, scenario.BigSize)
		}
		// Unreliable: loopback loses little, but a loaded machine may
		// drop some; half proves the channel carries data.
		if p.Unreliable < scenario.Unreliables/2 || p.Unreliable > scenario.Unreliables {
			t.Errorf("%s from %s: %d unreliable messages, want %d..%d", who, from, p.Unreliable, scenario.Unreliables/2, scenario.Unreliables)
		}
	}
	for id, st := range r.Stats {
		t.Logf("%s stats for %s: link %s rtt %v (%d samples) ice rtt %v packets %d/%d bytes %d/%d",
			who, id, st.Link, st.RTT, st.RTTSamples, st.ICERTT, st.PacketsSent, st.PacketsReceived, st.BytesSent, st.BytesReceived)
		if st.RTTSamples == 0 {
			t.Errorf("%s: no RTT sample for %s", who, id)
		}
		// Native from pion, in browsers from getStats(): the selected
		// pair carried at least the big message each way.
		if st.BytesReceived < scenario.BigSize || st.BytesSent < scenario.BigSize || st.PacketsReceived == 0 || st.PacketsSent == 0 {
			t.Errorf("%s: transport counters for %s: packets %d/%d bytes %d/%d, want > %d bytes each way",
				who, id, st.PacketsSent, st.PacketsReceived, st.BytesSent, st.BytesReceived, scenario.BigSize)
		}
	}
}

// runNativeMesh runs the mesh scenario on native peers in goroutines.
func runNativeMesh(t *testing.T, ctx context.Context, meshes []*netcode.Mesh, want int) []*scenario.MeshResult {
	t.Helper()
	out := make([]*scenario.MeshResult, len(meshes))
	errs := make([]error, len(meshes))
	var wg sync.WaitGroup
	for i, m := range meshes {
		wg.Go(func() { out[i], errs[i] = scenario.RunMesh(ctx, m, want) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("native%d: %v", i, err)
		}
	}
	return out
}

// TestBrowserMesh: a Go/wasm peer in Chromium and two native peers form a
// mesh and exchange, both ways and with everyone, reliable messages (in
// order), unreliable ones and a chunked message above 1 MiB.
func TestBrowserMesh(t *testing.T) {
	s := peerSite(t)
	c := startChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const room = "mesh"
	page := c.Open("wasm", pageURL(s, room, "mesh", "wasm", url.Values{"want": {"2"}}))
	page.Wait(2*time.Minute, "JOINED ")
	var natives []*netcode.Mesh
	for i := range 2 {
		natives = append(natives, joinNative(t, ctx, s, room, fmt.Sprintf("native%d", i), scenario.MeshChannels))
	}
	var res scenario.MeshResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		page.result(&res)
	}()
	nat := runNativeMesh(t, ctx, natives, 2)
	<-done
	if t.Failed() {
		return
	}
	checkMesh(t, "wasm", &res, 2)
	for i, r := range nat {
		checkMesh(t, fmt.Sprintf("native%d", i), r, 2)
	}
}

// TestBrowserWasmToWasm: two Go/wasm peers, each in its own Chromium,
// form a mesh through signaling alone and exchange the same traffic.
func TestBrowserWasmToWasm(t *testing.T) {
	s := peerSite(t)
	const room = "w2w"
	var pages []*Page
	for i := range 2 {
		c := startChromium(t)
		pages = append(pages, c.Open(fmt.Sprintf("wasm%d", i), pageURL(s, room, "mesh", fmt.Sprintf("wasm%d", i), url.Values{"want": {"1"}})))
	}
	res := make([]scenario.MeshResult, len(pages))
	var wg sync.WaitGroup
	for i, p := range pages {
		wg.Go(func() { p.result(&res[i]) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range res {
		checkMesh(t, fmt.Sprintf("wasm%d", i), &res[i], 1)
	}
}
