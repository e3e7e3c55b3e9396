//go:build !js

package netcode

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// TestFullMesh forms meshes of 2, 4 and 8 peers over a real signaling
// server and real pion on loopback, and checks that every message on both
// channel kinds, unicast and broadcast, reaches exactly the peers it
// should, once.
func TestFullMesh(t *testing.T) {
	for _, n := range []int{2, 4, 8} {
		t.Run(fmt.Sprintf("%dpeers", n), func(t *testing.T) {
			checkLeaks(t)
			sig := startSignaling(t)
			meshes := make([]*Mesh, n)
			start := time.Now()
			for i := range meshes {
				meshes[i] = join(t, sig.url(), "room", fmt.Sprintf("p%d", i), patientLiveness)
			}
			waitMesh(t, 30*time.Second, meshes...)
			t.Logf("mesh of %d peers formed in %v", n, time.Since(start))

			for _, label := range []string{"rel", "unrel"} {
				// Every peer sends one unicast to every other peer and one
				// broadcast.
				for _, m := range meshes {
					c := m.Channel(label)
					for _, to := range m.Peers() {
						if err := c.Send(to, []byte(fmt.Sprintf("%s|%s>%s", label, m.Local(), to))); err != nil {
							t.Fatalf("%s Send to %s: %v", m.Local(), to, err)
						}
					}
					if err := c.Broadcast([]byte(fmt.Sprintf("%s|%s>*", label, m.Local()))); err != nil {
						t.Fatalf("%s Broadcast: %v", m.Local(), err)
					}
				}
				for _, m := range meshes {
					var want []string
					for _, o := range meshes {
						if o != m {
							want = append(want, fmt.Sprintf("%s|%s>%s", label, o.Local(), m.Local()),
								fmt.Sprintf("%s|%s>*", label, o.Local()))
						}
					}
					var msgs []transport.Message
					if label == "rel" {
						msgs = recvN(t, m.Channel(label), len(want), 20*time.Second)
					} else {
						// Unreliable: on a starved machine the kernel
						// may drop loopback datagrams (nothing retransmits
						// them), so some may be missing; none may be
						// extra, repeated or misattributed, and the
						// channel must carry something.
						msgs = recvUpTo(m.Channel(label), len(want), 10*time.Second)
						if len(msgs) == 0 {
							t.Errorf("%s on %s: nothing arrived%s", m.Local(), label, channelReport(m.Channel(label)))
						}
						if len(msgs) < len(want) {
							t.Logf("%s on %s: %d of %d datagrams arrived%s", m.Local(), label, len(msgs), len(want), channelReport(m.Channel(label)))
							want = wantedOf(msgs, want)
						}
					}
					var got []string
					for _, msg := range msgs {
						if !bytes.HasPrefix(msg.Data, []byte(label+"|"+string(msg.From)+">")) {
							t.Errorf("%s: message %q claims to come from %s", m.Local(), msg.Data, msg.From)
						}
						got = append(got, string(msg.Data))
					}
					sort.Strings(got)
					sort.Strings(want)
					if !slices.Equal(got, want) {
						t.Errorf("%s on %s: got %q, want %q", m.Local(), label, got, want)
					}
				}
			}
			// Nothing extra arrived anywhere.
			time.Sleep(50 * time.Millisecond)
			for _, m := range meshes {
				for _, label := range []string{"rel", "unrel"} {
					if msg, ok := m.Channel(label).TryRecv(); ok {
						t.Errorf("%s on %s: unexpected extra message %q from %s", m.Local(), label, msg.Data, msg.From)
					}
				}
			}
		})
	}
}

