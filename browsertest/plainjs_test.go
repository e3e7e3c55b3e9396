//go:build browser && !js

package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/browsertest/scenario"
)

// TestBrowserPlainJS: a client in plain JavaScript (web/plain.html),
// written from netcode/PROTOCOL.md alone, joins a native mesh: signaling,
// the offerer rule, signals, the channel table, Hello, Pings, chunked and
// unreliable messages both ways. It keeps the spec honest.
func TestBrowserPlainJS(t *testing.T) {
	s := peerSite(t) // serves web/plain.html too
	c := startChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const room = "plainjs"
	q := url.Values{"signal": {s.signalURL()}, "room": {room}, "game": {scenario.GameID}, "build": {scenario.Build}}
	page := c.Open("js", s.URL+"/plain.html?"+q.Encode())
	page.Wait(time.Minute, "JOINED ")
	m := joinNative(t, ctx, s, room, "native", scenario.MeshChannels)
	if err := m.WaitPeers(ctx, 1); err != nil {
		t.Fatalf("the JS client never connected: %v", err)
	}
	js := m.Peers()[0]
	if !strings.HasPrefix(string(js), "~") {
		t.Errorf("JS client's mesh ID %q, want the browser form ~...", js)
	}
	rel, unrel := m.Channel("rel"), m.Channel("unrel")
	pattern := make([]byte, 40000)
	for i := range pattern {
		pattern[i] = byte(i % 251)
	}
	if err := rel.Send(js, []byte("hello from go")); err != nil {
		t.Fatal(err)
	}
	if err := rel.Send(js, pattern); err != nil {
		t.Fatal(err)
	}
	// Unreliable until the page has everything (or the test gives up).
	result := make(chan string, 1)
	go func() { result <- page.Wait(2*time.Minute, "RESULT ", "ERROR ", "EXCEPTION ") }()
	var line string
	for tick := time.NewTicker(50 * time.Millisecond); line == ""; {
		select {
		case line = <-result:
		case <-tick.C:
			_ = unrel.Send(js, []byte("u-go"))
		}
	}
	if !strings.HasPrefix(line, "RESULT ") {
		t.Fatalf("JS client: %s", line)
	}
	var res struct {
		ID, From string
		Hello    bool
		Big      bool
		Unrel    int
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &res); err != nil {
		t.Fatal(err)
	}
	if res.ID != string(js) || res.From != string(m.Local()) {
		t.Errorf("IDs: JS says it is %s and heard %s; native sees %s and is %s", res.ID, res.From, js, m.Local())
	}
	// What the JS client sent: a Whole message, a chunked one, unreliables.
	var gotHello, gotBig bool
	for !gotHello || !gotBig {
		msg, err := rel.Recv(ctx)
		if err != nil {
			t.Fatalf("reliable from JS: hello %v big %v: %v", gotHello, gotBig, err)
		}
		switch {
		case string(msg.Data) == "hello from js":
			gotHello = true
		case bytes.Equal(msg.Data, pattern):
			gotBig = true
		default:
			t.Errorf("unexpected %d-byte message from JS", len(msg.Data))
		}
	}
	if msg, err := unrel.Recv(ctx); err != nil || string(msg.Data) != "u-js" {
		t.Errorf("unreliable from JS: %q, %v", msg.Data, err)
	}
	// Pings go every 500 ms: wait for the JS client's first Pong.
	st, _ := m.Stats().Peer(js)
	for deadline := time.Now().Add(20 * time.Second); st.RTTSamples == 0 && time.Now().Before(deadline); st, _ = m.Stats().Peer(js) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("plain JS client %s: connected, RTT %v from %d pings (it answers Pings), its result %+v", js, st.RTT, st.RTTSamples, res)
	if st.RTTSamples == 0 {
		t.Error("the JS client answered no Ping")
	}
	for _, ch := range st.Channels {
		if ch.Malformed != 0 {
			t.Errorf("channel %s: %d malformed messages from the JS client", ch.Label, ch.Malformed)
		}
	}
}
