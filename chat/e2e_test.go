//go:build !js

package chat_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/chat"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// End to end: real pion peers on loopback, a real signaling server over
// httptest, chat on a Reliable data channel next to an Unreliable one.
// Real time: the assertions wait for outcomes, never for durations.

type e2eRoom struct {
	t     *testing.T
	url   string
	peers []*e2ePeer
}

type e2ePeer struct {
	mesh *netcode.Mesh
	c    *chat.Chat
	msgs []chat.Message
}

func newE2ERoom(t *testing.T) *e2eRoom {
	t.Helper()
	srv := &signaling.Server{}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return &e2eRoom{t: t, url: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"}
}

func (r *e2eRoom) mesh(name string) *netcode.Mesh {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := netcode.Join(ctx, netcode.Config{
		SignalURL: r.url, Room: "chat-e2e", Name: name, GameID: "chat-test", Build: "1",
		Channels: []netcode.ChannelSpec{
			{Label: "chat", Reliability: transport.Reliable},
			{Label: "game", Reliability: transport.Unreliable},
		},
		ICEServers: []netcode.ICEServer{}, // host candidates only: loopback, nothing else
		SettingEngine: func(se *webrtc.SettingEngine) {
			se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
			se.SetIncludeLoopbackCandidate(true)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		},
	})
	if err != nil {
		r.t.Fatalf("Join %s: %v", name, err)
	}
	r.t.Cleanup(func() { _ = m.Close() })
	return m
}

// join adds n chat peers and waits until the mesh is full.
func (r *e2eRoom) join(n int, cfg chat.Config) []*e2ePeer {
	r.t.Helper()
	var added []*e2ePeer
	for range n {
		name := fmt.Sprintf("player%d", len(r.peers))
		m := r.mesh(name)
		cfg := cfg
		cfg.Name = name
		c, err := chat.New(m.Channel("chat"), cfg)
		if err != nil {
			r.t.Fatal(err)
		}
		r.t.Cleanup(func() { c.Close() })
		p := &e2ePeer{mesh: m, c: c}
		r.peers = append(r.peers, p)
		added = append(added, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range r.peers {
		if err := p.mesh.WaitPeers(ctx, len(r.peers)-1); err != nil {
			r.t.Fatalf("WaitPeers: %v", err)
		}
	}
	r.until("every chat present", func() bool {
		for _, p := range r.peers {
			if len(p.c.Members()) != len(r.peers)-1 {
				return false
			}
		}
		return true
	})
	return added
}

// until polls every chat (the game loop) until cond holds.
func (r *e2eRoom) until(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, p := range r.peers {
				r.t.Logf("%s: %d messages, stats %+v", p.mesh.Local(), len(p.msgs), p.c.Stats())
			}
			r.t.Fatalf("%s: not reached", what)
		}
		r.poll()
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *e2eRoom) poll() {
	for _, p := range r.peers {
		p.msgs = append(p.msgs, p.c.Poll()...)
	}
}

func (p *e2ePeer) lines() []string {
	var out []string
	for _, m := range p.msgs {
		if m.Kind == chat.KindText {
			out = append(out, fmt.Sprintf("%s#%d %s", m.From, m.Seq, m.Text))
		}
	}
	return out
}

func TestE2EChat(t *testing.T) {
	r := newE2ERoom(t)
	// A low rate and a burst that fits the test's own bursts of lines: the
	// receive limit (2×Burst, then 1.5×Rate per second) then throttles
	// the flood below however slowly it arrives.
	honest := chat.Config{Bus: chat.BusConfig{Rate: 1, Burst: 20}}
	peers := r.join(4, honest)

	// Four peers talk at once; everyone shows one order.
	for i := range 10 {
		for _, p := range peers {
			if err := p.c.Say(fmt.Sprintf("line %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		r.poll()
	}
	r.until("40 lines everywhere", func() bool {
		for _, p := range peers {
			if len(p.lines()) != 40 {
				return false
			}
		}
		return true
	})
	want := peers[0].lines()
	for _, p := range peers {
		if got := p.lines(); !slices.Equal(got, want) {
			t.Errorf("%s order:\n got  %q\n want %q", p.mesh.Local(), got, want)
		}
	}

	// A late joiner gets the history, merged from four peers without
	// duplicates, in the same order, and then the live lines.
	late := r.join(1, honest)[0]
	peers[1].c.Say("welcome")
	r.until("everyone has the history and the welcome", func() bool {
		for _, p := range r.peers {
			if len(p.lines()) != 41 {
				return false
			}
		}
		return true
	})
	if got, want := late.lines(), peers[1].lines(); !slices.Equal(got, want) {
		t.Errorf("late joiner:\n got  %q\n want %q", got, want)
	}
	for _, m := range late.msgs {
		if m.Kind == chat.KindText && m.History != (m.Text != "welcome") {
			t.Errorf("late joiner line %q: History = %v", m.Text, m.History)
		}
	}

	// A flooder (a client whose own limit was lifted) is throttled and
	// counted by everyone, while the others' lines still flow.
	flooder := r.join(1, chat.Config{Bus: chat.BusConfig{Rate: 1e6, Burst: 1e6}})[0]
	const flood = 400 // receivers take 2×Burst = 40 at once, then 1.5 per second
	for i := range flood {
		if err := flooder.c.Say(fmt.Sprintf("spam %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	peers[2].c.Say("still here")
	has := func(p *e2ePeer, text string) bool {
		return slices.ContainsFunc(p.lines(), func(l string) bool { return strings.HasSuffix(l, " "+text) })
	}
	r.until("the honest line arrives", func() bool {
		for _, p := range r.peers[:5] {
			if !has(p, "still here") {
				return false
			}
		}
		return true
	})
	r.until("the whole flood arrived", func() bool {
		for _, p := range r.peers[:5] {
			if st := p.c.Bus().PeerStats(flooder.mesh.Local()); st.Received+st.Throttled < flood+1 { // +1: its profile
				return false
			}
		}
		return true
	})
	for _, p := range r.peers[:5] {
		if st := p.c.Bus().PeerStats(flooder.mesh.Local()); st.Throttled < 300 {
			t.Errorf("%s: flooder stats %+v", p.mesh.Local(), st)
		}
	}

	// Hostile bytes on the chat channel crash nobody, and chat goes on.
	for i := range 300 {
		junk := []byte(fmt.Sprintf("\x10\x00\x00\x00PPBS%d\xff\xff\xff\x7f", i))
		flooder.mesh.Channel("chat").Broadcast(junk)
	}
	peers[3].c.Say("after the junk")
	r.until("chat survives", func() bool {
		for _, p := range r.peers {
			if !has(p, "after the junk") {
				return false
			}
		}
		return true
	})
	for _, p := range r.peers[:5] {
		if p.c.Stats().Bus.Malformed < 300 {
			t.Errorf("%s: malformed %d, want 300", p.mesh.Local(), p.c.Stats().Bus.Malformed)
		}
	}
}