// patientLiveness gives ICE pion's own liveness timers (5 s disconnected,
// 25 s failed, 2 s keepalive) instead of netcode's game-tuned 2 s / 5 s /
// 500 ms: TestFullMesh runs 56 PeerConnections in one race-instrumented
// process, which on a loaded 2-core machine (load 20) starves pion's
// goroutines for seconds, so the game-tuned timers declared healthy
// loopback links failed mid-test (273 ICE disconnections, 130 failures in
// ten runs) and the mesh churned. The test checks delivery; liveness has
// tests of its own (TestVNetICERestart, TestVNetCrashedPeer).
func patientLiveness(c *Config) {
	c.ICEDisconnectedTimeout, c.ICEFailedTimeout, c.ICEKeepalive = 5*time.Second, 25*time.Second, 2*time.Second
	c.ConnectTimeout, c.PeerTimeout = 30*time.Second, 30*time.Second
}

// recvUpTo drains c until n messages arrived or d passed.
func recvUpTo(c transport.Conn, n int, d time.Duration) []transport.Message {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []transport.Message
	for len(out) < n {
		msg, err := c.Recv(ctx)
		if err != nil {
			break
		}
		out = append(out, msg)
	}
	return out
}

// wantedOf returns the entries of want that some message of msgs carries
// (what a lossy channel should have delivered, given what it did); a
// message that is not in want stays out and fails the comparison.
func wantedOf(msgs []transport.Message, want []string) []string {
	var out []string
	for _, w := range want {
		for _, m := range msgs {
			if string(m.Data) == w {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// TestLeaveAndLateJoin: a peer that closes is seen leaving by everyone; a
// peer that joins late is seen connecting by everyone.
func TestLeaveAndLateJoin(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	var meshes []*Mesh
	var logs []*eventLog
	for i := range 3 {
		m := join(t, sig.url(), "room", fmt.Sprintf("p%d", i))
		meshes = append(meshes, m)
		logs = append(logs, &eventLog{m: m})
	}
	waitMesh(t, 20*time.Second, meshes...)

	leaver := meshes[1]
	if err := leaver.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := leaver.Close(); err != nil { // idempotent
		t.Fatalf("second Close: %v", err)
	}
	if _, err := leaver.Peers(), leaver.Channel("rel").Send(meshes[0].Local(), []byte("x")); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
	stay := []*Mesh{meshes[0], meshes[2]}
	waitMesh(t, 10*time.Second, stay...)
	for i, l := range []*eventLog{logs[0], logs[2]} {
		waitFor(t, 5*time.Second, "EventLeft", func() bool { return l.has(EventLeft, leaver.Local()) })
		if !l.has(EventConnected, leaver.Local()) {
			t.Errorf("mesh %d: no EventConnected for %s before it left", i, leaver.Local())
		}
	}

	// No second attempt at the peer that left.
	time.Sleep(300 * time.Millisecond)
	for i, l := range []*eventLog{logs[0], logs[2]} {
		seen := false
		for _, ev := range l.poll() {
			if ev.Peer != leaver.Local() {
				continue
			}
			if seen {
				t.Errorf("mesh %d: %v after the peer left", i, ev)
			}
			seen = seen || ev.Kind == EventLeft
		}
	}

	late := join(t, sig.url(), "room", "late")
	stay = append(stay, late)
	waitMesh(t, 20*time.Second, stay...)
	for _, l := range []*eventLog{logs[0], logs[2]} {
		waitFor(t, 5*time.Second, "EventConnected for the late peer", func() bool { return l.has(EventConnected, late.Local()) })
	}
	// The late peer talks to everyone.
	if err := late.Channel("rel").Broadcast([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, m := range stay[:2] {
		if got := recvN(t, m.Channel("rel"), 1, 5*time.Second)[0]; got.From != late.Local() || string(got.Data) != "hello" {
			t.Errorf("%s got %q from %s", m.Local(), got.Data, got.From)
		}
	}
}

// TestMessageSizes: 1 MiB (and larger) reliable messages arrive intact and
// in order; size limits return ErrTooLarge.
func TestMessageSizes(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "room", "a")
	b := join(t, sig.url(), "room", "b", func(c *Config) { c.MaxMessageSize = 4 << 20 })
	waitMesh(t, 10*time.Second, a, b)

	sizes := []int{0, 1, 16<<10 - 1, 16 << 10, 1 << 20, 1<<20 + 12345, 3 << 20}
	var sent [][]byte
	for _, n := range sizes {
		p := make([]byte, n)
		_, _ = rand.Read(p)
		if err := a.Channel("rel").Send(b.Local(), p); err != nil {
			t.Fatalf("Send %d bytes: %v", n, err)
		}
		sent = append(sent, p)
	}
	got := recvN(t, b.Channel("rel"), len(sent), 20*time.Second)
	for i := range sent {
		if !bytes.Equal(got[i].Data, sent[i]) {
			t.Errorf("message %d (%d bytes): got %d bytes, not the same", i, len(sent[i]), len(got[i].Data))
		}
	}

	tests := []struct {
		name  string
		m     *Mesh
		label string
		size  int
		want  error
	}{
		{"unreliable max", a, "unrel", MaxUnreliableSize, nil},
		{"unreliable over", a, "unrel", MaxUnreliableSize + 1, transport.ErrTooLarge},
		{"reliable over default", a, "rel", 16<<20 + 1, transport.ErrTooLarge},
		{"reliable over configured", b, "rel", 4<<20 + 1, transport.ErrTooLarge},
	}
	for _, tt := range tests {
		to := b.Local()
		if tt.m == b {
			to = a.Local()
		}
		if err := tt.m.Channel(tt.label).Send(to, make([]byte, tt.size)); !errors.Is(err, tt.want) {
			t.Errorf("%s: Send(%d bytes) = %v, want %v", tt.name, tt.size, err, tt.want)
		}
		if err := tt.m.Channel(tt.label).Broadcast(make([]byte, tt.size)); !errors.Is(err, tt.want) {
			t.Errorf("%s: Broadcast(%d bytes) = %v, want %v", tt.name, tt.size, err, tt.want)
		}
	}
	if err := a.Channel("rel").Send("nobody", []byte("x")); !errors.Is(err, transport.ErrUnknownPeer) {
		t.Errorf("Send to unknown peer: %v, want ErrUnknownPeer", err)
	}
}

// TestHandshakeRefusal: peers of different builds or channel tables refuse
// each other, both sides, with a clear event and error, and never appear
// in Peers.
func TestHandshakeRefusal(t *testing.T) {
	tests := []struct {
		name   string
		opt    meshOpt
		reason string
	}{
		{"build", func(c *Config) { c.Build = "2" }, "game ID or build mismatch"},
		{"channels", func(c *Config) {
			c.Channels = []ChannelSpec{{Label: "rel", Reliability: transport.Reliable}, {Label: "other", Reliability: transport.Unreliable}}
		}, "channel table mismatch"},
		{"reliability", func(c *Config) {
			c.Channels = []ChannelSpec{{Label: "rel", Reliability: transport.Reliable}, {Label: "unrel", Reliability: transport.Reliable}}
		}, "channel table mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := startSignaling(t)
			a := join(t, sig.url(), "room", "a")
			b := join(t, sig.url(), "room", "b", tt.opt)
			la, lb := &eventLog{m: a}, &eventLog{m: b}
			for _, side := range []struct {
				l      *eventLog
				remote *Mesh
			}{{la, b}, {lb, a}} {
				var ev Event
				waitFor(t, 10*time.Second, "EventRefused", func() bool {
					var ok bool
					ev, ok = side.l.find(EventRefused, side.remote.Local())
					return ok
				})
				var re *RefusedError
				if !errors.Is(ev.Err, ErrRefused) || !errors.As(ev.Err, &re) {
					t.Fatalf("EventRefused.Err = %v, want a *RefusedError", ev.Err)
				}
				if re.Reason != tt.reason || re.Peer != side.remote.Local() {
					t.Errorf("refusal = %+v, want reason %q about %s", re, tt.reason, side.remote.Local())
				}
				if side.l.has(EventConnected, side.remote.Local()) {
					t.Errorf("%s: EventConnected for a refused peer", side.l.m.Local())
				}
			}
			for _, m := range []*Mesh{a, b} {
				if p := m.Peers(); len(p) != 0 {
					t.Errorf("%s: Peers() = %v after a refusal", m.Local(), p)
				}
			}
			// A refused peer is not retried.
			time.Sleep(300 * time.Millisecond)
			if len(la.poll()) != 2 || len(lb.poll()) != 2 { // Connecting, Refused
				t.Errorf("events after refusal: a %v, b %v; want exactly connecting+refused each", la.poll(), lb.poll())
			}
		})
	}
}

// TestStatsLoopback: RTT, counters and the link type are filled in.
func TestStatsLoopback(t *testing.T) {
	sig := startSignaling(t)
	fast := func(c *Config) { c.PingInterval = 20 * time.Millisecond }
	a := join(t, sig.url(), "room", "alice", fast)
	b := join(t, sig.url(), "room", "bob", fast)
	waitMesh(t, 10*time.Second, a, b)
	for range 10 {
		_ = a.Channel("rel").Send(b.Local(), []byte("0123456789"))
		_ = a.Channel("unrel").Send(b.Local(), []byte("01234"))
	}
	recvN(t, b.Channel("rel"), 10, 5*time.Second)
	recvN(t, b.Channel("unrel"), 10, 5*time.Second)
	var ps PeerStats
	waitFor(t, 5*time.Second, "RTT samples", func() bool {
		ps, _ = a.Stats().Peer(b.Local())
		return ps.RTTSamples >= 5
	})
	t.Logf("loopback RTT median %v jitter %v (%d samples), ICE RTT %v", ps.RTT, ps.RTTJitter, ps.RTTSamples, ps.ICERTT)
	if ps.RTT <= 0 || ps.RTT > time.Second {
		t.Errorf("RTT = %v, want a small positive duration", ps.RTT)
	}
	if ps.Link != LinkHost || ps.LocalCandidate != LinkHost || ps.RemoteCandidate != LinkHost {
		t.Errorf("link = %v (%v/%v), want host on loopback", ps.Link, ps.LocalCandidate, ps.RemoteCandidate)
	}
	if !ps.Direct() || ps.Relayed() {
		t.Errorf("loopback link: Direct %v, Relayed %v; want direct", ps.Direct(), ps.Relayed())
	}
	if !ps.Connected || ps.State != "connected" || ps.Name != "bob" {
		t.Errorf("Connected %v, State %q, Name %q; want true, connected, bob", ps.Connected, ps.State, ps.Name)
	}
	if ps.PacketsSent == 0 || ps.PacketsReceived == 0 || ps.BytesSent == 0 || ps.BytesReceived == 0 {
		t.Errorf("transport counters not filled: %+v", ps)
	}
	want := []ChannelStats{
		{Label: "rel", MessagesSent: 10, BytesSent: 100},
		{Label: "unrel", MessagesSent: 10, BytesSent: 50},
	}
	if !slices.Equal(ps.Channels, want) {
		t.Errorf("channel stats %+v, want %+v", ps.Channels, want)
	}
	bs, _ := b.Stats().Peer(a.Local())
	if bs.Channels[0].MessagesReceived != 10 || bs.Channels[0].BytesReceived != 100 ||
		bs.Channels[1].MessagesReceived != 10 || bs.Channels[1].BytesReceived != 50 {
		t.Errorf("receiver channel stats %+v", bs.Channels)
	}
	if st := a.Stats(); st.Local != a.Local() || !st.Signaling || len(st.Peers) != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestRecvContext: Recv returns the context's error, and ErrClosed after
// Close; WaitPeers likewise.
func TestRecvContext(t *testing.T) {
	sig := startSignaling(t)
	a := join(t, sig.url(), "room", "a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.Channel("rel").Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Recv: %v, want DeadlineExceeded", err)
	}
	if err := a.WaitPeers(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitPeers: %v, want DeadlineExceeded", err)
	}
	done := make(chan error, 2)
	go func() { _, err := a.Channel("unrel").Recv(context.Background()); done <- err }()
	go func() { done <- a.WaitPeers(context.Background(), 1) }()
	time.Sleep(20 * time.Millisecond)
	_ = a.Close()
	for range 2 {
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Errorf("after Close: %v, want ErrClosed", err)
		}
	}
}
