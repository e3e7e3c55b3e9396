//go:build !js

package netcode

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
)

// testChannels is the channel table of most tests.
var testChannels = []ChannelSpec{
	{Label: "rel", Reliability: transport.Reliable},
	{Label: "unrel", Reliability: transport.Unreliable},
}

// loopbackOnly keeps pion on 127.0.0.1, UDP4, without mDNS: tests send to
// nothing else.
func loopbackOnly(se *webrtc.SettingEngine) {
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

// testLogger writes to the test log when NETCODE_TEST_LOG is set (its
// value is the minimum level, e.g. "debug"), else discards.
func testLogger(t testing.TB, name string) *slog.Logger {
	lvl := os.Getenv("NETCODE_TEST_LOG")
	if lvl == "" {
		return nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(lvl)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: l})).With("mesh", name)
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sigServer is a real signaling server on loopback that can be killed and
// restarted on the same address.
type sigServer struct {
	t    testing.TB
	cfg  func() *signaling.Server
	addr string

	mu  sync.Mutex
	srv *signaling.Server
	ts  *httptest.Server
}

func startSignaling(t testing.TB) *sigServer {
	t.Helper()
	return startSignalingWith(t, func() *signaling.Server { return &signaling.Server{} })
}

func startSignalingWith(t testing.TB, cfg func() *signaling.Server) *sigServer {
	t.Helper()
	s := &sigServer{t: t, cfg: cfg}
	s.start("127.0.0.1:0")
	t.Cleanup(s.kill)
	return s
}

func (s *sigServer) start(addr string) {
	s.t.Helper()
	var l net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if l, err = net.Listen("tcp4", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the old socket may linger a moment
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", addr, err)
	}
	srv := s.cfg()
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener = l
	ts.Start()
	s.mu.Lock()
	s.srv, s.ts, s.addr = srv, ts, l.Addr().String()
	s.mu.Unlock()
}

func (s *sigServer) url() string { return "ws://" + s.addr + "/ws" }

// kill closes the server and every connection at once.
func (s *sigServer) kill() {
	s.mu.Lock()
	srv, ts := s.srv, s.ts
	s.srv, s.ts = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	ts.Close()
}

// restart brings a fresh server (empty rooms) back on the same address.
func (s *sigServer) restart() { s.start(s.addr) }

// meshOpt adjusts a test Config.
type meshOpt func(*Config)

func join(t testing.TB, url, room, name string, opts ...meshOpt) *Mesh {
	t.Helper()
	m, err := tryJoin(t, url, room, name, opts...)
	if err != nil {
		t.Fatalf("Join %s: %v", name, err)
	}
	return m
}

func tryJoin(t testing.TB, url, room, name string, opts ...meshOpt) (*Mesh, error) {
	t.Helper()
	cfg := Config{
		SignalURL: url, Room: room, Name: name, GameID: "test", Build: "1",
		Channels:      testChannels,
		SettingEngine: loopbackOnly,
		Logger:        testLogger(t, name),
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := Join(ctx, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, nil
}

// waitFor polls cond every 10 ms until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMesh waits until every mesh sees every other one.
func waitMesh(t testing.TB, d time.Duration, meshes ...*Mesh) {
	t.Helper()
	waitFor(t, d, "a full mesh", func() bool {
		for _, m := range meshes {
			if len(m.Peers()) != len(meshes)-1 {
				return false
			}
		}
		return true
	})
	for _, m := range meshes {
		want := make([]transport.PeerID, 0, len(meshes)-1)
		for _, o := range meshes {
			if o != m {
				want = append(want, o.Local())
			}
		}
		slicesSort(want)
		if got := m.Peers(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: Peers() = %v, want %v", m.Local(), got, want)
		}
	}
}

func slicesSort(ids []transport.PeerID) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

// recvN drains c until n messages arrived or d passed; on a timeout it
// names the channel, its reliability and its drop counters, so that a
// lost message says where it was lost.
func recvN(t testing.TB, c transport.Conn, n int, d time.Duration) []transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out []transport.Message
	for len(out) < n {
		msg, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("%s: after %d of %d messages%s: %v", c.Local(), len(out), n, channelReport(c), err)
		}
		out = append(out, msg)
	}
	return out
}

// eventLog accumulates a mesh's events across polls.
type eventLog struct {
	m      *Mesh
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) poll() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, l.m.PollEvents()...)
	return append([]Event(nil), l.events...)
}

func (l *eventLog) has(kind EventKind, peer transport.PeerID) bool {
	for _, ev := range l.poll() {
		if ev.Kind == kind && ev.Peer == peer {
			return true
		}
	}
	return false
}

func (l *eventLog) find(kind EventKind, peer transport.PeerID) (Event, bool) {
	for _, ev := range l.poll() {
		if ev.Kind == kind && ev.Peer == peer {
			return ev, true
		}
	}
	return Event{}, false
}

var _ = bytes.Equal

// checkLeaks makes t fail if goroutines survive its cleanups (meshes and
// servers registered after this call are closed first).
//
// Goroutines already running when it is called (another test's leak) are
// ignored, so that one leaking test fails alone instead of failing every
// later test of the run; TestMain's goleak.VerifyTestMain still fails the
// package for any leak, so none is hidden.
func checkLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// channelReport describes c (a netcode channel) for failure messages: its
// label, reliability and every drop counter that is not zero, per peer.
func channelReport(c transport.Conn) string {
	ch, ok := c.(*channel)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, " on channel %q (%v)", ch.spec.Label, ch.spec.Reliability)
	for _, ps := range ch.m.Stats().Peers {
		for _, cs := range ps.Channels {
			if cs.Label == ch.spec.Label && cs.DroppedInbox+cs.DroppedStale+cs.Malformed+cs.TooLarge+cs.ChunkTimeouts+cs.DroppedBudget > 0 {
				fmt.Fprintf(&b, "; with %s: %+v", ps.Peer, cs)
			}
		}
	}
	return b.String()
}
