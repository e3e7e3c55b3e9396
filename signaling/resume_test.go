package signaling

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// setTarget redirects new connections (to a closed port: they fail).
func (p *proxy) setTarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

func fastReconnect() DialOptions {
	return DialOptions{ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond}
}

// TestResumeAfterCut: the connection to the server is lost; the client
// reconnects, gets its seat (same ID) back, the others never see it leave,
// and signals sent to it meanwhile are delivered.
func TestResumeAfterCut(t *testing.T) {
	srv := &Server{}
	url, _ := testServer(t, srv)
	hostport := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
	px := newProxy(t, "127.0.0.1:1") // refuses until setTarget
	px.setTarget(hostport)
	opts := fastReconnect()
	opts.Name = "alice"
	a := dial(t, px.url(), "r", opts)
	b := dial(t, url, "r", DialOptions{Name: "bob"})
	expect(t, a, EventPeerJoined, b.Local())
	id := a.Local()

	px.setTarget("127.0.0.1:1") // reconnects fail until restored
	px.cut()
	ev := expect(t, a, EventDisconnected, "")
	if ev.Err == nil {
		t.Fatal("Disconnected without Err")
	}
	// Wait until the server noticed and holds the seat, then signal to it.
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().Members != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("server still counts %d members", srv.Stats().Members)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := b.Signal(id, []byte("while away")); err != nil {
		t.Fatal(err)
	}
	// Signals queued by the disconnected client go out after the resume.
	if err := a.Signal(b.Local(), []byte("queued")); err != nil {
		t.Fatal(err)
	}
	px.setTarget(hostport)
	expect(t, a, EventReconnected, "")
	if a.Local() != id {
		t.Fatalf("resumed as %s, want %s", a.Local(), id)
	}
	ev = expect(t, a, EventSignal, b.Local())
	if string(ev.Data) != "while away" {
		t.Fatalf("held signal %q", ev.Data)
	}
	ev = expect(t, b, EventSignal, id)
	if string(ev.Data) != "queued" {
		t.Fatalf("queued signal %q", ev.Data)
	}
	noEvent(t, b) // no peer-left/peer-joined for alice
	if got := srv.Stats().Resumes; got != 1 {
		t.Fatalf("resumes = %d", got)
	}
	if len(a.ICEServers()) != 0 {
		t.Fatalf("ICE servers %v from a server without any", a.ICEServers())
	}
}

// TestResumeExpired: the server holds the seat only for ResumeGrace; after
// it, the others see peer-left and the client gets Failed.
func TestResumeExpired(t *testing.T) {
	srv := &Server{ResumeGrace: 50 * time.Millisecond}
	url, _ := testServer(t, srv)
	hostport := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
	px := newProxy(t, hostport)
	a := dial(t, px.url(), "r", fastReconnect())
	b := dial(t, url, "r", DialOptions{})
	expect(t, a, EventPeerJoined, b.Local())
	px.setTarget("127.0.0.1:1")
	px.cut()
	expect(t, a, EventDisconnected, "")
	expect(t, b, EventPeerLeft, a.Local())
	px.setTarget(hostport)
	ev := expect(t, a, EventFailed, "")
	if !errors.Is(ev.Err, ErrResumeFailed) {
		t.Fatalf("Failed with %v, want ErrResumeFailed", ev.Err)
	}
}

// TestNodeLoss: two Servers share one backplane (two nodes of one
// service). The node of a client shuts down; the client reconnects to the
// other node and keeps its seat.
func TestNodeLoss(t *testing.T) {
	bp := NewMemoryBackplane()
	t.Cleanup(func() { _ = bp.Close() })
	n1, n2 := &Server{Backplane: bp}, &Server{Backplane: bp}
	url1, _ := testServer(t, n1)
	url2, base2 := testServer(t, n2)
	host := func(u string) string { return strings.TrimSuffix(strings.TrimPrefix(u, "ws://"), "/ws") }
	px := newProxy(t, host(url1)) // the "load balancer"
	a := dial(t, px.url(), "r", fastReconnect())
	b := dial(t, url2, "r", DialOptions{})
	expect(t, a, EventPeerJoined, b.Local())
	if err := b.Signal(a.Local(), []byte("cross-node")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, EventSignal, b.Local())
	if got := getRooms(t, base2, ""); len(got) != 1 || got[0].Players != 2 {
		t.Fatalf("listing on node 2: %+v", got)
	}

	px.setTarget(host(url2))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ev := expect(t, a, EventDisconnected, "")
	if !errors.Is(ev.Err, ErrShutdown) {
		t.Fatalf("Disconnected with %v, want ErrShutdown", ev.Err)
	}
	expect(t, a, EventReconnected, "")
	if err := a.Signal(b.Local(), []byte("back")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, EventSignal, a.Local())
	noEvent(t, b)
}

// TestReplaced: resuming a seat that is still attached replaces the old
// connection, which is told so.
func TestReplaced(t *testing.T) {
	url, _ := testServer(t, &Server{})
	old := rawDial(t, url, nil)
	old.send(joinFrame("r"))
	w, err := old.recv()
	if err != nil || w.Type != proto.TypeWelcome || w.Resume == "" {
		t.Fatalf("join: %+v %v", w, err)
	}
	bad := rawDial(t, url, nil)
	bad.send(map[string]any{"type": "join", "version": ProtocolVersion, "room": "r", "peer": w.Peer, "resume": "forged"})
	bad.expectError(CodeResumeFailed)

	nw := rawDial(t, url, nil)
	nw.send(map[string]any{"type": "join", "version": ProtocolVersion, "room": "r", "peer": w.Peer, "resume": w.Resume})
	w2, err := nw.recv()
	if err != nil || w2.Type != proto.TypeWelcome || !w2.Resumed || w2.Peer != w.Peer {
		t.Fatalf("resume: %+v %v", w2, err)
	}
	old.expectError(CodeReplaced)
}

func TestSignalNeverBlocks(t *testing.T) {
	url, _ := testServer(t, &Server{})
	hostport := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/ws")
	px := newProxy(t, hostport)
	opts := fastReconnect()
	opts.SendQueueLen = 2
	a := dial(t, px.url(), "r", opts)
	b := dial(t, url, "r", DialOptions{})
	expect(t, a, EventPeerJoined, b.Local())
	px.setTarget("127.0.0.1:1")
	px.cut()
	expect(t, a, EventDisconnected, "")
	var err error
	for range 3 {
		err = a.Signal(b.Local(), []byte("x"))
	}
	if !errors.Is(err, ErrSendQueueFull) {
		t.Fatalf("third Signal while disconnected: %v, want ErrSendQueueFull", err)
	}
	big := make([]byte, DefaultMaxMessageBytes)
	if err := b.Signal(a.Local(), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize Signal: %v, want ErrTooLarge", err)
	}
}

// TestCloseWithUndrainedEvents: Close returns even when the game never
// drained Events.
func TestCloseWithUndrainedEvents(t *testing.T) {
	url, _ := testServer(t, &Server{})
	a, err := Dial(testCtx(t), url, "r", DialOptions{EventQueueLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := dial(t, url, "r", DialOptions{})
	for range 10 {
		_ = b.Signal(a.Local(), []byte("x"))
	}
	// b's signals pass a's PeerJoined(b)... a never reads; wait for the
	// server to have relayed them, then Close.
	c := dial(t, url, "r", DialOptions{})
	_ = c
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestClientVersionCheck: a server answering with a welcome of a version
// this client does not speak is an ErrVersion, not a hang.
func TestClientVersionCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(fakeServer(`{"type":"welcome","version":7,"peer":"x"}`))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	_, err = Dial(testCtx(t), "ws"+strings.TrimPrefix(hs.URL, "http"), "r", DialOptions{})
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("got %v, want ErrVersion", err)
	}
}
